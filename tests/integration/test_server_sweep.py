"""One sweep run by three kernels at once on the server tier: the study in PostgreSQL,
the runs on the MLflow server. No trial lost or run twice; one run per trial."""

from __future__ import annotations

import workers

KERNELS = 3
TRIALS = 15


def test_three_kernels_share_one_sweep_each_trial_one_child_run(
    ctx, tracker, tenant, mlflow_server, stack
):
    import optuna

    storage = stack.pg.create_database()
    out = workers.run_all(
        ctx,
        workers.sweep,
        [(mlflow_server.url, storage, tenant, i, TRIALS) for i in range(KERNELS)],
    )
    assert {s for s, _ in out.values()} == {"ok"}, out
    numbers = sorted(n for _, ran in out.values() for n in ran)
    assert numbers == list(range(len(numbers)))  # each trial run by exactly one kernel
    assert TRIALS <= len(numbers) < TRIALS + KERNELS  # racing kernels may start one more each

    runs = tracker.list_runs(tenant, "shared-sweep")
    parents = [r for r in runs if r.tags.get("matih.sweep.role") == "parent"]
    assert len(parents) == 1, "the kernels started more than one sweep run"
    parent = parents[0]
    assert parent.status == "finished"
    children = [r for r in runs if r.tags.get("mlflow.parentRunId") == parent.id]
    assert len(children) == len(runs) - 1 == len(numbers)
    assert sorted(int(r.tags["matih.sweep.trial"]) for r in children) == numbers
    assert {r.status for r in children} == {"finished"}

    study = optuna.load_study(study_name=parent.tags["matih.sweep.study"], storage=storage)
    assert [t.state.name for t in study.trials] == ["COMPLETE"] * len(numbers)
    run_ids = [t.user_attrs["matih.run_id"] for t in study.trials]
    assert sorted(run_ids) == sorted(r.id for r in children)  # one run per trial, no other
