"""Many notebooks on one server at once: nothing lost, one production version, one
experiment. Real processes (forkserver, MLflow preloaded) against the real server."""

from __future__ import annotations

import workers

from matih_jupyter.core.registry import ModelRegistry

PROCS = 8
POINTS = 2000


def test_eight_processes_log_2000_points_each_into_one_experiment(
    ctx, tracker, tenant, mlflow_server
):
    out = workers.run_all(
        ctx,
        workers.log_points,
        [(mlflow_server.url, tenant, "shared", i, POINTS) for i in range(PROCS)],
    )
    assert {s for s, _ in out.values()} == {"ok"}, out
    experiments = {v["experiment_id"] for _, v in out.values()}
    assert len(experiments) == 1, "the processes created more than one experiment"
    runs = tracker.list_runs(tenant, "shared")
    assert len(runs) == PROCS and {r.status for r in runs} == {"finished"}
    total = 0
    for index, (_, v) in out.items():
        history = tracker.get_metric_history(v["run_id"], "m")
        # Every point, once, with its own value: no loss, no duplicate, no mix-up.
        assert [p.step for p in history] == list(range(POINTS))
        assert [p.value for p in history] == [index * 1_000_000 + s for s in range(POINTS)]
        total += len(history)
    assert total == PROCS * POINTS


def test_eight_processes_create_the_same_experiment_once(ctx, tracker, tenant, mlflow_server):
    out = workers.run_all(
        ctx,
        workers.create_experiment,
        [(mlflow_server.url, tenant, "race", i) for i in range(PROCS)],
    )
    assert {s for s, _ in out.values()} == {"ok"}, out
    ids = {v for _, v in out.values()}
    assert len(ids) == 1
    listed = tracker.list_experiments(tenant)
    assert [e.id for e in listed] == list(ids)


def test_eight_concurrent_promotions_leave_one_production_version(
    ctx, tracker, tenant, mlflow_server
):
    _promotion_race(ctx, ModelRegistry(tracker), tenant, mlflow_server.url)


def test_eight_concurrent_promotions_on_postgresql_directly(ctx, stack, tenant, tmp_path):
    """Kernels on the SQL store itself claim and commit each epoch in one transaction:
    the race must come out the same as through the server."""
    from matih_jupyter import ExperimentTracker

    uri = stack.pg.create_database(template=stack.template)
    tracker = ExperimentTracker(tracking_uri=uri, default_artifact_root=tmp_path.as_uri())
    _promotion_race(ctx, ModelRegistry(tracker), tenant, uri)


def _promotion_race(ctx, reg: ModelRegistry, tenant: str, url: str) -> None:
    from sklearn.datasets import make_classification
    from sklearn.linear_model import LogisticRegression

    x, y = make_classification(n_samples=60, n_features=4, random_state=1)
    model = LogisticRegression().fit(x, y)
    versions = []
    for _ in range(PROCS):
        v = reg.register_model(tenant, "race", model, "sklearn", {"auc": 0.8}, {}, None,
                               user_id="alice").versions[-1]  # fmt: skip
        reg.transition_stage(tenant, "race", v, "staging", user_id="alice")
        versions.append(v)
    out = workers.run_all(ctx, workers.promote, [(url, tenant, "race", v) for v in versions])
    assert {s for s, _ in out.values()} == {"ok"}, out
    outcomes = {str(i): v for i, (_, v) in out.items()}
    winners = [v for v, o in outcomes.items() if o == "won"]
    assert set(outcomes.values()) <= {"won", "conflict"} and winners, outcomes
    prod = [v.version for v in reg.list_versions(tenant, "race") if v.stage == "production"]
    assert len(prod) == 1, prod
    meta = reg.get_model(tenant, "race")
    assert meta.aliases["production"] == prod[0] == meta.current_version
    promoted = [r.version for r in reg.history(tenant, "race") if r.to_stage == "production"]
    assert sorted(promoted) == sorted(winners) and promoted[-1] == prod[0]
    print(f"promotion race: {len(winners)} won, {PROCS - len(winners)} ConflictError, "
          f"production versions after: {len(prod)}")  # fmt: skip
