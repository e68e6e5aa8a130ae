"""`RunComparison`: a sortable, filterable table of runs with charts drawn in the browser.

All data comes from the core tracker (tenant-scoped); the table is built from ipywidgets
(a GridBox of checkboxes, header buttons and escaped HTML cells). The selected runs' metric
histories are overlaid by the shared browser chart (`compare_overlay`), and every listed
run is drawn in a scatter and parallel coordinates (`runs_chart`) where a click, a box or
an axis brush selects runs: the selection is one list, whether ticked in the table or
picked in the browser.
"""

from __future__ import annotations

import math
from typing import Any

import ipywidgets as w

from ..core.errors import InvalidInputError
from ._common import ErrorArea, best_index, esc, finite_number, fmt, goal_for
from .compare_overlay import OverlayChart, run_labels
from .runs_chart import RunsChart, default_axes, rank_metrics, rank_params, runs_table

_HEX = frozenset("0123456789abcdef")
_BEST_STYLE = "background:#c8e6c9;font-weight:bold"
_RUNS_HEADING = "<b>Every listed run: a metric against a parameter, and parallel coordinates</b>"
#: A row's cells (one HTML widget) are items of the table's grid, as if each were a widget.
_TABLE_STYLE = (
    "<style>.matih-run-table .matih-row,"
    ".matih-run-table .matih-row > .widget-html-content{display:contents}</style>"
)
#: Most runs named in the "which params differ" table.
_MAX_DIFF_COLUMNS = 20


