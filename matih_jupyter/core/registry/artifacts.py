"""The files a registered version stores in its run's artifacts, and the model in them.

Every version gets: the model in its framework's MLflow flavor (``model/``), an ONNX
export when the model can be exported (``model.onnx``, see `onnx_export`), pinned
``requirements.txt`` (see `requirements`), a generated ``model_card.md`` (see `cards`)
and the run's metric histories as JSON (``metrics/history.json``). The flavors themselves
are the backend's.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from ..backend.flavors import load_flavor, save_flavor
from ..errors import InvalidInputError
from .onnx_export import as_onnx, is_sklearn_model, save_onnx, write_onnx_export
from .requirements import pinned_requirements
from .types import FRAMEWORKS

MODEL_DIR = "model"
METRICS_HISTORY_FILE = "metrics/history.json"


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


def save_model(model: Any, framework: str, dest: Path) -> tuple[str | None, str]:
    """Save ``model`` under ``dest`` in its MLflow flavor, plus an ONNX export when possible.

    Returns:
        (the ONNX export's status, the flavor's name): the status is ``None`` when
        ``dest/model.onnx`` was written, else why not.
    """
    model_dir = dest / MODEL_DIR
    if framework == "sklearn":
        if not is_sklearn_model(model):
            raise InvalidInputError(
                "model",
                f"framework 'sklearn' needs a scikit-learn estimator, got {type(model).__name__}.",
            )
        save_flavor("sklearn", model, model_dir, pinned_requirements("sklearn", False))
        return write_onnx_export(model, dest), "sklearn"
    if framework == "onnx":
        proto = as_onnx(model)
        save_flavor("onnx", proto, model_dir, pinned_requirements("onnx", False))
        save_onnx(proto, dest)
        return None, "onnx"
    _check_torch_module(model)
    save_flavor("pytorch", model, model_dir, pinned_requirements("pytorch", False))
    return "ONNX export is not attempted for pytorch models.", "pytorch"


def _check_torch_module(model: Any) -> None:
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


def load_model(framework: str, local_dir: Path) -> Any:
    """Load a model saved by `save_model` from a downloaded ``model/`` folder."""
    return load_flavor(framework, local_dir)


def metrics_history(
    client: Any, run_id: str, keys: Sequence[str]
) -> dict[str, list[dict[str, Any]]]:
    """Every logged point of the run's metrics, by key: ``[{step, value, timestamp}]``."""
    return history_of(
        (key, p.value, p.timestamp, p.step)
        for key in keys
        for p in client.get_metric_history(run_id, key)
    )


def history_of(
    points: Iterable[tuple[str, float, int, int]],
) -> dict[str, list[dict[str, Any]]]:
    """``(key, value, timestamp, step)`` points as the metric history file holds them: by
    key (sorted), each key's points by step then time."""
    out: dict[str, list[tuple[int, int, float]]] = {}
    for key, value, timestamp, step in points:
        out.setdefault(key, []).append((step, timestamp, value))
    return {
        key: [{"step": s, "value": v, "timestamp": t} for s, t, v in sorted(out[key])]
        for key in sorted(out)
    }
