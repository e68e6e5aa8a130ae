"""The record of a move: one JSON document per version moved in an epoch, stored on the
version in the tag ``matih.record.<epoch>`` by the epoch itself (so it exists exactly when
the move does), written once: a name already taken is refused, never overwritten.

A document holds what an auditor asks about a move: the challenger's and the champion's
metrics, the gate results, the datasets the run logged as inputs (with digests), the code
commit, the notebook and cell where known, who asked, who approved, and why.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ...errors import ConflictError
from ..ops import Op, SetVersionTag
from ..snapshot import Snapshot
from ..tags import TAG_METRICS, dumps, loads
from ..types import TransitionRecord
from .gates import GateResult, dataset_inputs

TAG_RECORD = "matih.record."
#: Run tags copied into a record as the move's code provenance.
_CODE_TAGS = {
    "git_commit": "matih.git.commit",
    "git_dirty": "matih.git.dirty",
    "notebook_path": "matih.notebook_path",
    "cell_hash": "matih.cell_hash",
}
#: Bounds that keep a document well under MLflow's tag size.
_MAX_METRICS, _MAX_INPUTS = 50, 20


def record_key(epoch: int) -> str:
    return f"{TAG_RECORD}{epoch:08d}"


def _metrics(snap: Snapshot, version: str | None) -> dict[str, Any] | None:
    if version is None or version not in snap.versions:
        return None
    values = loads((snap.versions[version].tags or {}).get(TAG_METRICS), {})
    return {"version": version, "metrics": dict(sorted(values.items())[:_MAX_METRICS])}


def document(
    snap: Snapshot,
    record: TransitionRecord,
    epoch: int,
    run: Any,
    gates: list[GateResult],
) -> dict[str, Any]:
    """The record of ``record`` (one version's move in ``epoch``)."""
    champion = snap.production()
    run_tags = run.data.tags if run is not None else {}
    return {
        "schema": 1,
        "tenant_id": snap.tenant,
        "model_id": snap.name,
        "version": record.version,
        "from_stage": record.from_stage,
        "to_stage": record.to_stage,
        "epoch": epoch,
        "timestamp": record.timestamp,
        "requested_by": record.user_id,
        "approved_by": record.approved_by,
        "request_id": record.request_id,
        "reason": record.reason,
        "challenger": _metrics(snap, record.version),
        "champion": _metrics(snap, champion) if champion != record.version else None,
        "gates": [g.as_dict() for g in gates],
        "run_id": getattr(getattr(run, "info", None), "run_id", None),
        "inputs": dataset_inputs(run)[:_MAX_INPUTS],
        "code": {name: run_tags.get(tag) for name, tag in _CODE_TAGS.items()},
    }


def record_ops(
    snap: Snapshot,
    records: list[TransitionRecord],
    runs: Mapping[str, Any],
    gates: Mapping[str, list[GateResult]],
) -> list[Op]:
    """One write-once document per record, named for the epoch this change will claim.
    A name already present on the version is a `ConflictError` (records are immutable)."""
    epoch = snap.epoch + 1
    key = record_key(epoch)
    ops: list[Op] = []
    for record in records:
        if key in (snap.versions[record.version].tags or {}):
            raise ConflictError(
                f"The record {key} of version {record.version} of '{snap.name}' exists "
                "already; records are written once and never replaced.",
                hint="Read the model again and retry.",
            )
        record.record = key
        found = gates.get(record.version, [])
        record.gates = [g.line() for g in found]
        doc = document(snap, record, epoch, runs.get(record.version), found)
        ops.append(SetVersionTag(record.version, key, dumps(doc)))
    return ops


def documents(version_tags: Mapping[str, str]) -> list[dict[str, Any]]:
    """A version's records, oldest first."""
    keys = sorted(k for k in version_tags if k.startswith(TAG_RECORD))
    return [d for d in (loads(version_tags[k], None) for k in keys) if isinstance(d, dict)]


__all__ = ["TAG_RECORD", "document", "documents", "record_key", "record_ops"]
