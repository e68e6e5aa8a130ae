"""What the live metric chart costs a training loop: the browser-drawn chart beside the
previous PNG one and plain MLflow, in one process and one SQLite store.

A loop of STEPS steps does WORK milliseconds of CPU work per step and logs 3 metrics. The
work is pure Python by default (the worst case: it holds the interpreter lock that the
chart's thread needs too) or NumPy (``--work numpy``, which releases it, like most real
training steps). Variants, each in its own run, interleaved over REPEATS rounds:

  (a) plain MLflow        MlflowClient.log_batch, one synchronous call per step (3 metrics);
                          in the first MLFLOW_ROUNDS rounds only (default 1: it is the slow
                          one, and 10,000 synchronous calls average out most noise)
  (b) matih               ActiveRun.log_metric, no chart
  (c) matih + live chart  the same, followed by LiveMetricsPlot (defaults): its thread
                          streams the new points to the browser chart every 0.1 s
  (d) matih + PNG chart   the same, followed by `PngLivePlot` below: the previous
                          implementation (a matplotlib PNG redrawn in a kernel thread, at
                          most 4 per second, within 5 % of wall time), kept as the baseline

Printed as one JSON line: seconds per loop (median over rounds, including run end) and
their ratios to (a); for each chart the kernel CPU share (CPU seconds of the chart's
thread / wall seconds of the loop), updates per second reaching the widget (messages sent;
for the PNG chart, redraws) and what was sent (points, or PNG bytes); each round's figures.
The targets of the issue are printed beside the figures, not asserted: kernel CPU share
<= 1 %, >= 5 updates per second.

Without a kernel the widgets' comms are no-ops: what ipykernel spends putting a message on
its socket is not counted, for either chart. The final PNG each chart draws once the run
ended is timed apart (``finish_seconds``), outside the loop's clock.

Usage: python benchmarks/bench_live_plot.py [--steps 10000] [--work-ms 2]
       [--work python|numpy] [--repeats 3] [--mlflow-rounds 1] [--store DIR]
(the defaults take several minutes on two busy cores)
"""

from __future__ import annotations

import argparse
import bisect
import io
import json
import math
import os
import statistics
import sys
import tempfile
import threading
import time
from collections import deque
from pathlib import Path
from typing import Any

METRICS = ("loss", "accuracy", "lr")
TARGET_CPU_SHARE_PCT = 1.0
TARGET_UPDATES_PER_S = 5.0


def _calibrate(work_ms: float, busy=None) -> int:
    """Iterations of the busy loop that take about ``work_ms`` milliseconds of CPU (CPU
    time, so a busy machine does not shrink the work)."""
    busy = busy or _busy
    busy(1)  # imports and allocations outside the measurement
    n = 10_000 if busy is _busy else 10
    while True:
        t0 = time.thread_time()
        busy(n)
        took = time.thread_time() - t0
        if took > 0.05:
            return max(1, int(n * work_ms / 1000 / took))
        n *= 2


def _busy(n: int) -> float:
    acc = 0.0
    for i in range(n):
        acc += (i % 7) * 0.5
    return acc


_MATRIX: list = []


def _numpy_busy(n: int) -> float:
    """Work in NumPy (releases the interpreter lock, like most real training steps)."""
    import numpy as np

    if not _MATRIX:
        _MATRIX.append(np.random.default_rng(0).random((96, 96)))
    m = _MATRIX[0]
    for _ in range(n):
        m = (m @ _MATRIX[0]) / 96.0
    return float(m[0, 0])


def _values(step: int) -> dict[str, float]:
    return {"loss": 1.0 / (step + 1), "accuracy": step / (step + 10), "lr": 0.1 * 0.999**step}


# -- the previous implementation, kept as the baseline ------------------------------------


