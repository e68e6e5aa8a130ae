"""`LiveMetricsPlot`: a run's metric curves, drawn in the browser while it logs.

The kernel never draws while the run trains. A background thread takes the points that
are new (from the run's writer when it runs in this process, else from MLflow) and sends
them to the chart at most every ``interval`` seconds, as float64 buffers; the browser
draws them (`MetricChart`). When the run ends, the output becomes a PNG of the final curves,
drawn once, so a saved notebook shows them wherever it is opened: JupyterLab again,
GitHub, nbviewer, ``jupyter nbconvert``. (`RunComparison`, ``%matih_compare`` and the
sidebar draw finished runs interactively.)
"""

from __future__ import annotations

import math
import threading
import time
from typing import Any

from ..core.errors import InvalidInputError
from ._common import best_index, fmt, goal_for, png_bundle, widget_bundle
from .chart_widget import MetricChart
from .live_sources import Point, PolledRun, Update, WriterFeed
from .static_figure import curves_png

WIDGET_MIME = "application/vnd.jupyter.widget-view+json"


class LiveMetricsPlot:
    """Live curves of a run's metrics, drawn in the browser from points the kernel streams.

    Args:
        run_or_run_id: An `ActiveRun` or the id of a run of the tenant.
        metrics: Metric keys to plot (default: every metric the run logs, as they appear).
        tracker: The `ExperimentTracker` (default: the run's own, else the process tracker).
        tenant_id: Tenant owning the run (default: the run's, else the tracker's default).
        interval: Seconds between messages to the browser (default 0.1: new points reach
            the chart at most 100 ms after they are stored).
        x: ``"step"`` or ``"time"`` (seconds since the run started); the chart's own
            control also offers wall time.
        smoothing: Debiased exponential smoothing weight in [0, 1); raw points stay faint.
        log_scale: Logarithmic y axes.
        goals: ``{"metric": "min" | "max"}`` for the best-so-far marker (default: names
            with loss/error/... are minimised, others maximised).
        max_cpu_fraction: Upper bound on the share of wall time spent polling MLflow (a
            run id; a run of this process costs only the points it hands over).
        layout: ``"panels"`` (one per metric) or ``"overlay"``.
        height: Height of each panel in pixels.
        width, panel_height, dpi: Geometry of the final PNG.
        start: Start following the run immediately.
    """

    def __init__(
        self,
        run_or_run_id: Any,
        metrics: list[str] | None = None,
        *,
        tracker: Any = None,
        tenant_id: str | None = None,
        interval: float = 0.1,
        x: str = "step",
        smoothing: float = 0.0,
        log_scale: bool = False,
        goals: dict[str, str] | None = None,
        max_cpu_fraction: float = 0.05,
        layout: str = "panels",
        height: int = 200,
        width: float = 7.0,
        panel_height: float = 2.4,
        dpi: int = 72,
        start: bool = True,
    ) -> None:
        active, run_id, tracker, tenant_id = _resolve_run(run_or_run_id, tracker, tenant_id)
        _check_options(x, smoothing, interval, max_cpu_fraction, goals, layout)
        self.tracker = tracker
        self.tenant_id = tracker.resolve_tenant(tenant_id)
        self.run_id = run_id
        # Ownership check once, up front: a foreign or unknown id fails here like anywhere.
        info = tracker.get_run(run_id, self.tenant_id, include_artifacts=False)
        self.run_name = info.name or run_id
        self.metrics = list(metrics) if metrics else None
        self.interval = float(interval)
        self.max_cpu_fraction = float(max_cpu_fraction)
        self.goals = dict(goals or {})
        self._geometry = (float(width), float(panel_height), int(dpi))
        polled = PolledRun(tracker, run_id, self.tenant_id)
        self._source: PolledRun | WriterFeed = (
            WriterFeed(active, polled) if active is not None else polled
        )
        self._polled = polled
        self.chart = MetricChart(
            view="live",
            metrics=list(metrics or []),
            x="relative" if x == "time" else "step",
            smoothing=float(smoothing),
            log_scale=bool(log_scale),
            arrangement=layout,
            height=int(height),
        )
        self._series: dict[str, list[Point]] = {}
        self._other_metrics: set[str] = set()  # logged, but not among ``metrics``
        self.status = "RUNNING"
        self.updates = 0
        self.busy_seconds = 0.0
        self.final_png: bytes | None = None
        self._lock = threading.RLock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._handle: Any = None
        self._finished = False
        self._show_status()
        if start:
            self.start()

    # -- public ------------------------------------------------------------------------

    @property
    def widget(self) -> MetricChart:
        return self.chart

    @property
    def history(self) -> dict[str, list[Point]]:
        """Every point received, per metric: (step, wall time ms, value), in step order."""
        return self._series

    @property
    def mlflow_polls(self) -> int:
        """How many times MLflow was read (a run of this process: once, to catch up)."""
        return self._source.reads

    def start(self) -> LiveMetricsPlot:
        """Start following the run (idempotent)."""
        if self._thread is None and not self._finished:
            self._thread = threading.Thread(
                target=self._loop, name=f"matih-live-plot-{self.run_id[:8]}", daemon=True
            )
            self._thread.start()
        return self

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def display(self) -> LiveMetricsPlot:
        """Show the chart in the current cell's output; returns self."""
        from IPython.display import display

        self._handle = display(self.bundle(), raw=True, display_id=True)
        return self

    def _ipython_display_(self) -> None:
        self.display()

    def refresh(self) -> LiveMetricsPlot:
        """Take new points now, on the caller's thread."""
        self._step(force=True)
        return self

    def finish(self, timeout: float = 30.0) -> LiveMetricsPlot:
        """Stop following the run, send the last points and leave the final PNG."""
        self._stop.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
        self._finalize()
        return self

    def close(self) -> None:
        """Finish (the output keeps the final PNG) and close the chart's views."""
        self.finish()
        self.chart.close()

    def summary(self) -> dict[str, dict[str, Any]]:
        """Per metric: latest value and step, best value and step, goal, point count."""
        out = {}
        for key, series in sorted(self._series.items()):
            values = [v for _, _, v in series]
            goal = goal_for(key, self.goals)
            i = best_index(values, goal)
            out[key] = {
                "latest": values[-1],
                "latest_step": series[-1][0],
                "best": values[i] if i is not None else math.nan,
                "best_step": series[i][0] if i is not None else -1,
                "goal": goal,
                "points": len(series),
            }
        return out

    def bundle(self) -> dict[str, Any]:
        """The output: the chart while the run goes on; once it ended, the final curves as
        a PNG with a text summary. A widget view cannot be the saved output: re-opened
        later, its model is gone with the kernel and Jupyter shows "model not found"
        instead of any fallback beside it."""
        if self.final_png:
            return self.static_bundle()
        return widget_bundle(self.chart, self._text())

    def static_bundle(self) -> dict[str, Any]:
        """The final figure as PNG plus a text summary (no widget)."""
        return png_bundle(self.final_png or self._png(), self._text())

    # -- following the run ---------------------------------------------------------------

    def _loop(self) -> None:
        cost = 0.0
        while not self._stop.is_set():
            cpu = time.thread_time()
            try:
                self._step()
                if self.chart.error:
                    self.chart.error = ""
            except Exception as exc:  # shown in the chart; following goes on
                self.chart.error = _message(exc)
            spent = time.thread_time() - cpu
            self.busy_seconds += spent
            cost = spent if spent > cost else 0.8 * cost + 0.2 * spent
            if self._source.ended:
                break
            self._stop.wait(self._pause(cost, spent))
        self._finalize()

    def _pause(self, cost: float, spent: float) -> float:
        """Seconds until the next step. Reading MLflow (a run id) stays within the CPU
        budget; handing over the points of a run of this process costs next to nothing,
        so it goes at the interval (its one catch-up read must not hold it back)."""
        if isinstance(self._source, WriterFeed):
            return self.interval
        return min(max(self.interval, cost / self.max_cpu_fraction - spent), 5.0)

    def _step(self, force: bool = False) -> None:
        with self._lock:
            updates = self._source.poll(force)
            if updates:
                self._publish(updates)
            self.status = self._source.status
            self._show_status()

    def _publish(self, updates: dict[str, Update]) -> None:
        fresh_goals = False
        for key, update in updates.items():
            if self.metrics and key not in self.metrics:
                self._other_metrics.add(key)
                continue
            fresh_goals |= key not in self._series
            self._series[key] = _merged(self._series.get(key, []), update)
            send = self.chart.replace if update.replace else self.chart.append
            send(self.run_id, self.run_name, key, *_columns(update.points))
        if fresh_goals:
            self.chart.goals = {k: goal_for(k, self.goals) for k in self._series}
        if self.chart.flush():
            self.updates += 1

    def _show_status(self) -> None:
        count = sum(len(s) for s in self._series.values())
        state = self.status.lower()
        waiting = " · waiting for metrics…" if not count and state == "running" else ""
        self.chart.status = f"{self.run_name} · {state} · {count} points{waiting}"
        missing = self._missing_metrics()
        if missing and state != "running":
            self.chart.error = (
                f"Run {self.run_name!r} logged no {', '.join(map(repr, missing))}; its "
                f"metrics: {', '.join(sorted({*self._series, *self._other_metrics})) or 'none'}."
            )

    def _missing_metrics(self) -> list[str]:
        """Metrics asked for that the run never logged (known once the run has ended)."""
        return [m for m in self.metrics or [] if m not in self._series]

    def _finalize(self) -> None:
        with self._lock:
            if self._finished:
                return
            try:
                self._step()
                if isinstance(self._source, WriterFeed):
                    self._source.close()
                self.final_png = self._png()
            except Exception as exc:  # shown in the chart
                self.chart.error = _message(exc)
                return
            self._finished = True
            if self._handle is not None:
                # Routed by display id, so it reaches the output wherever the kernel is.
                self._handle.update(self.bundle(), raw=True)

    def _png(self) -> bytes:
        width, panel_height, dpi = self._geometry
        keys = [k for k in (self.metrics or sorted(self._series)) if self._series.get(k)]
        return curves_png(
            {k: self._series[k] for k in keys},
            goals=self.goals,
            by_time=self.chart.x != "step",
            start_ms=self._polled.start_ms,
            smoothing=self.chart.smoothing,
            log_scale=self.chart.log_scale,
            width=width,
            panel_height=panel_height,
            dpi=dpi,
        )

    def _text(self) -> str:
        lines = [f"{self.run_name} ({self.status.lower()})"] + [
            f"{k}: latest {fmt(s['latest'])} best {fmt(s['best'])}"
            for k, s in self.summary().items()
        ]
        return "\n".join(lines)


