"""The writes of an epoch as typed operations: they read and write exactly the JSON stored
in ``matih.tx.<epoch>`` tags (so stored histories keep loading), and applying them twice
ends in the same state."""

from __future__ import annotations

import json

import pytest

from matih_jupyter.core.registry import claim, lifecycle, snapshot
from matih_jupyter.core.registry.ops import (
    DropAlias,
    EpochRecord,
    PointAlias,
    SetModelTag,
    SetVersionTag,
    apply_all,
    decode,
    encode,
    prune,
)
from matih_jupyter.core.registry.tags import tx_key
from matih_jupyter.core.registry.types import TransitionRecord

from .conftest import register

#: A promotion's record as stored: the coded lists of the stored format.
STORED_OPS = [
    ["v", "2", "matih.stage", "production"],
    ["v", "1", "matih.stage", "archived"],
    ["a", "production", "2"],
    ["d", "staging"],
    ["m", "matih.production_lineage", '["1","2"]'],
]
TYPED_OPS = (
    SetVersionTag("2", "matih.stage", "production"),
    SetVersionTag("1", "matih.stage", "archived"),
    PointAlias("production", "2"),
    DropAlias("staging"),
    SetModelTag("matih.production_lineage", '["1","2"]'),
)
RECORD = {
    "version": "2",
    "from_stage": "staging",
    "to_stage": "production",
    "user_id": "carol",
    "timestamp": "2026-01-02T03:04:05+00:00",
    "reason": "better",
    "epoch": 7,
    "hook_failures": [],
}


def _stored(value):
    """How the registry has always written these tags: sorted keys, no spaces."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def test_each_op_encodes_to_its_stored_list_and_back():
    for raw, op in zip(STORED_OPS, TYPED_OPS, strict=True):
        assert encode(op) == raw
        assert decode(raw) == op


def test_epoch_record_round_trips_the_stored_json():
    text = _stored({"records": [RECORD], "ops": STORED_OPS})
    record = EpochRecord.from_json(text)
    assert record == EpochRecord(
        records=(TransitionRecord.model_validate(RECORD),), ops=TYPED_OPS, aborted=False
    )
    assert record.to_json() == text
    # The pretty-printed JSON a hand (or an older writer) may store reads the same.
    assert EpochRecord.from_json(json.dumps({"records": [RECORD], "ops": STORED_OPS})) == record


def test_aborted_and_missing_records():
    aborted = _stored({"aborted": True, "records": [], "ops": []})
    assert EpochRecord(aborted=True).to_json() == aborted
    assert EpochRecord.from_json(aborted) == EpochRecord(aborted=True)
    assert EpochRecord.from_json(None) is None
    assert EpochRecord.from_json("not json") is None


def test_unknown_kinds_are_skipped_and_malformed_ops_refused():
    assert decode(["z", "future", "op"]) is None
    assert decode([]) is None
    with pytest.raises(ValueError, match="wrong number of fields"):
        decode(["v", "1", "matih.stage"])
    text = _stored({"records": [], "ops": [["z", "x"], ["d", "staging"]]})
    assert EpochRecord.from_json(text).ops == (DropAlias("staging"),)


def test_ops_are_frozen():
    with pytest.raises(AttributeError):
        TYPED_OPS[0].value = "staging"  # type: ignore[misc]


def test_applying_twice_ends_in_the_same_state(registry):
    register(registry)
    client = registry.tracker.client
    epochs = claim.Epochs(client)
    snap = snapshot.read(client, "acme", "churn", "acme.churn")
    plan = lifecycle.stage_plan("acme", snap, [("1", "staging", "why")], "bob", snap.lineage())
    assert {type(op) for op in plan.ops} >= {SetVersionTag, PointAlias, SetModelTag}
    apply_all(epochs.writer, "acme.churn", plan.ops)
    once = snapshot.read(client, "acme", "churn", "acme.churn")
    apply_all(epochs.writer, "acme.churn", plan.ops)
    twice = snapshot.read(client, "acme", "churn", "acme.churn")
    assert prune(twice, plan.ops) == []
    assert (twice.tags, twice.aliases, twice.stages()) == (once.tags, once.aliases, once.stages())
    assert twice.aliases == {"staging": "1"} and twice.stage("1") == "staging"
    # Dropping an alias already gone is done, not an error.
    apply_all(epochs.writer, "acme.churn", [DropAlias("production"), DropAlias("production")])


def test_the_registry_stores_its_records_in_this_format(registry):
    register(registry)
    registry.transition_stage("acme", "churn", "1", "staging", reason="why", user_id="bob")
    tags = registry.tracker.client.get_registered_model("acme.churn").tags
    stored = json.loads(tags[tx_key(2)])
    assert set(stored) == {"records", "ops"}
    assert ["v", "1", "matih.stage", "staging"] in stored["ops"]
    assert ["a", "staging", "1"] in stored["ops"]
    assert stored["records"][0]["to_stage"] == "staging" and stored["records"][0]["epoch"] == 2
    assert EpochRecord.from_json(tags[tx_key(2)]).to_json() == tags[tx_key(2)]


def test_an_epochs_records_decode_once_and_are_handed_out_as_copies():
    from matih_jupyter.core.registry import ops

    record = TransitionRecord(
        version="1", from_stage="staging", to_stage="production", user_id="bob",
        timestamp="2026-01-01T00:00:00Z", reason="better", gates=["pass min auc"],
    )  # fmt: skip
    text = EpochRecord(records=(record,)).to_json()
    first = ops.stored_records(text)
    first[0].gates.append("changed by a caller")
    first[0].hook_failures.append("changed too")
    hits = ops._decoded_records.cache_info().hits
    again = ops.stored_records(text)
    assert ops._decoded_records.cache_info().hits == hits + 1  # not decoded again
    assert again == (record,) and again[0] is not first[0]