class RunComparison:
    """Compare the tenant's runs: params and metrics side by side.

    Args:
        experiment: Experiment name (without the tenant prefix) whose runs to show.
        run_ids: Explicit run ids to compare (may be combined with ``experiment``).
        metrics: Metric keys to show (default: every metric of the listed runs).
        filter_string: Initial MLflow filter, e.g. ``"metrics.auc > 0.8 and params.depth = '5'"``.
        tracker: The `ExperimentTracker` (default: the process tracker).
        tenant_id: Tenant (default: the tracker's default tenant).
        goals: ``{"metric": "min" | "max"}`` for the best-value highlight.
        max_runs: At most this many runs are listed (newest first); every one is drawn in
            the scatter and parallel coordinates.
        max_table_rows: At most this many of them get a table row (in the table's order;
            the browser draws 50 rows in well under a second, 200 took seconds).
        max_overlay_runs: At most this many selected runs' histories are overlaid.

    The widget is ``.widget``; ``.selected`` is the selected runs as a DataFrame: those
    ticked in the table or picked in the browser's scatter or parallel coordinates (a
    selection in the browser replaces the ticks).
    """

    def __init__(
        self,
        experiment: str | None = None,
        run_ids: list[str] | None = None,
        metrics: list[str] | None = None,
        filter_string: str | None = None,
        *,
        tracker: Any = None,
        tenant_id: str | None = None,
        goals: dict[str, str] | None = None,
        max_runs: int = 200,
        max_table_rows: int = 50,
        max_overlay_runs: int = 20,
    ) -> None:
        if tracker is None:
            from ..core import get_experiment_tracker

            tracker = get_experiment_tracker()
        self.tracker = tracker
        # Validated without binding anything: each tracker call binds the tenant's MLflow
        # workspace for its own duration only, never on the caller's thread.
        self.tenant_id = tracker.resolve_tenant(tenant_id)
        self.experiment = experiment
        self.run_ids = list(run_ids) if run_ids is not None else None
        for rid in self.run_ids or []:
            if not isinstance(rid, str) or not rid or not set(rid) <= _HEX:
                raise InvalidInputError("run_ids", f"{rid!r} is not a run id.")
        self.metric_keys = list(metrics) if metrics else None
        self.goals = dict(goals or {})
        self.max_runs = int(max_runs)
        self.max_table_rows = max(1, int(max_table_rows))
        self.runs: list[Any] = []  # RunResponse, in display order
        self._selected: list[str] = []
        self.sort_key: str = "start_time"
        self.descending = True

        self.errors = ErrorArea()
        self.filter = w.Text(
            value=filter_string or "",
            placeholder="metrics.val_auc > 0.85 and params.depth = '5'",
            description="filter",
            continuous_update=False,
            layout=w.Layout(width="60%"),
        )
        self.apply_button = w.Button(description="apply", icon="filter")
        self.sort_by = w.Dropdown(description="sort by", options=["start_time"])
        self.direction = w.ToggleButtons(
            options=[("▲ asc", "asc"), ("▼ desc", "desc")], value="desc"
        )
        self.direction.style.button_width = "70px"
        self.table = w.GridBox(layout=w.Layout(grid_gap="0px 8px", overflow="auto"))
        self.table.add_class("matih-run-table")
        self.count = w.HTML()
        self.chart_metric = w.Dropdown(description="metric")
        self.overlay_chart = OverlayChart(tracker, self.tenant_id, self.goals, max_overlay_runs)
        self.differences = w.HTML()
        self.scatter_param = w.Dropdown(description="param")
        self.scatter_metric = w.Dropdown(description="vs metric")
        self.runs_chart = RunsChart()
        self._checkboxes: dict[str, w.Checkbox] = {}
        self._default_axes: list[str] = []
        # The value each dropdown was last given by the widget itself (not by a person).
        self._defaulted: dict[w.Dropdown, Any] = {}
        self._selection_note = False

        self._quiet = False
        self._syncing = False  # the selection is being mirrored: no feedback
        self.filter.observe(lambda _c: self.refresh(), names="value")
        self.apply_button.on_click(lambda _b: self.refresh())
        self.sort_by.observe(self._on_sort, names="value")
        self.direction.observe(self._on_sort, names="value")
        self.chart_metric.observe(lambda _c: self._quiet or self._draw_overlay(), names="value")
        self.scatter_param.observe(lambda _c: self._quiet or self._show_scatter(), names="value")
        self.scatter_metric.observe(lambda _c: self._quiet or self._show_scatter(), names="value")
        self.runs_chart.observe(self._on_browser_selection, names="selected")

        self.widget = w.VBox(
            [
                w.HTML(_TABLE_STYLE),
                w.HBox([self.filter, self.apply_button]),
                self.errors.widget,
                w.HBox([self.sort_by, self.direction]),
                self.count,
                self.table,
                w.HTML("<b>Selected runs</b>"),
                self.chart_metric,
                self.overlay_chart.box,
                self.differences,
                w.HTML(_RUNS_HEADING),
                w.HBox([self.scatter_param, self.scatter_metric]),
                self.runs_chart,
            ]
        )
        self.widget.add_class("matih-run-comparison")
        #: The named runs, read (together) once: listed as they are unless a filter or an
        #: experiment asks MLflow again.
        self._named: list[Any] | None = None
        if self.run_ids:
            # Unknown or foreign ids are an error up front, exactly like everywhere else.
            self._named = tracker.get_runs(self.run_ids, self.tenant_id)
        self.refresh()

    # -- public --------------------------------------------------------------------------

    def display(self) -> RunComparison:
        from IPython.display import display

        display(self.widget)
        return self

    def _ipython_display_(self) -> None:
        self.display()

    @property
    def overlay(self) -> Any:
        """The browser chart (`MetricChart`) overlaying the selected runs' histories."""
        return self.overlay_chart.chart

    @property
    def params(self) -> list[str]:
        return sorted({k for r in self.runs for k in r.params})

    @property
    def metrics(self) -> list[str]:
        if self.metric_keys:
            return list(self.metric_keys)
        return sorted({k for r in self.runs for k in r.metrics})

    @property
    def selected(self) -> Any:
        """The selected runs (in table order) as a DataFrame: run_id, run_name, status,
        start_time, duration_seconds, ``params.*`` and ``metrics.*``."""
        return self.dataframe(self._selected_runs())

    @property
    def selected_ids(self) -> list[str]:
        return [r.id for r in self._selected_runs()]

    def select(self, run_ids: list[str]) -> None:
        """Select exactly these runs, as ticking them would. Ids that are not listed stay
        unselected, and the widget says why (not a run of the tenant, or filtered out)."""
        ids = list(dict.fromkeys(run_ids))
        listed = {r.id for r in self.runs}
        unlisted = [rid for rid in ids if rid not in listed]
        if unlisted:
            self._report_unlisted(unlisted)
        elif self._selection_note:
            self._selection_note = False
            self.errors.clear()
            self.runs_chart.error = ""
        self._selected = [rid for rid in ids if rid in listed]
        self._syncing = True
        try:
            for rid, box in self._checkboxes.items():
                box.value = rid in self._selected
        finally:
            self._syncing = False
        self._selection_changed()

    def dataframe(self, runs: list[Any] | None = None) -> Any:
        """Runs (default: the listed ones) as a DataFrame: the core's comparison rows
        (`comparison_rows`) flattened, with a column for every param and metric of the
        listed runs (None or NaN where a run lacks one)."""
        import pandas as pd

        from ..core import comparison_rows

        runs = self.runs if runs is None else runs
        params = self.params
        metrics, rows = comparison_rows(runs, self.metrics)
        fixed = ["run_id", "run_name", "status", "start_time", "duration_seconds"]
        flat = []
        for row in rows:
            item = {k: row[k] for k in fixed}
            item["start_time"] = pd.Timestamp(row["start_time"]) if row["start_time"] else pd.NaT
            item.update({f"params.{k}": row["parameters"].get(k) for k in params})
            item.update(
                {f"metrics.{k}": math.nan if v is None else v for k, v in row["metrics"].items()}
            )
            flat.append(item)
        columns = fixed + [f"params.{k}" for k in params] + [f"metrics.{k}" for k in metrics]
        return pd.DataFrame(flat, columns=columns)

    def refresh(self) -> None:
        """Re-read the runs with the current filter and redraw; errors appear inline."""
        try:
            runs = self._load(self.filter.value)
        except Exception as exc:  # shown in the widget, never as a traceback
            self.errors.show(exc)
            return
        self.errors.clear()
        self._selection_note = False
        self.runs_chart.error = ""
        self.runs = runs
        listed = {r.id for r in runs}
        self._selected = [rid for rid in self._selected if rid in listed]
        self.overlay_chart.forget()
        columns = ["start_time", "run_name", "status"]
        columns += [f"metrics.{k}" for k in self.metrics] + [f"params.{k}" for k in self.params]
        self._set_options(self.sort_by, columns, "start_time")
        metric_options = self.metrics
        ranked = rank_metrics(runs, metric_options)
        self._set_options(self.chart_metric, metric_options, ranked[0] if ranked else None)
        self._set_options(self.scatter_metric, metric_options, ranked[0] if ranked else None)
        params = rank_params(runs, self.params)
        # A param whose value differs between the runs, not one only one run has.
        self._set_options(self.scatter_param, self.params, params[0] if params else None)
        self._sort_and_render()
        self._update_runs_chart()
        self._check_metric_keys()

    # -- data ----------------------------------------------------------------------------

    def _load(self, user_filter: str) -> list[Any]:
        named, self._named = self._named, None
        if named is not None and not user_filter.strip() and self.experiment is None:
            return _as_listed(named, self.max_runs)
        clauses = []
        if user_filter.strip():
            # MLflow's filter grammar has only AND (no OR, no parentheses), so appending
            # clauses cannot widen what the user's text selects.
            clauses.append(user_filter.strip())
        if self.run_ids is not None:
            if not self.run_ids:
                return []
            ids = ", ".join(f"'{rid}'" for rid in self.run_ids)  # ids checked to be hex
            clauses.append(f"attributes.run_id IN ({ids})")
        combined = " and ".join(clauses) or None
        try:
            return list(
                self.tracker.list_runs(
                    self.tenant_id,
                    experiment_name=self.experiment,
                    filter_string=combined,
                    max_results=self.max_runs,
                )
            )
        except InvalidInputError as exc:
            if exc.field == "filter_string" and user_filter.strip() and self.run_ids:
                # Name the user's text, not the clause we added around it.
                raise InvalidInputError(
                    "filter",
                    f"{user_filter.strip()!r} is not valid MLflow filter syntax.",
                    hint=exc.hint or "Example: metrics.loss < 0.5 and params.lr = '0.01'.",
                ) from None
            raise

    def _set_options(self, dropdown: w.Dropdown, options: list[str], default: Any = None) -> None:
        """New options; a value a person chose stays while it is one of them, a value the
        widget chose itself follows ``default`` (the runs listed may have changed)."""
        current = dropdown.value
        chosen = current in options and current != self._defaulted.get(dropdown)
        self._quiet = True  # observers would redraw for every intermediate value
        try:
            if list(dropdown.options) != list(options):
                dropdown.options = options
            if chosen:
                dropdown.value = current
            elif default in options:
                dropdown.value = default
            else:
                dropdown.value = options[0] if options else None
        finally:
            self._quiet = False
        if not chosen:
            self._defaulted[dropdown] = dropdown.value

    def _value(self, run: Any, column: str) -> Any:
        if column.startswith("metrics."):
            return run.metrics.get(column[8:])
        if column.startswith("params."):
            return run.params.get(column[7:])
        if column == "run_name":
            return run.name or ""
        return getattr(run, column, None)

    def _sort_key(self, run: Any) -> tuple:
        """(group, number, text): numbers sort numerically, text case-insensitively, and
        missing values form group 2, which `_sort_and_render` keeps last."""
        value = self._value(run, self.sort_key)
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return (2, 0.0, "")
        num = finite_number(value) if self.sort_key != "start_time" else None
        if num is not None:  # metrics, and params that look numeric ("0.01" < "0.1")
            return (0, num, "")
        return (1, 0.0, str(value).lower())

    # -- rendering -----------------------------------------------------------------------

    def _on_sort(self, _change: Any = None) -> None:
        if self._quiet:
            return
        self.sort_key = self.sort_by.value or "start_time"
        self.descending = self.direction.value == "desc"
        self._sort_and_render()

    def sort(self, column: str, descending: bool | None = None) -> None:
        """Sort by a column (``"metrics.auc"``, ``"params.lr"``, ``"run_name"``...)."""
        if column not in self.sort_by.options:
            raise InvalidInputError(
                "column", f"{column!r} is not a column.", hint=f"Use one of {self.sort_by.options}."
            )
        self._quiet = True
        try:
            self.sort_by.value = column
            if descending is not None:
                self.direction.value = "desc" if descending else "asc"
        finally:
            self._quiet = False
        self._on_sort()

    def _header_click(self, column: str) -> None:
        if self.sort_by.value == column:
            self.direction.value = "asc" if self.direction.value == "desc" else "desc"
        else:
            self.sort_by.value = column

    def _sort_and_render(self) -> None:
        present = [r for r in self.runs if self._sort_key(r)[0] < 2]
        missing = [r for r in self.runs if self._sort_key(r)[0] == 2]
        present.sort(key=self._sort_key, reverse=self.descending)
        self.runs = present + missing  # runs without the value stay last either way
        self._render_table()
        self._draw_overlay()

    def _selected_runs(self) -> list[Any]:
        chosen = set(self._selected)
        return [r for r in self.runs if r.id in chosen]

    def _render_table(self) -> None:
        metrics, params = self.metrics, self.params
        columns = (
            [("run_name", "run"), ("status", "status")]
            + [(f"metrics.{k}", k) for k in metrics]
            + [(f"params.{k}", k) for k in params]
        )
        best = {}
        for key in metrics:
            values = [r.metrics.get(key, math.nan) for r in self.runs]
            i = best_index(values, goal_for(key, self.goals))
            best[key] = self.runs[i].id if i is not None else None
        children: list[w.Widget] = [w.HTML("<b>select</b>")]
        self.header_buttons = {}
        for col, label in columns:
            arrow = ""
            if col == self.sort_key:
                arrow = " ▼" if self.descending else " ▲"
            kind = "metric" if col.startswith("metrics.") else "param" if "." in col else ""
            button = w.Button(
                description=f"{label}{arrow}",
                tooltip=f"sort by {kind} {label}".replace("  ", " "),
                layout=w.Layout(width="auto"),
            )
            button.add_class("matih-sort-header")
            button.on_click(lambda _b, c=col: self._header_click(c))
            self.header_buttons[col] = button
            children.append(button)
        self._checkboxes = {}
        for run in self.runs[: self.max_table_rows]:
            box = w.Checkbox(value=run.id in self._selected, indent=False, description="")
            box.observe(lambda c, rid=run.id: self._on_check(rid, c["new"]), names="value")
            self._checkboxes[run.id] = box
            # One widget a row, its cells laid in the grid by _TABLE_STYLE: a widget per
            # cell made a table of 200 runs cost thousands of widgets to open.
            row = w.HTML("".join(self._cell(run, col, best) for col, _label in columns))
            row.add_class("matih-row")
            children += [box, row]
        self.table.layout.grid_template_columns = f"60px repeat({len(columns)}, auto)"
        old = self.table.children
        self.table.children = children
        for child in old:
            child.close()
        self.count.value = (
            f"{len(self.runs)} run(s) of tenant <code>{esc(self.tenant_id)}</code>"
            + (f", experiment <code>{esc(self.experiment)}</code>" if self.experiment else "")
            + ("; highlighted: best value per metric" if metrics else "")
            + (
                f"; the table shows the first {self.max_table_rows}, the charts below all"
                if len(self.runs) > self.max_table_rows
                else ""
            )
        )

    def _cell(self, run: Any, column: str, best: dict[str, str | None]) -> str:
        value = self._value(run, column)
        style = ""
        if column.startswith("metrics.") and best.get(column[8:]) == run.id:
            style = _BEST_STYLE
        if column == "run_name":
            text = f'<span title="{esc(run.id)}">{esc(value or run.id[:8])}</span>'
        else:
            text = esc(fmt(value))
        return f'<div class="matih-cell" style="{style};padding:0 4px">{text}</div>'

    def _on_check(self, run_id: str, checked: bool) -> None:
        if self._syncing:
            return
        if checked and run_id not in self._selected:
            self._selected.append(run_id)
        elif not checked and run_id in self._selected:
            self._selected.remove(run_id)
        self._selection_changed()

    def _on_browser_selection(self, change: Any) -> None:
        """A person selected runs in the scatter or the parallel coordinates."""
        if not self._syncing:
            self.select([str(rid) for rid in change["new"]])

    def _selection_changed(self) -> None:
        self._syncing = True
        try:
            self.runs_chart.selected = self.selected_ids
        finally:
            self._syncing = False
        self._draw_overlay()

    def _report_unlisted(self, run_ids: list[str]) -> None:
        """Say, in the widget, why ids asked for are not selected."""
        self._selection_note = True
        found = []
        for rid in run_ids[:5]:
            try:
                if not isinstance(rid, str) or not rid or not set(rid) <= _HEX:
                    raise InvalidInputError("run_ids", f"{rid!r} is not a run id.")
                # Not found for a foreign id as for a missing one: the core says the same.
                found.append(self.tracker.get_run(rid, self.tenant_id, include_artifacts=False))
            except Exception as exc:  # shown in the widget, never as a traceback
                self.errors.show(exc)
                self.runs_chart.error = _message(exc)
                return
        name = found[0].name or found[0].id[:8]
        text = (
            f"Run {name!r} is not listed here (the filter or max_runs leaves it out), "
            "so it is not selected."
        )
        self.errors.info(esc(text))
        self.runs_chart.error = text

    def _draw_overlay(self) -> None:
        runs = self._selected_runs()
        self.differences.value = self._differences_html(runs)
        try:
            self.overlay_chart.show(runs, self.chart_metric.value)
        except Exception as exc:  # shown in the widget, never as a traceback
            self.errors.show(exc)

    def _check_metric_keys(self) -> None:
        """Metrics asked for by name that no listed run logged: said in the widget."""
        if not self.metric_keys or not self.runs:
            return
        missing = [k for k in self.metric_keys if not any(k in r.metrics for r in self.runs)]
        if missing:
            logged = sorted({k for r in self.runs for k in r.metrics})
            self.errors.show(
                InvalidInputError(
                    "metrics",
                    f"No listed run logged metric {', '.join(repr(k) for k in missing)}.",
                    hint=f"These runs logged: {', '.join(logged[:12]) or 'no metrics'}.",
                )
            )

    # -- the browser's scatter and parallel coordinates ----------------------------------

    def _update_runs_chart(self) -> None:
        """Every listed run as columns for the browser: the scatter's param first, then the
        params worth plotting, and the metrics."""
        param, metric = self.scatter_param.value, self.scatter_metric.value
        ranked = rank_params(self.runs, self.params)
        params = ([param] if param else []) + [p for p in ranked if p != param]
        table = runs_table(self.runs, params, self.metrics, self.goals)
        keys = {c["key"] for c in table["columns"]}
        defaults = default_axes(self.runs, ranked, rank_metrics(self.runs, self.metrics), metric)
        current = [k for k in self.runs_chart.axes if k in keys]
        chosen = current if current and self.runs_chart.axes != self._default_axes else defaults
        self._default_axes = defaults
        with self.runs_chart.hold_sync():
            self.runs_chart.table = table
            self.runs_chart.x_key = f"params.{param}" if param else ""
            self.runs_chart.y_key = f"metrics.{metric}" if metric else ""
            self.runs_chart.axes = chosen
            self._syncing = True
            try:
                self.runs_chart.selected = self.selected_ids
            finally:
                self._syncing = False
            self.runs_chart.status = (
                "" if self.runs else "no runs to plot: widen the filter or log some runs"
            )

    def _show_scatter(self) -> None:
        """The scatter's param or metric changed: point the browser at those columns (the
        parallel coordinates follow the metric while a person has not chosen axes)."""
        self._update_runs_chart()

    def differing_params(self, runs: list[Any] | None = None) -> dict[str, list[Any]]:
        """Params whose values differ among ``runs`` (default: the selection)."""
        if runs is None:
            runs = [r for r in self.runs if r.id in self._selected]
        keys = sorted({k for r in runs for k in r.params})
        out = {}
        for k in keys:
            values = [r.params.get(k) for r in runs]
            if len(set(values)) > 1:
                out[k] = values
        return out

    def _differences_html(self, runs: list[Any]) -> str:
        if len(runs) < 2:
            return "<i>select two or more runs to see which parameters differ</i>"
        more = len(runs) - _MAX_DIFF_COLUMNS
        runs = runs[:_MAX_DIFF_COLUMNS]
        diff = self.differing_params(runs)
        if not diff:
            return "<i>the selected runs have the same parameters</i>"
        labels = run_labels(runs)
        head = "".join(f"<th>{esc(labels[r.id])}</th>" for r in runs)
        rows = "".join(
            f"<tr><td><b>{esc(k)}</b></td>"
            + "".join(f"<td>{esc('' if v is None else v)}</td>" for v in values)
            + "</tr>"
            for k, values in diff.items()
        )
        note = f"<i>and {more} more selected run(s)</i>" if more > 0 else ""
        return (
            f'<table class="matih-param-diff"><tr><th>param differs</th>{head}</tr>{rows}</table>'
            + note
        )


def _as_listed(runs: list[Any], max_runs: int) -> list[Any]:
    """Runs read by id as the tracker's listing shows them: active ones, newest first,
    at most ``max_runs``."""
    active = {r.id: r for r in runs if r.lifecycle_stage == "active"}
    return sorted(active.values(), key=lambda r: r.start_time, reverse=True)[:max_runs]


def _message(exc: BaseException) -> str:
    text = getattr(exc, "message", None) or str(exc) or type(exc).__name__
    hint = getattr(exc, "hint", None)
    return f"{text} {hint}" if hint else text
