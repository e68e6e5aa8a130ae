"""The tenant-scoped model registry: versions of a tenant's models, their stage lifecycle
(development, staging, production, archived), hooks, aliases and champion/challenger
promotion, on MLflow's model registry.

Import from here (or lazily from ``matih_jupyter``)::

    from matih_jupyter.core.registry import ModelRegistry, ModelMetadata
"""

from .hooks import HookFailureWarning, HookVetoError
from .registry import STAGE_ALIASES, ModelRegistry
from .types import (
    ALLOWED_TRANSITIONS,
    FRAMEWORKS,
    STAGES,
    ModelMetadata,
    ModelVersionInfo,
    PromotionDecision,
    TransitionRecord,
    allowed_transitions,
)

__all__ = [
    "ALLOWED_TRANSITIONS",
    "FRAMEWORKS",
    "STAGES",
    "STAGE_ALIASES",
    "HookFailureWarning",
    "HookVetoError",
    "ModelMetadata",
    "ModelRegistry",
    "ModelVersionInfo",
    "PromotionDecision",
    "TransitionRecord",
    "allowed_transitions",
]
