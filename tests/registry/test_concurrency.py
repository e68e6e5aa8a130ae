"""Concurrent promotions of one model: exactly one production version, losers get
ConflictError (threads and processes on one SQLite store), and recovery of a change a
dead writer left half-done."""

from __future__ import annotations

import json
import multiprocessing
import threading
import time

import pytest

from matih_jupyter.core.errors import ConflictError
from matih_jupyter.core.registry import ModelRegistry, claim, lifecycle, snapshot
from matih_jupyter.core.registry.ops import encode
from matih_jupyter.core.registry.tags import tx_key

from .conftest import register, version_in


def _production(reg, tenant="acme", name="churn"):
    return [v.version for v in reg.list_versions(tenant, name) if v.stage == "production"]


def _check_consistent(reg, winners):
    prod = _production(reg)
    assert len(prod) == 1
    model = reg.get_model("acme", "churn")
    assert model.aliases["production"] == prod[0]
    assert model.current_version == prod[0] and model.stage == "production"
    # Every winning promotion is in the history exactly once, and no loser is.
    promoted = [r.version for r in reg.history("acme", "churn") if r.to_stage == "production"]
    assert sorted(promoted) == sorted(winners)
    # The last winner in the history is the one in production.
    assert promoted[-1] == prod[0]


def test_threads_race_to_production(registry):
    versions = [version_in(registry, "staging") for _ in range(8)]
    barrier = threading.Barrier(len(versions))
    outcome: dict[str, str] = {}

    def promote(v: str) -> None:
        barrier.wait()
        try:
            registry.transition_stage("acme", "churn", v, "production", user_id=f"u{v}")
            outcome[v] = "won"
        except ConflictError:
            outcome[v] = "conflict"

    threads = [threading.Thread(target=promote, args=(v,)) for v in versions]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert set(outcome.values()) <= {"won", "conflict"} and len(outcome) == 8
    winners = [v for v, o in outcome.items() if o == "won"]
    assert winners, outcome
    assert "conflict" in outcome.values(), "eight simultaneous promotions should collide"
    _check_consistent(registry, winners)


def _promote_in_process(uri, root, version, barrier, results):
    from matih_jupyter import ExperimentTracker
    from matih_jupyter.core.errors import ConflictError
    from matih_jupyter.core.registry import ModelRegistry

    reg = ModelRegistry(ExperimentTracker(tracking_uri=uri, default_artifact_root=root))
    reg.get_model("acme", "churn")  # warm up: connect before the start line
    barrier.wait()
    try:
        reg.transition_stage("acme", "churn", version, "production", user_id=f"p{version}")
        results.put((version, "won"))
    except ConflictError:
        results.put((version, "conflict"))
    except Exception as exc:  # reported to the test, which fails on it
        results.put((version, f"{type(exc).__name__}: {exc}"))


@pytest.mark.slow
def test_processes_race_to_production(registry, tracking_uri, store_dir):
    versions = [version_in(registry, "staging") for _ in range(4)]
    # A fork server imports MLflow once for all four children (spawn imports it four
    # times); its children start with no database connections of the parent's.
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(
        ["matih_jupyter.core.registry", "matih_jupyter.core.tracking.tracker"]
    )
    barrier = ctx.Barrier(len(versions))
    results = ctx.Queue()
    root = (store_dir / "artifacts").as_uri()
    procs = [
        ctx.Process(target=_promote_in_process, args=(tracking_uri, root, v, barrier, results))
        for v in versions
    ]
    for p in procs:
        p.start()
    outcome = dict(results.get(timeout=120) for _ in procs)
    for p in procs:
        p.join(timeout=60)
    assert set(outcome.values()) <= {"won", "conflict"}, outcome
    winners = [v for v, o in outcome.items() if o == "won"]
    assert winners, outcome
    _check_consistent(registry, winners)


def test_same_version_promoted_twice_concurrently(registry):
    old = version_in(registry, "production")
    v = version_in(registry, "staging")
    barrier = threading.Barrier(2)
    outcome = []

    def promote() -> None:
        barrier.wait()
        try:
            registry.transition_stage("acme", "churn", v, "production")
            outcome.append("won")
        except ConflictError as exc:  # includes "already in production" (LifecycleError)
            outcome.append(type(exc).__name__)

    threads = [threading.Thread(target=promote) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcome.count("won") == 1
    assert _production(registry) == [v]
    archived = [r for r in registry.history("acme", "churn") if r.to_stage == "archived"]
    assert [r.version for r in archived] == [old]


def test_stale_decision_is_a_conflict(registry):
    version_in(registry, "production")
    challenger = version_in(registry, "staging")
    other = version_in(registry, "staging")
    registry.transition_stage("acme", "churn", other, "production")
    with pytest.raises(ConflictError, match="changed while deciding"):
        registry.transition_stage(
            "acme", "churn", challenger, "production", expected_production="1"
        )
    assert _production(registry) == [other]


def _read(reg):
    return snapshot.read(reg.tracker.client, "acme", "churn", "acme.churn")


def _crash_after_claim(reg, version, *, with_record):
    """Do what a writer does up to a crash: claim the epoch (and write its record, in the
    stored JSON shape written by hand)."""
    epochs = claim.Epochs(reg.tracker.client, reg.lease_seconds)
    snap = _read(reg)
    moves = [(version, "staging", "crashed")]
    plan = lifecycle.stage_plan("acme", snap, moves, "ghost", snap.lineage())
    epochs.claim(snap)
    if with_record:
        tx = {
            "records": [r.model_dump() for r in plan.records],
            "ops": [encode(op) for op in plan.ops],
        }
        for r in tx["records"]:
            r["epoch"] = snap.epoch + 1
        epochs.set_model_tag("acme.churn", tx_key(snap.epoch + 1), json.dumps(tx))
    return snap.epoch


@pytest.mark.parametrize("with_record", [True, False])
def test_half_done_change_is_finished_or_aborted(tracker, with_record):
    reg = ModelRegistry(tracker, lease_seconds=1.5)
    v = register(reg).versions[-1]
    epoch = _crash_after_claim(reg, v, with_record=with_record)
    # While the lease runs, the model is busy: a change is refused, nothing moves.
    with pytest.raises(ConflictError):
        reg.transition_stage("acme", "churn", v, "staging")
    time.sleep(1.6)
    # The first caller after the lease repairs the epoch; its own change then conflicts
    # (it was planned on the old state) and succeeds when retried.
    with pytest.raises(ConflictError):
        reg.transition_stage("acme", "churn", v, "staging")
    history = reg.history("acme", "churn")
    if with_record:
        # Rolled forward: the crashed writer's change is complete, aliases included.
        assert reg.get_version("acme", "churn", v).stage == "staging"
        assert reg.get_model("acme", "churn").aliases == {"staging": v}
        assert history[-1].user_id == "ghost" and history[-1].epoch == epoch + 1
        reg.transition_stage("acme", "churn", v, "production")
    else:
        # Aborted: nothing of it shows, and the model works again.
        assert reg.get_version("acme", "churn", v).stage == "development"
        assert [r.user_id for r in history] == ["alice"]
        reg.transition_stage("acme", "churn", v, "staging")
    assert _read(reg).epoch == epoch + 2
