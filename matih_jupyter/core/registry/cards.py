"""Model cards: the Markdown ``model_card.md`` stored with every version (what it is, its
metrics and parameters, where it came from, its stage history, its artifacts), rewritten
whenever the version changes stage."""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ..backend.client import upload_to_run
from ..backend.error_map import translate_errors
from .artifacts import METRICS_HISTORY_FILE, MODEL_DIR
from .governance.record import documents
from .history import history as stage_history
from .requirements import REQUIREMENTS_FILE
from .snapshot import Snapshot
from .tags import (
    TAG_ARTIFACT_PATH,
    TAG_CREATED_BY,
    TAG_FRAMEWORK,
    TAG_METRICS,
    TAG_MODEL_TYPE,
    TAG_ONNX,
    TAG_PARAMS,
    iso,
    loads,
)
from .types import TransitionRecord

MODEL_CARD_FILE = "model_card.md"

#: Run tags shown in the card's provenance, with their labels.
_PROVENANCE_LABELS = {
    "matih.git.commit": "git commit",
    "matih.git.dirty": "uncommitted changes",
    "matih.git.branch": "git branch",
    "matih.notebook_path": "notebook",
    "matih.python_version": "python",
    "matih.host": "host",
}
_PACKAGE_TAG = "matih.version."


def _table(rows: Mapping[str, Any]) -> str:
    if not rows:
        return "_none_\n"
    lines = ["| name | value |", "| --- | --- |"]
    for key in sorted(rows):
        value = str(rows[key]).replace("|", "\\|").replace("\n", " ")
        lines.append(f"| {key} | {value} |")
    return "\n".join(lines) + "\n"


def _provenance(identity: Mapping[str, str], provenance: Mapping[str, str]) -> dict[str, str]:
    prov = dict(identity)
    for key, label in _PROVENANCE_LABELS.items():
        if key in provenance:
            prov[label] = provenance[key]
    for key, value in sorted(provenance.items()):
        if key.startswith(_PACKAGE_TAG):
            prov[key[len(_PACKAGE_TAG) :]] = value
    return prov


def _history_rows(records: Sequence[TransitionRecord]) -> str:
    rows = ["| version | from | to | by | at | reason |", "| --- | --- | --- | --- | --- | --- |"]
    for r in records:
        rows.append(
            f"| {r.version} | {r.from_stage or '(registered)'} | {r.to_stage} | {r.user_id} "
            f"| {r.timestamp} | {(r.reason or '').replace('|', '/')} |"
        )
    return "\n".join(rows)


def _record_rows(records: Sequence[Mapping[str, Any]]) -> str:
    """The moves' records: who asked, who approved, the gates, the inputs and the code."""
    if not records:
        return "_none_\n"
    rows = [
        "| epoch | move | requested by | approved by | gates | inputs | commit |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for d in records:
        gates = "; ".join(
            f"{'pass' if g.get('passed') else 'FAIL'} {g.get('gate')}" for g in d.get("gates", [])
        )
        found = d.get("inputs", [])
        inputs = ", ".join(f"{i.get('name')}@{str(i.get('digest'))[:8]}" for i in found)
        cells = [
            d.get("epoch"), f"{d.get('from_stage')} → {d.get('to_stage')}", d.get("requested_by"),
            d.get("approved_by") or "", gates or "(no policy)", inputs or "",
            str((d.get("code") or {}).get("git_commit") or "")[:12],
        ]  # fmt: skip
        rows.append("| " + " | ".join(str(c).replace("|", "/") for c in cells) + " |")
    return "\n".join(rows) + "\n"


def model_card(
    *,
    tenant_id: str,
    name: str,
    full_name: str,
    version: str,
    framework: str,
    model_type: str,
    description: str,
    metrics: Mapping[str, float],
    parameters: Mapping[str, Any],
    run_id: str,
    experiment_id: str,
    provenance: Mapping[str, str],
    created_by: str,
    created_at: str,
    history: Sequence[TransitionRecord],
    onnx_note: str | None,
    records: Sequence[Mapping[str, Any]] = (),
) -> str:
    """The Markdown model card of one version."""
    identity = {
        "MLflow registered model": full_name,
        "version": version,
        "run id": run_id,
        "experiment id": experiment_id,
        "registered by": created_by,
        "registered at": created_at,
    }
    onnx = "`model.onnx` (ONNX export)" if onnx_note is None else f"not available: {onnx_note}"
    return (
        f"# Model card: {name} v{version}\n\n"
        f"Tenant `{tenant_id}` · framework `{framework}` · type `{model_type or 'unspecified'}`\n\n"
        f"{description or '_No description._'}\n\n"
        f"## Metrics\n\n{_table(dict(metrics))}\n"
        f"## Parameters\n\n{_table(dict(parameters))}\n"
        f"## Provenance\n\n{_table(_provenance(identity, provenance))}\n"
        f"## Stage history\n\n" + _history_rows(history) + "\n\n"
        f"## Records of the moves\n\n{_record_rows(records)}\n"
        "## Artifacts\n\n"
        f"- `{MODEL_DIR}/`: the model in MLflow's `{framework}` flavor\n"
        f"- ONNX: {onnx}\n"
        f"- `{REQUIREMENTS_FILE}`: pinned requirements\n"
        f"- `{METRICS_HISTORY_FILE}`: every logged metric value by step\n"
    )


def write_card(
    client: Any,
    tenant: str,
    snap: Snapshot,
    version: str,
    run: Any = None,
    scratch: Path | None = None,
) -> None:
    """Store the card of ``version`` as read in ``snap`` beside its model (a version
    without a run has no card). ``run``: the version's run, if already read; ``scratch``:
    a local folder of the caller's to write the card in before the upload (else a
    temporary one)."""
    mv = snap.versions.get(version)
    if mv is None or not mv.run_id:
        return
    if run is None:
        with translate_errors(f"reading run {mv.run_id}"):
            run = client.get_run(mv.run_id)
    tags = mv.tags or {}
    onnx = tags.get(TAG_ONNX)
    card = model_card(
        tenant_id=tenant,
        name=snap.name,
        full_name=snap.full,
        version=version,
        framework=tags.get(TAG_FRAMEWORK, ""),
        model_type=tags.get(TAG_MODEL_TYPE, snap.tags.get(TAG_MODEL_TYPE, "")),
        description=mv.description or snap.rm.description or "",
        metrics=loads(tags.get(TAG_METRICS), {}),
        parameters=loads(tags.get(TAG_PARAMS), {}),
        run_id=mv.run_id,
        experiment_id=run.info.experiment_id,
        provenance=run.data.tags,
        created_by=tags.get(TAG_CREATED_BY, ""),
        created_at=iso(mv.creation_timestamp),
        history=[r for r in stage_history(snap.tags) if r.version == version],
        onnx_note=None if onnx == "true" else (onnx or "not recorded"),
        records=documents(tags),
    )
    folder = tags.get(TAG_ARTIFACT_PATH, "").rstrip("/") or None
    with (
        translate_errors(f"storing the model card of version {version}"),
        contextlib.nullcontext(str(scratch)) if scratch else _temporary_folder() as tmp,
    ):
        path = Path(tmp) / MODEL_CARD_FILE
        path.write_text(card, encoding="utf-8")
        upload_to_run(client, run.info.artifact_uri, path, folder)


def _temporary_folder() -> tempfile.TemporaryDirectory[str]:
    return tempfile.TemporaryDirectory(prefix="matih-card-")