class PngLivePlot:
    """The previous `LiveMetricsPlot` (before the chart moved to the browser), kept here as
    the baseline: a kernel thread takes the points of a run of this process from its writer
    and redraws the whole figure as a PNG with matplotlib (Agg canvas, no pyplot), at most
    once per ``interval`` and within ``max_cpu_fraction`` of wall time (CPU time of its
    thread). Reduced to what runs with the defaults (x = step, no smoothing, linear axes)
    and without its ipywidgets controls; the drawing, the thinning of long curves and the
    thread's budget are as they were. Each PNG would have gone to an ``ipywidgets.Image``.
    """

    MAX_DRAWN = 1500  # points drawn per curve at most; longer histories are thinned

    def __init__(
        self,
        run: Any,
        *,
        interval: float = 0.25,
        max_cpu_fraction: float = 0.05,
        width: float = 7.0,
        panel_height: float = 2.4,
        dpi: int = 72,
    ) -> None:
        self.run = run
        self.interval = interval
        self.max_cpu_fraction = max_cpu_fraction
        self._geometry = (width, panel_height, dpi)
        self.history: dict[str, list[tuple[int, int, float]]] = {}  # key -> (step, ts, value)
        self.redraws = 0
        self.busy_seconds = 0.0
        self.png = b""
        self.png_bytes = 0
        self._dirty = True
        self._fig: Any = None
        self._fig_keys: list[str] | None = None
        self._panels: dict[str, tuple[Any, Any, Any]] = {}
        self._inbox: deque[tuple[str, float, int, int]] = deque()
        self._listener = self._inbox.extend
        run.add_listener(self._listener)
        self._stop = threading.Event()
        # First frame on the caller's thread: matplotlib's import and font cache load here.
        self._render()
        self._thread = threading.Thread(target=self._loop, name="png-live-plot", daemon=True)
        self._thread.start()

    def finish(self) -> None:
        """Stop, take the last points and draw the final figure."""
        self._stop.set()
        self._thread.join(30)
        self.run.remove_listener(self._listener)
        self._drain()
        self._render()

    def _loop(self) -> None:
        last_draw = 0.0
        cost = 0.0  # smoothed CPU seconds per iteration
        while not self._stop.is_set():
            began = time.perf_counter()
            cpu = time.thread_time()
            changed = self._drain()
            if (changed or self._dirty) and began - last_draw >= self.interval:
                self._render()
                last_draw = time.perf_counter()
            spent = time.thread_time() - cpu
            self.busy_seconds += spent
            # Rise at once on an expensive iteration, decay slowly.
            cost = spent if spent > cost else 0.8 * cost + 0.2 * spent
            if self.run.ended:
                break
            # Sleep so that draining + drawing stays within the CPU budget.
            pause = min(max(self.interval - spent, cost / self.max_cpu_fraction - spent, 0.02), 5.0)
            self._stop.wait(pause)

    def _drain(self) -> bool:
        changed = False
        while self._inbox:
            key, value, ts, step = self._inbox.popleft()
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

    def _layout(self, keys: list[str]) -> None:
        """(Re)build the figure when the set of panels changes; otherwise it is reused."""
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
        from matplotlib.ticker import MaxNLocator

        width, panel_h, dpi = self._geometry
        fig = Figure(figsize=(width, panel_h * max(1, len(keys))), dpi=dpi)
        FigureCanvasAgg(fig)
        self._panels = {}
        if not keys:
            fig.text(0.5, 0.5, "waiting for metrics…", ha="center", va="center", color="#555")
        else:
            axes = fig.subplots(len(keys), 1, squeeze=False)[:, 0]
            for ax, key in zip(axes, keys, strict=True):
                (raw,) = ax.plot([], [], color="#1f77b4", linewidth=1.4)
                (best,) = ax.plot([], [], marker="o", color="#d62728", markersize=4, linestyle="")
                ax.grid(True, alpha=0.3)
                ax.tick_params(labelsize=8)
                ax.xaxis.set_major_locator(MaxNLocator(6))
                ax.yaxis.set_major_locator(MaxNLocator(5))
                self._panels[key] = (ax, raw, best)
            inch = panel_h * len(keys)
            fig.subplots_adjust(
                left=0.1, right=0.97, top=1 - 0.3 / inch, bottom=0.45 / inch, hspace=0.55
            )
        self._fig = fig
        self._fig_keys = list(keys)

    def _render(self) -> None:
        from matih_jupyter.widgets._common import best_index, fmt, goal_for

        self._dirty = False
        keys = sorted(k for k, s in self.history.items() if s)
        if self._fig_keys != keys:
            self._layout(keys)
        last_ax = None
        for key in keys:
            ax, raw, best = self._panels[key]
            full = self.history[key]
            series = full
            if len(series) > self.MAX_DRAWN:
                stride = math.ceil(len(series) / self.MAX_DRAWN)
                series = series[::stride] + ([series[-1]] if (len(series) - 1) % stride else [])
            raw.set_data([st for st, _, _ in series], [v for _, _, v in series])
            values = [v for _, _, v in full]
            goal = goal_for(key)
            i = best_index(values, goal)
            if i is not None:
                best.set_data([full[i][0]], [full[i][2]])
            else:
                best.set_data([], [])
            ax.set_yscale("linear")
            ax.relim()
            ax.autoscale_view()
            best_text = fmt(values[i]) if i is not None else "n/a"
            title = f"{key}   latest {fmt(values[-1])}   best {best_text} ({goal})"
            ax.set_title(title.replace("$", r"\$"), fontsize=9, loc="left")
            ax.set_xlabel("")
            last_ax = ax
        if last_ax is not None:
            last_ax.set_xlabel("step", fontsize=8)
        buf = io.BytesIO()
        self._fig.canvas.print_png(buf)
        self.png = buf.getvalue()
        self.png_bytes += len(self.png)
        self.redraws += 1


