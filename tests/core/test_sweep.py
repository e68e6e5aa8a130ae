"""Sweeps on Optuna: a parent run, one child run per trial, states that match, resume."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest
from sweep_harness import reporting_objective

from matih_jupyter import InvalidInputError, RunConfig

TENANT = "acme-corp"
PARENT = "mlflow.parentRunId"


def cfg(tenant: str = TENANT) -> RunConfig:
    return RunConfig(tenant_id=tenant, user_id="alice@acme.com")


def children(tracker, result, tenant: str = TENANT):
    runs = tracker.list_runs(
        tenant, None, filter_string=f"tags.`{PARENT}` = '{result.parent_run_id}'"
    )
    return sorted(runs, key=lambda r: int(r.tags["matih.sweep.trial"]))


objective = reporting_objective


def test_each_trial_is_a_child_run_ending_in_the_state_of_its_trial(tracker, exp_name):
    result = tracker.sweep(
        objective, exp_name, cfg(), n_trials=5, metric="loss", sweep_name="search"
    )
    parent = tracker.get_run(result.parent_run_id, TENANT)
    assert parent.status == "finished"
    assert parent.tags["matih.sweep.role"] == "parent"
    runs = children(tracker, result)
    assert [r.tags["matih.sweep.trial"] for r in runs] == ["0", "1", "2", "3", "4"]
    states = [(r.status, r.tags["matih.sweep.trial_state"]) for r in runs]
    assert states[1] == ("failed", "FAIL")
    assert states[2] == ("killed", "PRUNED")
    assert {s for i, s in enumerate(states) if i not in (1, 2)} == {("finished", "COMPLETE")}
    for run in runs:
        assert run.tags["matih.tenant_id"] == TENANT
        assert run.tags[PARENT] == parent.id
        assert "x" in run.params
    assert runs[1].tags["matih.error.type"] == "ValueError"
    assert "diverged" in runs[1].tags["matih.error.message"]
    assert runs[2].tags["matih.end_reason"] == "pruned after step 2"
    history = tracker.get_metric_history(runs[0].id, "loss", TENANT)
    assert [p.step for p in history] == [0, 1, 2, 3]  # reported values, then the final one
    assert history[-1].value == pytest.approx((float(runs[0].params["x"]) - 1) ** 2)

    complete = [r for r in runs if r.tags["matih.sweep.trial_state"] == "COMPLETE"]
    best = min(complete, key=lambda r: r.metrics["loss"])
    assert result.best_run_id == best.id
    assert result.best_value == pytest.approx(best.metrics["loss"])
    assert result.best_params == {"x": pytest.approx(float(best.params["x"]))}
    assert parent.tags["matih.sweep.best_run_id"] == best.id
    assert json.loads(parent.tags["matih.sweep.best_params"]) == result.best_params
    curve = tracker.get_metric_history(parent.id, "loss", TENANT)
    values = [p.value for p in curve]
    assert values == sorted(values, reverse=True)  # best so far only improves
    assert values[-1] == pytest.approx(result.best_value)
    assert [t.state for t in result.trials] == [
        "COMPLETE",
        "FAIL",
        "PRUNED",
        "COMPLETE",
        "COMPLETE",
    ]


def test_an_interrupt_ends_the_sweep_killed_and_keeps_the_finished_trials(tracker, exp_name):
    def interrupted(trial):
        x = trial.suggest_float("x", 0, 1)
        if trial.number == 2:
            raise KeyboardInterrupt
        return x

    with pytest.raises(KeyboardInterrupt):
        tracker.sweep(interrupted, exp_name, cfg(), n_trials=5, metric="m", sweep_name="s")
    runs = tracker.list_runs(TENANT, exp_name)
    parent = next(r for r in runs if r.tags.get("matih.sweep.role") == "parent")
    assert parent.status == "killed"
    assert parent.tags["matih.end_reason"] == "interrupted"
    trials = sorted(
        (r for r in runs if r.id != parent.id), key=lambda r: int(r.tags["matih.sweep.trial"])
    )
    assert [r.status for r in trials] == ["finished", "finished", "killed"]
    assert tracker.active_run() is None


def test_running_the_same_sweep_again_continues_it(tracker, exp_name):
    def quadratic(trial):
        return trial.suggest_float("x", -1, 1) ** 2

    first = tracker.sweep(quadratic, exp_name, cfg(), n_trials=3, metric="m", sweep_name="s")
    again = tracker.sweep(quadratic, exp_name, cfg(), n_trials=5, metric="m", sweep_name="s")
    assert again.parent_run_id == first.parent_run_id
    assert len(first.trials) == 3 and len(again.trials) == 2  # finished trials not run again
    assert [t.number for t in again.trials] == [3, 4]
    runs = children(tracker, again)
    assert len(runs) == 5 and len({r.id for r in runs}) == 5
    assert tracker.get_run(again.parent_run_id, TENANT).status == "finished"
    assert len(again.study.trials) == 5


def test_a_trial_left_running_by_a_dead_kernel_is_closed_killed_on_resume(
    tracker, exp_name, tracking_uri
):
    script = textwrap.dedent(
        f"""
        import os, signal
        from matih_jupyter import ExperimentTracker, RunConfig
        tracker = ExperimentTracker(tracking_uri={tracking_uri!r})
        def objective(trial):
            x = trial.suggest_float("x", 0, 1)
            if trial.number == 1:
                os.kill(os.getpid(), signal.SIGKILL)  # the kernel dies mid-trial
            return x
        tracker.sweep(objective, {exp_name!r}, RunConfig(tenant_id={TENANT!r}),
                      n_trials=4, metric="m", sweep_name="s")
        """
    )
    died = subprocess.run([sys.executable, "-c", script], capture_output=True, timeout=120)
    assert died.returncode == -9, died.stderr.decode()[-2000:]

    result = tracker.sweep(
        lambda t: t.suggest_float("x", 0, 1),
        exp_name,
        cfg(),
        n_trials=4,
        metric="m",
        sweep_name="s",
    )
    runs = children(tracker, result)
    assert [r.tags["matih.sweep.trial"] for r in runs] == ["0", "1", "2", "3"]
    assert runs[1].status == "killed"
    assert "orphaned" in runs[1].tags["matih.end_reason"]
    assert [r.status for i, r in enumerate(runs) if i != 1] == ["finished"] * 3
    states = [t.state.name for t in result.study.trials]
    assert states == ["COMPLETE", "FAIL", "COMPLETE", "COMPLETE"]
    assert tracker.get_run(result.parent_run_id, TENANT).status == "finished"


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"direction": "up"}, "direction"),
        ({"n_trials": 0}, "n_trials"),
        ({"n_trials": -2}, "n_trials"),
        ({"sweep_name": "other-tenant/s"}, "sweep_name"),
        ({"metric": ""}, "metric"),
        ({"n_jobs": 0}, "n_jobs"),
    ],
)
def test_bad_arguments_are_refused_before_anything_is_written(tracker, exp_name, kwargs, field):
    args = {"n_trials": 2, "metric": "m", "sweep_name": "s"} | kwargs
    with pytest.raises(InvalidInputError) as err:
        tracker.sweep(lambda t: 0.0, exp_name, cfg(), **args)
    assert err.value.field == field
    assert tracker.list_experiments(TENANT) == [] or all(
        e.name != exp_name for e in tracker.list_experiments(TENANT)
    )


@pytest.mark.parametrize(
    ("returned", "words"),
    [("abc", "not a number"), (None, "never logged 'm'")],
)
def test_an_objective_that_breaks_its_contract_stops_the_sweep_clearly(
    tracker, exp_name, returned, words
):
    with pytest.raises(InvalidInputError, match=words):
        tracker.sweep(lambda t: returned, exp_name, cfg(), n_trials=3, metric="m", sweep_name="s")
    runs = tracker.list_runs(TENANT, exp_name)
    assert {r.status for r in runs} == {"failed"}  # the parent and its one trial, both ended
    assert len(runs) == 2


def test_the_same_sweep_name_in_another_tenant_is_another_sweep(tracker, exp_name):
    def quadratic(trial):
        return trial.suggest_float("x", -1, 1) ** 2

    acme = tracker.sweep(quadratic, exp_name, cfg(), n_trials=2, metric="m", sweep_name="s")
    globex = tracker.sweep(
        quadratic, exp_name, cfg("globex"), n_trials=3, metric="m", sweep_name="s"
    )
    assert globex.parent_run_id != acme.parent_run_id
    assert len(globex.trials) == 3  # nothing of acme's study was continued
    assert {r.tags["matih.tenant_id"] for r in children(tracker, globex, "globex")} == {"globex"}
    assert len(children(tracker, acme)) == 2


def test_the_best_trials_model_is_registered_into_its_own_run(tracker, exp_name):
    from sklearn.datasets import make_classification
    from sklearn.linear_model import LogisticRegression

    from matih_jupyter import ModelRegistry, NotFoundError

    X, y = make_classification(n_samples=120, n_features=5, random_state=0)

    def fit(trial):
        model = LogisticRegression(C=trial.suggest_float("C", 1e-3, 10, log=True)).fit(X, y)
        return model.score(X, y), model

    result = tracker.sweep(
        fit, exp_name, cfg(), n_trials=3, metric="acc", direction="maximize", sweep_name="lr"
    )
    assert result.best_model is not None
    version = result.register_best("sweep-lr", registry=ModelRegistry(tracker))
    assert version.run_id == result.best_run_id
    assert version.metrics["acc"] == pytest.approx(result.best_value)

    no_model = tracker.sweep(
        lambda t: t.suggest_float("x", 0, 1), exp_name, cfg(), n_trials=1, metric="m"
    )
    with pytest.raises(NotFoundError, match="left no model"):
        no_model.register_best("other", registry=ModelRegistry(tracker))
    with pytest.raises(InvalidInputError, match="no model registry"):
        no_model.register_best("other")


def test_on_trial_hears_each_trial_start_with_its_run_and_end_with_its_outcome(tracker, exp_name):
    events = []
    result = tracker.sweep(
        objective, exp_name, cfg(), n_trials=4, metric="loss", on_trial=events.append
    )
    assert [(e.number, e.state) for e in events] == [
        (0, "RUNNING"), (0, "COMPLETE"), (1, "RUNNING"), (1, "FAIL"),
        (2, "RUNNING"), (2, "PRUNED"), (3, "RUNNING"), (3, "COMPLETE"),
    ]  # fmt: skip
    started = [e for e in events if e.state == "RUNNING"]
    assert all(e.run is not None and e.run.run_id == e.run_id for e in started)
    assert all(e.duration is None for e in started)
    ended = [e for e in events if e.state != "RUNNING"]
    assert [e.run_id for e in ended] == [t.run_id for t in result.trials]
    assert all(e.run is None and e.duration >= 0 and e.started > 0 for e in ended)
    assert ended[0].value == pytest.approx(result.trials[0].value)
    assert "diverged" in ended[1].error


def test_a_failing_on_trial_listener_costs_the_sweep_nothing(tracker, exp_name, caplog):
    def broken(outcome):
        raise RuntimeError("the view broke")

    result = tracker.sweep(
        lambda t: t.suggest_float("x", 0, 1), exp_name, cfg(), n_trials=2, metric="m",
        on_trial=broken,
    )  # fmt: skip
    assert [t.state for t in result.trials] == ["COMPLETE", "COMPLETE"]
    assert len(children(tracker, result)) == 2
    assert "on_trial listener failed" in caplog.text


def test_threads_of_one_process_run_exactly_n_trials_between_them(tracker, exp_name):
    import time

    def slow(trial):
        time.sleep(0.05)  # the threads overlap
        return trial.suggest_float("x", 0, 1)

    result = tracker.sweep(slow, exp_name, cfg(), n_trials=7, metric="m", n_jobs=3)
    assert sorted(t.number for t in result.trials) == list(range(7))
    assert len(children(tracker, result)) == 7
    again = tracker.sweep(slow, exp_name, cfg(), n_trials=9, metric="m", n_jobs=3)
    assert sorted(t.number for t in again.trials) == [7, 8]  # resumed: two more, not nine
