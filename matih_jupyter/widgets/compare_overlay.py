"""The comparison's overlay: the selected runs' histories of one metric, drawn in the
browser by the shared chart (`MetricChart`, the live plot's view).

Histories are read through the tracker's public API (tenant-checked on every read) and
kept until the comparison refreshes. A run added to the selection only sends its curve; a
run taken out of it, or another metric, gets a fresh chart (the chart draws every curve it
was given), which keeps the person's settings (smoothing, log scale, x axis, layout).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import ipywidgets as w

from ._common import goal_for
from .chart_widget import MetricChart

#: The settings a person changes in the chart, carried over to a fresh one.
_SETTINGS = ("x", "smoothing", "log_scale", "arrangement", "height")

History = tuple[list[float], list[float], list[float]]


def run_labels(runs: Sequence[Any]) -> dict[str, str]:
    """A legend label per run id: its name, with the id's start when two runs share it."""
    names = [r.name or r.id[:8] for r in runs]
    return {
        r.id: (f"{n} ({r.id[:6]})" if names.count(n) > 1 else n)[:60]
        for r, n in zip(runs, names, strict=True)
    }


class OverlayChart:
    """The browser chart of the selected runs' curves of one metric; ``box`` is the
    widget to show, ``chart`` the `MetricChart` in it."""

    def __init__(
        self, tracker: Any, tenant_id: str, goals: dict[str, str], max_runs: int = 20
    ) -> None:
        self.tracker = tracker
        self.tenant_id = tenant_id
        self.goals = goals
        self.max_runs = max(1, int(max_runs))
        self.metric: str | None = None
        self.reads = 0
        self._histories: dict[tuple[str, str], History] = {}
        self.chart = MetricChart(view="live", arrangement="panels", height=240)
        self.box = w.Box([self.chart], layout=w.Layout(width="100%"))
        self.box.add_class("matih-compare-overlay")

    def forget(self) -> None:
        """Drop the histories read so far (the runs may have logged more): the next `show`
        reads them again and sends each curve anew."""
        self._histories.clear()

    def show(self, runs: Sequence[Any], metric: str | None) -> None:
        """Draw ``metric`` of ``runs`` (the selection, in table order). Errors reading a
        history propagate, after being shown in the chart."""
        chart = self.chart
        if not runs or not metric:
            self._fresh_chart(metric)
            self.chart.status = (
                "tick runs in the table, or select them in the charts below, to overlay "
                "their metric histories"
                if metric
                else "the listed runs have no metrics"
            )
            return
        shown = list(runs[: self.max_runs])
        labels = run_labels(shown)
        wanted = {(r.id, labels[r.id], metric) for r in shown}
        if metric != self.metric or not set(chart.curves) <= wanted:
            chart = self._fresh_chart(metric)
        empty = []
        try:
            for run in shown:
                key = (run.id, labels[run.id], metric)
                if key in chart.curves and (run.id, metric) in self._histories:
                    continue  # drawn, and not read again since: nothing new to send
                steps, values, times = self._history(run.id, metric)
                if steps:
                    chart.replace(run.id, labels[run.id], metric, steps, values, times)
                else:
                    empty.append(labels[run.id])
        except Exception as exc:
            chart.error = _message(exc)
            raise
        chart.flush()
        chart.goals = {metric: goal_for(metric, self.goals)}
        drawn = len(shown) - len(empty)
        if not drawn:
            chart.error = f"None of the selected runs logged metric {metric!r}."
            chart.status = ""
            return
        chart.error = ""
        status = f"{metric} · {drawn} run(s)"
        if len(runs) > len(shown):
            status += f" · the first {len(shown)} of {len(runs)} selected runs"
        if empty:
            status += f" · no points: {', '.join(empty[:5])}" + ("…" if len(empty) > 5 else "")
        chart.status = status

    def _fresh_chart(self, metric: str | None) -> MetricChart:
        if self.chart.curves:  # nothing to take away from an empty chart
            old = self.chart
            self.chart = MetricChart(**{k: getattr(old, k) for k in _SETTINGS}, view="live")
            self.box.children = [self.chart]
            old.close()
        self.metric = metric
        return self.chart

    def _history(self, run_id: str, metric: str) -> History:
        key = (run_id, metric)
        if key not in self._histories:
            points = self.tracker.get_metric_history(run_id, metric, self.tenant_id)
            self.reads += 1
            self._histories[key] = (
                [float(p.step) for p in points],
                [float(p.value) for p in points],
                [float(p.timestamp) for p in points],
            )
        return self._histories[key]


def _message(exc: BaseException) -> str:
    text = getattr(exc, "message", None) or str(exc) or type(exc).__name__
    hint = getattr(exc, "hint", None)
    return f"{text} {hint}" if hint else text
