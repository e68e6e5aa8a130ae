"""What a registered version stores beside its model (seed 002's artifact table).

Every version gets, in its run's artifacts: the model in its framework's MLflow flavor
(``model/``), an ONNX export when the model can be exported (``model.onnx``), pinned
``requirements.txt``, a generated ``model_card.md`` and the run's metric histories as JSON
(``metrics/history.json``). The flavors themselves are the backend's.
"""

from __future__ import annotations

import json
import platform
from collections.abc import Mapping, Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

from ..backend.flavors import load_flavor, save_flavor
from ..errors import InvalidInputError
from .types import FRAMEWORKS, TransitionRecord

MODEL_DIR = "model"
ONNX_FILE = "model.onnx"
REQUIREMENTS_FILE = "requirements.txt"
MODEL_CARD_FILE = "model_card.md"
METRICS_HISTORY_FILE = "metrics/history.json"

#: Packages pinned in ``requirements.txt`` for each framework (when installed).
_PACKAGES: dict[str, tuple[str, ...]] = {
    "sklearn": ("mlflow", "scikit-learn", "numpy", "scipy", "cloudpickle"),
    "onnx": ("mlflow", "onnx", "onnxruntime", "numpy"),
    "pytorch": ("mlflow", "torch", "numpy", "cloudpickle"),
}
_ONNX_PACKAGES = ("onnx", "onnxruntime", "skl2onnx")


def validate_framework(framework: Any) -> str:
    """The framework name lower-cased, or `InvalidInputError` naming the supported ones."""
    fw = framework.strip().lower() if isinstance(framework, str) else None
    if fw in ("scikit-learn", "scikit_learn"):
        fw = "sklearn"
    if fw in ("torch",):
        fw = "pytorch"
    if fw not in FRAMEWORKS:
        raise InvalidInputError(
            "framework",
            f"{framework!r} is not supported.",
            hint=f"Supported frameworks: {', '.join(FRAMEWORKS)} (pytorch needs torch installed).",
        )
    return fw


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def pinned_requirements(framework: str, with_onnx: bool) -> list[str]:
    """``name==version`` for the packages a loader of this model needs."""
    names = list(_PACKAGES[framework])
    if with_onnx:
        names += [p for p in _ONNX_PACKAGES if p not in names]
    pins = []
    for name in names:
        version = _version(name)
        if version is not None:
            pins.append(f"{name}=={version}")
    return pins


def _missing_onnx(what: str) -> InvalidInputError:
    return InvalidInputError(
        "framework",
        f"{what} needs the packages onnx, onnxruntime and skl2onnx, which are not installed.",
        hint="Install them with: pip install 'matih-jupyter[onnx]'.",
    )


def is_sklearn_model(model: Any) -> bool:
    try:
        from sklearn.base import BaseEstimator
    except ImportError:  # pragma: no cover - scikit-learn is a test dependency
        return False
    return isinstance(model, BaseEstimator)


def export_sklearn_to_onnx(model: Any) -> Any:
    """Export a fitted scikit-learn model to an ONNX ``ModelProto`` with skl2onnx.

    Classifiers return plain label and probability arrays (no ZipMap), so ONNX Runtime's
    outputs compare directly with ``predict`` and ``predict_proba``.

    Raises:
        InvalidInputError: skl2onnx is missing, or the model cannot be exported.
    """
    try:
        from skl2onnx import to_onnx
        from skl2onnx.common.data_types import FloatTensorType
    except ImportError:
        raise _missing_onnx("Exporting to ONNX") from None
    n_features = getattr(model, "n_features_in_", None)
    if not isinstance(n_features, int):
        raise InvalidInputError(
            "model",
            "the scikit-learn model is not fitted (no n_features_in_).",
            hint="Fit it first.",
        )
    options: dict[Any, Any] | None = None
    from sklearn.base import is_classifier

    if is_classifier(model):
        options = {id(model): {"zipmap": False}}
    try:
        return to_onnx(
            model,
            initial_types=[("input", FloatTensorType([None, n_features]))],
            options=options,
            target_opset=None,
        )
    except Exception as exc:  # skl2onnx raises many types for unsupported estimators
        raise InvalidInputError(
            "model",
            f"{type(model).__name__} could not be exported to ONNX: {exc}",
            hint="Register it with framework='sklearn' (the ONNX export is then skipped).",
        ) from None


def save_model(model: Any, framework: str, dest: Path) -> tuple[str | None, str]:
    """Save ``model`` under ``dest`` in its MLflow flavor, plus an ONNX export when possible.

    Returns:
        (the ONNX export's status, the flavor's name): the status is ``None`` when
        ``dest/model.onnx`` was written, else why not.
    """
    model_dir = dest / MODEL_DIR
    onnx_note: str | None = None
    if framework == "sklearn":
        if not is_sklearn_model(model):
            raise InvalidInputError(
                "model",
                f"framework 'sklearn' needs a scikit-learn estimator, got {type(model).__name__}.",
            )
        save_flavor("sklearn", model, model_dir, pinned_requirements("sklearn", False))
        onnx_note = _write_onnx_export(model, dest)
        return onnx_note, "sklearn"
    if framework == "onnx":
        proto = _as_onnx(model)
        save_flavor("onnx", proto, model_dir, pinned_requirements("onnx", False))
        import onnx

        onnx.save_model(proto, str(dest / ONNX_FILE))
        return None, "onnx"
    # pytorch
    try:
        import torch
    except ImportError:
        raise InvalidInputError(
            "framework",
            "'pytorch' needs torch, which is not installed.",
            hint=f"Install it with pip install 'matih-jupyter[pytorch]', or use one of "
            f"{', '.join(f for f in FRAMEWORKS if f != 'pytorch')}.",
        ) from None
    if not isinstance(model, torch.nn.Module):
        raise InvalidInputError(
            "model", f"framework 'pytorch' needs a torch.nn.Module, got {type(model).__name__}."
        )
    save_flavor("pytorch", model, model_dir, pinned_requirements("pytorch", False))
    return "ONNX export is not attempted for pytorch models.", "pytorch"


