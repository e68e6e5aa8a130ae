"""REST handlers of governed promotion: a model's approval requests (list, file, approve,
reject) and the records of a version's moves.

The acting user is the authenticated one, never a name the client sends; under JupyterHub
their hub groups count for the policy (`caller.as_caller`, applied to every core call).
A refusal is the core's error as JSON: 403 for a user the policy does not allow (or
approving one's own request), 409 for a failed gate, a stale or decided request or a lost
race, 404 for a request that is missing or another tenant's (the same answer).
"""

from __future__ import annotations

from typing import Any

from jupyter_server.auth.decorator import authorized
from jupyter_server.utils import url_path_join
from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr
from tornado import web

from .app import MatihService
from .handlers import API_PREFIX, MatihHandler, route_pattern


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RequestCreate(_Body):
    """``POST /models/{model_id}/requests``."""

    version: StrictStr | StrictInt
    stage: StrictStr
    reason: StrictStr | None = Field(default=None, max_length=1000)


class Decision(_Body):
    """``POST /models/{model_id}/requests/{request_id}/approve`` (or ``/reject``)."""

    reason: StrictStr | None = Field(default=None, max_length=1000)


#: What ``?status=`` may ask for.
_STATUSES = ("pending", "approved", "rejected", "stale", "all")


class ModelRequestsHandler(MatihHandler):
    @web.authenticated
    @authorized
    async def get(self, model_id: str) -> None:
        """The model's requests: ``?status=pending`` (default), approved, rejected, stale
        or all."""
        from ..core import InvalidInputError

        tenant = self.tenant
        status = self.query("status", "pending")
        if status not in _STATUSES:
            raise InvalidInputError("status", f"{status!r}.", hint=f"Use {', '.join(_STATUSES)}.")
        wanted = None if status == "all" else status
        found = await self.call(
            lambda: self.service.registry.requests(tenant, model_id, status=wanted)
        )
        self.reply({"model_id": model_id, "requests": found})

    @web.authenticated
    @authorized
    async def post(self, model_id: str) -> None:
        """File a request for a second person's approval of a move (201)."""
        from ..core import validate_stage

        tenant, user = self.tenant, self.user_name
        req = self.body(RequestCreate)
        stage = validate_stage(req.stage, "stage")
        filed = await self.call(
            lambda: self.service.registry.request_transition(
                tenant, model_id, str(req.version), stage, reason=req.reason, user_id=user
            )
        )
        self.reply(filed, 201)


class _DecisionHandler(MatihHandler):
    """A decision on a request, as the authenticated user: `decision` names the
    registry's method (approve or reject)."""

    decision = ""

    @web.authenticated
    @authorized
    async def post(self, model_id: str, request_id: str) -> None:
        tenant, user = self.tenant, self.user_name
        req = self.body(Decision)
        decide = getattr(self.service.registry, self.decision)
        self.reply(
            await self.call(
                lambda: decide(tenant, model_id, request_id, user_id=user, reason=req.reason)
            )
        )


class RequestApproveHandler(_DecisionHandler):
    """Approve and make the move; answers the model after it."""

    decision = "approve"


class RequestRejectHandler(_DecisionHandler):
    """Reject (or withdraw one's own); answers the request as decided."""

    decision = "reject"


class VersionRecordsHandler(MatihHandler):
    @web.authenticated
    @authorized
    async def get(self, model_id: str, version: str) -> None:
        """The records of every move of one version, oldest first."""
        tenant = self.tenant
        found = await self.call(lambda: self.service.registry.records(tenant, model_id, version))
        self.reply({"model_id": model_id, "version": version, "records": found})


#: The governed-promotion routes, relative to ``{base_url}/matih/api/v1`` (in openapi.yaml).
APPROVAL_ROUTES: list[tuple[str, type[MatihHandler]]] = [
    ("/models/{model_id}/requests", ModelRequestsHandler),
    ("/models/{model_id}/requests/{request_id}/approve", RequestApproveHandler),
    ("/models/{model_id}/requests/{request_id}/reject", RequestRejectHandler),
    ("/models/{model_id}/versions/{version}/records", VersionRecordsHandler),
]


def setup_approval_handlers(web_app: Any, service: MatihService) -> None:
    """Register `APPROVAL_ROUTES` beside the other routes."""
    base = url_path_join(web_app.settings["base_url"], API_PREFIX)
    web_app.add_handlers(
        ".*$",
        [
            (url_path_join(base, route_pattern(t)) + "$", h, {"service": service})
            for t, h in APPROVAL_ROUTES
        ],
    )


__all__ = ["APPROVAL_ROUTES", "setup_approval_handlers"]
