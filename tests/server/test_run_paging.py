"""Paging and search of the runs listing, on a real Jupyter server and MLflow store: no
answer holds more than a page, paging reaches every run exactly once, a search or a status
reaches runs on any page, and page tokens answer only the tenant and listing that got them."""

from __future__ import annotations

import base64
import uuid

import pytest

from matih_jupyter import RunConfig

from .conftest import Api

pytestmark = pytest.mark.timeout(240)

TENANT = "acme-corp"  # alice's tenant (conftest.py)
OTHER = "globex"  # bob's
RUNS = 130
PAGE = 25


def seed(tracker, tenant: str, names: list[str]) -> tuple[str, list[str]]:
    """A new experiment of ``tenant`` holding one bare run per name (oldest first)."""
    exp_id = tracker.get_or_create_experiment(f"paging-{uuid.uuid4().hex[:8]}", tenant)
    ids = [
        tracker.create_run(exp_id, RunConfig(run_name=n, tenant_id=tenant, user_id="seed")).id
        for n in names
    ]
    return exp_id, ids


async def all_pages(api: Api, exp_id: str, size: int, **params) -> tuple[list[str], int]:
    """Every run id of a listing, page by page; checks each page's size on the way."""
    seen: list[str] = []
    token, pages = None, 0
    while True:
        query = {"max_results": str(size), **params, **({"page_token": token} if token else {})}
        r = await api("GET", f"experiments/{exp_id}/runs", params=query)
        assert r.status == 200, r
        assert len(r.json["runs"]) <= size, len(r.json["runs"])
        seen += [run["id"] for run in r.json["runs"]]
        pages += 1
        token = r.json["next_page_token"]
        if not token:
            return seen, pages


async def _first_token(api: Api, exp_id: str, **kw) -> str:
    params = {"max_results": "5", **kw.pop("params", {})}
    r = await api("GET", f"experiments/{exp_id}/runs", params=params, **kw)
    assert r.status == 200 and r.json["next_page_token"], r
    return r.json["next_page_token"]


def _refused(r, field: str = "page_token") -> None:
    assert r.status == 400 and r.json["field"] == field, r


