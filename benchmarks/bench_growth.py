"""Growth: one run's points and one experiment's runs as they grow, matih beside plain MLflow.

Points: N points (three metric keys, N/3 steps) logged to one run.
  matih   ``ActiveRun.log_metric`` per point (the buffered writer), then the run's end
  plain   ``MlflowClient.log_batch``, 1,000 points a call (MLflow's limit). Plain per-point
          ``mlflow.log_metric`` takes a store round trip per point (hours for 10^6 points
          on a server), so the fastest plain path is the yardstick.
Runs: N runs (four params, two metrics) created in one experiment, then all listed and
compared.
  matih   ``tracker.start_run(...)`` as a context; ``list_runs``; ``compare_runs(ids)``
  plain   ``create_run`` + ``log_batch`` (with as many tags as a matih run carries) +
          ``set_terminated``; ``search_runs`` (pages); ``mlflow.search_runs`` (a DataFrame)

Each measurement runs in a fresh process, so its peak memory (over the process's own
baseline once MLflow is loaded) is its own. Printed per size as it goes, then one JSON
line: per size and side the seconds, the cost per point or per run, the peak memory, and
matih's ratio to plain; ``growth`` is the per-item cost at the largest size over the
smallest (flat is 1.0, linear total cost).

Usage: python benchmarks/bench_growth.py [--sizes default|full|tiny] [--points N,N]
       [--runs N,N] [--server] [--store DIR]
``--server`` runs it against the scale-out tier (PostgreSQL + S3 + ``mlflow server``, as in
tests/integration/services.py), started and stopped here.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
TENANT = "bench"
METRICS = ("loss", "accuracy", "lr")
BATCH = 1000
#: Tags on each plain run, as many as a matih run carries (its identity and provenance):
#: listing cost grows with them, and both sides list runs of the same size.
PLAIN_TAGS = 18
SIZES = {
    "tiny": ([300, 3000], [5, 20]),
    "default": ([10_000, 100_000], [100, 1000]),
    "full": ([10_000, 100_000, 1_000_000], [100, 1000, 10_000]),
}


# -- one measurement, in its own process -----------------------------------------------------


def _rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _points(n: int):
    for i in range(n):
        yield METRICS[i % 3], 1.0 / (i + 1), i // 3


def points_matih(uri: str, n: int) -> dict[str, float]:
    from matih_jupyter import ExperimentTracker, RunConfig

    tracker = ExperimentTracker(uri, tenant_id=TENANT)
    run = tracker.start_run(f"growth-{uuid.uuid4().hex[:6]}", RunConfig(tenant_id=TENANT))
    log = run.log_metric
    base = _rss_mb()
    t0 = time.perf_counter()
    for key, value, step in _points(n):
        log(key, value, step=step)
    caller = time.perf_counter() - t0
    run.end()
    total = time.perf_counter() - t0
    return {"caller_s": caller, "s": total, "base_mb": base, "peak_mb": _peak_mb()}


def points_plain(uri: str, n: int) -> dict[str, float]:
    from mlflow.entities import Metric
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=uri)
    exp = client.create_experiment(f"growth-plain-{uuid.uuid4().hex[:6]}")
    run_id = client.create_run(exp).info.run_id
    base = _rss_mb()
    t0 = time.perf_counter()
    now = int(time.time() * 1000)
    batch: list[Metric] = []
    for key, value, step in _points(n):
        batch.append(Metric(key, value, now, step))
        if len(batch) == BATCH:
            client.log_batch(run_id, metrics=batch, synchronous=True)
            batch = []
    if batch:
        client.log_batch(run_id, metrics=batch, synchronous=True)
    client.set_terminated(run_id)
    total = time.perf_counter() - t0
    return {"caller_s": total, "s": total, "base_mb": base, "peak_mb": _peak_mb()}


def runs_matih(uri: str, n: int) -> dict[str, float]:
    import pandas  # noqa: F401 - both sides build a DataFrame; its import is not timed

    from matih_jupyter import ExperimentTracker, RunConfig

    tracker = ExperimentTracker(uri, tenant_id=TENANT)
    name = f"growth-runs-{uuid.uuid4().hex[:6]}"
    base = _rss_mb()
    t0 = time.perf_counter()
    for i in range(n):
        with tracker.start_run(name, RunConfig(tenant_id=TENANT, run_name=f"r{i}")) as run:
            run.log_params({"lr": 0.1 / (i % 7 + 1), "depth": i % 9, "seed": i, "opt": "adam"})
            run.log_metrics({"loss": 1 / (i + 1), "auc": (i % 100) / 100})
    created = time.perf_counter() - t0
    t1 = time.perf_counter()
    listed = tracker.list_runs(TENANT, name, max_results=n)
    t2 = time.perf_counter()
    frame = tracker.compare_runs(TENANT, [r.id for r in listed])
    t3 = time.perf_counter()
    assert len(listed) == n == len(frame), (len(listed), n, len(frame))
    return {"create_s": created, "list_s": t2 - t1, "compare_s": t3 - t2, "base_mb": base,
            "peak_mb": _peak_mb()}  # fmt: skip


def runs_plain(uri: str, n: int) -> dict[str, float]:
    import mlflow
    import pandas  # noqa: F401 - as on matih's side
    from mlflow.entities import Metric, Param, RunTag
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=uri)
    exp = client.create_experiment(f"growth-runs-plain-{uuid.uuid4().hex[:6]}")
    base = _rss_mb()
    t0 = time.perf_counter()
    for i in range(n):
        run_id = client.create_run(exp, run_name=f"r{i}").info.run_id
        now = int(time.time() * 1000)
        params = {"lr": 0.1 / (i % 7 + 1), "depth": i % 9, "seed": i, "opt": "adam"}
        client.log_batch(
            run_id,
            metrics=[Metric("loss", 1 / (i + 1), now, 0), Metric("auc", (i % 100) / 100, now, 0)],
            params=[Param(k, str(v)) for k, v in params.items()],
            tags=[RunTag(f"provenance.{j}", f"{i:040d}") for j in range(PLAIN_TAGS)],
            synchronous=True,
        )
        client.set_terminated(run_id)
    created = time.perf_counter() - t0
    t1 = time.perf_counter()
    listed, token = [], None
    while True:
        page = client.search_runs([exp], max_results=min(n, 50_000), page_token=token)
        listed += page
        token = page.token
        if not token:
            break
    t2 = time.perf_counter()
    mlflow.set_tracking_uri(uri)
    frame = mlflow.search_runs(experiment_ids=[exp])
    t3 = time.perf_counter()
    assert len(listed) == n == len(frame), (len(listed), n, len(frame))
    return {"create_s": created, "list_s": t2 - t1, "compare_s": t3 - t2, "base_mb": base,
            "peak_mb": _peak_mb()}  # fmt: skip


CHILDREN = {
    ("points", "matih"): points_matih,
    ("points", "plain"): points_plain,
    ("runs", "matih"): runs_matih,
    ("runs", "plain"): runs_plain,
}


# -- the parent: sizes, sides, the report ----------------------------------------------------


def measure(kind: str, side: str, n: int, uri: str, env: dict[str, str]) -> dict[str, float]:
    """One measurement in a fresh process (its peak memory is its own)."""
    cmd = [sys.executable, __file__, "--child", kind, side, str(n), uri]
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    if out.returncode != 0:
        raise SystemExit(f"{kind}/{side}/{n} failed:\n{out.stderr[-3000:]}")
    result = json.loads(out.stdout.strip().splitlines()[-1])
    result["peak_mb"] = round(result.pop("peak_mb") - result.pop("base_mb"), 1)
    return result


def points_row(n: int, matih: dict, plain: dict) -> dict[str, Any]:
    row = {}
    for side, r in (("matih", matih), ("plain", plain)):
        row[side] = {
            "s": round(r["s"], 3),
            "caller_us_per_point": round(r["caller_s"] / n * 1e6, 2),
            "durable_us_per_point": round(r["s"] / n * 1e6, 2),
            "peak_mb": r["peak_mb"],
        }
    row["ratio_durable"] = round(matih["s"] / plain["s"], 3)
    return row


def runs_row(n: int, matih: dict, plain: dict) -> dict[str, Any]:
    row: dict[str, Any] = {}
    for side, r in (("matih", matih), ("plain", plain)):
        row[side] = {
            "create_ms_per_run": round(r["create_s"] / n * 1e3, 2),
            "list_ms_per_run": round(r["list_s"] / n * 1e3, 4),
            "compare_ms_per_run": round(r["compare_s"] / n * 1e3, 4),
            "peak_mb": r["peak_mb"],
        }
    row["ratio"] = {
        k: round(matih[f"{k}_s"] / plain[f"{k}_s"], 3) for k in ("create", "list", "compare")
    }
    return row


def growth(rows: dict[int, dict], side: str, key: str) -> float:
    """Per-item cost at the largest size over the smallest (1.0: flat per item)."""
    sizes = sorted(rows)
    return round(rows[sizes[-1]][side][key] / rows[sizes[0]][side][key], 2)


def _measured(
    kind: str, sizes: list[int], row: Any, uri_for: Any, env: dict[str, str]
) -> dict[int, dict]:
    """``kind`` measured at each size, matih then plain MLflow on one store per size; each
    size's row is printed as it comes."""
    out: dict[int, dict] = {}
    for n in sizes:
        uri = uri_for(f"{kind}-{n}")
        out[n] = row(n, measure(kind, "matih", n, uri, env), measure(kind, "plain", n, uri, env))
        print(f"{kind} {n}: {json.dumps(out[n])}", file=sys.stderr, flush=True)
    return out


