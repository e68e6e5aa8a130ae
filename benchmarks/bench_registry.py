"""Model registry: matih's ModelRegistry beside the same work with a raw MlflowClient.

Three workloads, each run both ways on its own SQLite store in one process:

  register   20 versions of one scikit-learn model. Raw: create a run, log params and
             metrics, save the sklearn flavor and upload it, create the registered model
             and a version. matih additionally exports ONNX, writes requirements.txt,
             the model card and metric history, tags tenant and provenance, and records
             the registration in the model's history (one compare-and-set epoch).
  promote    20 promotions (each version staging -> production, archiving the previous
             one). Raw: stage tags and the ``production`` alias set with no check at all.
             matih: lifecycle check, the policy (none here), compare-and-set claim,
             transition records, the write-once record of each move (with the moved
             versions' runs read for it), the model-level summary and the versions'
             model cards.
  list       list 200 models of a tenant (median of 5). Raw: one
             ``search_registered_models`` on the tenant tag. matih: the same search plus
             the per-result tenant check and building `ModelMetadata`.

The registrations alternate between the two sides, one each, and each is timed alone:
the JSON line gives the totals, their ratio, the ratio of the median registrations, and
the ratio of the totals without the garbage collector's full passes over the heap (each
about 0.3 s here, landing in one side or the other by chance; their count per side is
printed too).
Before the registrations are timed, each side registers once on a scratch store of its own:
the first save of a process imports the flavor's and the ONNX exporter's libraries (over a
second each), a cost paid once per kernel that would otherwise be most of what is timed.

Printed as one JSON line: seconds for each path and matih / raw ratios.

Usage: python benchmarks/bench_registry.py [--versions 20] [--models 200]
"""

from __future__ import annotations

import argparse
import gc
import json
import logging
import statistics
import sys
import tempfile
import time
from pathlib import Path

TENANT = "bench"


def _model():
    from sklearn.datasets import make_classification
    from sklearn.linear_model import LogisticRegression

    x, y = make_classification(n_samples=200, n_features=8, random_state=0)
    return LogisticRegression(max_iter=200).fit(x, y)


def _store(root: Path, name: str) -> tuple[str, str]:
    d = root / name
    (d / "artifacts").mkdir(parents=True)
    return f"sqlite:///{d / 'mlflow.db'}", (d / "artifacts").as_uri()


def _registry(uri: str, artifacts: str):
    from matih_jupyter import ExperimentTracker, ModelRegistry

    return ModelRegistry(ExperimentTracker(tracking_uri=uri, default_artifact_root=artifacts))


def _raw_client(uri: str):
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=uri)
    client.search_experiments()  # migrations outside the timing, as for matih
    return client


def _raw_registration(client, exp: str, i: int, model) -> None:
    import mlflow.sklearn
    from mlflow.entities import Metric, Param

    run = client.create_run(exp)
    now = int(time.time() * 1000)
    client.log_batch(
        run.info.run_id,
        metrics=[Metric("auc", 0.8 + i / 1000, now, 0)],
        params=[Param("C", "1.0")],
    )
    with tempfile.TemporaryDirectory() as tmp:
        mlflow.sklearn.save_model(model, f"{tmp}/model", pip_requirements=["scikit-learn"])
        client.log_artifacts(run.info.run_id, f"{tmp}/model", "model")
    client.create_model_version(
        "bench.churn", f"{run.info.artifact_uri}/model", run_id=run.info.run_id
    )
    client.set_terminated(run.info.run_id)


def _raw_setup(root: Path, name: str):
    uri, artifacts = _store(root, name)
    client = _raw_client(uri)
    exp = client.create_experiment("bench/models.churn", artifact_location=artifacts + "/e")
    client.create_registered_model("bench.churn")
    return client, exp


class FullCollections:
    """Seconds the cyclic garbage collector spent in full passes over the heap while each
    side ran. A full pass over this process's heap (some 700,000 objects: MLflow,
    scikit-learn, ONNX) takes about 0.3 s and comes when the collector's counts say so,
    inside whichever registration happens to be running: one such pass weighs as much as
    the whole difference between the sides, so the figures are given with and without."""

    def __init__(self) -> None:
        self.side: str | None = None
        self.seconds = {"raw": 0.0, "matih": 0.0}
        self.count = {"raw": 0, "matih": 0}
        self._started = 0.0

    def __call__(self, phase: str, info: dict) -> None:
        if info.get("generation") != 2 or self.side is None:
            return
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self.seconds[self.side] += time.perf_counter() - self._started
            self.count[self.side] += 1

    def timed(self, side: str, call, *args, **kwargs) -> float:
        self.side = side
        start = time.perf_counter()
        try:
            call(*args, **kwargs)
        finally:
            self.side = None
        return time.perf_counter() - start


