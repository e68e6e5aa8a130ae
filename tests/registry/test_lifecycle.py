"""The stage lifecycle: every from -> to pair, promotion, rollback chains."""

from __future__ import annotations

import itertools

import pytest

from matih_jupyter.core.errors import InvalidInputError, LifecycleError
from matih_jupyter.core.registry import ALLOWED_TRANSITIONS, STAGES, allowed_transitions

from .conftest import register, version_in

ALLOWED = {
    ("development", "staging"),
    ("staging", "production"),
    ("production", "archived"),
    ("staging", "development"),
    ("production", "development"),
    ("archived", "development"),
}


def test_allowed_transitions_table():
    assert {(a, b) for a, bs in ALLOWED_TRANSITIONS.items() for b in bs} == ALLOWED
    assert allowed_transitions("staging") == ["production", "development"]
    assert allowed_transitions("Development") == ["staging"]
    with pytest.raises(InvalidInputError, match="stage"):
        allowed_transitions("live")


@pytest.mark.parametrize(("src", "dst"), list(itertools.product(STAGES, STAGES)))
def test_every_pair(registry, src, dst):
    v = version_in(registry, src)
    before = registry.history("acme", "churn")
    if (src, dst) in ALLOWED:
        md = registry.transition_stage("acme", "churn", v, dst, reason="why", user_id="bob")
        assert registry.get_version("acme", "churn", v).stage == dst
        last = registry.history("acme", "churn")[-1]
        assert (last.version, last.from_stage, last.to_stage) == (v, src, dst)
        assert (last.user_id, last.reason) == ("bob", "why")
        assert md.aliases.get("production") == (v if dst == "production" else None)
        assert md.aliases.get("staging") == (v if dst == "staging" else None)
    else:
        with pytest.raises(LifecycleError) as err:
            registry.transition_stage("acme", "churn", v, dst)
        # The error names the moves that are allowed from here.
        for allowed in ALLOWED_TRANSITIONS[src]:
            assert allowed in str(err.value)
        assert err.value.http_status == 409
        assert registry.get_version("acme", "churn", v).stage == src
        assert registry.history("acme", "churn") == before


def test_promotion_archives_previous_production(registry):
    v1 = version_in(registry, "production")
    v2 = version_in(registry, "staging")
    md = registry.transition_stage("acme", "churn", v2, "production", user_id="carol")
    assert md.aliases == {"production": v2}
    assert md.current_version == v2 and md.stage == "production"
    stages = {i.version: i.stage for i in registry.list_versions("acme", "churn")}
    assert stages == {v1: "archived", v2: "production"}
    records = registry.history("acme", "churn")[-2:]
    assert {(r.version, r.from_stage, r.to_stage) for r in records} == {
        (v2, "staging", "production"),
        (v1, "production", "archived"),
    }
    assert records[0].epoch == records[1].epoch
    assert all(r.user_id == "carol" for r in records)
    # list_models and its stage filter see the same state.
    assert [m.model_id for m in registry.list_models("acme", stage="production")] == ["churn"]
    assert registry.list_models("acme", stage="development") == []


def test_staging_alias_follows_holders(registry):
    a = version_in(registry, "staging")
    b = version_in(registry, "staging")
    assert registry.get_version_by_alias("acme", "churn", "staging").version == b
    registry.transition_stage("acme", "churn", b, "development")
    assert registry.get_version_by_alias("acme", "churn", "staging").version == a
    registry.transition_stage("acme", "churn", a, "production")
    assert "staging" not in registry.get_model("acme", "churn").aliases


def test_history_records_who_when_why(registry):
    v = register(registry).versions[-1]
    registry.transition_stage(
        "acme", "churn", v, "staging", reason="validation passed", user_id="bob"
    )
    history = registry.history("acme", "churn")
    assert [(r.from_stage, r.to_stage) for r in history] == [
        (None, "development"),
        ("development", "staging"),
    ]
    assert history[0].user_id == "alice" and history[0].reason == "registered"
    assert history[1].reason == "validation passed" and history[1].user_id == "bob"
    assert history[1].timestamp > history[0].timestamp
    assert [r.epoch for r in history] == [1, 2]


