"""Governed promotion over REST (what the sidebar calls): the server's policy file refuses
users without the right on every moving route, files requests where production needs a
second person, and decides them as the authenticated user (JupyterHub groups included);
another tenant's requests answer exactly like missing ones."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .conftest import Api

pytestmark = pytest.mark.timeout(180)

POLICY = """
[tenants.acme-corp.stages.staging]
users = ["alice", "carol"]

[[tenants.acme-corp.stages.staging.metrics]]
metric = "auc"
min = 0.75

[tenants.acme-corp.stages.production]
users = ["alice", "carol"]
groups = ["ml-leads"]
approval = true
"""


@pytest.fixture
def process_policy() -> Iterator[Any]:
    """The process registry; the policy the server gives it is dropped after the test."""
    from matih_jupyter.core import get_model_registry

    registry = get_model_registry()
    try:
        yield registry
    finally:
        registry.set_policy(None)


@pytest.fixture
def matih_config(
    matih_config: dict[str, Any], process_policy: Any, tmp_path: Path
) -> dict[str, Any]:
    path = tmp_path / "policy.toml"
    path.write_text(POLICY)
    return {**matih_config, "policy_file": str(path)}


async def registered(api: Api, registry: Any, tenant: str = "acme-corp", auc: float = 0.8) -> str:
    """A new version of ``churn`` in ``tenant``, registered in-process on the server's store."""
    from sklearn.datasets import make_classification
    from sklearn.linear_model import LogisticRegression

    assert (await api("GET", "models")).status == 200  # the server's tracker is in place
    x, y = make_classification(n_samples=60, n_features=4, random_state=0)
    model = LogisticRegression(max_iter=200).fit(x, y)
    md = registry.register_model(tenant, "churn", model, "sklearn", {"auc": auc}, {})
    return str(md.current_version)


async def test_a_user_without_the_right_is_refused_on_every_moving_route(
    api: Api, process_policy: Any
) -> None:
    v = await registered(api, process_policy)
    history = (await api("GET", "models/churn/history")).json
    attempts = [
        ("PUT", "models/churn/stage", {"version": v, "stage": "staging"}),
        ("POST", "models/churn/requests", {"version": v, "stage": "staging"}),
    ]
    for method, path, body in attempts:
        r = await api(method, path, body, user="Dave.Smith")
        assert r.status == 403, r
        refused = "User 'Dave.Smith' may not move versions of 'churn' into staging"
        assert refused in r.json["message"]
        assert "[tenants.acme-corp.stages.staging]" in r.json["message"]
    assert (await api("GET", "models/churn/history")).json == history
    assert (await api("GET", "models/churn/requests")).json["requests"] == []


async def test_a_failed_gate_is_a_409_naming_the_rule(api: Api, process_policy: Any) -> None:
    v = await registered(api, process_policy, auc=0.7)
    r = await api("PUT", "models/churn/stage", {"version": v, "stage": "staging"})
    assert r.status == 409
    assert "gate 'auc >= 0.75' failed (auc is 0.7" in r.json["message"]
    assert "at least 0.75" in r.json["hint"]


async def test_approval_over_rest_with_hub_groups(api: Api, process_policy: Any) -> None:
    v = await registered(api, process_policy)
    staged = await api("PUT", "models/churn/stage", {"version": v, "stage": "staging"})
    assert staged.status == 200
    r = await api("PUT", "models/churn/stage", {"version": v, "stage": "production"})
    assert r.status == 409 and "needs approval by a second person" in r.json["message"]
    (request,) = (await api("GET", "models/churn/requests")).json["requests"]
    assert request["id"] in r.json["message"]
    assert (request["requested_by"], request["status"], request["to_stage"]) == (
        "alice",
        "pending",
        "production",
    )
    rid = request["id"]
    own = await api("POST", f"models/churn/requests/{rid}/approve", {}, user="alice")
    assert own.status == 403 and "cannot approve it" in own.json["message"]
    outsider = await api("POST", f"models/churn/requests/{rid}/approve", {}, user="Dave.Smith")
    assert outsider.status == 403
    # erin is allowed only through her JupyterHub group ml-leads.
    ok = await api("POST", f"models/churn/requests/{rid}/approve", {"reason": "lgtm"}, user="erin")
    assert ok.status == 200, ok
    assert ok.json["production_version"] == v
    again = await api("POST", f"models/churn/requests/{rid}/approve", {}, user="carol")
    assert again.status == 409 and "approved by erin already" in again.json["message"]
    history = (await api("GET", "models/churn/history")).json["history"]
    assert history[-1]["to_stage"] == "production" and history[-1]["user_id"] == "alice"
    assert history[-1]["approved_by"] == "erin" and history[-2]["approved_by"] is None
    records = (await api("GET", f"models/churn/versions/{v}/records")).json["records"]
    assert records[-1]["approved_by"] == "erin" and records[-1]["request_id"] == rid
    done = (await api("GET", "models/churn/requests", params={"status": "all"})).json
    assert [q["status"] for q in done["requests"]] == ["approved"]


