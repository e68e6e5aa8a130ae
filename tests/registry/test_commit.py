"""An epoch's writes, committed: on the SQL store in one transaction guarded by the epoch
(`backend.registry_batch`), else one write at a time (a tracking server); both paths leave
the same model, the model a change returns is the model a fresh read finds, and a claim
that does not hold writes nothing."""

from __future__ import annotations

import pytest

from matih_jupyter.core.backend import registry_batch
from matih_jupyter.core.errors import ConflictError, InvalidInputError, NotFoundError
from matih_jupyter.core.registry import claim, lifecycle, snapshot
from matih_jupyter.core.registry.hooks import HookSet
from matih_jupyter.core.registry.retry import retrying
from matih_jupyter.core.registry.tags import TAG_EPOCH, TAG_LOCK_OF
from matih_jupyter.core.registry.views import model_metadata

from .conftest import register, version_in

FULL = "acme.churn"


def _read(reg):
    return snapshot.read(reg.tracker.client, "acme", "churn", FULL)


def _state(snap):
    return snap.epoch, snap.tags, snap.aliases, {v: mv.tags for v, mv in snap.versions.items()}


def _epochs(reg, batched):
    epochs = claim.Epochs(reg.tracker.client)
    assert epochs.batched, "the test store is SQLite: its epochs commit in one transaction"
    epochs.batched = batched
    return epochs


@pytest.mark.parametrize("batched", [True, False], ids=["one-transaction", "one-by-one"])
def test_a_change_returns_the_model_a_fresh_read_finds(registry, batched):
    old = version_in(registry, "production")
    new = version_in(registry, "staging")
    before = _read(registry)

    def plan(snap):
        return lifecycle.transition_plan("acme", snap, new, "production", "better", "bob", old)

    todo, after = _epochs(registry, batched).transact("acme", "churn", FULL, plan, HookSet())
    fresh = _read(registry)
    assert after.epoch == before.epoch + 1
    assert _state(after) == _state(fresh)
    assert model_metadata(after) == model_metadata(fresh)
    assert fresh.stages()[new] == "production" and fresh.stages()[old] == "archived"
    assert fresh.aliases == {"production": new}
    assert [r.epoch for r in todo.records] == [after.epoch, after.epoch]
    # The read the change was planned on is left as it was.
    assert _state(before) != _state(after) and before.stages()[new] == "staging"


def test_the_registry_answers_each_move_with_the_model_as_read_after_it(registry):
    v = register(registry).versions[-1]
    register(registry)
    for stage in ("staging", "production", "archived", "development"):
        moved = registry.transition_stage("acme", "churn", v, stage, user_id="bob")
        assert moved == registry.get_model("acme", "churn")
    assert [r.to_stage for r in registry.history("acme", "churn")][-4:] == [
        "staging", "production", "archived", "development",
    ]  # fmt: skip
    registered = register(registry)
    assert registered == registry.get_model("acme", "churn").model_copy(
        update={"current_version": "3", "stage": "development", "run_id": registered.run_id,
                "artifact_uri": registered.artifact_uri, "metrics": registered.metrics}
    )  # fmt: skip


@pytest.mark.parametrize("batched", [True, False], ids=["one-transaction", "one-by-one"])
def test_a_claim_won_on_a_ticket_left_behind_writes_nothing(registry, batched):
    """A ticket recreated behind the model's epoch (it went missing while a change was in
    flight) can be renamed by a caller whose read is stale: its change must not land."""
    v = register(registry).versions[-1]
    stale = _read(registry)
    registry.transition_stage("acme", "churn", v, "staging", user_id="bob")
    client = registry.tracker.client
    client.delete_registered_model(claim.ticket(FULL, stale.epoch + 1))
    epochs = _epochs(registry, batched)
    epochs.create_ticket(FULL, stale.epoch)  # behind the model, which is at epoch + 1
    now = _read(registry)
    todo = lifecycle.transition_plan("acme", stale, v, "staging", "again", "eve", False)
    with pytest.raises(ConflictError, match="changed by someone else"):
        epochs.claim(stale)
        epochs.commit(stale, todo)
    assert _state(_read(registry)) == _state(now)
    assert [r.user_id for r in registry.history("acme", "churn")] == ["alice", "bob"]


def test_a_batch_checks_writes_as_mlflow_does_and_commits_all_or_nothing(registry):
    register(registry)
    client = registry.tracker.client
    batch = registry_batch.batch_for(client)
    assert batch is not None
    with pytest.raises(InvalidInputError):
        retrying("aliasing", batch.set_registered_model_alias, FULL, "latest", "1")
    with pytest.raises(InvalidInputError):
        retrying("tagging", batch.set_model_version_tag, FULL, "one", "k", "v")
    assert len(batch) == 0
    epoch = str(_read(registry).epoch)
    before = _state(_read(registry))

    batch.set_registered_model_tag(FULL, "team", "risk")
    batch.set_registered_model_alias(FULL, "champion", "1")
    # The guard does not hold: nothing is written.
    assert batch.commit(FULL, TAG_EPOCH, {"999"}) is False
    assert _state(_read(registry)) == before
    # A write that fails (no version 7) rolls back the writes before it.
    batch.set_model_version_tag(FULL, "7", "k", "v")
    with pytest.raises(NotFoundError):
        retrying("committing", batch.commit, FULL, TAG_EPOCH, {epoch})
    assert _state(_read(registry)) == before

    fine = registry_batch.batch_for(client)
    assert fine is not None
    fine.set_registered_model_tag(FULL, "team", "risk")
    fine.set_model_version_tag(FULL, "1", "team", "risk")
    fine.set_registered_model_alias(FULL, "champion", "1")
    fine.delete_registered_model_alias(FULL, "gone-already")
    assert fine.commit(FULL, TAG_EPOCH, {epoch}) is True
    after = _read(registry)
    assert after.tags["team"] == "risk" and after.versions["1"].tags["team"] == "risk"
    assert after.aliases == {"champion": "1"}