def run_all(args: argparse.Namespace, uri_for: Any, store: str) -> dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "MATIH_"))}
    env["MATIH_HOME"] = str(Path(args.workdir) / "home")
    points_sizes, runs_sizes = SIZES[args.sizes]
    points_sizes = args.points or points_sizes
    runs_sizes = args.runs or runs_sizes
    points = _measured("points", points_sizes, points_row, uri_for, env)
    runs = _measured("runs", runs_sizes, runs_row, uri_for, env)
    return {
        "benchmark": "growth",
        "store": store,
        "points": points,
        "runs": runs,
        "growth": {
            side: {
                "durable_us_per_point": growth(points, side, "durable_us_per_point"),
                "peak_mb": {str(n): points[n][side]["peak_mb"] for n in points},
                "list_ms_per_run": growth(runs, side, "list_ms_per_run"),
                "compare_ms_per_run": growth(runs, side, "compare_ms_per_run"),
                "create_ms_per_run": growth(runs, side, "create_ms_per_run"),
            }
            for side in ("matih", "plain")
        },
        "note": "plain points are MlflowClient.log_batch (1,000 a call), not per-point logging",
    }


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        kind, side, n, uri = sys.argv[2:6]
        print(json.dumps(CHILDREN[(kind, side)](uri, int(n))))
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", choices=sorted(SIZES), default="default")
    parser.add_argument("--points", type=_ints, help="points per run, e.g. 10000,100000")
    parser.add_argument("--runs", type=_ints, help="runs per experiment, e.g. 100,1000")
    parser.add_argument("--server", action="store_true", help="PostgreSQL + S3 + mlflow server")
    parser.add_argument("--store", help="a folder for the SQLite stores (default: temporary)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="matih-bench-growth-") as tmp:
        args.workdir = args.store or tmp
        Path(args.workdir).mkdir(parents=True, exist_ok=True)
        if args.server:
            sys.path.insert(0, str(HERE.parent / "tests" / "integration"))
            from services import running_stack

            with running_stack() as stack:
                url = stack.server(workers=2).url
                line = run_all(args, lambda _name: url, "mlflow-server+postgresql+s3")
        else:
            line = run_all(args, lambda name: f"sqlite:///{Path(args.workdir) / name}.db", "sqlite")
    print(json.dumps(line))


def _ints(text: str) -> list[int]:
    return [int(float(x)) for x in text.split(",") if x.strip()]


if __name__ == "__main__":
    main()
