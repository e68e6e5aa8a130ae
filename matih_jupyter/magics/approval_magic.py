"""``%matih_requests``, ``%matih_approve``, ``%matih_reject``: approval requests of governed
promotion from a notebook, on the process registry (so the policy in force there holds).

The user is the session's (``%matih_tenant --user``, ``MATIH_USER_ID``): a second person
approving from the same notebook switches user first, as in notebook 07.
"""

from __future__ import annotations

from typing import Any

from IPython.core.magic import Magics, line_magic, magics_class
from IPython.core.magic_arguments import argument, magic_arguments

from ._errors import maps_user_errors
from .magics import parse_argstring
from .session import MagicSession

REQUEST_COLUMNS = [
    "id", "kind", "version", "from_stage", "to_stage", "status", "requested_by",
    "requested_at", "reason", "gates", "decided_by",
]  # fmt: skip


def registry_of(session: MagicSession) -> Any:
    """The process registry on the session's store."""
    from ..core import get_model_registry

    _ = session.tracker  # moves the process tracker to the environment's store
    return get_model_registry()


def request_rows(requests: list[Any]) -> list[dict[str, Any]]:
    """One row per request; gates as one line each (pass / FAIL)."""
    rows = []
    for r in requests:
        row = {c: getattr(r, c, None) for c in REQUEST_COLUMNS}
        row["gates"] = "; ".join(
            f"{'pass' if g.get('passed') else 'FAIL'} {g.get('gate')}" for g in r.gates
        )
        rows.append(row)
    return rows


@magics_class
class ApprovalMagics(Magics):
    """Approval requests: list, approve, reject."""

    def __init__(self, shell: Any, session: MagicSession) -> None:
        super().__init__(shell)
        self.session = session

    @line_magic
    @magic_arguments()
    @argument("model", help="The model's name.")
    @argument("--all", action="store_true", help="Every request, not only pending ones.")
    @maps_user_errors
    def matih_requests(self, line: str) -> Any:
        """List a model's approval requests (pending ones unless --all) as a table.

        Examples::

            %matih_requests churn-gbm
            %matih_requests churn-gbm --all
        """
        import pandas as pd

        args = parse_argstring(self.matih_requests, line)
        tenant = self.session.require_tenant()
        status = None if args.all else "pending"
        found = registry_of(self.session).requests(tenant, args.model, status=status)
        if not found:
            which = "pending approval requests" if status else "approval requests"
            print(f"Model '{args.model}' of tenant '{tenant}' has no {which}.")
        return pd.DataFrame(request_rows(found), columns=REQUEST_COLUMNS)

    @line_magic
    @magic_arguments()
    @argument("model", help="The model's name.")
    @argument("request_id", help="The request's id (see %%matih_requests).")
    @argument("--reason", help="Why, kept with the request and the move's record.")
    @maps_user_errors
    def matih_approve(self, line: str) -> None:
        """Approve a pending request as the session's user, and make its move.

        The requester cannot approve their own request; the policy must let the
        approver move versions into the stage.

        Example::

            %matih_approve churn-gbm 3f2a9c0d1e2b --reason "reviewed the shadow run"
        """
        args = parse_argstring(self.matih_approve, line)
        tenant, user = self.session.require_tenant(), self.session.user
        model = registry_of(self.session).approve(
            tenant, args.model, args.request_id, user_id=user, reason=args.reason
        )
        print(
            f"Request {args.request_id} approved by {user}: model '{args.model}' of tenant "
            f"'{tenant}', production version {model.production_version or 'none'}."
        )

    @line_magic
    @magic_arguments()
    @argument("model", help="The model's name.")
    @argument("request_id", help="The request's id (see %%matih_requests).")
    @argument("--reason", help="Why, kept with the request.")
    @maps_user_errors
    def matih_reject(self, line: str) -> None:
        """Reject a pending request (or withdraw your own); nothing moves.

        Example::

            %matih_reject churn-gbm 3f2a9c0d1e2b --reason "wait for the A/B result"
        """
        args = parse_argstring(self.matih_reject, line)
        tenant, user = self.session.require_tenant(), self.session.user
        registry_of(self.session).reject(
            tenant, args.model, args.request_id, user_id=user, reason=args.reason
        )
        print(f"Request {args.request_id} of model '{args.model}' rejected by {user}.")
