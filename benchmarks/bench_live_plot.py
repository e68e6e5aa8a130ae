"""Overhead of `LiveMetricsPlot` on a training loop, beside plain MLflow, in one process.

A loop of STEPS steps does WORK milliseconds of CPU work per step and logs 3 metrics. The
work is pure Python by default (the worst case: it holds the interpreter lock that the
plot's thread needs too) or NumPy (``--work numpy``, which releases it, like most real
training steps).
Variants, each in its own run of one SQLite store, interleaved over REPEATS rounds:

  (a) matih              ActiveRun.log_metric, no plot
  (b) matih + live plot  the same with a LiveMetricsPlot polling and redrawing (defaults)
  (c) plain MLflow       MlflowClient.log_metric per point (synchronous), no plot, once

Wall time is what the plot costs a loop (its thread competes for the interpreter lock), so
the figure depends on how busy the machine is: the load average is printed with it.
Printed: seconds per loop (median over rounds, including run end), the plot's overhead
over (a) in percent (target <= 5 %), the ratio of (b) and (a) to (c), and what the plot
did (redraws, CPU seconds of its thread).

Usage: python benchmarks/bench_live_plot.py [--steps 2000] [--work-ms 2] [--work python|numpy]
       [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

METRICS = ("loss", "accuracy", "lr")


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


def run_matih(tracker, steps: int, spin: int, live: bool, busy=_busy) -> dict[str, float]:
    from matih_jupyter import RunConfig
    from matih_jupyter.widgets import LiveMetricsPlot

    run = tracker.start_run("bench-live", RunConfig(run_name="live" if live else "plain"))
    plot = LiveMetricsPlot(run, tracker=tracker) if live else None  # before the clock
    t0 = time.perf_counter()
    for step in range(steps):
        busy(spin)
        for key, value in _values(step).items():
            run.log_metric(key, value, step=step)
    run.end()
    took = time.perf_counter() - t0
    out = {"seconds": took}
    if plot is not None:
        plot.finish()
        out.update(
            redraws=plot.redraws,
            polls=plot.polls,
            plot_cpu_seconds=plot.busy_seconds,
            points_seen=sum(len(v) for v in plot.history.values()),
        )
    return out


def run_mlflow(tracker, steps: int, spin: int, busy=_busy) -> dict[str, float]:
    client = tracker.client
    exp_id = tracker.get_or_create_experiment("bench-mlflow")
    run_id = client.create_run(exp_id).info.run_id
    t0 = time.perf_counter()
    for step in range(steps):
        busy(spin)
        for key, value in _values(step).items():
            client.log_metric(run_id, key, value, step=step)
    client.set_terminated(run_id)
    return {"seconds": time.perf_counter() - t0}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--work-ms", type=float, default=2.0, help="pure-Python work per step")
    parser.add_argument(
        "--work",
        choices=["python", "numpy"],
        default="python",
        help="python holds the interpreter lock (worst case); numpy releases it",
    )
    parser.add_argument("--repeats", type=int, default=3)
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
    run_matih(tracker, 20, spin, live=True, busy=busy)  # warm-up: imports, fonts, figure

    plain, live = [], []
    load_before = os.getloadavg()[0]
    for _ in range(args.repeats):  # interleaved, so drift in machine load hits both alike
        plain.append(run_matih(tracker, args.steps, spin, live=False, busy=busy))
        live.append(run_matih(tracker, args.steps, spin, live=True, busy=busy))
    # Plain MLflow makes one synchronous call per point: once is enough to compare.
    mlflow_ = [run_mlflow(tracker, args.steps, spin, busy)]

    def med(rows: list[dict[str, float]], key: str = "seconds") -> float:
        return statistics.median(r[key] for r in rows)

    a, b, c = med(plain), med(live), med(mlflow_)
    work = args.steps * args.work_ms / 1000
    result = {
        "steps": args.steps,
        "metrics_per_step": len(METRICS),
        "work_ms_per_step": args.work_ms,
        "work": args.work,
        "repeats": args.repeats,
        "cpus": os.cpu_count(),
        "load_average_1m": [round(load_before, 2), round(os.getloadavg()[0], 2)],
        "seconds": {"matih": a, "matih_live_plot": b, "plain_mlflow": c, "work_only": work},
        "live_plot_overhead_pct": round(100 * (b - a) / a, 2),
        "target_overhead_pct": 5.0,
        "ratio_matih_live_plot_vs_plain_mlflow": round(b / c, 3),
        "ratio_matih_vs_plain_mlflow": round(a / c, 3),
        "rounds_seconds": {
            "matih": [round(r["seconds"], 3) for r in plain],
            "matih_live_plot": [round(r["seconds"], 3) for r in live],
        },
        "live_plot": {
            # Share of wall time the plot's thread ran: what it can take from a loop that
            # holds the interpreter lock on an otherwise idle machine.
            "plot_cpu_share_pct": round(
                100 * statistics.median(r["plot_cpu_seconds"] / r["seconds"] for r in live), 2
            ),
            "redraws_median": med(live, "redraws"),
            "plot_cpu_seconds_median": round(med(live, "plot_cpu_seconds"), 3),
            "points_seen": live[-1]["points_seen"],
        },
    }
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
