"""Metric logging: matih's buffered ActiveRun beside plain MLflow, in one process and store.

Paths, each logging STEPS x 3 metrics into its own run of the same SQLite store:

  (a) mlflow.log_metric            MLflow's fluent API, one synchronous call per point
  (b) mlflow async logging         mlflow.log_metric(..., synchronous=False) + flush
  (c) MlflowClient.log_batch       every point in one call (built as Metric entities)
  (d) ActiveRun.log_metric         matih: append to a buffer, a writer sends batches

Printed as one JSON line: microseconds per point on the caller's thread (median of the
per-call times; for (c) the single call divided by the points), durable points per second
including the final flush, and each path's ratio to (a).

Usage: python benchmarks/bench_logging.py [--steps 2000] [--store DIR]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

METRICS = ("loss", "accuracy", "lr")


def _points(steps: int):
    for step in range(steps):
        for i, key in enumerate(METRICS):
            yield key, 1.0 / (step + 1 + i), step


def bench_fluent(uri: str, steps: int, synchronous: bool) -> dict[str, float]:
    import mlflow

    mlflow.set_tracking_uri(uri)
    mlflow.set_experiment("bench-fluent")
    per_call = []
    with mlflow.start_run():
        t0 = time.perf_counter()
        for key, value, step in _points(steps):
            c0 = time.perf_counter_ns()
            mlflow.log_metric(key, value, step=step, synchronous=synchronous)
            per_call.append(time.perf_counter_ns() - c0)
        if not synchronous:
            mlflow.flush_async_logging()
        total = time.perf_counter() - t0
    return _result(per_call, total, steps)


def bench_log_batch(uri: str, steps: int) -> dict[str, float]:
    from mlflow.entities import Metric
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=uri)
    exp = client.get_experiment_by_name("bench-batch") or client.get_experiment(
        client.create_experiment("bench-batch")
    )
    run = client.create_run(exp.experiment_id)
    t0 = time.perf_counter()
    now = int(time.time() * 1000)
    batch = [Metric(k, v, now, s) for k, v, s in _points(steps)]
    client.log_batch(run.info.run_id, metrics=batch, synchronous=True)
    total = time.perf_counter() - t0
    client.set_terminated(run.info.run_id)
    n = steps * len(METRICS)
    return {"caller_us_per_point": total / n * 1e6, "durable_points_per_s": n / total}


def bench_matih(uri: str, steps: int) -> dict[str, float]:
    from matih_jupyter import ExperimentTracker, RunConfig

    tracker = ExperimentTracker(tracking_uri=uri)
    per_call = []
    run = tracker.start_run("bench-matih", RunConfig(tenant_id="bench"))
    log = run.log_metric
    t0 = time.perf_counter()
    for key, value, step in _points(steps):
        c0 = time.perf_counter_ns()
        log(key, value, step)
        per_call.append(time.perf_counter_ns() - c0)
    run.flush()
    total = time.perf_counter() - t0
    run.end()
    stored = len(tracker.get_metric_history(run.run_id, "loss", "bench"))
    if stored != steps:
        raise SystemExit(f"matih stored {stored} of {steps} loss points")
    return _result(per_call, total, steps)


def _result(per_call_ns: list[int], total_s: float, steps: int) -> dict[str, float]:
    n = steps * len(METRICS)
    return {
        "caller_us_per_point": statistics.median(per_call_ns) / 1000,
        "durable_points_per_s": n / total_s,
    }


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--store", type=Path, default=None, help="folder for the SQLite store")
    args = parser.parse_args(argv)
    folder = args.store or Path(tempfile.mkdtemp(prefix="matih-bench-"))
    uri = f"sqlite:///{folder / 'mlflow.db'}"
    from mlflow.tracking import MlflowClient

    MlflowClient(tracking_uri=uri).search_experiments()  # migrations outside the timings

    results = {
        "a_mlflow_log_metric": bench_fluent(uri, args.steps, synchronous=True),
        "b_mlflow_async": bench_fluent(uri, args.steps, synchronous=False),
        "c_client_log_batch": bench_log_batch(uri, args.steps),
        "d_matih_active_run": bench_matih(uri, args.steps),
    }
    base = results["a_mlflow_log_metric"]
    for r in results.values():
        r["caller_ratio_to_a"] = r["caller_us_per_point"] / base["caller_us_per_point"]
        r["throughput_ratio_to_a"] = r["durable_points_per_s"] / base["durable_points_per_s"]
        for k, v in r.items():
            r[k] = round(v, 4 if "ratio" in k else 2)
    line = {
        "benchmark": "logging",
        "points": args.steps * len(METRICS),
        "store": "sqlite",
        **results,
    }
    print(json.dumps(line))
    return line


if __name__ == "__main__":
    sys.exit(0 if main() else 1)