def bench_register(root: Path, n: int, model) -> dict[str, float]:
    _raw_registration(*_raw_setup(root, "raw-warmup"), 0, model)
    warmup = _registry(*_store(root, "matih-warmup"))
    warmup.register_model(TENANT, "churn", model, "sklearn", {"auc": 0.8}, {"C": 1.0})
    client, exp = _raw_setup(root, "raw-register")
    reg = _registry(*_store(root, "matih-register"))
    reg.list_models(TENANT)  # migrations outside the timing

    # The two sides take turns, one registration each, so that a change of load on the
    # machine during the run weighs on both alike.
    gc_clock = FullCollections()
    gc.callbacks.append(gc_clock)
    raw_times, matih_times = [], []
    try:
        for i in range(n):
            raw_times.append(gc_clock.timed("raw", _raw_registration, client, exp, i, model))
            metrics = {"auc": 0.8 + i / 1000}
            matih_times.append(
                gc_clock.timed(
                    "matih",
                    reg.register_model,
                    TENANT,
                    "churn",
                    model,
                    "sklearn",
                    metrics,
                    {"C": 1.0},
                )
            )
    finally:
        gc.callbacks.remove(gc_clock)
    raw, matih = sum(raw_times), sum(matih_times)
    raw_med, matih_med = statistics.median(raw_times), statistics.median(matih_times)
    raw_gc, matih_gc = gc_clock.seconds["raw"], gc_clock.seconds["matih"]
    return {
        "raw_s": raw,
        "matih_s": matih,
        "ratio": matih / raw,
        "raw_median_ms": raw_med * 1000,
        "matih_median_ms": matih_med * 1000,
        "ratio_of_medians": matih_med / raw_med,
        "full_gc_passes_raw": gc_clock.count["raw"],
        "full_gc_passes_matih": gc_clock.count["matih"],
        "ratio_without_full_gc": (matih - matih_gc) / (raw - raw_gc),
    }


def bench_promote(root: Path, n: int, model) -> dict[str, float]:
    uri, artifacts = _store(root, "raw-promote")
    client = _raw_client(uri)
    client.create_registered_model("bench.churn")
    for _ in range(n):
        client.create_model_version("bench.churn", artifacts + "/m", tags={"stage": "development"})
    start = time.perf_counter()
    previous = None
    for v in range(1, n + 1):
        client.set_model_version_tag("bench.churn", str(v), "stage", "staging")
        client.set_registered_model_alias("bench.churn", "staging", str(v))
        client.set_model_version_tag("bench.churn", str(v), "stage", "production")
        if previous is not None:
            client.set_model_version_tag("bench.churn", str(previous), "stage", "archived")
        client.set_registered_model_alias("bench.churn", "production", str(v))
        client.delete_registered_model_alias("bench.churn", "staging")
        previous = v
    raw = time.perf_counter() - start

    reg = _registry(*_store(root, "matih-promote"))
    for _ in range(n):
        reg.register_model(TENANT, "churn", model, "sklearn", {"auc": 0.8}, {"C": 1.0})
    start = time.perf_counter()
    for v in range(1, n + 1):
        reg.transition_stage(TENANT, "churn", v, "staging")
        reg.transition_stage(TENANT, "churn", v, "production")
    matih = time.perf_counter() - start
    assert [m.current_version for m in reg.list_models(TENANT, stage="production")] == [str(n)]
    return {"raw_s": raw, "matih_s": matih, "ratio": matih / raw}


def bench_list(root: Path, n: int, model) -> dict[str, float]:
    from matih_jupyter.core.registry.tags import TAG_TX
    from matih_jupyter.core.tenancy import TAG_SHORT_NAME, TAG_TENANT

    uri, artifacts = _store(root, "list")
    reg = _registry(uri, artifacts)
    reg.register_model(TENANT, "seed", model, "sklearn", {"auc": 0.8}, {"C": 1.0})
    template = reg.tracker.client.get_registered_model(f"{TENANT}.seed")
    client = reg.tracker.client
    # The other models carry the same tags matih writes, copied from a real one (200
    # full registrations would time the setup, not the listing).
    for i in range(n - 1):
        name = f"model-{i:03d}"
        tags = dict(template.tags)
        tags[TAG_SHORT_NAME] = name
        tags = {k: v for k, v in tags.items() if not k.startswith(TAG_TX)}
        client.create_registered_model(f"{TENANT}.{name}", tags=tags)
    # Another tenant's models, which neither path may return.
    for i in range(20):
        client.create_registered_model(f"other.m{i}", tags={TAG_TENANT: "other"})

    flt = f"tags.`{TAG_TENANT}` = '{TENANT}'"

    def raw_list():
        out, token = [], None
        while True:
            page = client.search_registered_models(
                filter_string=flt, max_results=1000, page_token=token
            )
            out.extend(page)
            token = page.token
            if not token:
                return out

    raw_times, matih_times = [], []
    for _ in range(5):
        start = time.perf_counter()
        assert len(raw_list()) == n
        raw_times.append(time.perf_counter() - start)
        start = time.perf_counter()
        assert len(reg.list_models(TENANT)) == n
        matih_times.append(time.perf_counter() - start)
    raw, matih = statistics.median(raw_times), statistics.median(matih_times)
    return {"raw_s": raw, "matih_s": matih, "ratio": matih / raw}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--versions", type=int, default=20)
    parser.add_argument("--models", type=int, default=200)
    args = parser.parse_args(argv)
    logging.getLogger("mlflow").setLevel(logging.ERROR)
    model = _model()
    with tempfile.TemporaryDirectory(prefix="matih-bench-") as tmp:
        root = Path(tmp)
        result = {
            "benchmark": "registry",
            "register_versions": args.versions,
            "register": bench_register(root, args.versions, model),
            "promote": bench_promote(root, args.versions, model),
            "list_models": args.models,
            "list": bench_list(root, args.models, model),
        }
    for part in ("register", "promote", "list"):
        result[part] = {k: round(v, 4) for k, v in result[part].items()}
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
