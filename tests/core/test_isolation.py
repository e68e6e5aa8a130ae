"""Tenant isolation is a security boundary: the attacks, not only the happy path.

Tenant ``beta`` holds ids, names and filter strings that point at ``acme-corp``'s data and
tries every tracker call with them. Every attempt must fail exactly like a missing resource
(no existence oracle) and leave acme-corp's data untouched.
"""

from __future__ import annotations

import pytest

from matih_jupyter import ExperimentTracker, InvalidInputError, NotFoundError, RunConfig

VICTIM, ATTACKER = "acme-corp", "beta"


@pytest.fixture
def victim(tracker: ExperimentTracker):
    with tracker.start_run("secret", RunConfig(tenant_id=VICTIM, run_name="victim-run")) as run:
        run.log_params({"lr": 0.1}).log_metric("auc", 0.93)
        run.log_text("confidential", "notes.txt")
    # The attacker has data of its own, so "empty" answers are not trivially empty.
    with tracker.start_run("mine", RunConfig(tenant_id=ATTACKER)) as own:
        own.log_metric("auc", 0.5)
    return run


def _same_as_missing(call, foreign_id: str, missing_id: str) -> None:
    with pytest.raises(NotFoundError) as foreign:
        call(foreign_id)
    with pytest.raises(NotFoundError) as missing:
        call(missing_id)
    assert str(foreign.value).replace(foreign_id, "ID") == str(missing.value).replace(
        missing_id, "ID"
    )


@pytest.mark.parametrize(
    "attack",
    [
        lambda t, rid: t.get_run(rid, ATTACKER),
        lambda t, rid: t.get_metric_history(rid, "auc", ATTACKER),
        lambda t, rid: t.delete_run(rid, ATTACKER),
        lambda t, rid: t.restore_run(rid, ATTACKER),
        lambda t, rid: t.end_run(rid, "KILLED", ATTACKER),
        lambda t, rid: t.log_batch(rid, [{"key": "auc", "value": 0.0}], tenant_id=ATTACKER),
        lambda t, rid: t.compare_runs(ATTACKER, [rid]),
        lambda t, rid: t.get_runs([rid], ATTACKER),
        lambda t, rid: t.list_artifacts(rid, tenant_id=ATTACKER),
        lambda t, rid: t.download_artifacts(rid, "notes.txt", "/tmp/x", tenant_id=ATTACKER),
        lambda t, rid: t.start_run("mine", RunConfig(tenant_id=ATTACKER, parent_run_id=rid)),
        lambda t, rid: t.create_run("1", RunConfig(tenant_id=ATTACKER, parent_run_id=rid)),
    ],
)
def test_run_ids_of_another_tenant_look_missing(tracker, victim, attack) -> None:
    _same_as_missing(lambda rid: attack(tracker, rid), victim.run_id, "f" * 32)
    after = tracker.get_run(victim.run_id, VICTIM)
    assert after.status == "finished" and after.lifecycle_stage == "active"
    assert after.metrics == {"auc": 0.93}


@pytest.mark.parametrize(
    "attack",
    [
        lambda t, eid: t.get_experiment(eid, ATTACKER),
        lambda t, eid: t.archive_experiment(eid, ATTACKER),
        lambda t, eid: t.restore_experiment(eid, ATTACKER),
        lambda t, eid: t.list_runs(ATTACKER, experiment_ids=[eid]),
        lambda t, eid: t.start_run(experiment_id=eid, run_config=RunConfig(tenant_id=ATTACKER)),
        lambda t, eid: t.create_run(eid, RunConfig(tenant_id=ATTACKER)),
    ],
)
def test_experiment_ids_of_another_tenant_look_missing(tracker, victim, attack) -> None:
    _same_as_missing(lambda eid: attack(tracker, eid), victim.experiment_id, "987654")
    assert tracker.get_experiment(victim.experiment_id, VICTIM).lifecycle_stage == "active"


