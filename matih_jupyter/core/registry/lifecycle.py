"""Planning stage changes on a read of a model: which moves a transition, a rollback or a
registration makes, the refusals, and the writes that follow from the moves.

Planning reads nothing and writes nothing: a plan is made from a `Snapshot` and committed
by the epoch protocol (`claim.Epochs.transact`) only if that read still holds.

The lifecycle: ``development -> staging -> production -> archived``, and any stage back to
``development`` (`ALLOWED_TRANSITIONS`). Promoting a version to production archives the
version that held production. The aliases ``production`` and ``staging`` follow the
holders of those stages, and the production lineage (every promoted version, in order)
tells a rollback which version to restore.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..errors import ConflictError, InvalidInputError, LifecycleError
from .ops import DropAlias, Op, PointAlias, SetModelTag, SetVersionTag, prune
from .snapshot import Snapshot, version_in
from .tags import TAG_CURRENT, TAG_FRAMEWORK, TAG_LINEAGE, TAG_STAGE, dumps, now_iso
from .types import ALLOWED_TRANSITIONS, TransitionRecord
from .views import summary

#: One move: (version, the stage it moves to, the reason recorded).
Move = tuple[str, str, str | None]

#: The production lineage kept in the model's tag (its newest entries).
_LINEAGE_KEPT = 100


@dataclass
class Plan:
    """What one epoch does: its records, its writes, and what hooks are told."""

    records: list[TransitionRecord]
    ops: list[Op]
    payloads: list[dict[str, Any]]
    changed_versions: list[str]
    #: The moved versions' runs, read once while planning (records and model cards).
    runs: dict[str, Any] = field(default_factory=dict)


def check_reason(reason: Any) -> str | None:
    """A transition's reason: ``None`` or text of at most 1000 characters."""
    if reason is None:
        return None
    if not isinstance(reason, str) or len(reason) > 1000:
        raise InvalidInputError("reason", "expected text of at most 1000 characters.")
    return reason


def refusal(snap: Snapshot, version: str, current: str, target: str) -> LifecycleError:
    """The error for a move the lifecycle does not allow, naming the moves it does."""
    allowed = ALLOWED_TRANSITIONS[current]
    if current == target:
        where = f"is already in {current}"
    else:
        where = f"cannot move from {current} to {target}"
    return LifecycleError(
        f"Version {version} of model '{snap.name}' {where}.",
        hint=f"From {current} it may move to: {', '.join(allowed)}.",
    )


def payload(
    tenant: str,
    snap: Snapshot,
    version: str,
    src: str | None,
    dst: str,
    user: str,
    reason: str | None,
) -> dict[str, Any]:
    """What hooks and webhooks are told about one move."""
    return {
        "event": "model_version.stage_changed",
        "tenant_id": tenant,
        "model_id": snap.name,
        "model_name": snap.full,
        "version": version,
        "from_stage": src,
        "to_stage": dst,
        "user_id": user,
        "reason": reason,
        "timestamp": now_iso(),
        "run_id": snap.versions[version].run_id if version in snap.versions else None,
    }


def model_ops(snap: Snapshot, stages: Mapping[str, str]) -> list[Op]:
    """Model-level tags for the state after a change (list_models reads only these)."""
    current = summary(snap, stages)
    return [
        SetModelTag(TAG_CURRENT, dumps(current)),
        SetModelTag(TAG_STAGE, str(current.get("stage", "development"))),
        SetModelTag(TAG_FRAMEWORK, str(current.get("framework", ""))),
    ]


def _alias_ops(snap: Snapshot, stages: Mapping[str, str], moves: list[Move]) -> list[Op]:
    """Stage aliases follow the holders: production has one; staging points at the version
    that entered it last (else the holder it had, else the newest version still there)."""
    prod = [v for v, s in stages.items() if s == "production"]
    if len(prod) > 1:  # pragma: no cover - the plans below never produce this
        raise ConflictError(f"Model '{snap.name}' would have {len(prod)} production versions.")
    ops: list[Op] = [PointAlias("production", prod[0]) if prod else DropAlias("production")]
    staging = [v for v, s in stages.items() if s == "staging"]
    entered = [v for v, target, _ in moves if target == "staging"]
    holder = snap.aliases.get("staging")
    if entered:
        ops.append(PointAlias("staging", entered[-1]))
    elif holder in staging:
        ops.append(PointAlias("staging", str(holder)))
    elif staging:
        ops.append(PointAlias("staging", max(staging, key=int)))
    else:
        ops.append(DropAlias("staging"))
    return ops


