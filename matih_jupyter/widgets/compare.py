"""`RunComparison`: a sortable, filterable table of runs with overlay charts.

All data comes from the core tracker (tenant-scoped); the table is built from ipywidgets
(a GridBox of checkboxes, header buttons and escaped HTML cells), the charts are PNGs.
"""

from __future__ import annotations

import math
from typing import Any

import ipywidgets as w

from ..core.errors import InvalidInputError
from ._common import (
    ErrorArea,
    best_index,
    esc,
    figure_png,
    fmt,
    goal_for,
    message_png,
    new_figure,
    plain,
)

_HEX = frozenset("0123456789abcdef")
_BEST_STYLE = "background:#c8e6c9;font-weight:bold"


def _number(value: Any) -> float | None:
    try:
        v = float(value)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


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
        max_runs: At most this many runs are listed (newest first).

    The widget is ``.widget``; ``.selected`` is the checked runs as a DataFrame.
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
        # Shown at the figure's own pixel size: scaled up, a 72 dpi PNG looks blurred.
        self.overlay = w.Image(format="png", layout=w.Layout(width="504px", max_width="100%"))
        self.differences = w.HTML()
        self.scatter_param = w.Dropdown(description="param")
        self.scatter_metric = w.Dropdown(description="vs metric")
        self.scatter = w.Image(format="png", layout=w.Layout(width="432px", max_width="100%"))

        self._quiet = False
        self.filter.observe(lambda _c: self.refresh(), names="value")
        self.apply_button.on_click(lambda _b: self.refresh())
        self.sort_by.observe(self._on_sort, names="value")
        self.direction.observe(self._on_sort, names="value")
        self.chart_metric.observe(lambda _c: self._quiet or self._draw_overlay(), names="value")
        self.scatter_param.observe(lambda _c: self._quiet or self._draw_scatter(), names="value")
        self.scatter_metric.observe(lambda _c: self._quiet or self._draw_scatter(), names="value")

        self.widget = w.VBox(
            [
                w.HBox([self.filter, self.apply_button]),
                self.errors.widget,
                w.HBox([self.sort_by, self.direction]),
                self.count,
                self.table,
                w.HTML("<b>Selected runs</b>"),
                self.chart_metric,
                self.overlay,
                self.differences,
                w.HTML("<b>Metric against a parameter</b>"),
                w.HBox([self.scatter_param, self.scatter_metric]),
                self.scatter,
            ]
        )
        self.widget.add_class("matih-run-comparison")
        if self.run_ids:
            # Unknown or foreign ids are an error up front, exactly like everywhere else.
            for rid in self.run_ids:
                tracker.get_run(rid, self.tenant_id, include_artifacts=False)
        self.refresh()

    # -- public --------------------------------------------------------------------------

    def display(self) -> RunComparison:
        from IPython.display import display

        display(self.widget)
        return self

    def _ipython_display_(self) -> None:
        self.display()

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
        """The checked runs (in table order) as a DataFrame: run_id, run_name, status,
        start_time, duration_seconds, ``params.*`` and ``metrics.*``."""
        return self.dataframe([r for r in self.runs if r.id in self._selected])

    @property
    def selected_ids(self) -> list[str]:
        return [r.id for r in self.runs if r.id in self._selected]

    def select(self, run_ids: list[str]) -> None:
        """Check exactly these runs (ids not in the table are ignored)."""
        wanted = set(run_ids)
        for rid, box in self._checkboxes.items():
            box.value = rid in wanted

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
        self.runs = runs
        self._selected = [rid for rid in self._selected if any(r.id == rid for r in runs)]
        columns = ["start_time", "run_name", "status"]
        columns += [f"metrics.{k}" for k in self.metrics] + [f"params.{k}" for k in self.params]
        self._set_options(self.sort_by, columns, "start_time")
        metric_options = self.metrics
        self._set_options(self.chart_metric, metric_options)
        self._set_options(self.scatter_metric, metric_options)
        self._set_options(self.scatter_param, self.params)
        self._sort_and_render()
        self._draw_scatter()

    # -- data ----------------------------------------------------------------------------

    def _load(self, user_filter: str) -> list[Any]:
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
        current = dropdown.value
        self._quiet = True  # observers would redraw for every intermediate value
        try:
            if list(dropdown.options) != list(options):
                dropdown.options = options
            if current in options:
                dropdown.value = current
            elif default in options:
                dropdown.value = default
            else:
                dropdown.value = options[0] if options else None
        finally:
            self._quiet = False

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
        num = _number(value) if self.sort_key != "start_time" else None
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
        for run in self.runs:
            box = w.Checkbox(value=run.id in self._selected, indent=False, description="")
            box.observe(lambda c, rid=run.id: self._on_check(rid, c["new"]), names="value")
            self._checkboxes[run.id] = box
            children.append(box)
            for col, _label in columns:
                value = self._value(run, col)
                style = ""
                if col.startswith("metrics.") and best.get(col[8:]) == run.id:
                    style = _BEST_STYLE
                if col == "run_name":
                    text = f'<span title="{esc(run.id)}">{esc(value or run.id[:8])}</span>'
                else:
                    text = esc(fmt(value))
                cell = w.HTML(f'<div style="{style};padding:0 4px">{text}</div>')
                cell.add_class("matih-cell")
                children.append(cell)
        self.table.layout.grid_template_columns = f"60px repeat({len(columns)}, auto)"
        old = self.table.children
        self.table.children = children
        for child in old:
            child.close()
        self.count.value = (
            f"{len(self.runs)} run(s) of tenant <code>{esc(self.tenant_id)}</code>"
            + (f", experiment <code>{esc(self.experiment)}</code>" if self.experiment else "")
            + ("; highlighted: best value per metric" if metrics else "")
        )

    def _on_check(self, run_id: str, checked: bool) -> None:
        if checked and run_id not in self._selected:
            self._selected.append(run_id)
        elif not checked and run_id in self._selected:
            self._selected.remove(run_id)
        self._draw_overlay()

    def _draw_overlay(self) -> None:
        runs = [r for r in self.runs if r.id in self._selected]
        key = self.chart_metric.value
        self.differences.value = self._differences_html(runs)
        if not runs or not key:
            self.overlay.value = message_png("select runs to overlay their metric histories")
            return
        try:
            fig = new_figure(7.0, 3.2, 72)
            ax = fig.subplots()
            for run in runs:
                points = self.tracker.get_metric_history(run.id, key, self.tenant_id)
                if points:
                    ax.plot(
                        [p.step for p in points],
                        [p.value for p in points],
                        label=plain((run.name or run.id[:8])[:40]),
                        marker="." if len(points) < 30 else None,
                    )
            ax.set_title(plain(key), fontsize=10, loc="left")
            ax.set_xlabel("step", fontsize=8)
            ax.grid(True, alpha=0.3)
            if ax.lines:
                ax.legend(fontsize=8)
            fig.tight_layout()
            self.overlay.value = figure_png(fig)
        except Exception as exc:  # shown in the widget, never as a traceback
            self.errors.show(exc)

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
        diff = self.differing_params(runs)
        if not diff:
            return "<i>the selected runs have the same parameters</i>"
        head = "".join(f"<th>{esc(r.name or r.id[:8])}</th>" for r in runs)
        rows = "".join(
            f"<tr><td><b>{esc(k)}</b></td>"
            + "".join(f"<td>{esc('' if v is None else v)}</td>" for v in values)
            + "</tr>"
            for k, values in diff.items()
        )
        return (
            f'<table class="matih-param-diff"><tr><th>param differs</th>{head}</tr>{rows}</table>'
        )

    def _draw_scatter(self) -> None:
        param, metric = self.scatter_param.value, self.scatter_metric.value
        if not param or not metric:
            self.scatter.value = message_png("needs runs with params and metrics")
            return
        pairs = [
            (r.params.get(param), r.metrics.get(metric))
            for r in self.runs
            if r.params.get(param) is not None and r.metrics.get(metric) is not None
        ]
        fig = new_figure(6.0, 3.0, 72)
        ax = fig.subplots()
        if pairs:
            numeric = all(_number(p) is not None for p, _ in pairs)
            if numeric:
                xs: list[Any] = [_number(p) for p, _ in pairs]
            else:
                labels = sorted({str(p) for p, _ in pairs})
                xs = [labels.index(str(p)) for p, _ in pairs]
                ax.set_xticks(range(len(labels)))
                ax.set_xticklabels([plain(lbl[:20]) for lbl in labels], fontsize=8)
            ax.scatter(xs, [m for _, m in pairs], color="#1f77b4")
        ax.set_xlabel(plain(f"params.{param}"), fontsize=8)
        ax.set_ylabel(plain(f"metrics.{metric}"), fontsize=8)
        ax.grid(True, alpha=0.3)
        fig.tight_layout()
        self.scatter.value = figure_png(fig)
