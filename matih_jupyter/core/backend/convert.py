"""MLflow entities as the core's result types, and buffered tuples as MLflow entities."""

from __future__ import annotations

import datetime as dt

from mlflow.entities import Experiment, Metric, Param, Run, RunTag

from ..models import ExperimentResponse, MetricPoint, RunResponse
from ..tenancy import TAG_SHORT_NAME, TAG_TENANT, TAG_USER, split_experiment_name


def iso(ms: int | None) -> str | None:
    """Epoch milliseconds as an ISO 8601 UTC string."""
    if ms is None:
        return None
    return dt.datetime.fromtimestamp(ms / 1000, tz=dt.UTC).isoformat()


def experiment_response(exp: Experiment) -> ExperimentResponse:
    """An MLflow experiment as the REST API's experiment. The caller has checked the
    tenant."""
    split = split_experiment_name(exp.name)
    tenant, short = split if split else ("", exp.name)
    tags = dict(exp.tags or {})
    return ExperimentResponse(
        id=exp.experiment_id,
        name=tags.get(TAG_SHORT_NAME, short),
        description=tags.get("mlflow.note.content", ""),
        artifact_location=exp.artifact_location or "",
        lifecycle_stage=exp.lifecycle_stage,
        created_at=iso(exp.creation_time) or "",
        last_updated=iso(exp.last_update_time or exp.creation_time) or "",
        tags=tags,
        tenant_id=tags.get(TAG_TENANT, tenant),
        full_name=exp.name,
    )


def run_response(run: Run, artifacts: list[str] | None = None) -> RunResponse:
    """An MLflow run as the REST API's run. The caller has checked the tenant."""
    info, data = run.info, run.data
    end = info.end_time
    duration = (end - info.start_time) / 1000 if end and info.start_time else None
    tags = dict(data.tags)
    return RunResponse(
        id=info.run_id,
        experiment_id=info.experiment_id,
        name=info.run_name,
        status=str(info.status).lower(),
        start_time=iso(info.start_time) or "",
        end_time=iso(end),
        duration_seconds=duration,
        tags=tags,
        params=dict(data.params),
        metrics=dict(data.metrics),
        artifacts=artifacts or [],
        tenant_id=tags.get(TAG_TENANT, ""),
        user_id=tags.get(TAG_USER),
        parent_run_id=tags.get("mlflow.parentRunId"),
        artifact_uri=info.artifact_uri,
        lifecycle_stage=info.lifecycle_stage,
    )


def metric_points(history: list[Metric]) -> list[MetricPoint]:
    return [
        MetricPoint(key=m.key, value=m.value, step=m.step, timestamp=m.timestamp) for m in history
    ]


def entities(
    metrics: list[tuple[str, float, int, int]],
    params: list[tuple[str, str]],
    tags: list[tuple[str, str]],
) -> tuple[list[Metric], list[Param], list[RunTag]]:
    """Buffered tuples as MLflow entities."""
    return (
        [Metric(k, v, ts, step) for k, v, ts, step in metrics],
        [Param(k, v) for k, v in params],
        [RunTag(k, v) for k, v in tags],
    )
