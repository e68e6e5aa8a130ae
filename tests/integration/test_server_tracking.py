"""The core tracker against a real ``mlflow server`` (PostgreSQL + proxied S3 artifacts).

Artifacts are checked where they really are: listed in the S3 bucket with boto3.
"""

from __future__ import annotations

import math

import pytest

from matih_jupyter import RunConfig
from matih_jupyter.core.errors import InvalidInputError, NotFoundError


def test_run_metrics_params_and_artifacts_land_in_postgres_and_s3(tracker, tenant, stack, tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    data = tmp_path / "data.csv"
    data.write_text("a,b\n1,2\n")
    with tracker.start_run("train", RunConfig(run_name="r1", tags={"team": "fraud"})) as run:
        for step in range(300):
            run.log_metric("loss", 1.0 / (step + 1), step)
        run.log_metrics({"auc": 0.91, "f1": 0.8}, step=299)
        run.log_params({"lr": 0.01, "depth": 6})
        run.log_artifact(str(data), "inputs")
        run.log_dict({"k": [1, 2]}, "meta/config.json")
        fig, ax = plt.subplots()
        ax.plot([1, 2, 3])
        run.log_figure(fig, "plots/curve.png")
        plt.close(fig)
    got = tracker.get_run(run.run_id)
    assert got.status == "finished"
    assert got.tenant_id == tenant
    assert got.params == {"lr": "0.01", "depth": "6"}
    assert got.metrics["auc"] == pytest.approx(0.91)
    assert got.tags["team"] == "fraud"
    history = tracker.get_metric_history(run.run_id, "loss")
    assert [p.step for p in history] == list(range(300))
    assert all(math.isclose(p.value, 1.0 / (p.step + 1)) for p in history)
    assert sorted(got.artifacts) == ["inputs", "meta", "plots"]

    # The artifacts are in the bucket, under the server's destination prefix.
    assert got.artifact_uri.startswith("mlflow-artifacts:/")
    keys = stack.s3.list_keys(stack.bucket, f"mlflow/{got.experiment_id}/{run.run_id}/")
    names = sorted(k.split("/artifacts/", 1)[1] for k in keys)
    assert names == ["inputs/data.csv", "meta/config.json", "plots/curve.png"]
    png = (
        stack.s3.client()
        .get_object(Bucket=stack.bucket, Key=next(k for k in keys if k.endswith("curve.png")))[
            "Body"
        ]
        .read()
    )
    assert png.startswith(b"\x89PNG")

    # And come back through the tracker.
    out = tracker.download_artifacts(run.run_id, "inputs/data.csv", tmp_path / "dl")
    assert out.read_text() == "a,b\n1,2\n"


def test_failed_run_and_listing_filter_order(tracker):
    with pytest.raises(ZeroDivisionError), tracker.start_run("listing") as bad:
        bad.log_metric("auc", 0.1)
        1 / 0  # noqa: B018
    for auc in (0.7, 0.9, 0.8):
        with tracker.start_run("listing") as run:
            run.log_metric("auc", auc)
    assert tracker.get_run(bad.run_id).status == "failed"
    runs = tracker.list_runs(
        experiment_name="listing", filter_string="metrics.auc > 0.75", order_by=["metrics.auc DESC"]
    )
    assert [r.metrics["auc"] for r in runs] == [0.9, 0.8]


def test_other_tenants_ids_and_names_are_not_found(tracker, tenant):
    with tracker.start_run("secret") as run:
        run.log_metric("x", 1.0)
    exp = tracker.get_experiment_by_name("secret")
    other = f"{tenant}-other"
    for call in (
        lambda: tracker.get_run(run.run_id, other),
        lambda: tracker.get_experiment(exp.id, other),
        lambda: tracker.get_metric_history(run.run_id, "x", other),
        lambda: tracker.list_artifacts(run.run_id, None, other),
    ):
        with pytest.raises(NotFoundError):
            call()
    assert tracker.list_experiments(other) == []
    assert [e.id for e in tracker.list_experiments(tenant)] == [exp.id]
    # Wildcards and quotes are not tenant ids at all: refused before any query.
    for attack in ("%", "_", "t-%", "x' OR '1'='1"):
        with pytest.raises(InvalidInputError):
            tracker.list_experiments(attack)


def test_runs_compared_are_read_together_and_tenant_checked(tracker, tenant, monkeypatch):
    """On the server tier too: runs named by id come back in the order asked, from a
    few searches (here three ids a search), and another tenant's id answers like a
    missing one."""
    from matih_jupyter import ExperimentTracker
    from matih_jupyter.core.tracking import ownership

    monkeypatch.setattr(ownership, "RUNS_PER_SEARCH", 3)
    ids = []
    for i in range(7):
        with tracker.start_run("cmp", RunConfig(run_name=f"r{i}")) as run:
            run.log_metric("auc", i / 10)
        ids.append(run.run_id)
    asked = ids[::-1]
    frame = tracker.compare_runs(tenant, asked)
    assert list(frame["run_id"]) == asked
    assert list(frame["metrics.auc"]) == pytest.approx([i / 10 for i in range(7)][::-1])
    other = ExperimentTracker(tracking_uri=tracker.tracking_uri, tenant_id=f"{tenant}-x")
    with other.start_run("cmp") as foreign:
        pass
    for missing in (foreign.run_id, "f" * 32):
        with pytest.raises(NotFoundError, match=f"Run '{missing}' was not found"):
            tracker.get_runs([*ids, missing], tenant)
