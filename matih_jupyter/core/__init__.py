"""The framework-free core: configuration, tenancy, tracker, registry, errors, results.

Nothing here imports IPython, ipywidgets, tornado or jupyter_server.
"""

from .errors import (
    BackendUnavailableError,
    ConflictError,
    InvalidInputError,
    LifecycleError,
    LoggingError,
    MatihError,
    NotFoundError,
)
from .models import ExperimentCreate, ExperimentResponse, MetricPoint, RunResponse
from .registry import (
    ModelMetadata,
    ModelRegistry,
    ModelVersionInfo,
    PromotionDecision,
    TransitionRecord,
)
from .tracker import (
    ActiveRun,
    ExperimentConfig,
    ExperimentTracker,
    RunConfig,
    get_experiment_tracker,
)

__all__ = [
    "ActiveRun",
    "BackendUnavailableError",
    "ConflictError",
    "ExperimentConfig",
    "ExperimentCreate",
    "ExperimentResponse",
    "ExperimentTracker",
    "InvalidInputError",
    "LifecycleError",
    "LoggingError",
    "MatihError",
    "MetricPoint",
    "ModelMetadata",
    "ModelRegistry",
    "ModelVersionInfo",
    "NotFoundError",
    "PromotionDecision",
    "RunConfig",
    "RunResponse",
    "TransitionRecord",
    "get_experiment_tracker",
]
