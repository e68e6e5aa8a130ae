"""Who calls, as the core's policy sees it: the authenticated user and, under JupyterHub,
their hub groups, bound to one core call (never to the process or the thread pool)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")


def caller_groups(user: Any) -> list[str]:
    """The JupyterHub groups of an authenticated user: the hub's user model, which the
    single-user server gets with the user's OAuth token (it lists ``groups`` when the hub
    grants the ``read:users:groups`` scope). Empty outside JupyterHub."""
    model = getattr(user, "hub_user", None)
    groups = model.get("groups") if isinstance(model, dict) else None
    return [str(g) for g in groups] if isinstance(groups, list) else []


def as_caller(user_name: str, user: Any, fn: Callable[[], T]) -> Callable[[], T]:
    """``fn`` run with ``user_name`` in their hub groups for the policy's checks."""
    groups = caller_groups(user)

    def run() -> T:
        from ..core import acting_in_groups

        with acting_in_groups(user_name, groups):
            return fn()

    return run if groups else fn
