"""Approval requests: a move that needs a second person, stored on the tenant's model in
the tag ``matih.request.<id>`` (so it is read, scoped and deleted with the model), and
decided through an epoch of the model (so two decisions racing cannot both apply)."""

from __future__ import annotations

import re
import uuid
from typing import Any, Literal

from pydantic import BaseModel, Field

from ...errors import NotFoundError
from ..snapshot import Snapshot
from ..tags import dumps, loads, now_iso

TAG_REQUEST = "matih.request."
_ID_RE = re.compile(r"^[0-9a-f]{12}$")

Status = Literal["pending", "approved", "rejected", "stale"]


class ApprovalRequest(BaseModel):
    """One move waiting for (or decided by) a second person.

    ``production_version`` is the version in production when the request was filed: if
    another version holds production by the time someone decides, the request is
    ``stale`` and can only be filed again. ``kind`` is ``transition`` (move ``version``
    to ``to_stage``) or ``rollback``.
    """

    id: str
    model_id: str
    kind: Literal["transition", "rollback"] = "transition"
    version: str
    from_stage: str
    to_stage: str
    requested_by: str
    requested_at: str
    reason: str | None = None
    gates: list[dict[str, Any]] = Field(default_factory=list)
    production_version: str | None = None
    status: Status = "pending"
    decided_by: str | None = None
    decided_at: str | None = None
    decision_reason: str | None = None


def request_key(request_id: str) -> str:
    return f"{TAG_REQUEST}{request_id}"


def new_id() -> str:
    return uuid.uuid4().hex[:12]


def current_status(snap: Snapshot, request: ApprovalRequest) -> Status:
    """A pending request whose production version was replaced meanwhile is stale."""
    if request.status == "pending" and snap.production() != request.production_version:
        return "stale"
    return request.status


def _stored(snap: Snapshot, key: str) -> ApprovalRequest | None:
    raw = loads(snap.tags.get(key), None)
    if not isinstance(raw, dict):
        return None
    request = ApprovalRequest.model_validate(raw)
    request.status = current_status(snap, request)
    return request


def all_requests(snap: Snapshot) -> list[ApprovalRequest]:
    """The model's requests, oldest first."""
    found = (_stored(snap, k) for k in snap.tags if k.startswith(TAG_REQUEST))
    return sorted((r for r in found if r is not None), key=lambda r: r.requested_at)


def find(snap: Snapshot, request_id: Any) -> ApprovalRequest:
    """The model's request ``request_id``; a malformed, missing or foreign one is the same
    `NotFoundError`."""
    text = str(request_id).strip() if isinstance(request_id, str) else ""
    found = _stored(snap, request_key(text)) if _ID_RE.match(text) else None
    if found is None:
        raise NotFoundError(
            f"Approval request {request_id!r} was not found for model '{snap.name}'.",
            hint="List the model's requests with ModelRegistry.requests(tenant, model).",
        )
    return found


def decided(request: ApprovalRequest, status: Status, user: str, reason: str | None) -> str:
    """The stored text of ``request`` once decided."""
    done = request.model_copy(
        update={"status": status, "decided_by": user, "decided_at": now_iso(),
                "decision_reason": reason}
    )  # fmt: skip
    return dumps(done.model_dump())


__all__ = [
    "TAG_REQUEST",
    "ApprovalRequest",
    "all_requests",
    "current_status",
    "decided",
    "find",
    "new_id",
    "request_key",
]
