"""The one place where the core's errors become IPython's `UsageError`.

IPython shows a `UsageError` as one red line without a traceback, which is what a user
who typed something wrong should see. The core is imported lazily: while it has not been
imported, nothing can have raised one of its errors, and importing it here would import
MLflow (which ``%load_ext`` must not pay for).
"""

from __future__ import annotations

import contextlib
import functools
import sys
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from IPython.core.error import UsageError

F = TypeVar("F", bound=Callable[..., Any])


def _matih_error_type() -> type[BaseException] | None:
    module = sys.modules.get("matih_jupyter.core.errors")
    return getattr(module, "MatihError", None) if module is not None else None


def describe_error(exc: BaseException, hint: str | None = None) -> str:
    """What a user reads for a core error: its message, then its hint (or ``hint``, what
    to do in the magic's own terms) on the next line."""
    message = getattr(exc, "message", None) or str(exc)
    hint = hint or getattr(exc, "hint", None)
    return f"{message}\n{hint}" if hint else message


def usage_error(exc: BaseException, hint: str | None = None) -> UsageError:
    """The `UsageError` a user sees for a core error (``hint`` replaces the core's)."""
    return UsageError(describe_error(exc, hint))


def is_user_error(exc: BaseException) -> bool:
    """Whether ``exc`` is one of the core's errors (a user mistake or a refused request)."""
    matih_error = _matih_error_type()
    return matih_error is not None and isinstance(exc, matih_error)


@contextlib.contextmanager
def user_errors() -> Iterator[None]:
    """Raise the core's errors inside the block as `UsageError` (without the chain, so no
    traceback is shown)."""
    try:
        yield
    except UsageError:
        raise
    except Exception as exc:
        if is_user_error(exc):
            raise usage_error(exc) from None
        raise


def maps_user_errors(func: F) -> F:
    """Decorate a magic so the core's errors reach the user as `UsageError`."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with user_errors():
            return func(*args, **kwargs)

    return wrapper  # type: ignore[return-value]