# -- the loops ------------------------------------------------------------------------------


def run_matih(tracker, steps: int, spin: int, chart: str | None, busy=_busy) -> dict[str, Any]:
    """One loop logging through an ActiveRun; ``chart``: None, "browser" or "png"."""
    from matih_jupyter import RunConfig
    from matih_jupyter.widgets import LiveMetricsPlot

    run = tracker.start_run("bench-live", RunConfig(run_name=chart or "no-chart"))
    plot: Any = None  # built before the clock
    if chart == "browser":
        plot = LiveMetricsPlot(run, tracker=tracker)
    elif chart == "png":
        plot = PngLivePlot(run)
    t0 = time.perf_counter()
    for step in range(steps):
        busy(spin)
        for key, value in _values(step).items():
            run.log_metric(key, value, step=step)
    run.end()
    took = time.perf_counter() - t0
    out: dict[str, Any] = {"seconds": took}
    if plot is None:
        return out
    f0 = time.perf_counter()
    plot.finish()
    out["finish_seconds"] = time.perf_counter() - f0
    out["cpu_seconds"] = plot.busy_seconds
    if chart == "browser":
        out.update(
            messages=plot.chart.messages_sent,
            points_sent=plot.chart.points_sent,
            bytes_sent=24 * plot.chart.points_sent,  # 3 float64 per point
        )
    else:
        out.update(messages=plot.redraws, png_bytes_sent=plot.png_bytes)
    return out


def run_mlflow(tracker, steps: int, spin: int, busy=_busy) -> dict[str, float]:
    from mlflow.entities import Metric

    client = tracker.client
    exp_id = tracker.get_or_create_experiment("bench-mlflow")
    run_id = client.create_run(exp_id).info.run_id
    t0 = time.perf_counter()
    for step in range(steps):
        busy(spin)
        ts = int(time.time() * 1000)
        metrics = [Metric(k, v, ts, step) for k, v in _values(step).items()]
        client.log_batch(run_id, metrics=metrics, synchronous=True)
    client.set_terminated(run_id)
    return {"seconds": time.perf_counter() - t0}


def _chart_figures(rows: list[dict[str, Any]], png: bool) -> dict[str, Any]:
    """Per chart: medians over rounds, with the targets beside them."""
    share = statistics.median(100 * r["cpu_seconds"] / r["seconds"] for r in rows)
    rate = statistics.median(r["messages"] / r["seconds"] for r in rows)
    out: dict[str, Any] = {
        "kernel_cpu_share_pct": round(share, 3),
        "kernel_cpu_share_target_pct": f"<= {TARGET_CPU_SHARE_PCT:g}",
        ("redraws_per_s" if png else "updates_per_s"): round(rate, 2),
        "updates_per_s_target": f">= {TARGET_UPDATES_PER_S:g}",
        "meets_targets": share <= TARGET_CPU_SHARE_PCT and rate >= TARGET_UPDATES_PER_S,
        "cpu_seconds": round(statistics.median(r["cpu_seconds"] for r in rows), 3),
        ("redraws" if png else "messages_sent"): statistics.median(r["messages"] for r in rows),
        "finish_seconds": round(statistics.median(r["finish_seconds"] for r in rows), 3),
    }
    if png:
        out["png_bytes_sent"] = int(statistics.median(r["png_bytes_sent"] for r in rows))
    else:
        out["points_sent"] = int(statistics.median(r["points_sent"] for r in rows))
        out["bytes_sent"] = int(statistics.median(r["bytes_sent"] for r in rows))
    return out


