"""Aliases of a model: user aliases (for example ``champion``) set and removed by hand,
and lookups by any alias. The stage aliases ``production`` and ``staging`` follow the
lifecycle and are moved only by stage changes."""

from __future__ import annotations

import re
from typing import Any

from ..errors import InvalidInputError, NotFoundError
from .retry import retrying
from .snapshot import Snapshot, version_in
from .tags import STAGE_ALIASES

_ALIAS_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_\-]{0,63}$")
#: ``v<n>`` reads as a version number in MLflow's model URIs: not an alias.
_VERSION_LIKE = re.compile(r"^[vV]\d+$")


def alias_name(alias: Any, *, user: bool) -> str:
    """``alias`` if it is an alias name; with ``user``, also not a stage alias."""
    if (
        not isinstance(alias, str)
        or not _ALIAS_RE.match(alias)
        or _VERSION_LIKE.match(alias)
        or alias.lower() == "latest"  # MLflow's own name for the newest version
    ):
        raise InvalidInputError(
            "alias",
            f"{alias!r} is not an alias name.",
            hint="Use a letter then letters, digits, '_' or '-' (not 'latest' or 'v<n>').",
        )
    if user and alias.lower() in STAGE_ALIASES:
        raise InvalidInputError(
            "alias",
            f"'{alias}' follows the lifecycle and cannot be set by hand.",
            hint="Use transition_stage(...) to move a version to that stage.",
        )
    return alias


def alias_missing(snap: Snapshot, alias: str) -> NotFoundError:
    return NotFoundError(
        f"Alias '{alias}' of model '{snap.name}' was not found.",
        hint=f"Aliases: {', '.join(sorted(snap.aliases)) or 'none'}.",
    )


def set_alias(client: Any, snap: Snapshot, alias: Any, version: Any) -> str:
    """Point user alias ``alias`` at ``version``; return the version (``snap`` follows)."""
    alias = alias_name(alias, user=True)
    v = version_in(snap, version)
    retrying(
        f"setting alias '{alias}' of '{snap.name}'",
        client.set_registered_model_alias, snap.full, alias, v,
    )  # fmt: skip
    snap.aliases[alias] = v
    return v


def delete_alias(client: Any, snap: Snapshot, alias: Any) -> None:
    """Remove user alias ``alias``; `NotFoundError` if the model has none by that name."""
    alias = alias_name(alias, user=True)
    if alias not in snap.aliases:
        raise alias_missing(snap, alias)
    retrying(
        f"removing alias '{alias}' of '{snap.name}'",
        client.delete_registered_model_alias, snap.full, alias, ignore_missing=True,
    )  # fmt: skip


def version_by_alias(snap: Snapshot, alias: Any) -> str:
    """The version ``alias`` (a stage alias or a user alias) points at."""
    alias = alias_name(alias, user=False)
    version = snap.aliases.get(alias)
    if version is None or version not in snap.versions:
        raise alias_missing(snap, alias)
    return version