def _as_onnx(model: Any) -> Any:
    try:
        import onnx
    except ImportError:
        raise _missing_onnx("framework 'onnx'") from None
    if isinstance(model, onnx.ModelProto):
        return model
    if isinstance(model, bytes | bytearray):
        return onnx.load_model_from_string(bytes(model))
    if isinstance(model, str | Path) and str(model).endswith(".onnx") and Path(model).is_file():
        return onnx.load(str(model))
    if is_sklearn_model(model):
        return export_sklearn_to_onnx(model)
    raise InvalidInputError(
        "model",
        f"framework 'onnx' needs an onnx.ModelProto, the bytes or path of an .onnx file, or a "
        f"fitted scikit-learn model to export; got {type(model).__name__}.",
    )


def _write_onnx_export(model: Any, dest: Path) -> str | None:
    """Write ``model.onnx`` for a scikit-learn model; return why not, if it cannot."""
    try:
        proto = export_sklearn_to_onnx(model)
    except InvalidInputError as exc:
        return exc.message
    (dest / ONNX_FILE).write_bytes(proto.SerializeToString())
    return None


def write_requirements(dest: Path, framework: str, with_onnx: bool) -> None:
    pins = pinned_requirements(framework, with_onnx)
    header = f"# Pinned when this version was registered (Python {platform.python_version()}).\n"
    (dest / REQUIREMENTS_FILE).write_text(header + "\n".join(pins) + "\n")


def metrics_history(
    client: Any, run_id: str, keys: Sequence[str]
) -> dict[str, list[dict[str, Any]]]:
    """Every logged point of the run's metrics, by key: ``[{step, value, timestamp}]``."""
    out: dict[str, list[dict[str, Any]]] = {}
    for key in sorted(keys):
        points = client.get_metric_history(run_id, key)
        out[key] = [
            {"step": p.step, "value": p.value, "timestamp": p.timestamp}
            for p in sorted(points, key=lambda p: (p.step, p.timestamp))
        ]
    return out


def _table(rows: Mapping[str, Any]) -> str:
    if not rows:
        return "_none_\n"
    lines = ["| name | value |", "| --- | --- |"]
    for key in sorted(rows):
        value = str(rows[key]).replace("|", "\\|").replace("\n", " ")
        lines.append(f"| {key} | {value} |")
    return "\n".join(lines) + "\n"


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
) -> str:
    """The Markdown model card of one version."""
    prov = {
        "MLflow registered model": full_name,
        "version": version,
        "run id": run_id,
        "experiment id": experiment_id,
        "registered by": created_by,
        "registered at": created_at,
    }
    labels = {
        "matih.git.commit": "git commit",
        "matih.git.dirty": "uncommitted changes",
        "matih.git.branch": "git branch",
        "matih.notebook_path": "notebook",
        "matih.python_version": "python",
        "matih.host": "host",
    }
    for key, label in labels.items():
        if key in provenance:
            prov[label] = provenance[key]
    for key, value in sorted(provenance.items()):
        if key.startswith("matih.version."):
            prov[key[len("matih.version.") :]] = value
    rows = ["| version | from | to | by | at | reason |", "| --- | --- | --- | --- | --- | --- |"]
    for r in history:
        rows.append(
            f"| {r.version} | {r.from_stage or '(registered)'} | {r.to_stage} | {r.user_id} "
            f"| {r.timestamp} | {(r.reason or '').replace('|', '/')} |"
        )
    onnx = "`model.onnx` (ONNX export)" if onnx_note is None else f"not available: {onnx_note}"
    return (
        f"# Model card: {name} v{version}\n\n"
        f"Tenant `{tenant_id}` · framework `{framework}` · type `{model_type or 'unspecified'}`\n\n"
        f"{description or '_No description._'}\n\n"
        f"## Metrics\n\n{_table(dict(metrics))}\n"
        f"## Parameters\n\n{_table(dict(parameters))}\n"
        f"## Provenance\n\n{_table(prov)}\n"
        f"## Stage history\n\n" + "\n".join(rows) + "\n\n"
        "## Artifacts\n\n"
        f"- `{MODEL_DIR}/`: the model in MLflow's `{framework}` flavor\n"
        f"- ONNX: {onnx}\n"
        f"- `{REQUIREMENTS_FILE}`: pinned requirements\n"
        f"- `{METRICS_HISTORY_FILE}`: every logged metric value by step\n"
    )


def load_model(framework: str, local_dir: Path) -> Any:
    """Load a model saved by `save_model` from a downloaded ``model/`` folder."""
    return load_flavor(framework, local_dir)


def dumps(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)
