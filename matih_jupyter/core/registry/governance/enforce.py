"""The policy applied to a planned stage change, inside the epoch that commits it.

Every stage change the registry makes (a transition, a rollback, an approved request) is
planned on a read of the model and then passed through `governed`: the moved versions'
runs are read once, the policy (if any) checks who is moving the version and the gates,
a move needing a second person stops here (`NeedsApproval`, nothing written), and the
plan gains one write-once record per moved version. Only then is the epoch claimed, so a
refused move changes nothing: no stage, tag, alias or history entry.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ...backend.error_map import translate_errors
from ..lifecycle import Plan
from ..snapshot import Snapshot
from ..types import TransitionRecord
from . import gates as gate_checks
from .errors import GateFailedError, NotPermittedError
from .gates import GateResult
from .identity import groups_of
from .policy import Policy, StageRule
from .record import record_ops
from .requests import ApprovalRequest

PlanFn = Callable[[Snapshot], Plan]


class NeedsApproval(Exception):
    """The planned move needs a second person: file a request (nothing was written)."""

    def __init__(
        self, record: TransitionRecord, rule: StageRule | None, results: list[GateResult]
    ) -> None:
        self.record, self.rule, self.results = record, rule, results
        super().__init__(record.version)


@dataclass(frozen=True)
class Actor:
    """Who moves: the user the records name, and for an approval the approver and the
    request they decide."""

    user: str
    kind: str = "transition"  # or "rollback"
    #: A rollback's own reason (its records say more: which version it restored).
    reason: str | None = None
    approver: str | None = None
    request: ApprovalRequest | None = None
    #: File a request even where the policy does not ask for one.
    file_request: bool = False


def requested(plan: Plan, kind: str) -> TransitionRecord:
    """The move the caller asked for (a promotion also archives; a rollback also demotes)."""
    if kind == "rollback":
        return next(r for r in plan.records if r.to_stage == "production")
    return plan.records[0]


def read_runs(client: Any, snap: Snapshot, versions: list[str]) -> dict[str, Any]:
    out = {}
    for v in dict.fromkeys(versions):
        run_id = snap.versions[v].run_id if v in snap.versions else None
        if run_id:
            with translate_errors(f"reading run {run_id}"):
                out[v] = client.get_run(run_id)
    return out


def _metric_reader(client: Any, snap: Snapshot, runs: dict[str, Any]) -> gate_checks.MetricOf:
    def metric_of(version: str, key: str) -> float | None:
        if version not in runs:
            runs.update(read_runs(client, snap, [version]))
        return gate_checks.registered_metric(snap.versions[version].tags, runs.get(version), key)

    return metric_of


def _permit(policy: Policy, snap: Snapshot, rule: StageRule, actor: Actor, to: str) -> None:
    who = actor.approver or actor.user
    if not rule.allows(who, groups_of(policy, snap.tenant, who)):
        doing = "approve moves" if actor.approver else "move versions"
        raise NotPermittedError(
            f"User '{who}' may not {doing} of '{snap.name}' into {to} "
            f"(policy {policy.source} {rule.where}: {rule.who()}).",
            hint=f"Nothing was changed. Ask one of {rule.who()}, or have the policy changed.",
        )


def _not_own(actor: Actor) -> None:
    if actor.request is not None and actor.approver == actor.request.requested_by:
        raise NotPermittedError(
            f"User '{actor.approver}' filed request {actor.request.id} and cannot approve it.",
            hint="Nothing was changed. Another allowed user approves it.",
        )


def _gates(
    client: Any,
    snap: Snapshot,
    rule: StageRule,
    record: TransitionRecord,
    plan: Plan,
    kind: str,
    source: str,
) -> list[GateResult]:
    champion = snap.production()
    results = gate_checks.check(
        rule, record.version, snap.versions[record.version].tags, plan.runs.get(record.version),
        None if champion == record.version else champion,
        _metric_reader(client, snap, plan.runs), relative=kind != "rollback",
    )  # fmt: skip
    failed = [r for r in results if not r.passed]
    if failed:
        first = failed[0]
        raise GateFailedError(
            f"Version {record.version} of '{snap.name}' cannot move to {record.to_stage}: "
            f"gate '{first.gate}' failed ({first.detail}; policy {source} {first.where})."
            + (f" {len(failed) - 1} more gate(s) failed." if len(failed) > 1 else ""),
            hint=f"Nothing was changed. To pass: {first.fix}",
            results=[r.as_dict() for r in results],
        )
    return results


def _apply_policy(
    client: Any, policy: Policy | None, actor: Actor, snap: Snapshot, todo: Plan
) -> dict[str, list[GateResult]]:
    """Check who moves and the gates of the requested move; stop if it needs approval.
    Returns the gate results by version (none without a rule)."""
    record = requested(todo, actor.kind)
    rule = None if policy is None else policy.rule(snap.tenant, record.to_stage)
    results: dict[str, list[GateResult]] = {}
    if rule is not None and policy is not None:
        _permit(policy, snap, rule, actor, record.to_stage)
        results[record.version] = _gates(
            client, snap, rule, record, todo, actor.kind, policy.source
        )
    if actor.request is None and (actor.file_request or (rule is not None and rule.approval)):
        raise NeedsApproval(record, rule, results.get(record.version, []))
    return results


def governed(client: Any, policy: Policy | None, actor: Actor, base: PlanFn) -> PlanFn:
    """``base`` with the policy checked and the records added (see the module's doc)."""

    def plan(snap: Snapshot) -> Plan:
        _not_own(actor)
        todo = base(snap)
        todo.runs = read_runs(client, snap, todo.changed_versions)
        results = _apply_policy(client, policy, actor, snap, todo)
        if actor.request is not None:
            for r in todo.records:
                r.approved_by, r.request_id = actor.approver, actor.request.id
        todo.ops.extend(record_ops(snap, todo.records, todo.runs, results))
        return todo

    return plan


__all__ = ["Actor", "NeedsApproval", "PlanFn", "governed", "read_runs", "requested"]
