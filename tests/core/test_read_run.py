"""`backend.client.read_run`: a run read as columns on the SQL store is the run MLflow's
`get_run` reads (but for inputs and outputs, which nothing of matih's reads from it)."""

from __future__ import annotations

import math

from mlflow.entities import Metric, Param, RunTag

from matih_jupyter.core.backend import client as mlc


def _same(a, b) -> None:
    assert a.info.to_proto() == b.info.to_proto()
    assert a.data.tags == b.data.tags and a.data.params == b.data.params
    assert a.data.metrics.keys() == b.data.metrics.keys()
    for key, value in a.data.metrics.items():
        assert value == b.data.metrics[key] or (
            math.isnan(value) and math.isnan(b.data.metrics[key])
        )

    def latest(run):
        return sorted((m.key, m.timestamp, m.step) for m in run.data.to_proto().metrics)

    assert latest(a) == latest(b)


def test_a_run_reads_as_get_run_reads_it(tracker, exp_name) -> None:
    client = tracker.client
    exp = client.create_experiment(exp_name)
    run = client.create_run(exp, run_name="named", tags={"team": "churn"})
    rid = run.info.run_id
    client.log_batch(
        rid,
        metrics=[
            Metric("loss", 0.5, 1000, 0),
            Metric("loss", 0.25, 2000, 3),
            Metric("odd", math.nan, 1500, 1),
            Metric("big", math.inf, 1500, 1),
        ],
        params=[Param("lr", "0.1"), Param("depth", "5")],
        tags=[RunTag("note", "é ✓")],
    )
    client.set_terminated(rid, "FINISHED")
    _same(mlc.read_run(client, rid), client.get_run(rid))
    assert mlc.read_run(client, rid).data.metrics["loss"] == 0.25

    # No name given: MLflow names it, and the name reads the same.
    bare = client.create_run(exp).info.run_id
    _same(mlc.read_run(client, bare), client.get_run(bare))

    # A deleted run still reads, marked deleted, as MLflow reads it.
    client.delete_run(bare)
    deleted = mlc.read_run(client, bare)
    assert deleted.info.lifecycle_stage == "deleted"
    _same(deleted, client.get_run(bare))


def test_a_missing_run_reads_as_none(tracker) -> None:
    assert mlc.read_run(tracker.client, "0" * 32) is None
