"""MLflow's exceptions as the core's errors: one map, used around every MLflow call.

Another tenant's resource answers exactly like a missing one, so callers pass the
not-found message they want shown for both.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from mlflow.exceptions import MlflowException
from mlflow.protos import databricks_pb2 as codes

from ..errors import (
    AccessDeniedError,
    BackendUnavailableError,
    ConflictError,
    InvalidInputError,
    MatihError,
    NotFoundError,
)

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
#: A proxy in front of the server that answered without JSON (MLflow maps 502 to a
#: generic internal error, so its message is the only sign).
_BAD_GATEWAY = "failed with error code 502"
_UNAVAILABLE = {
    codes.ErrorCode.Name(codes.TEMPORARILY_UNAVAILABLE),
    codes.ErrorCode.Name(codes.SERVICE_UNDER_MAINTENANCE),
    codes.ErrorCode.Name(codes.DEADLINE_EXCEEDED),
}


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
        if code in _DENIED:
            raise AccessDeniedError(
                f"The MLflow server refused access while {what}: {text}",
                hint="Check MLFLOW_TRACKING_USERNAME / MLFLOW_TRACKING_PASSWORD and the "
                "permissions your user has on this tenant's workspace.",
            ) from None
        if code in _CONFLICT:
            raise ConflictError(f"Conflict while {what}: {text}") from None
        if code in _UNAVAILABLE or _is_connection_error(exc) or _BAD_GATEWAY in exc.message:
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
