"""Governed promotion in the core: the policy (who, gates, approval), approval requests,
and the record of every move, attacked through the Python API on a real store."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from matih_jupyter.core.errors import ConflictError, LifecycleError, NotFoundError
from matih_jupyter.core.registry.governance import (
    ApprovalRequiredError,
    GateFailedError,
    NotPermittedError,
    PolicyError,
    acting_in_groups,
)

from .conftest import register, version_in

POLICY = """
[tenants.acme.groups]
ml-leads = ["carol", "dave"]

[tenants.acme.stages.staging]
users = ["alice", "bob"]
groups = ["ml-leads"]
require_tags = ["validation_run_id"]

[[tenants.acme.stages.staging.metrics]]
metric = "auc"
min = 0.8

[tenants.acme.stages.production]
users = ["alice"]
groups = ["ml-leads"]
approval = true

[[tenants.acme.stages.production.metrics]]
metric = "auc"
champion_delta = 0.01
"""


def state(reg: Any, tenant: str = "acme", name: str = "churn") -> Any:
    """Everything a move could change: the model's tags and aliases, every version's tags."""
    client = reg.tracker.client
    rm = client.get_registered_model(f"{tenant}.{name}")
    versions = client.search_model_versions(f"name = '{tenant}.{name}'")
    return (
        dict(rm.tags),
        dict(rm.aliases),
        {v.version: dict(v.tags) for v in versions},
    )


def validated(reg: Any, version: str, tenant: str = "acme", name: str = "churn") -> None:
    run_id = reg.get_version(tenant, name, version).run_id
    reg.tracker.client.set_tag(run_id, "validation_run_id", "val-123")


@pytest.fixture
def governed(registry, tmp_path: Path):
    """A registry with v1 in production (before the policy) and the policy in force."""
    version_in(registry, "production")
    path = tmp_path / "policy.toml"
    path.write_text(POLICY)
    registry.set_policy(path)
    return registry


def staged(reg: Any, auc: float, user: str = "alice") -> str:
    v = register(reg, auc=auc).versions[-1]
    validated(reg, v)
    reg.transition_stage("acme", "churn", v, "staging", user_id=user)
    return v


# -- no policy -----------------------------------------------------------------------------


def test_without_a_policy_moves_are_as_before_and_each_leaves_a_record(registry):
    assert registry.policy is None
    v = version_in(registry, "production")
    history = registry.history("acme", "churn")
    assert [r.approved_by for r in history] == [None] * len(history)
    records = registry.records("acme", "churn", v)
    assert [(d["from_stage"], d["to_stage"]) for d in records] == [
        ("development", "staging"),
        ("staging", "production"),
    ]
    assert records[-1]["requested_by"] == "alice" and records[-1]["gates"] == []
    assert records[-1]["run_id"] == registry.get_version("acme", "churn", v).run_id
    assert history[-1].record == f"matih.record.{history[-1].epoch:08d}"


# -- who may move --------------------------------------------------------------------------


def test_a_user_without_the_right_is_refused_and_nothing_changes(governed):
    v = register(governed, auc=0.9).versions[-1]
    validated(governed, v)
    before = state(governed)
    with pytest.raises(NotPermittedError) as err:
        governed.transition_stage("acme", "churn", v, "staging", user_id="mallory")
    assert "mallory" in err.value.message and "[tenants.acme.stages.staging]" in err.value.message
    assert "alice, bob, group ml-leads" in err.value.message
    assert err.value.http_status == 403
    assert state(governed) == before


def test_groups_from_the_policy_the_call_and_the_environment(governed, monkeypatch):
    for user in ("dave", "erin", "frank"):
        v = register(governed, auc=0.9).versions[-1]
        validated(governed, v)
        if user == "dave":  # in the policy's own group
            governed.transition_stage("acme", "churn", v, "staging", user_id=user)
        elif user == "erin":  # a JupyterHub group handed in by the server for one call
            with pytest.raises(NotPermittedError):
                governed.transition_stage("acme", "churn", v, "staging", user_id=user)
            with acting_in_groups("erin", ["ml-leads"]):
                governed.transition_stage("acme", "churn", v, "staging", user_id=user)
        else:  # MATIH_USER_GROUPS of the user the process runs as
            monkeypatch.setenv("MATIH_USER_ID", "frank")
            monkeypatch.setenv("MATIH_USER_GROUPS", "other, ml-leads")
            governed.transition_stage("acme", "churn", v, "staging", user_id=user)
        assert governed.get_version("acme", "churn", v).stage == "staging"


def test_another_users_groups_from_the_environment_do_not_count(governed, monkeypatch):
    monkeypatch.setenv("MATIH_USER_ID", "frank")
    monkeypatch.setenv("MATIH_USER_GROUPS", "ml-leads")
    v = register(governed, auc=0.9).versions[-1]
    validated(governed, v)
    with pytest.raises(NotPermittedError):
        governed.transition_stage("acme", "churn", v, "staging", user_id="mallory")


# -- gates ---------------------------------------------------------------------------------


def test_a_failed_metric_gate_names_the_rule_and_the_fix(governed):
    v = register(governed, auc=0.7).versions[-1]
    validated(governed, v)
    before = state(governed)
    with pytest.raises(GateFailedError) as err:
        governed.transition_stage("acme", "churn", v, "staging", user_id="alice")
    message = str(err.value)
    assert "auc >= 0.8" in message and "auc is 0.7" in message
    assert "[tenants.acme.stages.staging.metrics[0]]" in message
    assert "at least 0.8" in message and "Nothing was changed" in message
    assert [r["passed"] for r in err.value.results] == [False, True]
    assert state(governed) == before


def test_a_missing_required_tag_fails_then_passes_once_set(governed):
    v = register(governed, auc=0.9).versions[-1]
    with pytest.raises(GateFailedError, match="tag 'validation_run_id'"):
        governed.transition_stage("acme", "churn", v, "staging", user_id="alice")
    validated(governed, v)
    governed.transition_stage("acme", "churn", v, "staging", user_id="alice")
    gates = governed.history("acme", "churn")[-1].gates
    assert gates == ["pass: auc >= 0.8 (auc is 0.9)", "pass: tag 'validation_run_id' is set "
                     "(validation_run_id = val-123)"]  # fmt: skip


def test_champion_delta_gate(governed):
    v = staged(governed, auc=0.805)  # champion v1 has 0.8; needs >= 0.81
    with pytest.raises(GateFailedError, match=r"champion v1 0\.8"):
        governed.transition_stage("acme", "churn", v, "production", user_id="alice")


def test_required_inputs_gate(registry):
    from mlflow.entities import Dataset, DatasetInput, InputTag

    registry.set_policy({"tenants": {"*": {"stages": {"staging": {"require_inputs": ["train"]}}}}})
    v = register(registry).versions[-1]
    with pytest.raises(GateFailedError, match="inputs train logged"):
        registry.transition_stage("acme", "churn", v, "staging", user_id="alice")
    run_id = registry.get_version("acme", "churn", v).run_id
    dataset = Dataset("train", "d1g3st42", "local", source="file:///data/train.csv")
    tag = InputTag("mlflow.data.context", "training")
    registry.tracker.client.log_inputs(run_id, datasets=[DatasetInput(dataset, [tag])])
    registry.transition_stage("acme", "churn", v, "staging", user_id="alice")
    inputs = registry.records("acme", "churn", v)[-1]["inputs"]
    assert inputs == [
        {"name": "train", "digest": "d1g3st42", "source_type": "local", "context": "training"}
    ]


# -- approvals -----------------------------------------------------------------------------


def test_production_needs_a_second_person(governed):
    v = staged(governed, auc=0.9)
    before = state(governed)
    with pytest.raises(ApprovalRequiredError) as err:
        governed.transition_stage("acme", "churn", v, "production", "better", user_id="alice")
    request = err.value.request
    assert request.status == "pending" and request.requested_by == "alice"
    assert request.production_version == "1" and request.reason == "better"
    assert [g["passed"] for g in request.gates] == [True]
    assert governed.get_version("acme", "churn", v).stage == "staging"
    tags, aliases, versions = state(governed)
    assert (aliases, versions) == before[1:]  # only the request was written
    assert set(tags) - set(before[0]) == {f"matih.request.{request.id}"}
    assert [r.id for r in governed.requests("acme", "churn")] == [request.id]

    with pytest.raises(NotPermittedError, match="cannot approve it"):
        governed.approve("acme", "churn", request.id, user_id="alice")
    with pytest.raises(NotPermittedError, match="may not approve"):
        governed.approve("acme", "churn", request.id, user_id="mallory")
    model = governed.approve("acme", "churn", request.id, user_id="carol", reason="ok")
    assert model.production_version == v
    moved = governed.history("acme", "churn")[-2]
    assert (moved.version, moved.to_stage, moved.user_id) == (v, "production", "alice")
    assert (moved.approved_by, moved.request_id) == ("carol", request.id)
    record = governed.records("acme", "churn", v)[-1]
    assert record["approved_by"] == "carol" and record["requested_by"] == "alice"
    assert record["champion"] == {"version": "1", "metrics": {"auc": 0.8}}
    assert record["challenger"] == {"version": v, "metrics": {"auc": 0.9}}
    assert governed.requests("acme", "churn") == []
    done = governed.requests("acme", "churn", status=None)[0]
    assert (done.status, done.decided_by, done.decision_reason) == ("approved", "carol", "ok")
    with pytest.raises(ConflictError, match="approved by carol already"):
        governed.approve("acme", "churn", request.id, user_id="dave")


def test_the_model_card_is_built_from_the_records(governed, tmp_path):
    v = staged(governed, auc=0.9)
    with pytest.raises(ApprovalRequiredError) as err:
        governed.transition_stage("acme", "churn", v, "production", user_id="alice")
    governed.approve("acme", "churn", err.value.request.id, user_id="dave")
    run_id = governed.get_version("acme", "churn", v).run_id
    card = Path(
        governed.tracker.client.download_artifacts(run_id, "model_card.md", str(tmp_path))
    ).read_text()
    assert "## Records of the moves" in card
    assert "| staging → production | alice | dave | pass auc >= champion + 0.01 |" in card


def test_a_request_goes_stale_when_production_changes(governed):
    v2 = staged(governed, auc=0.9)
    with pytest.raises(ApprovalRequiredError) as err:
        governed.transition_stage("acme", "churn", v2, "production", user_id="alice")
    first = err.value.request
    v3 = staged(governed, auc=0.95)
    with pytest.raises(ApprovalRequiredError) as err:
        governed.transition_stage("acme", "churn", v3, "production", user_id="alice")
    governed.approve("acme", "churn", err.value.request.id, user_id="carol")
    assert [r.status for r in governed.requests("acme", "churn", None)] == ["stale", "approved"]
    before = state(governed)
    with pytest.raises(ConflictError, match="stale") as stale:
        governed.approve("acme", "churn", first.id, user_id="carol")
    assert "version 1 was in production when it was filed, version 3 is now" in str(stale.value)
    assert governed.get_model("acme", "churn").production_version == v3
    assert state(governed)[1:] == before[1:]
    assert governed.requests("acme", "churn", None)[0].decided_by == "carol"


def test_two_approvals_racing_apply_exactly_once(governed):
    v = staged(governed, auc=0.9)
    with pytest.raises(ApprovalRequiredError) as err:
        governed.transition_stage("acme", "churn", v, "production", user_id="alice")
    request_id = err.value.request.id
    barrier = threading.Barrier(2)
    outcomes: dict[str, Any] = {}

    def approve(user: str) -> None:
        barrier.wait()
        try:
            outcomes[user] = governed.approve("acme", "churn", request_id, user_id=user)
        except ConflictError as exc:
            outcomes[user] = exc

    threads = [threading.Thread(target=approve, args=(u,)) for u in ("carol", "dave")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    won = [u for u, o in outcomes.items() if not isinstance(o, Exception)]
    assert len(won) == 1 and len(outcomes) == 2
    promotions = [r for r in governed.history("acme", "churn") if r.request_id == request_id]
    assert [(r.version, r.to_stage, r.approved_by) for r in promotions] == [
        (v, "production", won[0]),
        ("1", "archived", won[0]),
    ]
    assert governed.requests("acme", "churn", None)[0].decided_by == won[0]


def test_reject_and_withdraw(governed):
    v = staged(governed, auc=0.9)
    ids = []
    for _ in range(2):
        with pytest.raises(ApprovalRequiredError) as err:
            governed.transition_stage("acme", "churn", v, "production", user_id="alice")
        ids.append(err.value.request.id)
    with pytest.raises(NotPermittedError):
        governed.reject("acme", "churn", ids[0], user_id="mallory")
    assert governed.reject("acme", "churn", ids[0], user_id="carol", reason="no").status == (
        "rejected"
    )
    assert governed.reject("acme", "churn", ids[1], user_id="alice").decided_by == "alice"
    with pytest.raises(ConflictError, match="rejected by carol"):
        governed.approve("acme", "churn", ids[0], user_id="dave")
    assert governed.get_version("acme", "churn", v).stage == "staging"


def test_explicit_request_without_a_policy_is_still_a_second_persons_call(registry):
    v = version_in(registry, "staging")
    request = registry.request_transition("acme", "churn", v, "production", "review please")
    assert registry.get_version("acme", "churn", v).stage == "staging"
    with pytest.raises(NotPermittedError):
        registry.approve("acme", "churn", request.id, user_id=request.requested_by)
    registry.approve("acme", "churn", request.id, user_id="someone-else")
    assert registry.get_version("acme", "churn", v).stage == "production"


def test_rollback_obeys_the_policy_and_writes_a_record(governed):
    v = staged(governed, auc=0.9)
    with pytest.raises(ApprovalRequiredError) as err:
        governed.transition_stage("acme", "churn", v, "production", user_id="alice")
    governed.approve("acme", "churn", err.value.request.id, user_id="carol")
    with pytest.raises(NotPermittedError):
        governed.rollback("acme", "churn", user_id="mallory")
    with pytest.raises(ApprovalRequiredError) as err:
        governed.rollback("acme", "churn", "bad numbers", user_id="alice")
    request = err.value.request
    assert (request.kind, request.version, request.to_stage) == ("rollback", "1", "production")
    assert governed.get_model("acme", "churn").production_version == v
    # The champion-relative gate does not apply: v1 is restored whatever v2 scored.
    model = governed.approve("acme", "churn", request.id, user_id="dave")
    assert model.production_version == "1"
    assert governed.get_version("acme", "churn", v).stage == "development"
    restored = governed.records("acme", "churn", "1")[-1]
    assert (restored["to_stage"], restored["approved_by"]) == ("production", "dave")
    assert restored["reason"].startswith("rollback: bad numbers")


# -- records are written once --------------------------------------------------------------


def test_a_record_name_already_taken_is_refused_and_nothing_changes(registry):
    v = register(registry).versions[-1]
    rm = registry.tracker.client.get_registered_model("acme.churn")
    taken = f"matih.record.{int(rm.tags['matih.epoch']) + 1:08d}"
    registry.tracker.client.set_model_version_tag("acme.churn", v, taken, "{}")
    before = state(registry)
    with pytest.raises(ConflictError, match="written once and never replaced"):
        registry.transition_stage("acme", "churn", v, "staging", user_id="alice")
    assert state(registry) == before


# -- tenants -------------------------------------------------------------------------------


def test_another_tenants_requests_are_invisible_and_refused_like_missing_ones(governed):
    register(governed, tenant="beta", name="churn")
    v = staged(governed, auc=0.9)
    with pytest.raises(ApprovalRequiredError) as err:
        governed.transition_stage("acme", "churn", v, "production", user_id="alice")
    rid = err.value.request.id
    assert governed.requests("beta", "churn", None) == []
    missing = "000000000000"
    for attempt in (
        lambda r: governed.approve("beta", "churn", r, user_id="carol"),
        lambda r: governed.reject("beta", "churn", r, user_id="carol"),
    ):
        with pytest.raises(NotFoundError) as theirs:
            attempt(rid)
        with pytest.raises(NotFoundError) as nothing:
            attempt(missing)
        assert str(theirs.value) == str(nothing.value).replace(missing, rid)
    with pytest.raises(NotFoundError):
        governed.requests("gamma", "churn")
    assert governed.requests("acme", "churn")[0].status == "pending"


# -- the policy file -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("[tenants.acme.stages.prod]\nusers = ['a']", "[tenants.acme.stages.prod]: unknown stage"),
        (
            "[[tenants.acme.stages.staging.metrics]]\nmetric = 'auc'\nmin = 'high'",
            "[tenants.acme.stages.staging.metrics[0]] key 'min': expected a number",
        ),
        (
            "[[tenants.acme.stages.staging.metrics]]\nmetric = 'auc'\nmin = 0.1\nmax = 0.9",
            "[tenants.acme.stages.staging.metrics[0]] key 'max': give exactly one of",
        ),
        (
            "[[tenants.acme.stages.staging.metrics]]\nmetric = 'bad metric!'\nmin = 0.1",
            "[tenants.acme.stages.staging.metrics[0]] key 'metric'",
        ),
        (
            "[[tenants.acme.stages.staging.metrics]]\nmetrc = 'auc'\nmin = 0.1",
            "[tenants.acme.stages.staging.metrics[0]] key 'metrc': unknown key",
        ),
        ("[tenants.acme.stages.staging]\napprove = true", "key 'approve': unknown key"),
        ("[tenants.ACME]\n", "[tenants] key 'tenants'"),
        ("[tenant.acme]\n", "top level key 'tenant': unknown key"),
        ("[tenants.acme.stages.staging]\nusers = 'alice'", "key 'users': expected a list"),
        ("[tenants.acme.stages.staging]\napproval = 'yes'", "key 'approval': expected true"),
        ("tenants = [", "is not valid TOML"),
    ],
)
def test_a_bad_policy_file_is_refused_whole_and_the_policy_in_force_stays(
    governed, tmp_path, text, where
):
    in_force = governed.policy
    bad = tmp_path / "bad.toml"
    bad.write_text(text)
    with pytest.raises(PolicyError) as err:
        governed.set_policy(bad)
    assert str(bad) in str(err.value) and where in str(err.value)
    assert governed.policy is in_force


def test_the_embedded_store_reads_matih_home_policy_toml(tmp_path, monkeypatch):
    from matih_jupyter import ExperimentTracker, ModelRegistry

    home = tmp_path / "home"
    monkeypatch.setenv("MATIH_HOME", str(home))
    for name in ("MLFLOW_TRACKING_URI", "MLFLOW_ARTIFACT_ROOT", "MATIH_POLICY_FILE"):
        monkeypatch.delenv(name, raising=False)
    reg = ModelRegistry(ExperimentTracker())
    assert reg.tracker.store.embedded and reg.policy is None
    v = register(reg).versions[-1]
    (home / "policy.toml").write_text("[tenants.acme.stages.staging]\nusers = ['alice']\n")
    assert reg.policy is not None and str(home / "policy.toml") in reg.policy.source
    with pytest.raises(NotPermittedError, match=r"policy\.toml"):
        reg.transition_stage("acme", "churn", v, "staging", user_id="bob")
    (home / "policy.toml").write_text("[tenants.acme.stages.nope]\n")
    with pytest.raises(PolicyError, match="unknown stage 'nope'"):
        reg.transition_stage("acme", "churn", v, "staging", user_id="bob")
    assert reg.get_version("acme", "churn", v).stage == "development"


def test_a_policy_for_other_tenants_leaves_this_one_ungoverned(registry):
    registry.set_policy({"tenants": {"beta": {"stages": {"staging": {"users": ["x"]}}}}})
    v = register(registry).versions[-1]
    registry.transition_stage("acme", "churn", v, "staging", user_id="anyone")
    with pytest.raises(LifecycleError):
        registry.transition_stage("acme", "churn", v, "archived", user_id="anyone")
