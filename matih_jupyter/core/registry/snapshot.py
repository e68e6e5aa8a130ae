"""One read of a model: the registered model, the tenant's versions of it, its aliases and
the epoch it was read at.

A read is never trusted to still hold when a change is written: the epoch claim
(`claim.Epochs.claim`) refuses a change planned on a read that another change overtook.
Another tenant's model reads exactly like a missing one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Any

from ..backend.error_map import translate_errors
from ..backend.registry_read import ModelRead, read_model, read_versions
from ..backend.registry_read import VersionRead as Version
from ..errors import NotFoundError
from ..tenancy import TAG_SHORT_NAME, TAG_TENANT
from .tags import TAG_LINEAGE, TAG_STAGE, epoch_of, loads

_VERSION_RE = re.compile(r"^[1-9][0-9]{0,9}$")


@dataclass
class Snapshot:
    """A model as read: ``versions`` maps version number -> `Version`. ``rm`` is the
    registered model as read; its tags and aliases are ``tags`` and ``aliases``, which a
    snapshot of the model after a change (`ops.applied`) holds as changed."""

    tenant: str
    full: str
    name: str
    rm: ModelRead
    tags: dict[str, str]
    versions: dict[str, Version]
    epoch: int
    aliases: dict[str, str] = field(default_factory=dict)

    def stage(self, version: str) -> str:
        return str(self.versions[version].tags.get(TAG_STAGE, "development"))

    def stages(self) -> dict[str, str]:
        """Every version's stage."""
        return {v: self.stage(v) for v in self.versions}

    def holders(self, stage: str) -> list[str]:
        """The versions in ``stage``, oldest first."""
        return sorted((v for v in self.versions if self.stage(v) == stage), key=int)

    def production(self) -> str | None:
        """The version in production, if any (the lifecycle keeps at most one)."""
        prod = self.holders("production")
        return prod[0] if prod else None

    def lineage(self) -> list[str]:
        """The versions promoted to production, in order (the last is the current one)."""
        return [str(v) for v in loads(self.tags.get(TAG_LINEAGE), [])]

    def copy(self) -> Snapshot:
        """A copy whose tags, versions and aliases can change without changing this one."""
        return replace(
            self, tags=dict(self.tags), versions=dict(self.versions), aliases=dict(self.aliases)
        )


def not_found(name: Any, tenant: str) -> NotFoundError:
    return NotFoundError(f"Model '{name}' was not found for tenant '{tenant}'.")


def owned(rm: Any, tenant: str, name: str) -> bool:
    """Whether MLflow's model ``rm`` is the tenant's model ``name``, created by matih."""
    tags = rm.tags or {}
    return (
        rm.name == f"{tenant}.{name}"
        and tags.get(TAG_TENANT) == tenant
        and tags.get(TAG_SHORT_NAME) == name
    )


def registered(client: Any, full: str) -> ModelRead | None:
    """The registered model named exactly ``full``, or ``None``."""
    with translate_errors(f"reading model '{full}'"):
        return read_model(client, full)


def tenant_versions(client: Any, full: str, tenant: str) -> dict[str, Version]:
    """The versions of ``full`` tagged with ``tenant``, by version number."""
    with translate_errors(f"listing versions of '{full}'"):
        found = read_versions(client, full)
    return {mv.version: mv for mv in found if mv.tags.get(TAG_TENANT) == tenant}


def read(client: Any, tenant: str, name: str, full: str) -> Snapshot:
    """The tenant's model ``name`` (MLflow name ``full``), or `NotFoundError`. The model is
    read before its versions, so the epoch read is never newer than the versions."""
    rm = registered(client, full)
    if rm is None or not owned(rm, tenant, name):
        raise not_found(name, tenant)
    return Snapshot(
        tenant=tenant,
        full=full,
        name=name,
        rm=rm,
        tags=dict(rm.tags),
        versions=tenant_versions(client, full, tenant),
        epoch=epoch_of(rm.tags),
        aliases=dict(rm.aliases),
    )


def version_in(snap: Snapshot, version: Any) -> str:
    """``version`` (a positive integer or its text) as a version of the model, or
    `NotFoundError` listing the versions it has."""
    text = str(version).strip() if isinstance(version, str | int) else ""
    if isinstance(version, bool) or not _VERSION_RE.match(text) or text not in snap.versions:
        raise NotFoundError(
            f"Version {version!r} of model '{snap.name}' was not found.",
            hint=f"Versions: {', '.join(sorted(snap.versions, key=int)) or 'none'}.",
        )
    return text
