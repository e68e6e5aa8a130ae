"""MLflow model flavors: save a model in its framework's flavor, and load it back.

Flavor modules are imported on first use (each imports its framework, which is slow).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from ..errors import InvalidInputError
from . import internals


class _DropMessage(logging.Filter):
    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text

    def filter(self, record: logging.LogRecord) -> bool:
        return self.text not in record.getMessage()


def save_flavor(framework: str, model: Any, model_dir: Path, requirements: list[str]) -> None:
    """Save ``model`` (already checked to suit ``framework``) into ``model_dir``, with
    ``requirements`` pinned from the installed packages (MLflow does not check them again)."""
    with internals.requirement_check_skipped():
        _save(framework, model, model_dir, requirements)


def _save(framework: str, model: Any, model_dir: Path, requirements: list[str]) -> None:
    if framework == "sklearn":
        import mlflow.sklearn

        # MLflow warns on every save that pickles run code when loaded; registering is
        # that choice, made once and documented, so the notebook is not told each time.
        quiet = _DropMessage("pickle or cloudpickle format")
        logger = logging.getLogger("mlflow.sklearn")
        logger.addFilter(quiet)
        try:
            mlflow.sklearn.save_model(
                model,
                str(model_dir),
                pip_requirements=requirements,
                serialization_format=mlflow.sklearn.SERIALIZATION_FORMAT_CLOUDPICKLE,
            )
        finally:
            logger.removeFilter(quiet)
    elif framework == "onnx":
        import mlflow.onnx

        mlflow.onnx.save_model(
            model, str(model_dir), pip_requirements=requirements, save_as_external_data=False
        )
    elif framework == "pytorch":
        import mlflow.pytorch

        mlflow.pytorch.save_model(model, str(model_dir), pip_requirements=requirements)
    else:
        raise InvalidInputError("framework", f"{framework!r} models cannot be saved.")


def load_flavor(framework: str, local_dir: Path) -> Any:
    """Load a model saved by `save_flavor` from a downloaded ``model/`` folder."""
    if framework == "sklearn":
        import mlflow.sklearn

        return mlflow.sklearn.load_model(str(local_dir))
    if framework == "onnx":
        try:
            import mlflow.onnx
        except ImportError:
            raise InvalidInputError(
                "framework",
                "Loading an ONNX model needs onnx, which is not installed.",
                hint="Install it with pip install 'matih-jupyter[onnx]'.",
            ) from None
        return mlflow.onnx.load_model(str(local_dir))
    if framework == "pytorch":
        try:
            import mlflow.pytorch
            import torch  # noqa: F401
        except ImportError:
            raise InvalidInputError(
                "framework", "this version is a pytorch model and torch is not installed."
            ) from None
        return mlflow.pytorch.load_model(str(local_dir))
    raise InvalidInputError("framework", f"{framework!r} models cannot be loaded.")
