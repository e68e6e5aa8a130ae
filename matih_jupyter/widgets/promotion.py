"""`ModelPromotion`: move model versions through the lifecycle from a notebook.

Only moves the lifecycle allows are offered (`allowed_transitions`); every move goes
through a confirm step with a reason, promotions to production show the challenger
against the champion first, and every error lands in the widget's error area. Where the
tenant's policy asks for a second person, a move becomes a request, listed with approve
and reject (`PendingRequests`).
"""

from __future__ import annotations

import math
from typing import Any

import ipywidgets as w

from ._common import ErrorArea, esc, fmt, goal_for
from .promotion_requests import PendingRequests

_STAGE_COLOURS = {
    "development": "#546e7a",
    "staging": "#ef6c00",
    "production": "#2e7d32",
    "archived": "#9e9e9e",
}


def _badge(stage: str) -> str:
    colour = _STAGE_COLOURS.get(stage, "#546e7a")
    return (
        f'<span class="matih-stage" style="color:white;background:{colour};'
        f'border-radius:3px;padding:0 4px">{esc(stage)}</span>'
    )


class ModelPromotion:
    """Pick a model, inspect its versions, and promote, archive or roll back.

    Args:
        model: The model's short name (default: the tenant's first model).
        registry: The `ModelRegistry` (default: the process registry,
            `get_model_registry()`, so the hooks and webhooks added to it gate and see
            the moves made here).
        tenant_id: Tenant (default: the tracker's default tenant).
        user_id: Recorded as who made each move (default: ``MATIH_USER_ID``/OS user).
        key_metrics: Metric keys shown per version and compared before production
            (default: up to four metrics of the model's versions).
        goals: ``{"metric": "min" | "max"}`` for colouring deltas (default by name).
    """

    def __init__(
        self,
        model: str | None = None,
        *,
        registry: Any = None,
        tenant_id: str | None = None,
        user_id: str | None = None,
        key_metrics: list[str] | None = None,
        goals: dict[str, str] | None = None,
    ) -> None:
        from ..core import STAGES, get_model_registry

        if registry is None:
            registry = get_model_registry()
        self.registry = registry
        # Validated without binding anything: each registry call binds the tenant's MLflow
        # workspace for its own duration only, never on the caller's thread.
        self.tenant_id = registry.tracker.resolve_tenant(tenant_id)
        self.user_id = user_id
        self.key_metrics = list(key_metrics) if key_metrics else None
        self.goals = dict(goals or {})
        self.versions: list[Any] = []
        self.history: list[Any] = []
        self.pending: tuple[str, str | None] | None = None  # (action, target stage)
        self._quiet = False

        self.errors = ErrorArea()
        self.model = w.Dropdown(description="model", options=[])
        self.reload = w.Button(description="refresh", icon="refresh")
        self.version = w.Dropdown(description="version", options=[])
        self.table = w.HTML()
        self.table.add_class("matih-versions")
        self.stage_buttons = {
            stage: w.Button(description=f"→ {stage}", disabled=True, tooltip=f"move to {stage}")
            for stage in STAGES
        }
        for stage, button in self.stage_buttons.items():
            button.add_class(f"matih-to-{stage}")
            button.on_click(lambda _b, s=stage: self.request(s))
        self.rollback_button = w.Button(
            description="rollback", icon="undo", disabled=True, button_style="warning",
            tooltip="put back the version that was in production before the current one",
        )  # fmt: skip
        self.rollback_button.add_class("matih-rollback")
        self.rollback_button.on_click(lambda _b: self.rollback())
        self.summary = w.HTML()
        self.delta = w.HTML()
        self.reason = w.Text(description="reason", placeholder="why (kept in the history)")
        self.confirm_button = w.Button(description="confirm", button_style="danger")
        self.confirm_button.add_class("matih-confirm")
        self.cancel_button = w.Button(description="cancel")
        self.confirm_button.on_click(lambda _b: self.confirm())
        self.cancel_button.on_click(lambda _b: self.cancel())
        buttons = w.HBox([self.confirm_button, self.cancel_button])
        self.confirm_box = w.VBox(
            [self.summary, self.delta, self.reason, buttons],
            layout=w.Layout(display="none", border="1px solid #ccc", padding="4px"),
        )
        self.confirm_box.add_class("matih-confirm-box")
        self.history_html = w.HTML()
        self.requests = PendingRequests(
            registry, self.tenant_id, user_id, self.errors,
            lambda: self._load_versions(keep=self.version.value),
        )  # fmt: skip
        self.model.observe(self._on_model, names="value")
        self.version.observe(self._on_version, names="value")
        self.reload.on_click(lambda _b: self.refresh())

        self.widget = w.VBox(
            [
                w.HBox([self.model, self.reload]),
                self.errors.widget,
                self.table,
                w.HBox([self.version, *self.stage_buttons.values(), self.rollback_button]),
                self.confirm_box,
                self.requests.widget,
                w.HTML("<b>History</b>"),
                self.history_html,
            ]
        )
        self.widget.add_class("matih-model-promotion")
        self._load_models(model)

    # -- public --------------------------------------------------------------------------

    def display(self) -> ModelPromotion:
        from IPython.display import display

        display(self.widget)
        return self

    def _ipython_display_(self) -> None:
        self.display()

    @property
    def current(self) -> Any:
        """The selected version's `ModelVersionInfo` (or None)."""
        return next((v for v in self.versions if v.version == self.version.value), None)

    @property
    def champion(self) -> Any:
        """The version in production (or None)."""
        return next((v for v in self.versions if v.stage == "production"), None)

    def refresh(self) -> None:
        """Re-read models, versions and history; keeps the current choices when possible."""
        self.errors.clear()
        self._load_models(self.model.value)

    def request(self, action: str) -> None:
        """Open the confirm step for moving the selected version to ``action`` (a stage),
        or for ``"rollback"``."""
        self.errors.clear()
        version = self.current
        if action == "rollback":
            champ = self.champion
            if champ is None:
                self._fail_text("Nothing is in production, so there is nothing to roll back.")
                return
            self.pending = ("rollback", None)
            self.summary.value = (
                f"Roll back <b>{esc(self.model.value)}</b>: version {esc(champ.version)} leaves "
                "production and the version that was in production before it returns."
            )
            self.delta.value = ""
        else:
            from ..core import allowed_transitions

            if version is None:
                self._fail_text("Pick a version first.")
                return
            if action not in allowed_transitions(version.stage):
                # Buttons for these moves are disabled; this guards programmatic calls.
                self._fail_text(
                    f"Version {version.version} is in {version.stage}; it can move to "
                    f"{', '.join(allowed_transitions(version.stage))} only."
                )
                return
            self.pending = ("transition", action)
            text = (
                f"Move <b>{esc(self.model.value)}</b> version {esc(version.version)} from "
                f"{_badge(version.stage)} to {_badge(action)}"
            )
            champ = self.champion
            if action == "production" and champ is not None and champ.version != version.version:
                text += f"; version {esc(champ.version)} (in production now) will be archived"
            self.summary.value = text + "."
            self.delta.value = self._delta_html(version, champ) if action == "production" else ""
        self.reason.value = ""
        self.confirm_box.layout.display = "flex"

    def rollback(self, reason: str | None = None) -> None:
        """One click: put the version that was in production before back in production now
        (the reason defaults to saying it came from this widget; history records it)."""
        self.request("rollback")
        if self.pending is None:
            return  # nothing in production: the widget says so
        self.reason.value = reason or "one-click rollback from the promotion widget"
        self.confirm()

    def cancel(self) -> None:
        self.pending = None
        self.confirm_box.layout.display = "none"

    def confirm(self) -> None:
        """Carry out the pending move; errors are shown in the widget."""
        if self.pending is None:
            return
        action, target = self.pending
        reason = self.reason.value.strip() or None
        model = self.model.value
        try:
            if action == "rollback":
                before = self.champion
                self.registry.rollback(self.tenant_id, model, reason=reason, user_id=self.user_id)
                done = f"Rolled back: version {before.version if before else '?'} left production"
            else:
                version = self.current
                champ = self.champion
                self.registry.transition_stage(
                    self.tenant_id, model, version.version, target, reason=reason,
                    user_id=self.user_id,
                    # What the user saw: a different production version means someone
                    # else promoted meanwhile, and this move is refused, not applied.
                    expected_production=champ.version if champ else None,
                )  # fmt: skip
                done = f"Version {version.version} moved to {target}"
        except Exception as exc:  # shown in the widget, never as a traceback
            from ..core import ApprovalRequiredError

            self.errors.show(exc)
            self._load_versions(keep=self.version.value)
            if isinstance(exc, ApprovalRequiredError):  # filed for a second person
                self.cancel()
                self.errors.info(esc(f"{exc.message} {exc.hint}"))
            return
        self.cancel()
        self._load_versions(keep=self.version.value)
        self.errors.info(esc(done) + ".")

    # -- loading -------------------------------------------------------------------------

    def _fail_text(self, text: str) -> None:
        from ..core.errors import LifecycleError

        self.errors.show(LifecycleError(text))

    def _load_models(self, wanted: str | None) -> None:
        try:
            names = sorted(m.model_id for m in self.registry.list_models(self.tenant_id))
        except Exception as exc:  # shown in the widget
            self.errors.show(exc)
            return
        if wanted is not None and wanted not in names:
            from ..core.errors import NotFoundError

            self.errors.show(
                NotFoundError(
                    f"Model '{wanted}' not found for tenant '{self.tenant_id}'.",
                    hint="Pick one of the tenant's models from the list.",
                )
            )
            wanted = None
        self._quiet = True
        try:
            self.model.options = names
            self.model.value = wanted if wanted in names else (names[0] if names else None)
        finally:
            self._quiet = False
        if not names:
            self.table.value = "<i>this tenant has no registered models yet</i>"
        self._load_versions()

    def _on_model(self, _change: Any) -> None:
        if not self._quiet:
            self.cancel()
            self.errors.clear()
            self._load_versions()

    def _on_version(self, _change: Any) -> None:
        if not self._quiet:
            self.cancel()
            self._update_buttons()

    def _load_versions(self, keep: str | None = None) -> None:
        model = self.model.value
        self.versions, self.history = [], []
        if model:
            try:
                self.versions = self.registry.list_versions(self.tenant_id, model)
                self.history = self.registry.history(self.tenant_id, model)
            except Exception as exc:  # shown in the widget
                self.errors.show(exc)
        options = [(f"v{v.version} ({v.stage})", v.version) for v in self.versions]  # newest first
        self._quiet = True
        try:
            self.version.options = options
            values = [v for _, v in options]
            self.version.value = keep if keep in values else (values[0] if values else None)
        finally:
            self._quiet = False
        self.table.value = self._versions_html()
        self.history_html.value = self._history_html()
        self.requests.load(model)
        self._update_buttons()

    def _update_buttons(self) -> None:
        from ..core import allowed_transitions

        version = self.current
        allowed = set(allowed_transitions(version.stage)) if version is not None else set()
        for stage, button in self.stage_buttons.items():
            button.disabled = stage not in allowed
            button.button_style = "success" if stage in allowed and stage == "production" else ""
        self.rollback_button.disabled = self.champion is None

    # -- rendering -----------------------------------------------------------------------

    def _metric_keys(self) -> list[str]:
        if self.key_metrics:
            return list(self.key_metrics)
        return sorted({k for v in self.versions for k in v.metrics})[:4]

    def _versions_html(self) -> str:
        if not self.versions:
            return self.table.value if not self.model.value else "<i>no versions</i>"
        keys = self._metric_keys()
        head = "".join(f"<th>{esc(k)}</th>" for k in keys)
        rows = []
        for v in self.versions:
            metrics = "".join(f"<td>{esc(fmt(v.metrics.get(k)))}</td>" for k in keys)
            aliases = ", ".join(esc(a) for a in v.aliases)
            run = f"<code>{esc((v.run_id or '')[:8])}</code>" if v.run_id else ""
            rows.append(
                f'<tr data-version="{esc(v.version)}"><td><b>v{esc(v.version)}</b></td>'
                f"<td>{_badge(v.stage)}</td><td>{aliases}</td>{metrics}<td>{run}</td>"
                f"<td>{esc(v.created_by)}</td><td>{esc(v.created_at)}</td></tr>"
            )
        return (
            '<table class="matih-version-table"><tr><th>version</th><th>stage</th>'
            f"<th>aliases</th>{head}<th>run</th><th>by</th><th>created</th></tr>"
            + "".join(rows)
            + "</table>"
        )

    def delta_rows(self, challenger: Any, champion: Any) -> list[dict[str, Any]]:
        """Per key metric: challenger, champion, delta and whether it is an improvement."""
        rows = []
        for key in self._metric_keys():
            new = challenger.metrics.get(key)
            old = champion.metrics.get(key) if champion is not None else None
            delta = None
            if new is not None and old is not None and math.isfinite(new) and math.isfinite(old):
                delta = new - old
            better = None
            if delta is not None and delta != 0:
                better = (delta > 0) == (goal_for(key, self.goals) == "max")
            rows.append(
                {
                    "metric": key,
                    "challenger": new,
                    "champion": old,
                    "delta": delta,
                    "better": better,
                }
            )
        return rows

    def _delta_html(self, challenger: Any, champion: Any) -> str:
        if champion is None:
            return "<i>no version is in production: this will be the first champion</i>"
        if champion.version == challenger.version:
            return ""
        cells = []
        for r in self.delta_rows(challenger, champion):
            colour = {True: "#2e7d32", False: "#b00020", None: "#555"}[r["better"]]
            delta = "n/a" if r["delta"] is None else f"{r['delta']:+.4g}"
            cells.append(
                f"<tr><td>{esc(r['metric'])}</td><td>{esc(fmt(r['challenger']))}</td>"
                f"<td>{esc(fmt(r['champion']))}</td>"
                f'<td style="color:{colour}"><b>{esc(delta)}</b></td></tr>'
            )
        return (
            '<table class="matih-delta"><tr><th>metric</th>'
            f"<th>challenger v{esc(challenger.version)}</th>"
            f"<th>champion v{esc(champion.version)}</th><th>delta</th></tr>"
            + "".join(cells)
            + "</table>"
        )

    def _history_html(self) -> str:
        if not self.history:
            return "<i>no transitions yet</i>"
        items = []
        for rec in reversed(self.history):  # newest first
            origin = rec.from_stage or "registered"
            reason = f" — <i>{esc(rec.reason)}</i>" if rec.reason else ""
            approved = f", approved by {esc(rec.approved_by)}" if rec.approved_by else ""
            gates = "".join(f"<br><small>{esc(g)}</small>" for g in rec.gates)
            items.append(
                f"<li>{esc(rec.timestamp)}: v{esc(rec.version)} {esc(origin)} → "
                f"{_badge(rec.to_stage)} by {esc(rec.user_id)}{approved}{reason}{gates}</li>"
            )
        return '<ul class="matih-history">' + "".join(items) + "</ul>"
