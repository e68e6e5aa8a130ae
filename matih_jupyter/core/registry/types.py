"""Result types and the stage lifecycle of the model registry.

The pydantic models are the JSON shape of the REST API and what Python callers get back.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from ..errors import InvalidInputError

#: The lifecycle stages of a model version, in lifecycle order.
STAGES = ("development", "staging", "production", "archived")

#: Every move the lifecycle allows: development -> staging, staging -> production,
#: production -> archived, and any other stage -> development (the rollback move).
ALLOWED_TRANSITIONS: dict[str, tuple[str, ...]] = {
    "development": ("staging",),
    "staging": ("production", "development"),
    "production": ("archived", "development"),
    "archived": ("development",),
}

#: Frameworks `ModelRegistry.register_model` accepts.
FRAMEWORKS = ("sklearn", "onnx", "pytorch")


def validate_stage(stage: Any, field: str = "stage") -> str:
    """Return ``stage`` lower-cased if it is one of `STAGES`, else raise `InvalidInputError`."""
    if not isinstance(stage, str) or stage.strip().lower() not in STAGES:
        raise InvalidInputError(
            field, f"{stage!r} is not a stage.", hint=f"Use one of {', '.join(STAGES)}."
        )
    return stage.strip().lower()


def allowed_transitions(current_stage: str) -> list[str]:
    """The stages a version in ``current_stage`` may move to.

    Example:
        >>> allowed_transitions("staging")
        ['production', 'development']
    """
    return list(ALLOWED_TRANSITIONS[validate_stage(current_stage, "current_stage")])


class ModelMetadata(BaseModel):
    """A registered model: one of its versions described, its versions, provenance and
    aliases.

    ``current_version`` is the version described by ``stage``, ``metrics``,
    ``parameters``, ``framework``, ``run_id`` and ``artifact_uri``. Reading a model
    (`get_model`, `list_models`) and changing stages describe the version in production
    when there is one, else the newest version; registering describes the version just
    created. ``production_version`` is the version in production (``None`` when none is).
    """

    model_id: str
    tenant_id: str
    name: str
    description: str = ""
    model_type: str = ""
    framework: str
    current_version: str
    production_version: str | None = None
    versions: list[str]
    stage: str
    metrics: dict[str, float] = Field(default_factory=dict)
    parameters: dict[str, Any] = Field(default_factory=dict)
    tags: dict[str, str] = Field(default_factory=dict)
    created_at: str
    updated_at: str
    created_by: str = ""
    artifact_uri: str = ""
    run_id: str | None = None
    aliases: dict[str, str] = Field(default_factory=dict)


class ModelVersionInfo(BaseModel):
    """One version of a registered model."""

    model_id: str
    version: str
    stage: str
    aliases: list[str] = Field(default_factory=list)
    run_id: str | None = None
    metrics: dict[str, float] = Field(default_factory=dict)
    parameters: dict[str, Any] = Field(default_factory=dict)
    framework: str = ""
    created_at: str
    created_by: str = ""
    artifact_uri: str = ""
    description: str = ""


class TransitionRecord(BaseModel):
    """One recorded stage change: who moved which version from where to where, when, why.

    ``from_stage`` is ``None`` for the registration of a version. ``epoch`` numbers the
    registry change the record belongs to (a promotion that archives the previous
    production version, or a rollback, writes two records with one epoch).
    ``hook_failures`` lists the after-transition hooks and webhooks that failed.
    ``approved_by`` and ``request_id`` name the second person and their request when the
    policy asked for one; ``gates`` are the policy's gate results, one line each; ``record``
    names the version's tag holding the move's full record (`ModelRegistry.records`).
    """

    version: str
    from_stage: str | None
    to_stage: str
    user_id: str
    timestamp: str
    reason: str | None = None
    epoch: int = 0
    hook_failures: list[str] = Field(default_factory=list)
    approved_by: str | None = None
    request_id: str | None = None
    gates: list[str] = Field(default_factory=list)
    record: str | None = None

    def stored(self) -> dict[str, Any]:
        """The stored form: the governance fields only when set, so records without them
        keep the exact text earlier releases wrote."""
        value = self.model_dump()
        for key in _GOVERNANCE_FIELDS:
            if not value[key]:
                del value[key]
        return value


#: Fields of `TransitionRecord` that only governed moves fill in.
_GOVERNANCE_FIELDS = ("approved_by", "request_id", "gates", "record")


class PromotionDecision(BaseModel):
    """What `ModelRegistry.promote_if_better` decided, and why."""

    promoted: bool
    reason: str
    metric: str
    challenger_version: str
    champion_version: str | None = None
    challenger_value: float | None = None
    champion_value: float | None = None
    delta: float | None = None


__all__ = [
    "ALLOWED_TRANSITIONS",
    "FRAMEWORKS",
    "STAGES",
    "ModelMetadata",
    "ModelVersionInfo",
    "PromotionDecision",
    "TransitionRecord",
    "allowed_transitions",
    "validate_stage",
]
