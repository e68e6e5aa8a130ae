"""Metric logging against a real MLflow server: matih beside plain MLflow, in one run.

The same four paths as benchmarks/bench_logging.py (whose functions this reuses), but the
store is the scale-out deployment this script starts itself with the integration tier's
helpers (tests/integration/services.py): a private PostgreSQL cluster, moto's S3 server
and ``mlflow server --backend-store-uri postgresql://... --artifacts-destination s3://...``,
all on 127.0.0.1 and stopped at the end.

Printed as one JSON line (same fields as bench_logging, ``"store": "mlflow-server"``).

Usage: python benchmarks/bench_server.py [--steps 500] [--workers 2]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "tests" / "integration"))

import bench_logging  # noqa: E402
from services import running_stack  # noqa: E402


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    # Plain mlflow.log_metric is one HTTP round trip per point (tens of ms on a busy host),
    # so the default is smaller than bench_logging's; the figures are per point and rates.
    parser.add_argument("--steps", type=int, default=500)
    parser.add_argument("--workers", type=int, default=2, help="mlflow server workers")
    args = parser.parse_args(argv)
    t0 = time.perf_counter()
    with running_stack() as stack:
        server = stack.server(workers=args.workers)
        startup = time.perf_counter() - t0
        uri = server.url
        from mlflow.tracking import MlflowClient

        MlflowClient(tracking_uri=uri).search_experiments()  # connect outside the timings
        results = {
            "a_mlflow_log_metric": bench_logging.bench_fluent(uri, args.steps, synchronous=True),
            "b_mlflow_async": bench_logging.bench_fluent(uri, args.steps, synchronous=False),
            "c_client_log_batch": bench_logging.bench_log_batch(uri, args.steps),
            "d_matih_active_run": bench_logging.bench_matih(uri, args.steps),
        }
    base = results["a_mlflow_log_metric"]
    for r in results.values():
        r["caller_ratio_to_a"] = r["caller_us_per_point"] / base["caller_us_per_point"]
        r["throughput_ratio_to_a"] = r["durable_points_per_s"] / base["durable_points_per_s"]
        for k, v in r.items():
            # Significant digits: matih's ratios are far below 1e-4.
            r[k] = float(f"{v:.4g}") if "ratio" in k else round(v, 2)
    line = {
        "benchmark": "logging",
        "points": args.steps * len(bench_logging.METRICS),
        "store": "mlflow-server",
        "backend": "postgresql+s3(moto)",
        "server_workers": args.workers,
        "stack_startup_s": round(startup, 1),
        **results,
    }
    print(json.dumps(line))
    return line


if __name__ == "__main__":
    sys.exit(0 if main() else 1)
