"""The pending approval requests of one model, inside `ModelPromotion`: who asked for
which move, when, why and with which gate results; approve or reject as the widget's
user (the core refuses the requester's own approval and users the policy does not allow).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import ipywidgets as w

from ._common import ErrorArea, esc


def gates_html(gates: list[dict[str, Any]]) -> str:
    """Gate results as small pass / FAIL lines."""
    lines = []
    for g in gates:
        mark = "✔" if g.get("passed") else "✘"
        lines.append(f"{mark} {esc(g.get('gate'))} <i>({esc(g.get('detail'))})</i>")
    return "<br>".join(lines) or "<i>no gates</i>"


class PendingRequests:
    """A model's pending requests, with approve and reject.

    Args:
        registry: The `ModelRegistry` the promotion widget uses.
        tenant_id: The widget's tenant.
        user_id: Who decides (default: ``MATIH_USER_ID``/OS user, as in the core).
        errors: The promotion widget's error area (refusals land there).
        on_decided: Called after a decision, to re-read versions and history.
    """

    def __init__(
        self,
        registry: Any,
        tenant_id: str,
        user_id: str | None,
        errors: ErrorArea,
        on_decided: Callable[[], None],
    ) -> None:
        self.registry, self.tenant_id, self.user_id = registry, tenant_id, user_id
        self.errors, self.on_decided = errors, on_decided
        self.model: str | None = None
        self.pending: list[Any] = []
        self.table = w.HTML()
        self.table.add_class("matih-requests")
        self.choice = w.Dropdown(description="request", options=[])
        self.reason = w.Text(description="reason", placeholder="why (kept with the request)")
        self.approve_button = w.Button(description="approve", button_style="success")
        self.approve_button.add_class("matih-approve")
        self.reject_button = w.Button(description="reject", button_style="warning")
        self.reject_button.add_class("matih-reject")
        self.approve_button.on_click(lambda _b: self.approve())
        self.reject_button.on_click(lambda _b: self.reject())
        self.widget = w.VBox(
            [
                w.HTML("<b>Pending approval requests</b>"),
                self.table,
                w.HBox([self.choice, self.approve_button, self.reject_button]),
                self.reason,
            ],
            layout=w.Layout(display="none"),
        )
        self.widget.add_class("matih-pending-requests")

    def load(self, model: str | None) -> None:
        """Show ``model``'s pending requests (the box is hidden when there are none)."""
        self.model, self.pending = model, []
        if model:
            try:
                self.pending = self.registry.requests(self.tenant_id, model)
            except Exception as exc:  # shown in the widget
                self.errors.show(exc)
        self.choice.options = [(f"{r.id}: v{r.version} → {r.to_stage}", r.id) for r in self.pending]
        self.choice.value = self.pending[0].id if self.pending else None
        self.table.value = self._html()
        self.widget.layout.display = "flex" if self.pending else "none"

    def approve(self) -> None:
        self._decide("approve", "approved: the move is made")

    def reject(self) -> None:
        self._decide("reject", "rejected: nothing moved")

    def _decide(self, action: str, done: str) -> None:
        request_id = self.choice.value
        if not request_id or not self.model:
            return
        reason = self.reason.value.strip() or None
        decide = getattr(self.registry, action)
        try:
            decide(self.tenant_id, self.model, request_id, user_id=self.user_id, reason=reason)
        except Exception as exc:  # shown in the widget, never as a traceback
            self.errors.show(exc)
            self.on_decided()
            return
        self.reason.value = ""
        self.on_decided()
        self.errors.info(esc(f"Request {request_id} {done}."))

    def _html(self) -> str:
        if not self.pending:
            return ""
        rows = [
            f'<tr data-request="{esc(r.id)}"><td><code>{esc(r.id)}</code></td>'
            f"<td>v{esc(r.version)} {esc(r.from_stage)} → {esc(r.to_stage)}</td>"
            f"<td>{esc(r.requested_by)}</td><td>{esc(r.requested_at)}</td>"
            f"<td>{esc(r.reason or '')}</td><td>{gates_html(r.gates)}</td></tr>"
            for r in self.pending
        ]
        return (
            '<table class="matih-request-table"><tr><th>request</th><th>move</th><th>by</th>'
            "<th>at</th><th>reason</th><th>gates</th></tr>" + "".join(rows) + "</table>"
        )