def _round_figures(row: dict[str, Any]) -> dict[str, Any]:
    """One round as printed: its seconds and, with a chart, its messages and CPU share
    (a median can hide a round where the chart stalled)."""
    out = {"seconds": round(row["seconds"], 3)}
    if "messages" in row:
        out["messages"] = row["messages"]
        out["cpu_share_pct"] = round(100 * row["cpu_seconds"] / row["seconds"], 3)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=10_000)
    parser.add_argument("--work-ms", type=float, default=2.0, help="CPU work per step")
    parser.add_argument(
        "--work",
        choices=["python", "numpy"],
        default="python",
        help="python holds the interpreter lock (worst case); numpy releases it",
    )
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--mlflow-rounds", type=int, default=1, help="rounds with plain MLflow")
    parser.add_argument("--store", type=Path, default=None)
    args = parser.parse_args(argv)

    from matih_jupyter import ExperimentTracker

    store = args.store or Path(tempfile.mkdtemp(prefix="bench-live-"))
    store.mkdir(parents=True, exist_ok=True)
    tracker = ExperimentTracker(
        f"sqlite:///{store / 'mlflow.db'}", (store / "artifacts").as_uri(), tenant_id="bench"
    )
    tracker.get_or_create_experiment("bench-live")  # migrations outside the clock
    busy = _busy if args.work == "python" else _numpy_busy
    spin = _calibrate(args.work_ms, busy)
    # Warm-up: imports, fonts, first figures, MLflow's entities.
    run_matih(tracker, 20, spin, "browser", busy)
    run_matih(tracker, 20, spin, "png", busy)
    run_mlflow(tracker, 20, spin, busy)

    rows: dict[str, list[dict[str, Any]]] = {"mlflow": [], "matih": [], "browser": [], "png": []}
    load_before = os.getloadavg()[0]
    for i in range(args.repeats):  # interleaved, so drift in machine load hits all alike
        if i < max(1, args.mlflow_rounds):
            rows["mlflow"].append(run_mlflow(tracker, args.steps, spin, busy))
        rows["matih"].append(run_matih(tracker, args.steps, spin, None, busy))
        rows["browser"].append(run_matih(tracker, args.steps, spin, "browser", busy))
        rows["png"].append(run_matih(tracker, args.steps, spin, "png", busy))

    sec = {k: statistics.median(r["seconds"] for r in v) for k, v in rows.items()}
    names = {
        "mlflow": "plain_mlflow",
        "matih": "matih",
        "browser": "matih_live_chart",
        "png": "matih_png_chart_previous",
    }
    result = {
        "benchmark": "live_plot",
        "steps": args.steps,
        "metrics_per_step": len(METRICS),
        "work_ms_per_step": args.work_ms,
        "work": args.work,
        "repeats": args.repeats,
        "mlflow_rounds": len(rows["mlflow"]),
        "cpus": os.cpu_count(),
        "load_average_1m": [round(load_before, 2), round(os.getloadavg()[0], 2)],
        "seconds": {names[k]: round(v, 3) for k, v in sec.items()}
        | {"work_only": args.steps * args.work_ms / 1000},
        "ratio_to_plain_mlflow": {names[k]: round(v / sec["mlflow"], 3) for k, v in sec.items()},
        "chart_overhead_vs_matih_pct": {
            names[k]: round(100 * (sec[k] - sec["matih"]) / sec["matih"], 2)
            for k in ("browser", "png")
        },
        "live_chart": _chart_figures(rows["browser"], png=False),
        "png_chart_previous": _chart_figures(rows["png"], png=True),
        "rounds": {names[k]: [_round_figures(r) for r in v] for k, v in rows.items()},
    }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
