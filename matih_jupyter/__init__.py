"""matih_jupyter: tenant-scoped experiment tracking and model promotion in notebooks.

The public API is imported lazily, so ``%load_ext matih_jupyter`` stays fast: MLflow is
imported by the first call that needs it, not by importing this package.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from . import core as _core

__version__ = "0.1.0"

_EXPORTS = _core.EXPORTS

__all__ = sorted(_EXPORTS)

if TYPE_CHECKING:
    from .core.errors import (
        AccessDeniedError,
        BackendUnavailableError,
        ConflictError,
        InvalidInputError,
        LifecycleError,
        LoggingError,
        MatihError,
        NotFoundError,
    )
    from .core.models import ExperimentCreate, ExperimentResponse, MetricPoint, RunResponse
    from .core.registry import (
        ALLOWED_TRANSITIONS,
        STAGES,
        HookFailureWarning,
        HookVetoError,
        ModelMetadata,
        ModelRegistry,
        ModelVersionInfo,
        PromotionDecision,
        TransitionRecord,
        allowed_transitions,
    )
    from .core.registry.process_registry import get_model_registry
    from .core.tracking.active_run import ActiveRun
    from .core.tracking.process_tracker import get_experiment_tracker
    from .core.tracking.run_config import ExperimentConfig, RunConfig
    from .core.tracking.tracker import ExperimentTracker


def _jupyter_server_extension_points() -> list[dict[str, str]]:
    """Where jupyter_server finds the REST extension (imported only when it loads it)."""
    return [{"module": "matih_jupyter.server"}]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'matih_jupyter' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])


def load_ipython_extension(ipython: Any) -> None:
    """``%load_ext matih_jupyter``: register the ``%matih_*`` magics (MLflow is imported by
    the first magic that needs it, not here)."""
    from .magics import load_ipython_extension as load

    load(ipython)


def unload_ipython_extension(ipython: Any) -> None:
    """``%unload_ext matih_jupyter``: remove the magics, ending runs they left open."""
    from .magics import unload_ipython_extension as unload

    unload(ipython)
