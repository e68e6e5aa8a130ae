"""`LiveMetricsPlot`: metric curves of a run that update while it logs.

The plot never touches the training loop. For a run open in this process it listens to
the run's writer (`ActiveRun.add_listener`: points arrive as MLflow stores them, on the
writer's thread), so it reads nothing back from MLflow while the run trains; for a run id
it polls the tracker (the run's status, its latest metrics and, when they changed, the
metric histories). Every read is a public, tenant-scoped tracker call, which binds the
tenant's MLflow workspace for its own duration only. A background thread redraws a PNG
into an `ipywidgets.Image`. The thread limits itself twice: at most one redraw per
``interval`` seconds, and at most ``max_cpu_fraction`` of wall time spent polling and
drawing (Python threads share one interpreter lock, so time the plot spends is time a
Python training loop may wait). When the run ends, the output is replaced by the final
figure as a plain PNG, so a saved notebook shows it on GitHub or nbviewer.
"""

from __future__ import annotations

import base64
import bisect
import datetime as dt
import math
import threading
import time
from collections import deque
from typing import Any

import ipywidgets as w

from ..core import END_STATUSES
from ..core.errors import InvalidInputError
from ._common import (
    ErrorArea,
    best_index,
    ema,
    esc,
    figure_png,
    fmt,
    goal_for,
    new_figure,
    plain,
)

# Histories are re-read at least this often even when latest values look unchanged
# (a metric logged with the same value at a new step changes nothing in `get_run`).
_FORCE_REFRESH_S = 2.0
# Points drawn per curve at most; longer histories are thinned for drawing only.
_MAX_DRAWN = 1500


