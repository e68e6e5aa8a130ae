"""Calls that bind MLflow state for their own duration only.

A tenant's MLflow workspace is bound in a context variable; running each public core call
in a copy of the caller's context means whatever it binds is gone when it returns, so a
server worker thread or a notebook never keeps another call's workspace.
"""

from __future__ import annotations

import contextvars
import functools
import types
from collections.abc import Callable
from typing import Any, TypeVar

_F = TypeVar("_F", bound=Callable[..., Any])
_C = TypeVar("_C", bound=type)


def isolated(fn: _F) -> _F:
    """Run ``fn`` in a copy of the caller's context, so a workspace it binds is gone when
    it returns (the caller's thread, e.g. a server worker or a notebook, stays unbound)."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        return contextvars.copy_context().run(fn, *args, **kwargs)

    return wrapper  # type: ignore[return-value]


def binds_caller(fn: _F) -> _F:
    """Mark a method whose purpose is to bind the *caller's* context (`isolated_methods`
    leaves it alone)."""
    fn.__matih_binds_caller__ = True  # type: ignore[attr-defined]
    return fn


def isolated_methods(cls: _C) -> _C:
    """Class decorator: every public method runs `isolated`, except `binds_caller` ones."""
    for name, attr in list(vars(cls).items()):
        if (
            not name.startswith("_")
            and isinstance(attr, types.FunctionType)
            and not getattr(attr, "__matih_binds_caller__", False)
        ):
            setattr(cls, name, isolated(attr))
    return cls