def _resolve_run(run_or_run_id: Any, tracker: Any, tenant_id: str | None) -> tuple:
    if isinstance(run_or_run_id, str):
        active, run_id = None, run_or_run_id
    elif hasattr(run_or_run_id, "run_id") and hasattr(run_or_run_id, "add_listener"):
        active, run_id = run_or_run_id, run_or_run_id.run_id
        tracker = tracker or run_or_run_id.tracker
        tenant_id = tenant_id or run_or_run_id.tenant_id
    else:
        raise InvalidInputError("run", f"{run_or_run_id!r} is neither an ActiveRun nor a run id.")
    if tracker is None:
        from ..core import get_experiment_tracker

        tracker = get_experiment_tracker()
    return active, run_id, tracker, tenant_id


def _check_options(
    x: str, smoothing: float, interval: float, max_cpu: float, goals: Any, layout: str
) -> None:
    if x not in ("step", "time"):
        raise InvalidInputError("x", f"{x!r} is not 'step' or 'time'.")
    if not 0.0 <= float(smoothing) < 1.0:
        raise InvalidInputError("smoothing", f"{smoothing!r} is not in [0, 1).")
    if not float(interval) > 0:
        raise InvalidInputError("interval", f"{interval!r} is not a positive number.")
    if not 0.0 < float(max_cpu) <= 1.0:
        raise InvalidInputError("max_cpu_fraction", f"{max_cpu!r} is not in (0, 1].")
    if layout not in ("panels", "overlay"):
        raise InvalidInputError("layout", f"{layout!r} is not 'panels' or 'overlay'.")
    for key, goal in (goals or {}).items():
        if str(goal).lower() not in ("min", "max"):
            raise InvalidInputError("goals", f"goal for {key!r} must be 'min' or 'max'.")


def _merged(series: list[Point], update: Update) -> list[Point]:
    if update.replace:
        return list(update.points)
    if series and update.points and update.points[0] < series[-1]:
        return sorted(series + update.points)
    series.extend(update.points)
    return series


def _columns(points: list[Point]) -> tuple[list[float], list[float], list[float]]:
    return [p[0] for p in points], [p[2] for p in points], [p[1] for p in points]


def _message(exc: BaseException) -> str:
    text = getattr(exc, "message", None) or str(exc) or type(exc).__name__
    hint = getattr(exc, "hint", None)
    return f"{text} {hint}" if hint else text
