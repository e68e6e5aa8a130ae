"""The one set of errors the core raises.

Every adapter maps these once: magics to ``UsageError``, widgets to their error area,
the server extension to JSON HTTP errors. Messages name what was wrong and how to fix it.
"""

from __future__ import annotations


class MatihError(Exception):
    """Base class of every error matih_jupyter raises on purpose.

    Attributes:
        message: What went wrong, for a person.
        hint: How to fix it, when there is something to say.
    """

    #: HTTP status the REST API answers with for this kind of error.
    http_status = 500

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        self.message = message
        self.hint = hint
        super().__init__(f"{message} {hint}" if hint else message)


class InvalidInputError(MatihError, ValueError):
    """A caller passed a value the core refuses (bad tenant id, name, key or value).

    Attributes:
        field: The name of the argument or field that was wrong.
    """

    http_status = 400

    def __init__(self, field: str, message: str, *, hint: str | None = None) -> None:
        self.field = field
        super().__init__(f"Invalid {field}: {message}", hint=hint)


class NotFoundError(MatihError, LookupError):
    """The resource does not exist *for this tenant*.

    Another tenant's resource raises exactly this, with the same message, so that
    an id cannot be used to learn whether something exists elsewhere.
    """

    http_status = 404


class AccessDeniedError(MatihError, PermissionError):
    """The MLflow server refused the credentials in use (its own auth, e.g. basic-auth)."""

    http_status = 403


class ConflictError(MatihError):
    """The request contradicts what is stored (a param logged again with another value,
    a name already taken, a lost promotion race)."""

    http_status = 409


class LifecycleError(ConflictError):
    """A model stage transition the lifecycle does not allow."""


class BackendUnavailableError(MatihError, ConnectionError):
    """The MLflow backend could not be reached in bounded time."""

    http_status = 503


class LoggingError(MatihError):
    """Buffered data could not be written to MLflow.

    Attributes:
        pending: How many buffered items were not written (they are kept, not dropped,
            unless the error was permanent; see ``dropped``).
        dropped: Items MLflow refused permanently; they are listed here so nothing
            disappears silently.
    """

    http_status = 502

    def __init__(
        self,
        message: str,
        *,
        hint: str | None = None,
        pending: int = 0,
        dropped: list | None = None,
    ) -> None:
        self.pending = pending
        self.dropped = list(dropped or [])
        super().__init__(message, hint=hint)


__all__ = [
    "AccessDeniedError",
    "BackendUnavailableError",
    "ConflictError",
    "InvalidInputError",
    "LifecycleError",
    "LoggingError",
    "MatihError",
    "NotFoundError",
]
