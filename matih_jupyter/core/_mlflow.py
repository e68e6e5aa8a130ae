"""The one place that imports MLflow.

It builds clients with explicit URIs (never MLflow's process-global state), turns
MLflow's exceptions into the core's errors, and converts MLflow entities to the
core's result types.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
from collections.abc import Callable, Iterator
from typing import Any

import mlflow
from mlflow.entities import Experiment, Metric, Param, Run, RunTag, ViewType
from mlflow.exceptions import MlflowException, RestException
from mlflow.protos import databricks_pb2 as codes
from mlflow.tracking import MlflowClient

from .config import StoreConfig
from .errors import (
    AccessDeniedError,
    BackendUnavailableError,
    ConflictError,
    InvalidInputError,
    MatihError,
    NotFoundError,
)
from .models import ExperimentResponse, MetricPoint, RunResponse
from .tenancy import TAG_SHORT_NAME, TAG_TENANT, TAG_USER, split_experiment_name

__all__ = [
    "Experiment",
    "Metric",
    "MlflowClient",
    "Param",
    "Run",
    "RunTag",
    "ViewType",
    "make_client",
    "mlflow",
    "translate_errors",
]

_NOT_FOUND = {
    codes.ErrorCode.Name(codes.RESOURCE_DOES_NOT_EXIST),
    codes.ErrorCode.Name(codes.NOT_FOUND),
    codes.ErrorCode.Name(codes.ENDPOINT_NOT_FOUND),
}
_CONFLICT = {
    codes.ErrorCode.Name(codes.RESOURCE_ALREADY_EXISTS),
    codes.ErrorCode.Name(codes.ABORTED),
    codes.ErrorCode.Name(codes.RESOURCE_CONFLICT),
}
_DENIED = {
    codes.ErrorCode.Name(codes.PERMISSION_DENIED),
    codes.ErrorCode.Name(codes.UNAUTHENTICATED),
}
_UNAVAILABLE = {
    codes.ErrorCode.Name(codes.TEMPORARILY_UNAVAILABLE),
    codes.ErrorCode.Name(codes.SERVICE_UNDER_MAINTENANCE),
    codes.ErrorCode.Name(codes.DEADLINE_EXCEEDED),
}


def make_client(store: StoreConfig) -> MlflowClient:
    """A client bound to this store's URIs, independent of MLflow's global settings."""
    if store.is_remote:
        # Bound how long a dead server can hold a notebook: MLflow's defaults retry for
        # minutes. Users who set these explicitly keep their values.
        os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "2")
        os.environ.setdefault("MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR", "1")
        os.environ.setdefault("MLFLOW_HTTP_REQUEST_TIMEOUT", "10")
    return MlflowClient(tracking_uri=store.tracking_uri, registry_uri=store.registry_uri)


def _is_connection_error(exc: BaseException) -> bool:
    names = {type(e).__name__ for e in _chain(exc)}
    return bool(
        names
        & {
            "ConnectionError",
            "ConnectionRefusedError",
            "MaxRetryError",
            "NewConnectionError",
            "ReadTimeout",
            "ConnectTimeout",
            "Timeout",
            "OperationalError",
        }
    )


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    cur: BaseException | None = exc
    while cur is not None and id(cur) not in seen:
        seen.add(id(cur))
        yield cur
        cur = cur.__cause__ or cur.__context__


@contextlib.contextmanager
def translate_errors(what: str, *, not_found: str | None = None) -> Iterator[None]:
    """Run MLflow calls and turn their exceptions into the core's errors.

    Args:
        what: What was being done, for the message ("creating experiment 'acme/x'").
        not_found: The message for a missing resource; the same for another tenant's.
    """
    try:
        yield
    except MatihError:
        raise
    except MlflowException as exc:
        code = exc.error_code
        text = _short(exc.message)
        if code in _NOT_FOUND:
            raise NotFoundError(not_found or f"Not found while {what}.") from None
        if code in _DENIED or (
            isinstance(exc, RestException) and getattr(exc, "_status_code", 0) in (401, 403)
        ):
            raise AccessDeniedError(
                f"The MLflow server refused access while {what}: {text}",
                hint="Check MLFLOW_TRACKING_USERNAME / MLFLOW_TRACKING_PASSWORD and the "
                "permissions your user has on this tenant's workspace.",
            ) from None
        if code in _CONFLICT:
            raise ConflictError(f"Conflict while {what}: {text}") from None
        if (
            code in _UNAVAILABLE
            or _is_connection_error(exc)
            or (
                isinstance(exc, RestException)
                and getattr(exc, "_status_code", 0) in (502, 503, 504)
            )
        ):
            raise BackendUnavailableError(
                f"The MLflow backend did not answer while {what}.",
                hint="Check that the tracking server is running and reachable.",
            ) from None
        if "Changing param values is not allowed" in exc.message:
            raise ConflictError(
                f"Conflict while {what}: a param was logged before with another value.",
                hint="Params are write-once; start a new run (or a nested one) for a new value.",
            ) from None
        raise InvalidInputError("request", f"MLflow refused {what}: {text}") from None
    except (OSError, TimeoutError) as exc:
        if _is_connection_error(exc) or isinstance(exc, ConnectionError | TimeoutError):
            raise BackendUnavailableError(
                f"The MLflow backend did not answer while {what}.",
                hint="Check that the tracking server is running and reachable.",
            ) from None
        raise
    except Exception as exc:
        if _is_connection_error(exc):
            raise BackendUnavailableError(
                f"The MLflow backend did not answer while {what}.",
                hint="Check that the tracking server is running and reachable.",
            ) from None
        raise


def _short(text: str, limit: int = 300) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def iso(ms: int | None) -> str | None:
    """Epoch milliseconds as an ISO 8601 UTC string."""
    if ms is None:
        return None
    return dt.datetime.fromtimestamp(ms / 1000, tz=dt.UTC).isoformat()


def experiment_response(exp: Experiment) -> ExperimentResponse:
    """An MLflow experiment as seed 001's response. The caller has checked the tenant."""
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
    """An MLflow run as seed 001's response. The caller has checked the tenant."""
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


def request_workspace(name: str) -> contextlib.AbstractContextManager[str | None]:
    """A block whose MLflow requests (this thread or task) go to workspace ``name``.

    MLflow's REST client reads a context variable for every request; the "server" flavour
    sets only the variable, never ``MLFLOW_WORKSPACE`` in the process environment.
    """
    from mlflow.utils.workspace_context import ServerWorkspaceContext

    return ServerWorkspaceContext(name)


def bind_request_workspace(name: str) -> None:
    """Send this thread's (or task's) MLflow requests to workspace ``name`` until rebound."""
    from mlflow.utils.workspace_context import set_server_request_workspace

    set_server_request_workspace(name)


def all_pages(search: Callable[..., Any], **kwargs: Any) -> list[Any]:
    """Every result of an MLflow ``search_*`` call, following its page tokens."""
    found: list[Any] = []
    token = None
    while True:
        page = search(page_token=token, **kwargs)
        found.extend(page)
        token = page.token
        if not token:
            return found
