"""A registration starts from the model as this process's last change of it left it
(`registry.last_change`) only when a short read shows nothing changed since; otherwise,
and for every change made elsewhere, it reads the model whole. Either way it plans on the
model a fresh read finds."""

from __future__ import annotations

import pytest

from matih_jupyter.core.registry import last_change, snapshot
from matih_jupyter.core.registry.tags import hooks_key

from .conftest import register, version_in

FULL = "acme.churn"


def _state(snap):
    versions = {v: (mv.run_id, mv.creation_timestamp, mv.tags) for v, mv in snap.versions.items()}
    rm = (snap.rm.creation_timestamp, snap.rm.last_updated_timestamp, snap.rm.description)
    return snap.epoch, snap.tags, snap.aliases, versions, rm


def _since(reg):
    """(what this process remembers of the model, the snapshot `peek_since` answers)."""
    client = reg.tracker.client
    known = last_change.recall(client, FULL)
    _, snap = snapshot.peek_since(client, "acme", "churn", FULL, known)
    return known, snap


def _fresh(reg):
    return snapshot.read(reg.tracker.client, "acme", "churn", FULL)


@pytest.fixture
def elsewhere(tracking_uri, store_dir):
    """A registry in "another process": its own tracker and client, so its own memory."""
    from matih_jupyter import ExperimentTracker
    from matih_jupyter.core.registry import ModelRegistry

    root = (store_dir / "artifacts").as_uri()
    return ModelRegistry(ExperimentTracker(tracking_uri=tracking_uri, default_artifact_root=root))


def test_the_model_a_change_left_is_the_model_a_fresh_read_finds(registry):
    version_in(registry, "production")
    register(registry, auc=0.9)
    known, snap = _since(registry)
    assert snap is known, "nothing changed since: answered from what this process left"
    assert _state(snap) == _state(_fresh(registry))


def test_aliases_set_since_are_read(registry):
    v = register(registry).versions[-1]
    registry.set_alias("acme", "churn", "champion", v)
    known, snap = _since(registry)
    assert snap is known
    assert snap.aliases == {"champion": v} == _fresh(registry).aliases


def test_a_change_made_elsewhere_is_read_whole(registry, elsewhere):
    v = register(registry).versions[-1]
    elsewhere.transition_stage("acme", "churn", v, "staging", reason="elsewhere")
    known, snap = _since(registry)
    assert snap is not known and _state(snap) == _state(_fresh(registry))
    # The next registration here is planned on it: v1 stays in staging, history complete.
    meta = register(registry)
    assert registry.get_version("acme", "churn", v).stage == "staging"
    assert meta.versions == [v, str(int(v) + 1)]
    assert [r.reason for r in registry.history("acme", "churn")] == [
        "registered",
        "elsewhere",
        "registered",
    ]


def test_a_version_created_outside_a_change_is_read_whole(registry):
    """A registration elsewhere creates its version before it commits its epoch: the
    model's last update moves, so the version is seen at once."""
    register(registry)
    client = registry.tracker.client
    source = client.get_model_version(FULL, "1").source
    tags = {"matih.tenant_id": "acme", "matih.stage": "development"}
    client.create_model_version(FULL, source, tags=tags)
    known, snap = _since(registry)
    assert snap is not known and sorted(snap.versions) == ["1", "2"]
    assert _state(snap) == _state(_fresh(registry))


def test_a_model_deleted_and_made_again_elsewhere_is_read_whole(registry, elsewhere):
    register(registry)
    elsewhere.delete_model("acme", "churn")
    again = register(elsewhere)  # same name, same epoch, another model
    known, snap = _since(registry)
    assert known is not None and snap is not known
    assert snap.rm.creation_timestamp == _fresh(registry).rm.creation_timestamp
    meta = register(registry)
    assert meta.versions == ["1", "2"]
    assert registry.get_version("acme", "churn", "1").run_id == again.run_id


def test_an_after_hook_failure_recorded_since_is_read(registry):
    v = register(registry).versions[-1]

    def broken(payload):
        raise RuntimeError("the deploy hook is down")

    registry.add_hook(broken)
    with pytest.warns(Warning, match="deploy hook is down"):
        registry.transition_stage("acme", "churn", v, "staging", reason="try")
    known, snap = _since(registry)
    assert snap is not known
    assert "deploy hook is down" in snap.tags[hooks_key(snap.epoch)]
    assert _state(snap) == _state(_fresh(registry))


def test_a_model_of_another_tenant_is_never_answered_from_memory(registry):
    """What this process left of acme's model answers nothing about another tenant."""
    register(registry)
    client = registry.tracker.client
    known = last_change.recall(client, FULL)
    assert known is not None
    rm, snap = snapshot.peek_since(client, "globex", "churn", FULL, known)
    assert snap is None and rm is not None and rm.name == FULL
    with pytest.raises(Exception, match="not found"):
        snapshot.read(client, "globex", "churn", FULL)
