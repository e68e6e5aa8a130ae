"""Typed results and requests: the JSON shape of the REST API, and what the
tracker returns to Python callers."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from .tenancy import validate_user_tag

RUN_STATUSES = ("running", "finished", "failed", "killed", "scheduled")


class ExperimentCreate(BaseModel):
    """Request to create an experiment."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(..., min_length=1, max_length=255)
    description: str = Field(default="", max_length=1000)
    artifact_location: str | None = None
    tags: dict[str, str] = Field(default_factory=dict)

    @field_validator("tags")
    @classmethod
    def _user_tags(cls, tags: dict[str, str]) -> dict[str, str]:
        return dict(validate_user_tag(k, v) for k, v in tags.items())


class ExperimentResponse(BaseModel):
    """An experiment as the REST API returns it, with the tenant and the full MLflow name."""

    id: str
    name: str
    description: str
    artifact_location: str
    lifecycle_stage: str  # "active" or "deleted"
    created_at: str
    last_updated: str
    tags: dict[str, str]
    tenant_id: str
    full_name: str


class RunResponse(BaseModel):
    """A run as the REST API returns it, with tenant, user, parent and artifact location."""

    id: str
    experiment_id: str
    name: str | None
    status: str  # "running", "finished", "failed", "killed"
    start_time: str
    end_time: str | None
    duration_seconds: float | None
    tags: dict[str, str]
    params: dict[str, str]
    metrics: dict[str, float]
    artifacts: list[str]
    tenant_id: str
    user_id: str | None = None
    parent_run_id: str | None = None
    artifact_uri: str | None = None
    lifecycle_stage: str = "active"


class MetricPoint(BaseModel):
    """One point of a metric history."""

    key: str
    value: float
    step: int
    timestamp: int


def to_jsonable(model: BaseModel) -> dict[str, Any]:
    """A model as plain JSON types (NaN and infinities stay floats; callers decide)."""
    return model.model_dump(mode="json")