def stage_plan(
    tenant: str, snap: Snapshot, moves: list[Move], user: str, lineage: list[str]
) -> Plan:
    """Records, writes and hook payloads for ``moves``, leaving ``lineage`` stored."""
    stages = snap.stages()
    records: list[TransitionRecord] = []
    payloads: list[dict[str, Any]] = []
    ops: list[Op] = []
    now = now_iso()
    for version, target, reason in moves:
        src = stages[version]
        stages[version] = target
        records.append(
            TransitionRecord(
                version=version,
                from_stage=src,
                to_stage=target,
                user_id=user,
                timestamp=now,
                reason=reason,
            )
        )
        payloads.append(payload(tenant, snap, version, src, target, user, reason))
        ops.append(SetVersionTag(version, TAG_STAGE, target))
    ops.extend(_alias_ops(snap, stages, moves))
    ops.append(SetModelTag(TAG_LINEAGE, dumps(lineage[-_LINEAGE_KEPT:])))
    ops.extend(model_ops(snap, stages))
    return Plan(records, prune(snap, ops), payloads, [m[0] for m in moves])


def _check_expected(snap: Snapshot, expected: str | bool | None) -> None:
    """``expected`` is the production version a caller decided on (``False``: none given);
    another one in production now is a `ConflictError`."""
    found = snap.production()
    if expected is not False and found != expected:
        raise ConflictError(
            f"The production version of '{snap.name}' changed while deciding "
            f"(expected {expected}, found {found}).",
            hint="Decide again.",
        )


def transition_plan(
    tenant: str,
    snap: Snapshot,
    version: Any,
    target: str,
    reason: str | None,
    user: str,
    expected_production: str | bool | None,
) -> Plan:
    """Move one version to ``target``; promoting to production archives the version that
    held it, and the promoted version is reported first (it is what was asked for)."""
    v = version_in(snap, version)
    current = snap.stage(v)
    if target not in ALLOWED_TRANSITIONS[current]:
        raise refusal(snap, v, current, target)
    _check_expected(snap, expected_production)
    lineage = snap.lineage()
    moves: list[Move] = [(v, target, reason)]
    if target == "production":
        replaced = f"replaced in production by version {v}"
        moves += [(old, "archived", replaced) for old in snap.holders("production")]
        if not lineage or lineage[-1] != v:
            lineage.append(v)
    elif current == "production" and lineage and lineage[-1] == v:
        lineage.pop()  # left production without a successor
    return stage_plan(tenant, snap, moves, user, lineage)


def rollback_plan(tenant: str, snap: Snapshot, reason: str | None, user: str) -> Plan:
    """Move the production version to development and restore the version below it in
    the production lineage to production (whatever stage it is in now)."""
    current = snap.production()
    if current is None:
        raise LifecycleError(
            f"Model '{snap.name}' has no version in production to roll back.",
            hint="Promote a version with transition_stage(..., 'production').",
        )
    lineage = [v for v in snap.lineage() if v in snap.versions]
    # Consecutive duplicates of the current version cannot restore anything different.
    while lineage and lineage[-1] == current:
        lineage.pop()
    if not lineage:
        raise LifecycleError(
            f"Model '{snap.name}' has no earlier production version to roll back to "
            f"(version {current} is the first).",
            hint="Move it out of production with transition_stage(..., 'archived').",
        )
    previous = lineage[-1]
    why = f"rollback: {reason}" if reason else "rollback"
    moves: list[Move] = [
        (current, "development", why),
        (previous, "production", f"{why} (restored version {previous})"),
    ]
    return stage_plan(tenant, snap, moves, user, lineage)


def registration_plan(snap: Snapshot, version: str, user: str) -> Plan:
    """Record a new version entering development, and refresh the model-level tags."""
    if version not in snap.versions:  # pragma: no cover - read after write
        raise ConflictError(f"Version {version} of '{snap.name}' is not visible yet.")
    record = TransitionRecord(
        version=version, from_stage=None, to_stage="development", user_id=user,
        timestamp=now_iso(), reason="registered",
    )  # fmt: skip
    ops = [SetVersionTag(version, TAG_STAGE, "development"), *model_ops(snap, snap.stages())]
    return Plan([record], prune(snap, ops), [], [version])


__all__ = [
    "Move",
    "Plan",
    "check_reason",
    "refusal",
    "registration_plan",
    "rollback_plan",
    "stage_plan",
    "transition_plan",
]
