"""Sweeps in the runs listing, on a real Jupyter server and MLflow store: trials folded
under their sweep's parent run (``?parent=``), hidden at the top level, tenant-checked."""

from __future__ import annotations

import uuid

import pytest
from sweep_harness import mixed_objective

from matih_jupyter import RunConfig

from .conftest import Api

pytestmark = pytest.mark.timeout(180)

TENANT = "acme-corp"  # alice's tenant (conftest.py)
OTHER = "globex"  # bob's


def sweep(tracker, experiment: str, tenant: str = TENANT, n_trials: int = 5, name="search"):
    config = RunConfig(tenant_id=tenant, user_id="alice")
    return tracker.sweep(
        mixed_objective, experiment, config, n_trials=n_trials, metric="loss", sweep_name=name
    )


def plain_run(tracker, experiment: str) -> str:
    with tracker.start_run(experiment, RunConfig(run_name="baseline", tenant_id=TENANT)) as run:
        run.log_metric("loss", 0.5)
    return str(run.run_id)


async def runs(api: Api, experiment_id: str, **params) -> dict:
    r = await api("GET", f"experiments/{experiment_id}/runs", params=params or None)
    assert r.status == 200, r
    return r.json


async def test_parent_filter_lists_exactly_the_sweeps_trials(api: Api, tracker) -> None:
    exp = f"exp-{uuid.uuid4().hex[:8]}"
    result = sweep(tracker, exp)
    other = sweep(tracker, exp, n_trials=2, name="other")
    plain_run(tracker, exp)
    exp_id = tracker.get_or_create_experiment(exp, TENANT)

    listed = (await runs(api, exp_id, parent=result.parent_run_id))["runs"]

    trials = {r["id"]: r for r in listed}
    assert len(trials) == 5
    assert {r["parent_run_id"] for r in listed} == {result.parent_run_id}
    assert sorted(int(r["tags"]["matih.sweep.trial"]) for r in listed) == [0, 1, 2, 3, 4]
    states = {r["tags"]["matih.sweep.trial"]: r["tags"]["matih.sweep.trial_state"] for r in listed}
    assert (states["1"], states["2"]) == ("FAIL", "PRUNED")
    assert result.best_run_id in trials
    assert {r["sweep"] for r in listed} == {None}  # trials are no sweeps
    other_ids = (await runs(api, exp_id, parent=other.parent_run_id))["runs"]
    assert len(other_ids) == 2 and not {r["id"] for r in other_ids} & set(trials)

    # The parent narrows the user's filter, and pages like any listing.
    done = await runs(
        api,
        exp_id,
        parent=result.parent_run_id,
        filter="tags.`matih.sweep.trial_state` = 'COMPLETE'",
    )
    assert {r["tags"]["matih.sweep.trial_state"] for r in done["runs"]} == {"COMPLETE"}
    assert len(done["runs"]) == 3
    seen, token = [], None
    while True:
        page = await runs(
            api,
            exp_id,
            parent=result.parent_run_id,
            max_results="2",
            **({"page_token": token} if token else {}),
        )
        assert len(page["runs"]) <= 2
        seen += [r["id"] for r in page["runs"]]
        token = page["next_page_token"]
        if not token:
            break
    assert sorted(seen) == sorted(trials)


async def test_top_level_hides_trials_and_summarises_each_sweep(api: Api, tracker) -> None:
    exp = f"exp-{uuid.uuid4().hex[:8]}"
    result = sweep(tracker, exp)
    baseline = plain_run(tracker, exp)
    exp_id = tracker.get_or_create_experiment(exp, TENANT)

    listed = (await runs(api, exp_id))["runs"]

    assert sorted(r["id"] for r in listed) == sorted([result.parent_run_id, baseline])
    by_id = {r["id"]: r for r in listed}
    assert by_id[baseline]["sweep"] is None
    summary = by_id[result.parent_run_id]["sweep"]
    assert summary == {
        "name": "search",
        "metric": "loss",
        "direction": "minimize",
        "children": 5,
        "best_run_id": result.best_run_id,
        "best_trial": result.best_trial,
        "best_value": pytest.approx(result.best_value),
    }
    # Paging walks the top level only.
    seen, token = [], None
    while True:
        page = await runs(api, exp_id, max_results="1", **({"page_token": token} if token else {}))
        seen += [r["id"] for r in page["runs"]]
        token = page["next_page_token"]
        if not token:
            break
    assert sorted(seen) == sorted(by_id)
    # A user's filter still sees the top level only; include_trials lists everything.
    loss = await runs(api, exp_id, filter="attributes.status = 'FINISHED'")
    assert {r["id"] for r in loss["runs"]} == set(by_id)
    everything = await runs(api, exp_id, include_trials="true")
    assert len(everything["runs"]) == 2 + 5


async def test_another_tenants_parent_is_refused_like_a_missing_run(api: Api, tracker) -> None:
    exp = f"exp-{uuid.uuid4().hex[:8]}"
    mine = sweep(tracker, exp, n_trials=2)
    theirs = sweep(tracker, exp, tenant=OTHER, n_trials=2)
    exp_id = tracker.get_or_create_experiment(exp, TENANT)
    their_exp_id = tracker.get_or_create_experiment(exp, OTHER)
    path = f"experiments/{exp_id}/runs"

    missing_id = uuid.uuid4().hex
    missing = await api("GET", path, params={"parent": missing_id})
    foreign = await api("GET", path, params={"parent": theirs.parent_run_id})

    assert missing.status == foreign.status == 404, (missing, foreign)
    same = missing.json["message"].replace(missing_id, theirs.parent_run_id)
    assert foreign.json == {**missing.json, "message": same}
    # Nor through the other tenant's experiment, nor with a run id that is not a run's.
    r = await api("GET", f"experiments/{their_exp_id}/runs", params={"parent": mine.parent_run_id})
    assert r.status == 404, r
    r = await api("GET", path, params={"parent": "x' or '1'='1"})
    assert r.status == 404, r
    # Bob, in globex, sees his sweep's trials; alice's parent id is a missing run to him.
    r = await api(
        "GET",
        f"experiments/{their_exp_id}/runs",
        params={"parent": theirs.parent_run_id},
        user="bob",
    )
    assert r.status == 200 and len(r.json["runs"]) == 2, r
    r = await api(
        "GET", f"experiments/{their_exp_id}/runs", params={"parent": mine.parent_run_id}, user="bob"
    )
    assert r.status == 404, r


async def test_parent_in_another_experiment_of_the_tenant_is_not_found(api: Api, tracker) -> None:
    first, second = (f"exp-{uuid.uuid4().hex[:8]}" for _ in range(2))
    result = sweep(tracker, first, n_trials=1)
    second_id = tracker.get_or_create_experiment(second, TENANT)

    r = await api("GET", f"experiments/{second_id}/runs", params={"parent": result.parent_run_id})

    assert r.status == 404 and r.json["error"] == "not_found", r