async def test_paging_reaches_every_run_once_and_no_answer_exceeds_a_page(
    api: Api, tracker
) -> None:
    exp_id, ids = seed(tracker, TENANT, [f"run-{i:03d}" for i in range(RUNS)])
    # Runs elsewhere, the tenant's and another tenant's, stay out of the listing.
    seed(tracker, TENANT, ["elsewhere"] * 3)
    seed(tracker, OTHER, [f"run-{i:03d}" for i in range(5)])

    seen, pages = await all_pages(api, exp_id, PAGE, order_by="start_time DESC")
    assert pages == -(-RUNS // PAGE)
    assert len(seen) == len(set(seen)) == RUNS and set(seen) == set(ids)

    # The largest page is MLflow's; anything else is a 400 naming max_results.
    r = await api("GET", f"experiments/{exp_id}/runs", params={"max_results": "1000"})
    assert r.status == 200 and len(r.json["runs"]) == RUNS and r.json["next_page_token"] is None
    for bad in ("1001", "0", "-5", "ten", "1e3"):
        r = await api("GET", f"experiments/{exp_id}/runs", params={"max_results": bad})
        _refused(r, "max_results")
        assert "1..1000" in r.json["message"], r
    # Without max_results a page holds 100 runs.
    r = await api("GET", f"experiments/{exp_id}/runs")
    assert len(r.json["runs"]) == 100 and r.json["next_page_token"], r


async def test_bad_page_tokens_are_one_clear_400(api: Api, tracker) -> None:
    exp_id, _ = seed(tracker, TENANT, [f"run-{i}" for i in range(12)])
    other_exp, _ = seed(tracker, TENANT, [f"run-{i}" for i in range(12)])
    path = f"experiments/{exp_id}/runs"
    token = await _first_token(api, exp_id)
    version, payload, mac = token.split(".")
    # MLflow's own offset, re-wrapped without the server's key, is refused like garbage.
    offset = base64.urlsafe_b64encode(b'{"offset": 0}').decode().rstrip("=")
    bad = [
        "garbage",
        "",
        "p1..",
        f"{version}.{offset}.{mac}",  # another offset under the old MAC
        f"{version}.{payload}.{mac[:-2]}",  # a truncated MAC
        f"p0.{payload}.{mac}",
        token + "A",
        "x" * 5000,
        base64.b64encode(b'{"offset": 5}').decode(),  # MLflow's raw token
    ]
    bodies = set()
    for t in bad:
        r = await api("GET", path, params={"max_results": "5", "page_token": t})
        if t == "":
            assert r.status == 200, r  # an empty token is no token: the first page
            continue
        _refused(r)
        assert "Start again without page_token" in r.json["hint"], r
        bodies.add(r.raw)
    assert len(bodies) == 1  # one answer, whatever was wrong

    # A token answers only the listing that issued it: not with another filter, search,
    # status, order, parent, trials flag, or in another experiment.
    for params in (
        {"filter": "params.x = '1'"},
        {"search": "run"},
        {"status": "running"},
        {"order_by": "start_time ASC"},
        {"include_trials": "true"},
        {"include_deleted": "true"},
    ):
        r = await api("GET", path, params={"max_results": "5", "page_token": token, **params})
        _refused(r)
    r = await api("GET", f"experiments/{other_exp}/runs", params={"page_token": token})
    _refused(r)
    # The page size may change between pages of one listing.
    r = await api("GET", path, params={"max_results": "7", "page_token": token})
    assert r.status == 200 and len(r.json["runs"]) == 7, r


async def test_a_page_token_never_crosses_tenants(api: Api, tracker) -> None:
    """Alice's token (acme-corp) shows none of globex's runs to anyone, and none of
    acme-corp's to bob: every crossing is the same 400, before any run is read."""
    mine, my_runs = seed(tracker, TENANT, [f"a-{i}" for i in range(12)])
    theirs, their_runs = seed(tracker, OTHER, [f"b-{i}" for i in range(12)])
    alice_token = await _first_token(api, mine)
    bob_token = await _first_token(api, theirs, user="bob")

    attempts = [
        # bob replays alice's token on his own experiment, and on hers
        dict(exp=theirs, token=alice_token, user="bob", tenant=None),
        dict(exp=mine, token=alice_token, user="bob", tenant=None),
        # carol may use both tenants: a token of one never pages the other
        dict(exp=theirs, token=alice_token, user="carol", tenant=OTHER),
        dict(exp=mine, token=bob_token, user="carol", tenant=TENANT),
        # alice replays bob's token on her experiment
        dict(exp=mine, token=bob_token, user="alice", tenant=None),
    ]
    for a in attempts:
        r = await api(
            "GET",
            f"experiments/{a['exp']}/runs",
            params={"max_results": "5", "page_token": a["token"]},
            user=a["user"],
            tenant=a["tenant"],
        )
        _refused(r)
        for run_id in my_runs + their_runs:
            assert run_id.encode() not in r.raw
    # Each token still pages its own listing, for a user of that tenant (carol included).
    r = await api(
        "GET",
        f"experiments/{theirs}/runs",
        params={"max_results": "5", "page_token": bob_token},
        user="carol",
        tenant=OTHER,
    )
    assert r.status == 200 and {x["id"] for x in r.json["runs"]} <= set(their_runs), r


async def test_search_and_status_reach_runs_on_every_page(api: Api, tracker) -> None:
    names = [f"run-{i:03d}" for i in range(60)]
    names += ["lr_0.1", "lrx0.1", "50%-drop", "50x-drop", "it's done", "Mixed-CASE"]
    exp_id, ids = seed(tracker, TENANT, names)
    by_name = dict(zip(names, ids, strict=True))
    failed = [by_name["run-005"], by_name["run-044"], by_name["lr_0.1"]]
    for run_id in failed:
        tracker.end_run(run_id, "FAILED", TENANT)
    tracker.end_run(by_name["run-017"], "FINISHED", TENANT)

    async def found(size: int = 4, **params) -> list[str]:
        seen, _ = await all_pages(api, exp_id, size, **params)
        assert len(seen) == len(set(seen))
        return sorted(seen)

    # The matches are spread over the whole listing (runs are newest first).
    expected = sorted(by_name[n] for n in names if "run-01" in n)
    assert len(expected) == 10
    assert await found(search="run-01") == expected
    # LIKE's wildcards and quotes in the text are plain characters.
    assert await found(search="lr_0") == [by_name["lr_0.1"]]
    assert await found(search="50%") == [by_name["50%-drop"]]
    assert await found(search="it's") == [by_name["it's done"]]
    assert await found(search="mixed-case") == [by_name["Mixed-CASE"]]
    assert await found(search="no such run") == []
    # Status, alone and with a search.
    assert await found(status="failed") == sorted(failed)
    assert await found(status="FINISHED") == [by_name["run-017"]]
    assert await found(status="failed", search="run-0") == sorted(failed[:2])
    running = await found(size=1000, status="running")
    assert len(running) == len(names) - 4

    r = await api("GET", f"experiments/{exp_id}/runs", params={"status": "done"})
    _refused(r, "status")
    assert "running" in r.json["hint"], r
    r = await api("GET", f"experiments/{exp_id}/runs", params={"search": "x" * 251})
    _refused(r, "search")
    # A search's token pages that search only.
    token = await _first_token(api, exp_id, params={"search": "run-0", "max_results": "3"})
    r = await api(
        "GET",
        f"experiments/{exp_id}/runs",
        params={"search": "run-01", "max_results": "3", "page_token": token},
    )
    _refused(r)