async def test_reject_and_bad_input(api: Api, process_policy: Any) -> None:
    v = await registered(api, process_policy)
    await api("PUT", "models/churn/stage", {"version": v, "stage": "staging"})
    filed = await api(
        "POST", "models/churn/requests", {"version": v, "stage": "production", "reason": "go"}
    )
    assert filed.status == 201 and filed.json["reason"] == "go"
    rid = filed.json["id"]
    r = await api("POST", f"models/churn/requests/{rid}/reject", {"reason": "wait"}, user="carol")
    assert r.status == 200 and r.json["status"] == "rejected" and r.json["decided_by"] == "carol"
    bad = await api("POST", f"models/churn/requests/{rid}/reject", {"because": "x"})
    assert bad.status == 400 and bad.json["field"] == "because"
    status = await api("GET", "models/churn/requests", params={"status": "maybe"})
    assert status.status == 400 and status.json["field"] == "status"


async def test_another_tenants_requests_answer_like_missing_ones(
    api: Api, process_policy: Any
) -> None:
    v = await registered(api, process_policy)
    await registered(api, process_policy, tenant="globex")
    await api("PUT", "models/churn/stage", {"version": v, "stage": "staging"})
    rid = (await api("POST", "models/churn/requests", {"version": v, "stage": "production"})).json[
        "id"
    ]
    missing = "0123456789ab"
    # carol may use globex too; bob only globex. Neither sees acme-corp's request there.
    for user, tenant in (("carol", "globex"), ("bob", None)):
        listed = await api("GET", "models/churn/requests", user=user, tenant=tenant)
        assert listed.status == 200 and listed.json["requests"] == []
        for action in ("approve", "reject"):
            theirs = await api(
                "POST", f"models/churn/requests/{rid}/{action}", {}, user=user, tenant=tenant
            )
            nothing = await api(
                "POST", f"models/churn/requests/{missing}/{action}", {}, user=user, tenant=tenant
            )
            assert theirs.status == nothing.status == 404
            assert theirs.json["message"] == nothing.json["message"].replace(missing, rid)
    # A tenant header the user may not use is refused like a missing tenant.
    r = await api("GET", "models/churn/requests", user="alice", tenant="globex")
    assert r.status == 404
    assert (await api("GET", "models/churn/requests")).json["requests"][0]["status"] == "pending"


def test_a_bad_policy_file_stops_the_server_extension(tmp_path: Path) -> None:
    from matih_jupyter.core import PolicyError
    from matih_jupyter.server.app import MatihJupyter, MatihService

    bad = tmp_path / "policy.toml"
    bad.write_text("[tenants.acme-corp.stages.prod]\n")
    service = MatihService(MatihJupyter(policy_file=str(bad), tracking_uri="sqlite:///x.db"))
    with pytest.raises(PolicyError, match="unknown stage 'prod'"):
        service.install_policy()


async def test_an_approval_after_production_changed_is_refused_as_stale(
    api: Api, process_policy: Any
) -> None:
    first = await registered(api, process_policy)
    second = await registered(api, process_policy)
    for v in (first, second):
        await api("PUT", "models/churn/stage", {"version": v, "stage": "staging"})
    stale = (
        await api("POST", "models/churn/requests", {"version": first, "stage": "production"})
    ).json["id"]
    fresh = (
        await api("POST", "models/churn/requests", {"version": second, "stage": "production"})
    ).json["id"]
    assert (
        await api("POST", f"models/churn/requests/{fresh}/approve", {}, user="carol")
    ).status == 200
    r = await api("POST", f"models/churn/requests/{stale}/approve", {}, user="carol")
    assert r.status == 409 and f"Request {stale} is stale" in r.json["message"]
    assert (await api("GET", "models/churn")).json["production_version"] == second
    listed = (await api("GET", "models/churn/requests", params={"status": "stale"})).json
    assert [q["id"] for q in listed["requests"]] == [stale]