def test_rollback_chain_restores_exactly_previous(registry):
    versions = []
    for _ in range(3):
        v = version_in(registry, "staging")
        registry.transition_stage("acme", "churn", v, "production")
        versions.append(v)
    v1, v2, v3 = versions
    md = registry.rollback("acme", "churn", reason="latency regression", user_id="oncall")
    assert md.aliases["production"] == v2
    stages = {i.version: i.stage for i in registry.list_versions("acme", "churn")}
    assert stages == {v1: "archived", v2: "production", v3: "development"}
    last = registry.history("acme", "churn")[-2:]
    assert {(r.version, r.from_stage, r.to_stage) for r in last} == {
        (v3, "production", "development"),
        (v2, "archived", "production"),
    }
    assert all("rollback" in (r.reason or "") and r.user_id == "oncall" for r in last)
    md = registry.rollback("acme", "churn")
    assert md.aliases["production"] == v1
    stages = {i.version: i.stage for i in registry.list_versions("acme", "churn")}
    assert stages == {v1: "production", v2: "development", v3: "development"}
    with pytest.raises(LifecycleError, match="no earlier production version"):
        registry.rollback("acme", "churn")


def test_rollback_after_repromotion(registry):
    v1 = version_in(registry, "production")
    v2 = version_in(registry, "staging")
    registry.transition_stage("acme", "churn", v2, "production")
    registry.rollback("acme", "churn")  # v1 back, v2 to development
    registry.transition_stage("acme", "churn", v2, "staging")
    registry.transition_stage("acme", "churn", v2, "production")  # v1 archived again
    assert registry.rollback("acme", "churn").aliases["production"] == v1


def test_rollback_needs_production(registry):
    register(registry)
    with pytest.raises(LifecycleError, match="no version in production"):
        registry.rollback("acme", "churn")
    v = version_in(registry, "production")
    registry.transition_stage("acme", "churn", v, "archived")  # leaves production empty
    with pytest.raises(LifecycleError, match="no version in production"):
        registry.rollback("acme", "churn")


def test_registration_describes_the_version_registered(registry):
    """Register, then move the version you registered: the result of a registration is
    the new version, and names the production version separately."""
    from .conftest import fitted

    first = register(registry)
    assert first.current_version == "1" and first.production_version is None
    registry.transition_stage("acme", "churn", "1", "staging")
    registry.transition_stage("acme", "churn", "1", "production")
    md = registry.register_model(
        "acme", "churn", fitted(0.01), "sklearn", {"auc": 0.9}, {"C": 0.01}, user_id="bob"
    )
    v2 = registry.get_version("acme", "churn", "2")
    assert md.current_version == "2" and md.stage == "development"
    assert md.production_version == "1" and md.aliases == {"production": "1"}
    assert md.metrics == {"auc": 0.9} and md.parameters == {"C": 0.01}
    assert (md.run_id, md.artifact_uri) == (v2.run_id, v2.artifact_uri)
    assert md.versions == ["1", "2"] and md.created_by == "alice"
    # Reading the model still describes the production version.
    got = registry.get_model("acme", "churn")
    assert (got.current_version, got.stage, got.production_version) == ("1", "production", "1")
    [listed] = registry.list_models("acme")
    assert (listed.current_version, listed.production_version) == ("1", "1")

    moved = registry.transition_stage("acme", "churn", md.current_version, "staging")
    assert registry.get_version("acme", "churn", "2").stage == "staging"
    assert registry.get_version("acme", "churn", "1").stage == "production"
    assert moved.current_version == "1" and moved.production_version == "1"
    assert moved.aliases == {"production": "1", "staging": "2"}

    third = registry.create_version("acme", "churn", fitted(), "sklearn", {"auc": 0.7}, {})
    assert (third.current_version, third.stage, third.production_version) == (
        "3",
        "development",
        "1",
    )
    assert third.metrics == {"auc": 0.7}