def test_names_and_filters_cannot_reach_another_tenant(tracker, victim) -> None:
    assert [e.name for e in tracker.list_experiments(ATTACKER)] == ["mine"]
    hostile_filters = [
        f"tags.`matih.tenant_id` = '{VICTIM}'",
        "tags.`matih.tenant_id` LIKE '%'",
        "attributes.run_name = 'victim-run'",
        "metrics.auc > 0.9",
        f"attributes.run_id = '{victim.run_id}'",
    ]
    for hostile in hostile_filters:
        found = tracker.list_runs(ATTACKER, filter_string=hostile)
        assert all(r.tenant_id == ATTACKER for r in found), hostile
        assert victim.run_id not in {r.id for r in found}
    assert len(tracker.list_runs(ATTACKER, filter_string="tags.`matih.tenant_id` LIKE '%'")) == 1
    # Names are scoped by the caller's tenant, so the victim's full name is not reachable.
    with pytest.raises(InvalidInputError):
        tracker.get_experiment_by_name(f"{VICTIM}/secret", ATTACKER)
    with pytest.raises(NotFoundError):
        tracker.get_experiment_by_name("secret", ATTACKER)
    assert tracker.find_orphan_runs(ATTACKER) == []


@pytest.mark.parametrize(
    "tenant", ["", "%", "_", "acme%", "acme-corp' OR '1'='1", "ACME-CORP", "a_b"]
)
def test_wildcard_and_injection_tenants_are_refused(tracker, victim, tenant) -> None:
    with pytest.raises(InvalidInputError, match="tenant"):
        tracker.list_experiments(tenant)
    with pytest.raises(InvalidInputError, match="tenant"):
        tracker.list_runs(tenant)
    with pytest.raises(InvalidInputError, match="tenant"):
        tracker.get_run(victim.run_id, tenant)


def test_a_run_in_a_foreign_experiment_is_not_adopted(tracker, victim) -> None:
    """A run tagged for beta but placed (with raw MLflow) in acme's experiment stays
    invisible to beta: ownership needs both the tag and the experiment."""
    from mlflow.entities import RunTag

    raw = tracker.client.create_run(victim.experiment_id, tags={"matih.tenant_id": ATTACKER})
    tracker.client.log_batch(raw.info.run_id, tags=[RunTag("x", "y")])
    with pytest.raises(NotFoundError):
        tracker.get_run(raw.info.run_id, ATTACKER)
    assert all(r.id != raw.info.run_id for r in tracker.list_runs(ATTACKER))


def test_a_batched_read_refuses_a_foreign_id_among_the_callers_own(tracker, victim) -> None:
    """Runs read together (one search of the tenant's experiments) are checked like runs
    read one by one: a foreign id among the attacker's own answers like a missing one,
    and so does a run tagged for the attacker but planted in the victim's experiment."""
    own = [r.id for r in tracker.list_runs(ATTACKER)]
    planted = tracker.client.create_run(victim.experiment_id, tags={"matih.tenant_id": ATTACKER})
    for call in (
        lambda ids: tracker.get_runs(ids, ATTACKER),
        lambda ids: tracker.compare_runs(ATTACKER, ids),
    ):
        for foreign in (victim.run_id, planted.info.run_id):
            _same_as_missing(lambda rid, call=call: call([*own, rid, *own]), foreign, "f" * 32)
        assert [r.id for r in tracker.get_runs(own + own, ATTACKER)] == own + own
    assert list(tracker.compare_runs(ATTACKER, own)["run_id"]) == own
    # The victim still reads its run, batched, as its own.
    assert [r.id for r in tracker.get_runs([victim.run_id], VICTIM)] == [victim.run_id]


def test_what_a_tenant_read_before_is_not_lent_to_another(tracker, victim) -> None:
    """Runs and experiments known to be the victim's (read just now, so remembered) are
    still refused to the attacker, through every read that relies on what is known."""
    tracker.get_metric_history(victim.run_id, "auc", VICTIM)
    tracker.list_runs(VICTIM, experiment_ids=[victim.experiment_id])
    tracker.get_runs([victim.run_id], VICTIM)
    for attack in (
        lambda: tracker.get_metric_history(victim.run_id, "auc", ATTACKER),
        lambda: tracker.list_runs(ATTACKER, experiment_ids=[victim.experiment_id]),
        lambda: tracker.get_runs([victim.run_id], ATTACKER),
        lambda: tracker.get_run(victim.run_id, ATTACKER),
    ):
        with pytest.raises(NotFoundError):
            attack()
    assert len(tracker.get_metric_history(victim.run_id, "auc", VICTIM)) == 1


def test_an_untagged_experiment_with_the_tenant_prefix_is_not_trusted(tracker) -> None:
    tracker.client.create_experiment(f"{ATTACKER}/planted")
    assert tracker.list_experiments(ATTACKER) == []
    with pytest.raises(NotFoundError):
        tracker.get_experiment_by_name("planted", ATTACKER)