def test_a_model_reads_the_same_from_the_sql_store_as_through_mlflow_api(registry):
    """The SQL store's column read (`backend.registry_read`) answers what MLflow's own
    ``get_registered_model`` and ``search_model_versions`` answer, deleted versions left
    out as they do."""
    from matih_jupyter.core.backend import registry_read

    for _ in range(3):
        register(registry)
    registry.transition_stage("acme", "churn", "2", "staging", reason="x | y", user_id="bob")
    registry.set_alias("acme", "churn", "champion", "1")
    client = registry.tracker.client
    client.update_model_version(FULL, "1", description="the first")
    client.delete_model_version(FULL, "3")

    by_sql, listed = registry_read.read_model_and_versions(client, FULL)
    assert (
        by_sql == registry_read.read_model(client, FULL) == registry_read._api_model(client, FULL)
    )
    assert by_sql is not None and by_sql.aliases == {"champion": "1", "staging": "2"}
    versions = sorted(listed, key=lambda v: v.version)
    assert versions == sorted(registry_read._api_versions(client, FULL), key=lambda v: v.version)
    assert [v.version for v in versions] == ["1", "2"]
    assert versions[0].description == "the first" and versions[1].tags["matih.stage"] == "staging"
    assert registry_read.read_model(client, "acme.none") is None
    assert registry_read.read_model_and_versions(client, "acme.none") == (None, [])
    assert registry_read._api_model(client, "acme.none") is None


def test_a_batch_claims_the_epoch_with_its_own_writes_or_writes_nothing(registry):
    """Batched, the ticket's rename is part of the commit: a ticket already renamed (a
    claim lost) or a taken name writes nothing; a rename that holds lands with the
    writes."""
    register(registry)
    client = registry.tracker.client
    snap = _read(registry)
    epoch, before = str(snap.epoch), _state(snap)
    old, new = claim.ticket(FULL, snap.epoch), claim.ticket(FULL, snap.epoch + 1)

    def batch_tagging_team():
        batch = registry_batch.batch_for(client)
        assert batch is not None
        batch.set_registered_model_tag(FULL, "team", "risk")
        return batch

    gone = (claim.ticket(FULL, snap.epoch + 5), claim.ticket(FULL, snap.epoch + 6))
    assert batch_tagging_team().commit(FULL, TAG_EPOCH, {epoch}, gone) is False
    epochs = claim.Epochs(client)
    epochs.create_ticket(FULL, snap.epoch + 1)  # the new name is taken
    assert batch_tagging_team().commit(FULL, TAG_EPOCH, {epoch}, (old, new)) is False
    assert _state(_read(registry)) == before
    assert snapshot.registered(client, old) is not None

    client.delete_registered_model(new)
    assert batch_tagging_team().commit(FULL, TAG_EPOCH, {epoch}, (old, new)) is True
    assert _read(registry).tags["team"] == "risk"
    assert snapshot.registered(client, old) is None
    renamed = snapshot.registered(client, new)
    assert renamed is not None and renamed.tags == {TAG_LOCK_OF: FULL}  # its tag followed
    # The same claim again has lost: its ticket is gone.
    assert batch_tagging_team().commit(FULL, TAG_EPOCH, {epoch}, (old, new)) is False


def test_a_registration_overtaken_by_another_change_is_planned_again(registry, monkeypatch):
    """A registration plans its epoch on the model as read before the version was created:
    when another change commits in between (here a promotion, as another kernel would),
    the claim fails and the registration is planned again on a fresh read, so neither
    change is lost."""
    from matih_jupyter.core.registry import registration

    first = register(registry).versions[-1]
    create = registration.Registration._create_version
    overtaken = []

    def create_then_promote(self, *args, **kwargs):
        mv = create(self, *args, **kwargs)
        if not overtaken:
            overtaken.append(registry.transition_stage("acme", "churn", first, "staging"))
        return mv

    monkeypatch.setattr(registration.Registration, "_create_version", create_then_promote)
    registered = register(registry)
    assert overtaken, "the other change landed between the read and the commit"
    fresh = registry.get_model("acme", "churn")
    assert registered.versions == fresh.versions == [first, "2"]
    history = [(r.version, r.to_stage) for r in registry.history("acme", "churn")]
    assert history == [(first, "development"), (first, "staging"), ("2", "development")]
    assert _read(registry).epoch == 3
    assert registry.get_version("acme", "churn", first).stage == "staging"
    assert registry.get_version("acme", "churn", "2").stage == "development"
    assert fresh.aliases == {"staging": first}
