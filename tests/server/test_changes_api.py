"""The change tokens a live sidebar polls (``GET /changes``), on a real Jupyter server and
MLflow store: they move with the tenant's experiments and runs, stay put otherwise, and
another tenant's activity never moves them."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from matih_jupyter import RunConfig
from matih_jupyter.server.changes import NEWEST, TTL

from .conftest import Api

pytestmark = pytest.mark.timeout(120)

TENANT = "acme-corp"  # alice's tenant (conftest.py)
OTHER = "globex"  # bob's


async def tokens(api: Api, **kw) -> dict:
    await asyncio.sleep(TTL + 0.05)  # past the answer shared by the tenant's clients
    r = await api("GET", "changes", **kw)
    assert r.status == 200, r
    assert set(r.json) == {"experiments", "runs"}, r
    return r.json


def new_experiment(tracker, tenant: str = TENANT) -> tuple[str, str]:
    """A new experiment's name and id."""
    name = f"live-{uuid.uuid4().hex[:8]}"
    return name, tracker.get_or_create_experiment(name, tenant)


async def test_tokens_move_with_the_tenants_experiments_and_runs(api: Api, tracker) -> None:
    _, quiet = new_experiment(tracker)
    start = await tokens(api)
    assert await tokens(api) == start  # nothing happened: nothing moves

    name, exp = new_experiment(tracker)
    after_exp = await tokens(api)
    assert after_exp["experiments"] != start["experiments"]
    assert exp in after_exp["runs"] and quiet in after_exp["runs"]

    # A run started (through the REST API, by another client) moves its experiment only.
    r = await api("POST", "experiments/runs", {"experiment_id": exp, "name": "live"})
    assert r.status == 201, r
    run_id = r.json["id"]
    started = await tokens(api)
    assert started["runs"][exp] != after_exp["runs"][exp]
    assert started["runs"][quiet] == after_exp["runs"][quiet]
    assert started["experiments"] == after_exp["experiments"]

    # A metric logged, a metric updated, the run's end: each moves the token.
    seen = [started["runs"][exp]]
    for value in (0.9, 0.5):
        r = await api(
            "POST", f"runs/{run_id}/metrics", {"metrics": [{"key": "loss", "value": value}]}
        )
        assert r.status == 200, r
        seen.append((await tokens(api))["runs"][exp])
    r = await api("POST", f"runs/{run_id}/end", {"status": "FINISHED"})
    assert r.status == 200, r
    ended = await tokens(api)
    seen.append(ended["runs"][exp])
    assert len(set(seen)) == len(seen), seen
    assert await tokens(api) == ended

    # A run that starts and ends between two polls still shows.
    with tracker.start_run(name, RunConfig(run_name="quick", tenant_id=TENANT)) as run:
        run.log_metric("loss", 0.1)
    assert (await tokens(api))["runs"][exp] != ended["runs"][exp]

    # Archiving the experiment drops it from the tokens.
    r = await api("DELETE", f"experiments/{exp}")
    assert r.status == 200, r
    archived = await tokens(api)
    assert exp not in archived["runs"] and archived["experiments"] != ended["experiments"]


async def test_another_tenants_activity_never_moves_the_tokens(api: Api, tracker) -> None:
    name, mine = new_experiment(tracker)
    with tracker.start_run(name, RunConfig(run_name="mine", tenant_id=TENANT)) as run:
        run.log_metric("loss", 0.3)
    before = await tokens(api)
    globex_before = await tokens(api, user="bob")

    # globex works: an experiment, runs started, metrics logged, runs ended, an archive.
    r = await api("POST", "experiments", {"name": f"secret-{uuid.uuid4().hex[:6]}"}, user="bob")
    assert r.status == 201, r
    theirs = r.json["id"]
    for i in range(3):
        r = await api(
            "POST", "experiments/runs", {"experiment_id": theirs, "name": f"b{i}"}, user="bob"
        )
        assert r.status == 201, r
        run_id = r.json["id"]
        metrics = {"metrics": [{"key": "loss", "value": 1.0 / (i + 1)}]}
        assert (await api("POST", f"runs/{run_id}/metrics", metrics, user="bob")).status == 200
        if i:
            assert (await api("POST", f"runs/{run_id}/end", None, user="bob")).status == 200
    other_name, other = new_experiment(tracker, OTHER)
    with tracker.start_run(other_name, RunConfig(run_name="b-core", tenant_id=OTHER)) as run:
        run.log_metric("loss", 0.2)
    assert (await api("DELETE", f"experiments/{other}", user="bob")).status == 200

    # Not a single token of acme-corp moved, and none of globex's ids shows.
    after = await tokens(api)
    assert after == before
    assert theirs not in after["runs"] and other not in after["runs"]
    # The same for carol reading acme-corp; globex's own view did move.
    assert await tokens(api, user="carol") == before
    globex_after = await tokens(api, user="carol", tenant=OTHER)
    assert globex_after["experiments"] != globex_before["experiments"]
    assert theirs in globex_after["runs"] and mine not in globex_after["runs"]
    # A tenant the user may not use is the usual 404, with no tokens.
    r = await api("GET", "changes", user="bob", tenant=TENANT)
    assert r.status == 404 and "runs" not in r.json, r


async def test_a_poll_does_not_keep_an_idle_server_alive(api: Api, jp_serverapp) -> None:
    """The sidebar polls with ``no_track_activity=1``: the server's idle clock keeps going."""
    await api("GET", "changes")
    before = jp_serverapp.web_app.settings["api_last_activity"]
    await asyncio.sleep(0.05)
    r = await api("GET", "changes", params={"no_track_activity": "1"})
    assert r.status == 200, r
    assert jp_serverapp.web_app.settings["api_last_activity"] == before
    await api("GET", "changes")
    assert jp_serverapp.web_app.settings["api_last_activity"] > before


async def test_an_old_run_deleted_or_restored_moves_its_experiment(api: Api, tracker) -> None:
    """An old finished run is neither running nor among the newest: deleting it (from a
    notebook, on the same store) still moves its experiment's token, and restoring it."""
    name, exp = new_experiment(tracker)
    _, other = new_experiment(tracker)
    runs = []
    for i in range(NEWEST + 1):  # the first is then older than the newest NEWEST
        with tracker.start_run(name, RunConfig(run_name=f"r{i}", tenant_id=TENANT)) as run:
            run.log_metric("loss", 1 / (i + 1))
        runs.append(run.run_id)
    before = await tokens(api)
    tracker.delete_run(runs[0], TENANT)
    deleted = await tokens(api)
    assert deleted["runs"][exp] != before["runs"][exp]
    assert deleted["runs"][other] == before["runs"][other]
    r = await api("GET", f"experiments/{exp}/runs")
    assert runs[0] not in {run["id"] for run in r.json["runs"]}
    tracker.restore_run(runs[0], TENANT)
    assert (await tokens(api))["runs"][exp] not in (deleted["runs"][exp], before["runs"][exp])