class LiveMetricsPlot:
    """Live curves of a run's metrics, one panel per metric, redrawn off the training thread.

    Args:
        run_or_run_id: An `ActiveRun` or the id of a run of the tenant.
        metrics: Metric keys to plot (default: every metric the run logs, as they appear).
        tracker: The `ExperimentTracker` (default: the run's own, else the process tracker).
        tenant_id: Tenant owning the run (default: the run's, else the tracker's default).
        interval: Minimum seconds between redraws (default 0.25: at most 4 per second).
        x: ``"step"`` or ``"time"`` (seconds since the run started).
        smoothing: Exponential smoothing weight in [0, 1); raw points stay drawn faintly.
        log_scale: Logarithmic y axes (symmetric-log when a metric has values <= 0).
        goals: ``{"metric": "min" | "max"}`` to choose the best value (default: names with
            loss/error/... are minimised, others maximised).
        max_cpu_fraction: Upper bound on the share of wall time spent polling and drawing.
        width, panel_height, dpi: Figure geometry.
        start: Start polling immediately.

    Example:
        >>> with tracker.start_run("exp") as run:          # doctest: +SKIP
        ...     plot = LiveMetricsPlot(run).display()
        ...     for step in range(100):
        ...         run.log_metric("loss", 1 / (step + 1), step=step)
    """

    def __init__(
        self,
        run_or_run_id: Any,
        metrics: list[str] | None = None,
        *,
        tracker: Any = None,
        tenant_id: str | None = None,
        interval: float = 0.25,
        x: str = "step",
        smoothing: float = 0.0,
        log_scale: bool = False,
        goals: dict[str, str] | None = None,
        max_cpu_fraction: float = 0.05,
        width: float = 7.0,
        panel_height: float = 2.4,
        dpi: int = 72,
        start: bool = True,
    ) -> None:
        if isinstance(run_or_run_id, str):
            self._active = None
            self.run_id = run_or_run_id
        elif hasattr(run_or_run_id, "run_id") and hasattr(run_or_run_id, "ended"):
            self._active = run_or_run_id
            self.run_id = run_or_run_id.run_id
            tracker = tracker or getattr(run_or_run_id, "tracker", None)
            tenant_id = tenant_id or run_or_run_id.tenant_id
        else:
            raise InvalidInputError(
                "run", f"{run_or_run_id!r} is neither an ActiveRun nor a run id."
            )
        if tracker is None:
            from ..core import get_experiment_tracker

            tracker = get_experiment_tracker()
        if x not in ("step", "time"):
            raise InvalidInputError("x", f"{x!r} is not 'step' or 'time'.")
        if not 0.0 <= float(smoothing) < 1.0:
            raise InvalidInputError("smoothing", f"{smoothing!r} is not in [0, 1).")
        if not float(interval) > 0:
            raise InvalidInputError("interval", f"{interval!r} is not a positive number.")
        if not 0.0 < float(max_cpu_fraction) <= 1.0:
            raise InvalidInputError("max_cpu_fraction", f"{max_cpu_fraction!r} is not in (0, 1].")
        for key, goal in (goals or {}).items():
            if str(goal).lower() not in ("min", "max"):
                raise InvalidInputError("goals", f"goal for {key!r} must be 'min' or 'max'.")
        self.tracker = tracker
        # Validated without binding anything on the caller's thread.
        self.tenant_id = tracker.resolve_tenant(tenant_id)
        # Ownership check once, up front: a foreign or unknown id fails here like anywhere.
        info = tracker.get_run(self.run_id, self.tenant_id, include_artifacts=False)
        self.run_name = info.name or self.run_id
        self._start_ms: int | None = None
        self.metrics = list(metrics) if metrics else None
        self.interval = float(interval)
        self.max_cpu_fraction = float(max_cpu_fraction)
        self.goals = dict(goals or {})
        self._geometry = (float(width), float(panel_height), int(dpi))

        self.status = "RUNNING"
        self.history: dict[str, list[tuple[int, int, float]]] = {}  # key -> (step, ts, value)
        self.redraws = 0
        self.polls = 0
        self.mlflow_polls = 0  # polls that read MLflow (not the in-process run's listener)
        self.busy_seconds = 0.0  # CPU seconds the poller spent (polling + drawing)
        self.max_iteration_seconds = 0.0
        self.png: bytes = b""
        self.final_png: bytes | None = None
        self._lock = threading.RLock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._dirty = True
        self._fingerprint: Any = None
        self._last_full = 0.0
        self._handle: Any = None
        self._thread: threading.Thread | None = None
        self._finished = False
        # Points of an in-process run arrive here from its writer; the first poll reads
        # what was stored before, and duplicates at that seam are dropped on merge.
        self._inbox: deque[tuple[str, float, int, int]] | None = None
        if self._active is not None and hasattr(self._active, "add_listener"):
            self._inbox = deque()
            self._listener = self._inbox.extend
            self._active.add_listener(self._listener)

        self.header = w.HTML()
        self.x_axis = w.ToggleButtons(
            options=[("step", "step"), ("time (s)", "time")], value=x, description="x axis"
        )
        self.x_axis.style.button_width = "70px"
        self.smoothing = w.FloatSlider(
            value=float(smoothing),
            min=0.0,
            max=0.99,
            step=0.01,
            description="smoothing",
            continuous_update=False,
        )
        self.log_scale = w.Checkbox(value=bool(log_scale), description="log scale", indent=False)
        # Shown at the figure's own pixel size: scaled up, a low-dpi PNG looks blurred.
        px = f"{int(float(width) * int(dpi))}px"
        self.image = w.Image(format="png", layout=w.Layout(width=px, max_width="100%"))
        self.stats = w.HTML()
        self.errors = ErrorArea()
        for control in (self.x_axis, self.smoothing, self.log_scale):
            control.observe(self._on_option, names="value")
        self.widget = w.VBox(
            [
                self.header,
                w.HBox([self.x_axis, self.smoothing, self.log_scale]),
                self.image,
                self.stats,
                self.errors.widget,
            ]
        )
        self.widget.add_class("matih-live-plot")
        # First frame on the caller's thread: matplotlib's import and font cache load here,
        # before training starts, not on the poller while the loop runs.
        self._render()
        if start:
            self.start()

    # -- public --------------------------------------------------------------------------

    def start(self) -> LiveMetricsPlot:
        """Start the background poller (idempotent)."""
        if self._thread is None and not self._finished:
            self._thread = threading.Thread(
                target=self._loop, name=f"matih-live-plot-{self.run_id[:8]}", daemon=True
            )
            self._thread.start()
        return self

    def display(self) -> LiveMetricsPlot:
        """Show the widget in the current cell's output; returns self."""
        from IPython.display import display

        bundle = self.static_bundle() if self._finished else self._live_bundle()
        self._handle = display(bundle, raw=True, display_id=True)
        return self

    def _ipython_display_(self) -> None:
        self.display()

    def refresh(self) -> LiveMetricsPlot:
        """Poll and redraw now, on the caller's thread."""
        with self._lock:
            self._poll(force=True)
            self._render()
        return self

    def finish(self, timeout: float = 30.0) -> LiveMetricsPlot:
        """Stop polling, draw the final figure and leave it as a static PNG in the output."""
        self._stop.set()
        self._wake.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
        self._finalize()
        return self

    def close(self) -> None:
        """Finish (leaving the static image) and close the widget views."""
        self.finish()
        self.widget.close()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    # -- background loop -----------------------------------------------------------------

    def _loop(self) -> None:
        last_draw = 0.0
        cost = 0.0  # smoothed CPU seconds per iteration
        while not self._stop.is_set():
            began = time.perf_counter()
            cpu = time.thread_time()
            try:
                with self._lock:
                    changed = self._poll()
                    if (changed or self._dirty) and began - last_draw >= self.interval:
                        self._render()
                        last_draw = time.perf_counter()
                if self.errors.last is not None:
                    self.errors.clear()
            except Exception as exc:  # shown in the widget; polling goes on
                self.errors.show(exc)
            spent = time.thread_time() - cpu
            self.busy_seconds += spent
            self.max_iteration_seconds = max(self.max_iteration_seconds, spent)
            # Rise at once on an expensive iteration, decay slowly: the budget holds even
            # when a redraw costs more than the ones before it.
            cost = spent if spent > cost else 0.8 * cost + 0.2 * spent
            if self._ended():
                break
            # Sleep so that polling + drawing stays within the CPU budget; CPU time of this
            # thread (not wall time, which grows while waiting for the interpreter lock).
            pause = min(max(self.interval - spent, cost / self.max_cpu_fraction - spent, 0.02), 5.0)
            self._wake.wait(pause)
            self._wake.clear()
        if not self._stop.is_set() or self._ended():
            self._finalize()

    def _ended(self) -> bool:
        if self._active is not None and self._active.ended:
            return True
        return self.status in END_STATUSES

    def _poll(self, force: bool = False) -> bool:
        """Take new points (from the run's writer, or from MLflow); True on a change."""
        if self._inbox is not None and not force and self._fingerprint is not None:
            return self._drain_inbox()
        return self._poll_mlflow(force)

    def _drain_inbox(self) -> bool:
        assert self._inbox is not None
        self.polls += 1
        changed = False
        while self._inbox:
            key, value, ts, step = self._inbox.popleft()
            if self.metrics and key not in self.metrics:
                continue
            series = self.history.setdefault(key, [])
            point = (int(step), int(ts), float(value))
            if not series or point > series[-1]:
                series.append(point)
            elif point not in series:
                bisect.insort(series, point)
            else:
                continue
            changed = True
        return changed

    def _stop_listening(self) -> None:
        if self._inbox is not None and self._active is not None:
            self._active.remove_listener(self._listener)

    def _poll_mlflow(self, force: bool = False) -> bool:
        """Read new points from MLflow through the tracker; True when something changed.

        A metric's whole history is read again when the run's latest values changed (or
        every `_FORCE_REFRESH_S`): the tracker has no read of the points after a step.
        """
        self.polls += 1
        self.mlflow_polls += 1
        tracker, tenant = self.tracker, self.tenant_id
        run = tracker.get_run(self.run_id, tenant, include_artifacts=False)
        self.status = run.status.upper()
        if self._start_ms is None:
            self._start_ms = _epoch_ms(run.start_time)
        latest = dict(run.metrics)
        keys = [k for k in (self.metrics or sorted(latest)) if k in latest]
        fingerprint = (tuple(sorted(latest.items())), self.status)
        now = time.monotonic()
        if (
            not force
            and fingerprint == self._fingerprint
            and now - self._last_full < _FORCE_REFRESH_S
            and self.status not in END_STATUSES
        ):
            return False
        changed = False
        for key in keys:
            points = tracker.get_metric_history(self.run_id, key, tenant)
            series = sorted((p.step, p.timestamp, p.value) for p in points)
            if series != self.history.get(key):
                self.history[key] = series
                changed = True
        self._fingerprint = fingerprint
        self._last_full = now
        return changed or force

    # -- drawing ---------------------------------------------------------------------------

    def _on_option(self, change: dict) -> None:
        self._dirty = True
        if self.running:
            self._wake.set()
        else:
            with self._lock:
                self._render()
                if self.final_png is not None:
                    self.final_png = self.png

    def _render_header(self) -> None:
        colour = {"RUNNING": "#1565c0", "FINISHED": "#2e7d32"}.get(self.status, "#b00020")
        self.header.value = (
            f"<b>{esc(self.run_name)}</b> <code>{esc(self.run_id)}</code> "
            f'<span style="color:{colour}">{esc(self.status.lower())}</span>'
        )

    def summary(self) -> dict[str, dict[str, float]]:
        """Per metric: latest value, best value and the step of the best value."""
        out = {}
        for key, series in self.history.items():
            if not series:
                continue
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

    def _layout(self, keys: list[str]) -> None:
        """(Re)build the figure when the set of panels changes; otherwise it is reused,
        which halves the cost of a redraw."""
        from matplotlib.ticker import MaxNLocator

        width, panel_h, dpi = self._geometry
        fig = new_figure(width, panel_h * max(1, len(keys)), dpi)
        self._panels = {}
        if not keys:
            fig.text(0.5, 0.5, "waiting for metrics…", ha="center", va="center", color="#555")
        else:
            axes = fig.subplots(len(keys), 1, squeeze=False)[:, 0]
            for ax, key in zip(axes, keys, strict=True):
                (raw,) = ax.plot([], [], color="#1f77b4", linewidth=1.4)
                (smooth,) = ax.plot([], [], color="#1f77b4", linewidth=1.6)
                (best,) = ax.plot([], [], marker="o", color="#d62728", markersize=4, linestyle="")
                ax.grid(True, alpha=0.3)
                ax.tick_params(labelsize=8)
                # Fewer ticks: tick labels are most of the drawing time.
                ax.xaxis.set_major_locator(MaxNLocator(6))
                ax.yaxis.set_major_locator(MaxNLocator(5))
                self._panels[key] = (ax, raw, smooth, best)
            inch = panel_h * len(keys)
            fig.subplots_adjust(
                left=0.1, right=0.97, top=1 - 0.3 / inch, bottom=0.45 / inch, hspace=0.55
            )
        self._fig = fig
        self._fig_keys = list(keys)

    def _render(self) -> None:
        self._dirty = False
        self._render_header()
        keys = [k for k in (self.metrics or sorted(self.history)) if self.history.get(k)]
        if getattr(self, "_fig_keys", None) != keys:
            self._layout(keys)
        alpha = float(self.smoothing.value)
        by_time = self.x_axis.value == "time"
        summary = self.summary()
        last_ax = None
        for key in keys:
            ax, raw, smooth, best = self._panels[key]
            series = self.history[key]
            if len(series) > _MAX_DRAWN:
                # Thin long histories for drawing; the best point is drawn on its own.
                stride = math.ceil(len(series) / _MAX_DRAWN)
                series = series[::stride] + ([series[-1]] if (len(series) - 1) % stride else [])
            if by_time:
                t0 = self._start_ms or series[0][1]
                xs = [(ts - t0) / 1000.0 for _, ts, _ in series]
            else:
                xs = [st for st, _, _ in series]
            ys = [v for _, _, v in series]
            raw.set_data(xs, ys)
            raw.set_alpha(0.3 if alpha > 0 else 1.0)
            if alpha > 0:
                smooth.set_data(xs, ema(ys, alpha))
            else:
                smooth.set_data([], [])
            s = summary[key]
            best_point = next((p for p in self.history[key] if p[0] == s["best_step"]), None)
            if best_point is not None:
                bx = (best_point[1] - (self._start_ms or 0)) / 1000.0 if by_time else best_point[0]
                best.set_data([bx], [best_point[2]])
            else:
                best.set_data([], [])
            finite = [v for v in ys if math.isfinite(v)]
            if self.log_scale.value:
                ax.set_yscale("log" if finite and min(finite) > 0 else "symlog")
            else:
                ax.set_yscale("linear")
            ax.relim()
            ax.autoscale_view()
            ax.set_title(
                plain(f"{key}   latest {fmt(s['latest'])}   best {fmt(s['best'])} ({s['goal']})"),
                fontsize=9,
                loc="left",
            )
            ax.set_xlabel("")
            last_ax = ax
        if last_ax is not None:
            last_ax.set_xlabel("seconds since start" if by_time else "step", fontsize=8)
        self.png = figure_png(self._fig)
        self.image.value = self.png
        self.stats.value = self._stats_html(summary)
        self.redraws += 1

    def _stats_html(self, summary: dict[str, dict[str, Any]]) -> str:
        if not summary:
            return ""
        rows = "".join(
            f"<tr><td>{esc(k)}</td><td>{esc(fmt(s['latest']))}</td><td>{esc(s['latest_step'])}</td>"
            f"<td><b>{esc(fmt(s['best']))}</b></td><td>{esc(s['best_step'])}</td>"
            f"<td>{esc(s['goal'])}</td></tr>"
            for k, s in summary.items()
        )
        return (
            '<table class="matih-live-stats" style="font-size:90%"><tr><th>metric</th>'
            "<th>latest</th><th>step</th><th>best</th><th>step</th><th>goal</th></tr>"
            f"{rows}</table>"
        )

    # -- output bundles ----------------------------------------------------------------------

    def _live_bundle(self) -> dict[str, Any]:
        bundle = dict(self.widget._repr_mimebundle_() or {})
        bundle["text/plain"] = f"LiveMetricsPlot({self.run_name!r}, {self.status.lower()})"
        return bundle

    def static_bundle(self) -> dict[str, Any]:
        """The final figure as a display bundle: PNG plus a text summary."""
        png = self.final_png or self.png
        lines = [f"{self.run_name} ({self.status.lower()})"] + [
            f"{k}: latest {fmt(s['latest'])} best {fmt(s['best'])}"
            for k, s in self.summary().items()
        ]
        return {"image/png": base64.b64encode(png).decode("ascii"), "text/plain": "\n".join(lines)}

    def _finalize(self) -> None:
        with self._lock:
            if self._finished:
                return
            self._stop_listening()
            try:
                self._poll(force=True)
                if self._active is not None and self._active.ended and self.status == "RUNNING":
                    # ActiveRun.end marks itself ended a moment before MLflow's status
                    # changes; everything logged is written by then.
                    self.status = str(self._active.status)
                self._render()
            except Exception as exc:  # shown in the widget
                self.errors.show(exc)
                if not self.png:
                    return
            self.final_png = self.png
            self._finished = True
            if self._handle is not None:
                # Replaces the live widget in the output, wherever the kernel is now
                # executing: display updates are routed by display id, not by cell.
                self._handle.update(self.static_bundle(), raw=True)


def _epoch_ms(iso: str | None) -> int:
    """An ISO 8601 time (as the tracker reports a run's start) in epoch milliseconds."""
    if not iso:
        return 0
    return round(dt.datetime.fromisoformat(iso).timestamp() * 1000)
