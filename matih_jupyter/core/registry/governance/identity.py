"""Who is acting: a user and the groups they belong to.

Groups come from three places, merged:

* the policy's own ``[tenants.<id>.groups]`` tables;
* the groups an authenticated caller brings for one call (`acting_in_groups`): the Jupyter
  server passes the JupyterHub groups of the logged-in user (the hub's user model, which
  the single-user server receives with its OAuth token when the hub grants the
  ``read:users:groups`` scope);
* ``MATIH_USER_GROUPS`` (comma-separated), for the user the process runs as
  (``MATIH_USER_ID``), for example set per user by a JupyterHub spawner's environment.

Inside a kernel the user and the environment are the user's own, so the policy there keeps
honest people from mistakes; the boundary against a user who edits their own environment
is the Jupyter server's REST API, whose user and groups come from authentication.
"""

from __future__ import annotations

import contextlib
import contextvars
import os
from collections.abc import Iterable, Iterator

from ...config import ENV_USER, default_user
from .policy import Policy

ENV_GROUPS = "MATIH_USER_GROUPS"

_call_groups: contextvars.ContextVar[tuple[str, frozenset[str]] | None] = contextvars.ContextVar(
    "matih_call_groups", default=None
)


@contextlib.contextmanager
def acting_in_groups(user: str, groups: Iterable[str]) -> Iterator[None]:
    """For the calls inside, ``user`` is a member of ``groups`` (this thread/task only)."""
    token = _call_groups.set((user, frozenset(groups)))
    try:
        yield
    finally:
        _call_groups.reset(token)


def _env_groups(user: str) -> set[str]:
    if user != (os.environ.get(ENV_USER) or default_user()):
        return set()
    raw = os.environ.get(ENV_GROUPS, "")
    return {g.strip() for g in raw.split(",") if g.strip()}


def groups_of(policy: Policy, tenant: str, user: str) -> set[str]:
    """Every group ``user`` belongs to, for ``tenant``'s rules."""
    found = _env_groups(user)
    call = _call_groups.get()
    if call is not None and call[0] == user:
        found |= call[1]
    own = policy.for_tenant(tenant)
    if own is not None:
        found |= own.groups_of(user)
    return found


__all__ = ["ENV_GROUPS", "acting_in_groups", "groups_of"]
