"""Sweeps: per-trial overhead of matih's tracker.sweep beside Optuna's own MLflow callback.

Three paths run the same cheap, deterministic objective (a quadratic in two suggested
floats that reports REPORT_STEPS intermediate values; a seeded RandomSampler, so the
sampler costs next to nothing and the same in every path). Every path keeps its Optuna
study on SQLite, in a fresh folder per path and round; the tracked paths log to an MLflow
SQLite store in that folder:

  (none)      plain ``study.optimize`` on an SQLite RDBStorage, no tracking at all: the
              baseline every overhead is measured against.
  (callback)  the same study with ``optuna_integration.MLflowCallback`` (nested under a
              parent run, ``mlflow_kwargs={"nested": True}``): one run per trial, opened
              after the trial ended, with the value, params and Optuna's tags.
  (matih)     ``tracker.sweep``: a parent run and one child run per trial, opened before
              the objective runs, intermediate values as metric steps, run states that
              match the trial's, a best-so-far curve on the parent, resumable by name.

Each round warms every path up with one trial (study, experiment, parent run and store
schemas created outside the timing), then times ``--trials`` more trials, continuing the
same study (matih: the same sweep_name again, which resumes it). Seconds per trial is that
time / trials, the median over ``--repeats`` rounds; overhead per trial is a tracked path's
seconds per trial minus the untracked one's.

Printed as one JSON line: seconds per trial for each path, overhead per trial in ms for
matih and the callback, the ratio matih_overhead / callback_overhead beside its target
(printed, not asserted), and what each path records.

Usage: python benchmarks/bench_sweep.py [--trials 50] [--repeats 3] [--store DIR]
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path

TENANT = "acme-corp"
USER = "bench"
REPORT_STEPS = 3
SEED = 0
TARGET = "<= 1.2"


def objective(trial) -> float:
    x = trial.suggest_float("x", -5.0, 5.0)
    y = trial.suggest_float("y", -5.0, 5.0)
    value = (x - 1.0) ** 2 + (y + 2.0) ** 2
    for step in range(REPORT_STEPS):
        trial.report(value + 1.0 / (step + 1), step)
    return value


def _sampler():
    import optuna

    return optuna.samplers.RandomSampler(seed=SEED)


def _folder(root: Path, name: str) -> Path:
    d = root / name
    d.mkdir(parents=True)
    return d


def _mlflow_store(folder: Path) -> str:
    from mlflow.tracking import MlflowClient

    uri = f"sqlite:///{folder / 'mlflow.db'}"
    MlflowClient(tracking_uri=uri).search_experiments()  # migrations outside the timing
    return uri


def _plain_study(folder: Path):
    import optuna

    return optuna.create_study(
        storage=f"sqlite:///{folder / 'optuna.db'}",
        study_name="bench",
        direction="minimize",
        sampler=_sampler(),
    )


def bench_none(folder: Path, trials: int) -> float:
    study = _plain_study(folder)
    study.optimize(objective, n_trials=1)  # warm-up
    start = time.perf_counter()
    study.optimize(objective, n_trials=trials)
    elapsed = time.perf_counter() - start
    assert len(study.trials) == trials + 1
    return elapsed / trials


def bench_callback(folder: Path, trials: int) -> float:
    import mlflow
    from optuna_integration import MLflowCallback

    uri = _mlflow_store(folder)
    study = _plain_study(folder)
    mlflow.set_tracking_uri(uri)
    mlflow.set_experiment(study.study_name)  # the callback logs to the study's experiment
    callback = MLflowCallback(tracking_uri=uri, metric_name="loss", mlflow_kwargs={"nested": True})
    with mlflow.start_run(run_name="sweep") as parent:
        study.optimize(objective, n_trials=1, callbacks=[callback])  # warm-up
        start = time.perf_counter()
        study.optimize(objective, n_trials=trials, callbacks=[callback])
        elapsed = time.perf_counter() - start
    runs = mlflow.search_runs(
        filter_string=f"tags.`mlflow.parentRunId` = '{parent.info.run_id}'",
        output_format="list",
    )
    if len(runs) != trials + 1:
        raise SystemExit(f"the callback stored {len(runs)} of {trials + 1} trial runs")
    return elapsed / trials


def bench_matih(folder: Path, trials: int) -> float:
    from matih_jupyter import ExperimentTracker, RunConfig

    uri = _mlflow_store(folder)
    tracker = ExperimentTracker(tracking_uri=uri)
    cfg = RunConfig(tenant_id=TENANT, user_id=USER)
    args = {
        "metric": "loss",
        "direction": "minimize",
        "sweep_name": "bench",
        "sampler": _sampler(),
        # Given, not derived, so MATIH_SWEEP_STORAGE cannot move it off this folder's SQLite.
        "storage": f"sqlite:///{folder / 'optuna.db'}",
    }
    tracker.sweep(objective, "bench", cfg, n_trials=1, **args)  # warm-up
    start = time.perf_counter()
    result = tracker.sweep(objective, "bench", cfg, n_trials=trials + 1, **args)
    elapsed = time.perf_counter() - start
    if len(result.trials) != trials or {t.state for t in result.trials} != {"COMPLETE"}:
        raise SystemExit(f"matih ran {len(result.trials)} of {trials} trials complete")
    history = tracker.get_metric_history(result.trials[-1].run_id, "loss", TENANT)
    if len(history) != REPORT_STEPS + 1:
        raise SystemExit(f"matih stored {len(history)} of {REPORT_STEPS + 1} loss steps")
    return elapsed / trials


RECORDS = {
    "none": {
        "runs": "none",
        "nested_runs": False,
        "intermediate_values": "Optuna only",
        "states_mapped": False,
        "resumable": "study only (load_if_exists)",
    },
    "callback": {
        "runs": "one per trial, created when the trial has ended",
        "nested_runs": True,  # only because this benchmark opens a parent and passes nested
        "intermediate_values": False,
        "states_mapped": "no: every run ends FINISHED; the Optuna state is only a tag",
        "resumable": "study only (load_if_exists); a trial a dead process left has no run",
    },
    "matih": {
        "runs": "one per trial, created before the objective runs (its logging goes there)",
        "nested_runs": True,
        "intermediate_values": "metric steps",
        "states_mapped": "COMPLETE->FINISHED, PRUNED->KILLED, FAIL->FAILED, interrupt->KILLED",
        "resumable": "by sweep_name: same parent run, dead trials' runs closed KILLED",
    },
}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--trials", type=int, default=50, help="timed trials per path and round")
    parser.add_argument("--repeats", type=int, default=3, help="rounds; the median is printed")
    parser.add_argument("--store", type=Path, default=None, help="folder for the stores")
    args = parser.parse_args(argv)
    root = args.store or Path(tempfile.mkdtemp(prefix="matih-bench-sweep-"))

    import mlflow  # noqa: F401  (configures its loggers; quieted after)
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    logging.getLogger("mlflow").setLevel(logging.ERROR)
    # MLflowCallback is deprecated since Optuna 4.9 (removal in 6.0); still the reference.
    warnings.filterwarnings("ignore", category=FutureWarning, module=__name__)

    per_trial: dict[str, list[float]] = {"none": [], "callback": [], "matih": []}
    benches = {"none": bench_none, "callback": bench_callback, "matih": bench_matih}
    for r in range(args.repeats):
        for name, bench in benches.items():
            per_trial[name].append(bench(_folder(root, f"{name}-{r}"), args.trials))

    s = {name: statistics.median(v) for name, v in per_trial.items()}
    matih_ms = (s["matih"] - s["none"]) * 1000
    callback_ms = (s["callback"] - s["none"]) * 1000
    line = {
        "benchmark": "sweep",
        "trials": args.trials,
        "repeats": args.repeats,
        "report_steps": REPORT_STEPS,
        "sampler": f"RandomSampler(seed={SEED})",
        "store": "sqlite (MLflow and every Optuna study)",
        "s_per_trial": {k: round(v, 5) for k, v in s.items()},
        "overhead_ms_per_trial": {"matih": round(matih_ms, 2), "callback": round(callback_ms, 2)},
        "ratio_to_none": {k: round(s[k] / s["none"], 3) for k in ("callback", "matih")},
        "matih_over_callback_overhead": round(matih_ms / callback_ms, 3),
        "target": TARGET,
        "records": RECORDS,
    }
    print(json.dumps(line))
    return line


if __name__ == "__main__":
    sys.exit(0 if main() else 1)
