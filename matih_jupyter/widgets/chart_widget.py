"""`MetricChart`: metric curves drawn in the browser, fed by the kernel.

The front end is an anywidget ES module built into this package (``static/``), the same
chart code as the JupyterLab sidebar's. The kernel never draws: it sends only the points
that are new since its last message, as float64 buffers (steps, values, wall times per
curve). A view that opens later (a re-rendered output, a second view) asks with ``ready``
and gets every curve again, downsampled to its width; zooming asks for the zoomed range at
full detail. Synced state holds only display settings and status text, never credentials:
it is saved with the notebook.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import anywidget
import numpy as np
import traitlets as t

from ._common import finite_number
from .downsample import minmax_indices

_STATIC = Path(__file__).parent / "static"

#: One curve: (run id, run label, metric) and its points as (steps, values, wall ms).
CurveKey = tuple[str, str, str]


class _Curve:
    """Every point of one curve, kept for views that open later and for zooming."""

    def __init__(self) -> None:
        self.steps: list[float] = []
        self.values: list[float] = []
        self.times: list[float] = []

    def extend(self, steps: Sequence[float], values: Sequence[float], times: Sequence[float]):
        self.steps.extend(steps)
        self.values.extend(values)
        self.times.extend(times)

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return (
            np.asarray(self.steps, dtype=np.float64),
            np.asarray(self.values, dtype=np.float64),
            np.asarray(self.times, dtype=np.float64),
        )


class _Queued:
    def __init__(self, curve: _Curve, replace: bool) -> None:
        self.curve = curve
        self.replace = replace


class MetricChart(anywidget.AnyWidget):
    """A browser-drawn metric chart that the kernel streams points to.

    Use `append` from any thread; points are sent at most every ``batch_interval`` seconds
    by `flush` (call it, or let `LiveMetricsPlot`'s thread do it).
    """

    _esm = _STATIC / "chart_widget.js"
    _css = _STATIC / "chart_widget.css"

    view = t.Unicode("live", help="Which chart the front end draws.").tag(sync=True)
    metrics = t.List(t.Unicode(), help="Metrics to show, in order (empty: all).").tag(sync=True)
    runs = t.List(t.Unicode(), help="Runs to show (empty: all).").tag(sync=True)
    step_label = t.Unicode("step", help="What a step counts ('trial' in a sweep).").tag(sync=True)
    x = t.Enum(["step", "relative", "time"], "step", help="x axis: step, seconds since "
               "the run began, or wall time.").tag(sync=True)  # fmt: skip
    smoothing = t.Float(0.0, min=0.0, max=0.99, help="Debiased EMA weight.").tag(sync=True)
    log_scale = t.Bool(False, help="Logarithmic y axes.").tag(sync=True)
    arrangement = t.Enum(["panels", "overlay"], "panels", help="One panel per metric, "
                         "or every metric in one.").tag(sync=True)  # fmt: skip
    goals = t.Dict(help="metric -> 'min' | 'max', for the best-so-far marker.").tag(sync=True)
    height = t.Int(200, help="Height of each panel in pixels.").tag(sync=True)
    status = t.Unicode("", help="Progress shown above the chart.").tag(sync=True)
    error = t.Unicode("", help="An error shown above the chart.").tag(sync=True)

    def __init__(self, *, max_view_points: int = 2000, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.max_view_points = int(max_view_points)
        self.curves: dict[CurveKey, _Curve] = {}
        self._pending: dict[CurveKey, _Queued] = {}
        self._lock = threading.Lock()
        self.messages_sent = 0
        self.points_sent = 0
        self.on_msg(self._on_front_end)

    # -- kernel side -----------------------------------------------------------------------

    def append(
        self,
        run: str,
        run_label: str,
        metric: str,
        steps: Sequence[float],
        values: Sequence[float],
        times: Sequence[float],
    ) -> None:
        """Queue new points of one curve (thread-safe; nothing is sent until `flush`)."""
        key = (run, run_label, metric)
        with self._lock:
            self.curves.setdefault(key, _Curve()).extend(steps, values, times)
            queued = self._pending.setdefault(key, _Queued(_Curve(), replace=False))
            queued.curve.extend(steps, values, times)

    def replace(
        self,
        run: str,
        run_label: str,
        metric: str,
        steps: Sequence[float],
        values: Sequence[float],
        times: Sequence[float],
    ) -> None:
        """Queue a curve's points anew (a point arrived in the middle of it)."""
        key = (run, run_label, metric)
        kept, queued = _Curve(), _Curve()
        kept.extend(steps, values, times)
        queued.extend(steps, values, times)
        with self._lock:
            # Two curves: points appended before the next flush extend each once.
            self.curves[key] = kept
            self._pending[key] = _Queued(queued, replace=True)

    def flush(self) -> int:
        """Send the points queued since the last flush, in one message; returns how many."""
        with self._lock:
            pending, self._pending = self._pending, {}
            columns = {k: (q.curve.arrays(), q.replace) for k, q in pending.items()}
        return self._send_points(columns) if columns else 0

    def point_count(self) -> int:
        return sum(len(c.steps) for c in self.curves.values())

    # -- front end requests ------------------------------------------------------------------

    def _on_front_end(self, _widget: Any, content: Any, _buffers: Any) -> None:
        if not isinstance(content, dict):
            return
        kind = content.get("type")
        width = _int(content.get("width"), 480)
        if kind == "ready":
            self._send_points(self._view_of(None, width))
        elif kind == "zoom":
            bounds = (finite_number(content.get("min")), finite_number(content.get("max")))
            if None not in bounds:
                self._send_points(self._view_of((bounds, str(content.get("x"))), width))

    def _view_of(
        self, zoom: Any, width: int
    ) -> dict[CurveKey, tuple[tuple[np.ndarray, ...], bool]]:
        """Every curve for a view ``width`` pixels wide: downsampled, or within a zoomed
        x range at up to the view's detail."""
        with self._lock:
            snapshot = {k: c.arrays() for k, c in self.curves.items()}
        buckets = max(50, min(width, self.max_view_points // 4))
        out = {}
        for key, (steps, values, times) in snapshot.items():
            keep = np.arange(len(steps))
            if zoom is not None:
                keep = _in_range(steps, times, *zoom)
            x = _x_of(steps[keep], times[keep], zoom)
            idx = keep[minmax_indices(x, values[keep], buckets)]
            out[key] = ((steps[idx], values[idx], times[idx]), True)
        return out

    def _send_points(self, curves: dict[CurveKey, tuple[tuple[np.ndarray, ...], bool]]) -> int:
        """One ``points`` message: per curve its header, and three float64 buffers."""
        series, buffers = [], []
        for (run, label, metric), (columns, replace) in curves.items():
            series.append({"run": run, "run_label": label, "metric": metric,
                           "n": len(columns[0]), "replace": replace})  # fmt: skip
            buffers.extend(np.ascontiguousarray(c, dtype="<f8").tobytes() for c in columns)
        self.send({"type": "points", "series": series}, buffers)
        self.messages_sent += 1
        count = sum(s["n"] for s in series)
        self.points_sent += count
        return count


def _x_of(steps: np.ndarray, times: np.ndarray, zoom: Any) -> np.ndarray:
    return times if zoom is not None and zoom[1] in ("time", "relative") else steps


def _in_range(steps: np.ndarray, times: np.ndarray, bounds: Any, x: str) -> np.ndarray:
    lo, hi = bounds
    if x == "step":
        return np.flatnonzero((steps >= lo) & (steps <= hi))
    if x == "relative":
        t0 = times.min() if len(times) else 0.0
        seconds = (times - t0) / 1000.0
        return np.flatnonzero((seconds >= lo) & (seconds <= hi))
    return np.flatnonzero((times / 1000.0 >= lo) & (times / 1000.0 <= hi))


def _int(value: Any, default: int) -> int:
    try:
        return max(1, int(value))
    except (TypeError, ValueError):
        return default
