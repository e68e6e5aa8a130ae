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
from ..backend.registry_read import ModelRead, read_model, read_model_and_versions
from ..backend.registry_read import VersionRead as Version
from ..errors import NotFoundError
from ..tenancy import TAG_SHORT_NAME, TAG_TENANT
from .tags import TAG_EPOCH, TAG_LINEAGE, TAG_STAGE, epoch_of, hooks_key, loads

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


def read(client: Any, tenant: str, name: str, full: str) -> Snapshot:
    """The tenant's model ``name`` (MLflow name ``full``), or `NotFoundError`."""
    _, snap = peek(client, tenant, name, full)
    if snap is None:
        raise not_found(name, tenant)
    return snap


def peek(
    client: Any, tenant: str, name: str, full: str
) -> tuple[ModelRead | None, Snapshot | None]:
    """(the model MLflow holds as ``full``, or ``None``; the tenant's model read from it, or
    ``None`` when there is none or it is not the tenant's). The model is read before its
    versions, so the epoch read is never newer than the versions."""
    with translate_errors(f"reading model '{full}'"):
        rm, versions = read_model_and_versions(client, full)
    if rm is None or not owned(rm, tenant, name):
        return rm, None
    snap = Snapshot(
        tenant=tenant,
        full=full,
        name=name,
        rm=rm,
        tags=dict(rm.tags),
        versions={mv.version: mv for mv in versions if mv.tags.get(TAG_TENANT) == tenant},
        epoch=epoch_of(rm.tags),
        aliases=dict(rm.aliases),
    )
    return rm, snap


def peek_since(
    client: Any, tenant: str, name: str, full: str, known: Snapshot | None
) -> tuple[ModelRead | None, Snapshot | None]:
    """`peek`, answered from ``known`` (the model as this process's last change of it left
    it) when a short read shows nothing changed since: the model's creation, its last
    update (moved by every version created or deleted and every new description), its
    epoch (moved by every change through matih) and its after-commit failures of that
    epoch read as ``known`` holds them. Only the aliases, which change outside epochs,
    are taken from the short read."""
    if known is None:
        return peek(client, tenant, name, full)
    failures = hooks_key(known.epoch)
    with translate_errors(f"reading model '{full}'"):
        head = read_model(client, full, (TAG_EPOCH, TAG_TENANT, TAG_SHORT_NAME, failures))
    if head is None or not owned(head, tenant, name):
        return head, None
    unchanged = (
        head.creation_timestamp == known.rm.creation_timestamp
        and head.last_updated_timestamp == known.rm.last_updated_timestamp
        and epoch_of(head.tags) == known.epoch
        and head.tags.get(failures) == known.tags.get(failures)
    )
    if not unchanged:
        return peek(client, tenant, name, full)
    known.rm = replace(head, tags=dict(known.tags))
    known.aliases = dict(head.aliases)
    return known.rm, known


def with_new_version(snap: Snapshot, mv: Version) -> Snapshot:
    """``snap`` as a read would find it once version ``mv`` was created in it (creating a
    version sets the model's last update to the version's creation)."""
    after = snap.copy()
    after.versions[mv.version] = mv
    after.rm = replace(snap.rm, last_updated_timestamp=mv.creation_timestamp)
    return after


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
