"""Code that the concurrency tests run in separate processes (importable by module name)."""

from __future__ import annotations

import multiprocessing
import traceback
from typing import Any

PRELOAD = [
    "mlflow",
    "matih_jupyter.core.tracking.tracker",
    "matih_jupyter.core.registry",
    "sklearn",
]


def context() -> Any:
    """A forkserver context with MLflow preloaded: real processes that start in milliseconds."""
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(PRELOAD)
    return ctx


def _report(results: Any, index: int, fn: Any) -> None:
    try:
        results.put((index, "ok", fn()))
    except BaseException as exc:  # the test fails on anything but "ok"/expected outcomes
        results.put((index, type(exc).__name__, f"{exc}\n{traceback.format_exc()}"))


def log_points(url: str, tenant: str, experiment: str, index: int, points: int, barrier, results):
    """One notebook: start a run in the shared experiment at the start line, log
    ``points`` values of ``m`` through the buffered hot path, end the run."""

    def work() -> dict[str, Any]:
        from matih_jupyter import ExperimentTracker, RunConfig

        tracker = ExperimentTracker(tracking_uri=url)
        tracker.list_experiments(tenant)  # connect before the start line
        barrier.wait()
        with tracker.start_run(experiment, RunConfig(tenant_id=tenant, run_name=f"p{index}")) as r:
            for step in range(points):
                r.log_metric("m", index * 1_000_000 + step, step)
        return {"run_id": r.run_id, "experiment_id": r.experiment_id}

    _report(results, index, work)


def create_experiment(url: str, tenant: str, name: str, index: int, barrier, results):
    def work() -> str:
        from matih_jupyter import ExperimentTracker

        tracker = ExperimentTracker(tracking_uri=url)
        tracker.list_experiments(tenant)
        barrier.wait()
        return tracker.get_or_create_experiment(name, tenant)

    _report(results, index, work)


def promote(url: str, tenant: str, model: str, version: str, barrier, results):
    def work() -> str:
        from matih_jupyter import ExperimentTracker
        from matih_jupyter.core.errors import ConflictError
        from matih_jupyter.core.registry import ModelRegistry

        reg = ModelRegistry(ExperimentTracker(tracking_uri=url))
        reg.get_model(tenant, model)
        barrier.wait()
        try:
            reg.transition_stage(tenant, model, version, "production", user_id=f"p{version}")
            return "won"
        except ConflictError:
            return "conflict"

    _report(results, int(version), work)


def run_all(ctx: Any, target: Any, argsets: list[tuple], timeout: float = 240) -> dict[int, Any]:
    """Start one process per argument tuple (each gets barrier, results appended), wait,
    and return ``{index: (status, value)}``."""
    barrier = ctx.Barrier(len(argsets))
    results = ctx.Queue()
    procs = [ctx.Process(target=target, args=(*a, barrier, results)) for a in argsets]
    for p in procs:
        p.start()
    out: dict[int, Any] = {}
    try:
        for _ in procs:
            index, status, value = results.get(timeout=timeout)
            out[index] = (status, value)
    finally:
        for p in procs:
            p.join(30)
            if p.is_alive():
                p.kill()
    return out


def sweep(url: str, storage: str, tenant: str, index: int, trials: int, barrier, results):
    """One kernel of a sweep several kernels run at once: same sweep name, same study."""

    def work() -> list[int]:
        import time

        from matih_jupyter import ExperimentTracker, RunConfig

        tracker = ExperimentTracker(tracking_uri=url)
        tracker.list_experiments(tenant)

        def objective(trial):
            x = trial.suggest_float("x", -1, 1)
            time.sleep(0.05)  # the trials of the kernels overlap
            return x * x

        barrier.wait()
        result = tracker.sweep(
            objective, "shared-sweep", RunConfig(tenant_id=tenant), n_trials=trials,
            metric="m", sweep_name="parallel", storage=storage,
        )  # fmt: skip
        return [t.number for t in result.trials]

    _report(results, index, work)
