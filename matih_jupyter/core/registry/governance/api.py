"""`GovernanceMixin`: the governed-promotion methods of `ModelRegistry` — its policy,
approval requests (file, list, approve, reject) and the records of moves — and the one
path every stage change of the registry takes through the policy (`_governed_change`)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ...config import default_user
from ...errors import ConflictError
from ...isolation import isolated_methods
from .. import lifecycle, stage_change
from ..ops import SetModelTag
from ..snapshot import Snapshot, version_in
from ..tags import dumps, now_iso
from ..types import ModelMetadata, validate_stage
from . import requests as reqs
from .enforce import Actor, NeedsApproval, PlanFn, governed
from .errors import ApprovalRequiredError, NotPermittedError
from .identity import groups_of
from .policy import Policy
from .record import documents
from .requests import ApprovalRequest
from .source import PolicySource

if TYPE_CHECKING:
    from ..claim import Epochs
    from ..hooks import HookSet


@isolated_methods
class GovernanceMixin:
    """Who may move versions into each stage, which gates must pass, second-person
    approval, and a record of every move (see `set_policy`)."""

    # Provided by `ModelRegistry`.
    hooks: HookSet

    if TYPE_CHECKING:

        @property
        def tracker(self) -> Any: ...

        @property
        def _epochs(self) -> Epochs: ...

    def _full(self, tenant_id: Any, model_id: Any) -> tuple[str, str, str]:
        raise NotImplementedError

    def _require(self, tenant_id: str, model_id: str) -> Snapshot:
        raise NotImplementedError

    # -- the policy --------------------------------------------------------------------

    @property
    def _policies(self) -> PolicySource:
        found = self.__dict__.get("_policy_source")
        if found is None:  # setdefault: threads racing here end up with the same source
            source = PolicySource(lambda: bool(self.tracker.store.embedded))
            found = self.__dict__.setdefault("_policy_source", source)
        return found

    def set_policy(
        self, policy: Policy | Mapping[str, Any] | str | os.PathLike | None
    ) -> Policy | None:
        """Govern promotions with ``policy``: a TOML file's path, the same as a dict, or a
        `Policy`. It is validated whole first (`PolicyError` naming the file, table and
        key; the policy in force stays). ``None``: back to the default, the file
        ``MATIH_POLICY_FILE`` names, else ``$MATIH_HOME/policy.toml`` on the embedded
        store. With no policy anywhere, every move is as without governance."""
        return self._policies.set(policy)

    @property
    def policy(self) -> Policy | None:
        """The policy in force (read again from its file when that changed)."""
        return self._policies.current()

    # -- the one governed path ---------------------------------------------------------

    def _governed_change(
        self, tenant: str, name: str, full: str, base: PlanFn, actor: Actor
    ) -> ModelMetadata:
        """Commit ``base`` under the policy; a move needing approval files a request and
        raises `ApprovalRequiredError` (nothing moved)."""
        plan = governed(self._epochs.client, self.policy, actor, base)
        try:
            return stage_change.change_stages(self._epochs, self.hooks, tenant, name, full, plan)
        except NeedsApproval as need:
            request = self._file(tenant, name, full, need, actor)
            who = need.rule.who() if need.rule is not None else "anyone"
        raise ApprovalRequiredError(
            f"Moving version {request.version} of '{name}' to {request.to_stage} needs "
            f"approval by a second person; nothing moved yet. Request {request.id} is pending.",
            hint=f"Another allowed user ({who}) approves or rejects request {request.id}.",
            request=request,
        )

    def _file(
        self, tenant: str, name: str, full: str, need: NeedsApproval, actor: Actor
    ) -> ApprovalRequest:
        snap = self._require(tenant, name)
        rec = need.record
        request = ApprovalRequest(
            id=reqs.new_id(),
            model_id=name,
            kind="rollback" if actor.kind == "rollback" else "transition",
            version=rec.version,
            from_stage=rec.from_stage or "development",
            to_stage=rec.to_stage,
            requested_by=actor.user,
            requested_at=now_iso(),
            reason=actor.reason if actor.kind == "rollback" else rec.reason,
            gates=[g.as_dict() for g in need.results],
            production_version=snap.production(),
        )
        SetModelTag(reqs.request_key(request.id), dumps(request.model_dump())).apply(
            self._epochs.writer, full
        )
        return request

    # -- requests ----------------------------------------------------------------------

    def request_transition(
        self,
        tenant_id: str,
        model_id: str,
        version: Any,
        target_stage: str,
        reason: str | None = None,
        user_id: str | None = None,
    ) -> ApprovalRequest:
        """File a request that a second person approve moving ``version`` to
        ``target_stage`` (also where the policy does not require one). The requester must
        be allowed and the gates must pass now; nothing moves until approval."""
        tenant, name, full = self._full(tenant_id, model_id)
        target = validate_stage(target_stage, "target_stage")
        why, user = lifecycle.check_reason(reason), str(user_id or default_user())

        def base(snap: Snapshot) -> lifecycle.Plan:
            return lifecycle.transition_plan(tenant, snap, version, target, why, user, False)

        try:
            self._governed_change(tenant, name, full, base, Actor(user, file_request=True))
        except ApprovalRequiredError as filed:
            return filed.request
        raise AssertionError("unreachable")  # pragma: no cover

    def requests(
        self, tenant_id: str, model_id: str, status: str | None = "pending"
    ) -> list[ApprovalRequest]:
        """The model's approval requests with ``status`` (``pending``, ``approved``,
        ``rejected``, ``stale``; ``None``: all), oldest first."""
        found = reqs.all_requests(self._require(tenant_id, model_id))
        return [r for r in found if status is None or r.status == status]

    def approve(
        self,
        tenant_id: str,
        model_id: str,
        request_id: str,
        user_id: str | None = None,
        reason: str | None = None,
    ) -> ModelMetadata:
        """Approve a pending request and make its move, recorded with both people.

        Raises:
            NotPermittedError: The approver filed the request, or the policy does not let
                them move versions into the stage.
            ConflictError: The request was decided already, or is stale (the production
                version changed since it was filed), or another decision won a race.
            NotFoundError: No such request on the tenant's model.
        """
        tenant, name, full = self._full(tenant_id, model_id)
        approver, why = str(user_id or default_user()), lifecycle.check_reason(reason)
        request = self._pending(self._require(tenant, name), request_id, approver)

        def base(snap: Snapshot) -> lifecycle.Plan:
            r = self._pending(snap, request.id, approver)
            if r.kind == "rollback":
                plan = lifecycle.rollback_plan(tenant, snap, r.reason, r.requested_by)
            else:
                plan = lifecycle.transition_plan(
                    tenant, snap, r.version, r.to_stage, r.reason, r.requested_by,
                    r.production_version,
                )  # fmt: skip
            text = reqs.decided(r, "approved", approver, why)
            plan.ops.append(SetModelTag(reqs.request_key(r.id), text))
            return plan

        actor = Actor(request.requested_by, request.kind, request.reason, approver, request)
        return self._governed_change(tenant, name, full, base, actor)

    def reject(
        self,
        tenant_id: str,
        model_id: str,
        request_id: str,
        user_id: str | None = None,
        reason: str | None = None,
    ) -> ApprovalRequest:
        """Reject a pending request (or withdraw one's own); nothing moves."""
        tenant, name, full = self._full(tenant_id, model_id)
        user, why = str(user_id or default_user()), lifecycle.check_reason(reason)
        request = self._pending(self._require(tenant, name), request_id, user)
        if user != request.requested_by:
            self._may_decide(tenant, name, request, user)

        def base(snap: Snapshot) -> lifecycle.Plan:
            r = self._pending(snap, request.id, user)
            op = SetModelTag(reqs.request_key(r.id), reqs.decided(r, "rejected", user, why))
            return lifecycle.Plan([], [op], [], [])

        self._epochs.transact(tenant, name, full, base, self.hooks)
        return reqs.find(self._require(tenant, name), request.id)

    def _may_decide(self, tenant: str, name: str, request: ApprovalRequest, user: str) -> None:
        policy = self.policy
        rule = None if policy is None else policy.rule(tenant, request.to_stage)
        if rule and policy and not rule.allows(user, groups_of(policy, tenant, user)):
            raise NotPermittedError(
                f"User '{user}' may not decide requests to move versions of '{name}' "
                f"into {request.to_stage} (policy {policy.source} {rule.where}).",
                hint=f"Ask one of {rule.who()}.",
            )

    def _pending(self, snap: Snapshot, request_id: Any, user: str) -> ApprovalRequest:
        """The request if it can still be decided; a stale one is marked so."""
        request = reqs.find(snap, request_id)
        if request.status == "stale":
            text = reqs.decided(request, "stale", user, "the production version changed")
            SetModelTag(reqs.request_key(request.id), text).apply(self._epochs.writer, snap.full)
            raise ConflictError(
                f"Request {request.id} is stale: version {request.production_version or 'none'}"
                f" was in production when it was filed, version {snap.production() or 'none'}"
                " is now; nothing moved.",
                hint="File a new request if the move still makes sense.",
            )
        if request.status != "pending":
            raise ConflictError(
                f"Request {request.id} was {request.status} by {request.decided_by} already.",
                hint="Nothing was changed.",
            )
        return request

    # -- records -----------------------------------------------------------------------

    def records(self, tenant_id: str, model_id: str, version: Any) -> list[dict[str, Any]]:
        """The records of every move of one version, oldest first (see
        `governance.record`)."""
        snap = self._require(tenant_id, model_id)
        return documents(snap.versions[version_in(snap, version)].tags or {})


__all__ = ["GovernanceMixin"]
