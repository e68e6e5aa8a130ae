"""The tracker against real MLflow on a temporary SQLite store."""

from __future__ import annotations

import math
from pathlib import Path

import matplotlib
import pandas as pd
import pytest

import matih_jupyter
from matih_jupyter import (
    ActiveRun,
    ConflictError,
    ExperimentConfig,
    ExperimentCreate,
    ExperimentResponse,
    ExperimentTracker,
    InvalidInputError,
    NotFoundError,
    RunConfig,
    RunResponse,
    get_experiment_tracker,
)

matplotlib.use("Agg")

TENANT = "acme-corp"


def cfg(**kw) -> RunConfig:
    kw.setdefault("tenant_id", TENANT)
    kw.setdefault("user_id", "alice@acme.com")
    return RunConfig(**kw)


def test_public_api_is_importable() -> None:
    for name in matih_jupyter.__all__:
        assert getattr(matih_jupyter, name) is not None


def test_seed_quick_start(tracker: ExperimentTracker, exp_name: str) -> None:
    with tracker.start_run(
        experiment_name=exp_name,
        run_config=cfg(run_name="training-run-1", job_id="job-123"),
    ) as run:
        assert isinstance(run, ActiveRun)
        run.log_params({"learning_rate": 0.01, "epochs": 100})
        for epoch in range(100):
            run.log_metric("loss", 1.0 / (epoch + 1), step=epoch)
        same = run.log_params({"a": 1}).log_metrics({"acc": 0.5}).set_tag("status", "complete")
        assert same is run
    got = tracker.get_run(run.run_id, TENANT)
    assert got.status == "finished"
    assert got.name == "training-run-1"
    assert got.params == {"learning_rate": "0.01", "epochs": "100", "a": "1"}
    assert got.metrics["loss"] == pytest.approx(0.01)
    assert got.tags["matih.tenant_id"] == TENANT
    assert got.tags["matih.user_id"] == "alice@acme.com"
    assert got.tags["matih.job_id"] == "job-123"
    assert got.tags["status"] == "complete"
    assert got.duration_seconds is not None and got.duration_seconds >= 0
    history = tracker.get_metric_history(run.run_id, "loss", TENANT)
    assert [p.step for p in history] == list(range(100))
    exp = tracker.get_experiment(run.experiment_id, TENANT)
    assert exp.full_name == f"{TENANT}/{exp_name}"
    assert exp.name == exp_name
    assert exp.tags["matih.tenant_id"] == TENANT


def test_run_without_with_and_explicit_status(tracker: ExperimentTracker, exp_name: str) -> None:
    run = tracker.start_run(exp_name, cfg())
    run.log_metric("x", 1)
    assert run.get_elapsed_time() >= 0
    run.end(status="killed")
    assert tracker.get_run(run.run_id, TENANT).status == "killed"
    run.end()  # ending twice is harmless
    with pytest.raises(ConflictError, match="has ended"):
        run.log_metric("x", 2)
    with pytest.raises(InvalidInputError, match="end state"):
        tracker.start_run(exp_name, cfg()).end(status="DONE")


def test_exception_marks_failed_with_tags(tracker: ExperimentTracker, exp_name: str) -> None:
    with pytest.raises(RuntimeError), tracker.start_run(exp_name, cfg()) as run:
        run.log_metric("loss", 0.5)
        raise RuntimeError("diverged at epoch 3")
    got = tracker.get_run(run.run_id, TENANT)
    assert got.status == "failed"
    assert got.tags["matih.error.type"] == "RuntimeError"
    assert got.tags["matih.error.message"] == "diverged at epoch 3"
    assert got.metrics == {"loss": 0.5}


def test_keyboard_interrupt_marks_killed_and_keeps_points(
    tracker: ExperimentTracker, exp_name: str
) -> None:
    with pytest.raises(KeyboardInterrupt), tracker.start_run(exp_name, cfg()) as run:
        for i in range(5000):
            run.log_metric("loss", float(i), step=i)
        raise KeyboardInterrupt
    got = tracker.get_run(run.run_id, TENANT)
    assert got.status == "killed"
    assert len(tracker.get_metric_history(run.run_id, "loss", TENANT)) == 5000


def test_provenance_tags(tracker: ExperimentTracker, exp_name: str, monkeypatch) -> None:
    monkeypatch.setenv("JPY_SESSION_NAME", "/home/alice/churn.ipynb")
    with tracker.start_run(exp_name, cfg()) as run:
        pass
    tags = tracker.get_run(run.run_id, TENANT).tags
    assert tags["matih.notebook_path"] == "/home/alice/churn.ipynb"
    assert tags["mlflow.source.type"] == "NOTEBOOK"
    assert tags["matih.python_version"].count(".") == 2
    assert "matih.version.mlflow" in tags
    # The suite runs inside the project's git checkout when there is one.
    if "matih.git.commit" in tags:
        assert len(tags["matih.git.commit"]) == 40
        assert tags["matih.git.dirty"] in ("true", "false")


def test_git_provenance_in_a_repository(tracker, exp_name, tmp_path, monkeypatch) -> None:
    import subprocess

    repo = tmp_path / "repo"
    repo.mkdir()
    for cmd in (
        ["git", "init", "-q"],
        [
            "git",
            "-c",
            "user.email=a@b",
            "-c",
            "user.name=a",
            "commit",
            "-q",
            "--allow-empty",
            "-m",
            "x",
        ],
    ):
        subprocess.run(cmd, cwd=repo, check=True)
    (repo / "f.py").write_text("x = 1\n")
    subprocess.run(["git", "add", "f.py"], cwd=repo, check=True)
    monkeypatch.chdir(repo)
    with tracker.start_run(exp_name, cfg()) as run:
        pass
    tags = tracker.get_run(run.run_id, TENANT).tags
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=repo, capture_output=True, text=True)
    assert tags["matih.git.commit"] == head.stdout.strip()
    assert tags["mlflow.source.git.commit"] == head.stdout.strip()
    assert tags["matih.git.dirty"] == "true"


def test_nested_runs(tracker: ExperimentTracker, exp_name: str) -> None:
    with tracker.start_run(exp_name, cfg(run_name="sweep")) as parent:
        assert tracker.active_run() is parent
        with tracker.start_run(exp_name, cfg(run_name="trial-1", nested=True)) as child:
            assert tracker.active_run() is child
        explicit = tracker.start_run(exp_name, cfg(parent_run_id=parent.run_id))
        explicit.end()
    assert tracker.active_run() is None
    assert tracker.get_run(child.run_id, TENANT).parent_run_id == parent.run_id
    assert tracker.get_run(explicit.run_id, TENANT).parent_run_id == parent.run_id
    with pytest.raises(InvalidInputError, match="no run is open"):
        tracker.start_run(exp_name, cfg(nested=True))


def test_param_conflicts(tracker: ExperimentTracker, exp_name: str) -> None:
    with tracker.start_run(exp_name, cfg()) as run:
        run.log_param("depth", 3)
        run.log_param("depth", "3")  # same value: fine
        with pytest.raises(ConflictError, match="write-once"):
            run.log_param("depth", 5)
        with pytest.raises(ConflictError):
            run.log_params({"a": 1, "depth": 4})
        assert "a" not in tracker.get_run(run.run_id, TENANT).params  # all or nothing


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda r: r.log_metric("loss", "high"), "metric value"),
        (lambda r: r.log_metric("loss", None), "metric value"),
        (lambda r: r.log_metric("bad$key", 1.0), "metric key"),
        (lambda r: r.log_metric("loss", 1.0, step=1.5), "step"),
        (lambda r: r.log_metrics({"ok": 1, "bad": [1]}), "metric value"),
        (lambda r: r.log_param("p", "x" * 6001), "truncate"),
        (lambda r: r.set_tag("matih.tenant_id", "evil"), "reserved"),
        (lambda r: r.log_artifact("/definitely/not/here"), "does not exist"),
        (lambda r: r.log_text("x", "../escape.txt"), "relative path"),
        (lambda r: r.log_dict({}, "/etc/passwd"), "relative path"),
    ],
)
def test_bad_input_is_refused_before_mlflow(tracker, exp_name, call, match) -> None:
    with tracker.start_run(exp_name, cfg()) as run:
        with pytest.raises(InvalidInputError, match=match):
            call(run)
        run.log_metric("fine", 1.0)
    assert tracker.get_run(run.run_id, TENANT).metrics == {"fine": 1.0}


def test_numpy_values_and_special_floats(tracker, exp_name) -> None:
    import numpy as np

    with tracker.start_run(exp_name, cfg()) as run:
        run.log_metric("np", np.float32(0.5), step=np.int64(3))
        run.log_metric("arr", np.array(2.0))
        run.log_metric("nan", math.nan)
        run.log_metric("int", 7)
    m = tracker.get_run(run.run_id, TENANT).metrics
    assert m["np"] == 0.5 and m["arr"] == 2.0 and m["int"] == 7.0 and math.isnan(m["nan"])


def test_artifacts_files_folders_dict_text_figure(tracker, exp_name, tmp_path: Path) -> None:
    import matplotlib.pyplot as plt

    f = tmp_path / "notes.txt"
    f.write_text("hello")
    folder = tmp_path / "data"
    (folder / "sub").mkdir(parents=True)
    (folder / "a.csv").write_text("a\n1\n")
    (folder / "sub" / "b.csv").write_text("b\n2\n")
    fig, ax = plt.subplots()
    ax.plot([1, 2, 3])
    with tracker.start_run(exp_name, cfg()) as run:
        run.log_artifact(f).log_artifact(folder, "inputs").log_dict({"k": 1}, "cfg/params.json")
        run.log_text("text", "logs/train.txt").log_figure(fig, "plots/loss.png")
    plt.close(fig)
    top = {a["path"] for a in tracker.list_artifacts(run.run_id, tenant_id=TENANT)}
    assert top == {"notes.txt", "inputs", "cfg", "logs", "plots"}
    inner = tracker.list_artifacts(run.run_id, "inputs/data", tenant_id=TENANT)
    assert {a["path"] for a in inner} == {"inputs/data/a.csv", "inputs/data/sub"}
    dst = tmp_path / "dl"
    local = tracker.download_artifacts(run.run_id, "inputs", dst, tenant_id=TENANT)
    assert (local / "data" / "sub" / "b.csv").read_text() == "b\n2\n"
    cfg_file = tracker.download_artifacts(run.run_id, "cfg/params.json", dst, tenant_id=TENANT)
    assert cfg_file.read_text().strip().startswith("{")
    assert tracker.get_run(run.run_id, TENANT).artifacts == sorted(top)
    assert "/acme-corp/" in run.artifact_uri  # tenant prefix in the artifact store


def test_upload_artifacts_to_a_run_by_id(tracker, exp_name, tmp_path) -> None:
    run = tracker.start_run(exp_name, cfg())
    (tmp_path / "m.txt").write_text("m")
    tracker.upload_artifacts(run.run_id, tmp_path / "m.txt", "extra", tenant_id=TENANT)
    run.end()
    assert [a["path"] for a in tracker.list_artifacts(run.run_id, "extra", TENANT)] == [
        "extra/m.txt"
    ]


def test_experiments_create_list_archive_restore(tracker: ExperimentTracker) -> None:
    created = tracker.create_experiment(
        ExperimentConfig(name="churn", tenant_id=TENANT, description="Churn", tags={"team": "ds"})
    )
    assert isinstance(created, ExperimentResponse)
    assert created.description == "Churn" and created.tags["team"] == "ds"
    with pytest.raises(ConflictError):
        tracker.create_experiment(ExperimentConfig(name="churn", tenant_id=TENANT))
    assert tracker.get_or_create_experiment("churn", TENANT) == created.id
    other = tracker.get_or_create_experiment("fraud", TENANT)
    names = [e.name for e in tracker.list_experiments(TENANT)]
    assert sorted(names) == ["churn", "fraud"]
    tracker.archive_experiment(other, TENANT)
    assert [e.name for e in tracker.list_experiments(TENANT)] == ["churn"]
    archived = [e for e in tracker.list_experiments(TENANT, include_archived=True) if e.id == other]
    assert archived[0].lifecycle_stage == "deleted"
    with pytest.raises(ConflictError, match="archived"):
        tracker.start_run("fraud", cfg())
    tracker.restore_experiment(other, TENANT)
    with tracker.start_run("fraud", cfg()):
        pass


@pytest.mark.parametrize(
    "kwargs",
    [{"name": ""}, {"name": "x" * 256}, {"name": "ok", "description": "d" * 1001}],
)
def test_seed_001_validation(kwargs) -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError):
        ExperimentCreate(**kwargs)


def test_list_runs_filter_order_and_paging(tracker, exp_name) -> None:
    ids = []
    for i in range(5):
        with tracker.start_run(exp_name, cfg(run_name=f"r{i}")) as run:
            run.log_params({"depth": i % 2}).log_metric("auc", 0.8 + i / 100)
        ids.append(run.run_id)
    good = tracker.list_runs(TENANT, exp_name, filter_string="metrics.auc > 0.815")
    assert {r.name for r in good} == {"r2", "r3", "r4"}
    ordered = tracker.list_runs(TENANT, exp_name, order_by=["metrics.auc DESC"])
    assert [r.name for r in ordered] == ["r4", "r3", "r2", "r1", "r0"]
    page = tracker.list_runs(TENANT, exp_name, max_results=2, order_by=["metrics.auc ASC"])
    assert [r.name for r in page] == ["r0", "r1"] and page.next_page_token
    rest = tracker.list_runs(
        TENANT,
        exp_name,
        max_results=10,
        order_by=["metrics.auc ASC"],
        page_token=page.next_page_token,
    )
    assert [r.name for r in rest] == ["r2", "r3", "r4"]
    assert all(isinstance(r, RunResponse) for r in rest)
    with pytest.raises(InvalidInputError, match="filter") as info:
        tracker.list_runs(TENANT, exp_name, filter_string="metrics.auc >>> 1")
    assert info.value.field == "filter_string"


def test_delete_and_restore_run(tracker, exp_name) -> None:
    with tracker.start_run(exp_name, cfg()) as run:
        pass
    tracker.delete_run(run.run_id, TENANT)
    assert tracker.list_runs(TENANT, exp_name) == []
    assert tracker.get_run(run.run_id, TENANT).lifecycle_stage == "deleted"
    tracker.restore_run(run.run_id, TENANT)
    assert [r.id for r in tracker.list_runs(TENANT, exp_name)] == [run.run_id]


def test_compare_runs_dataframe(tracker, exp_name) -> None:
    ids = []
    for lr in (0.1, 0.01):
        with tracker.start_run(exp_name, cfg(run_name=f"lr{lr}")) as run:
            run.log_params({"lr": lr, "depth": 3}).log_metrics({"auc": lr * 5, "loss": 1 - lr})
        ids.append(run.run_id)
    frame = tracker.compare_runs(TENANT, ids, metrics=["auc"])
    assert isinstance(frame, pd.DataFrame)
    assert list(frame.columns) == [
        "run_id",
        "run_name",
        "status",
        "start_time",
        "duration_seconds",
        "params.depth",
        "params.lr",
        "metrics.auc",
    ]
    assert frame["metrics.auc"].tolist() == pytest.approx([0.5, 0.05])
    every = tracker.compare_runs(TENANT, ids)
    assert "metrics.loss" in every.columns


def test_get_runs_reads_runs_together_as_get_run_reads_one(tracker, exp_name, monkeypatch) -> None:
    """In the order asked, duplicates kept, deleted runs included (as `get_run`), an open
    run flushed first, and more ids than one search names."""
    from matih_jupyter.core.tracking import ownership

    monkeypatch.setattr(ownership, "RUNS_PER_SEARCH", 2)
    ids = []
    for i in range(3):
        with tracker.start_run(exp_name, cfg(run_name=f"r{i}")) as run:
            run.log_metric("auc", i / 10)
        ids.append(run.run_id)
    tracker.delete_run(ids[1], TENANT)
    live = tracker.start_run(exp_name, cfg(run_name="open"))
    live.log_metric("auc", 0.9)  # buffered: only a flush writes it
    try:
        asked = [live.run_id, ids[2], ids[0], ids[1], ids[0]]
        runs = tracker.get_runs(asked, TENANT)
        assert [r.id for r in runs] == asked
        assert runs[0].metrics == {"auc": 0.9} and runs[0].status == "running"
        assert runs[3].lifecycle_stage == "deleted"
        assert [r.metrics["auc"] for r in runs[1:]] == [0.2, 0.0, 0.1, 0.0]
        assert runs[1] == tracker.get_run(ids[2], TENANT, include_artifacts=False)
    finally:
        live.end()
    assert tracker.get_runs([], TENANT) == []
    with pytest.raises(InvalidInputError, match="run_ids"):
        tracker.get_runs(ids[0], TENANT)
    with pytest.raises(NotFoundError, match="Run 'not a run id'"):
        tracker.get_runs([ids[0], "not a run id"], TENANT)


def test_system_metrics(tracker, exp_name) -> None:
    import time

    with tracker.start_run(
        exp_name, cfg(log_system_metrics=True, system_metrics_interval=0.1)
    ) as run:
        time.sleep(0.6)
    metrics = tracker.get_run(run.run_id, TENANT).metrics
    assert 0 <= metrics["system/cpu_utilization_percentage"] <= 100 * 64
    assert metrics["system/system_memory_usage_megabytes"] > 0
    assert metrics["system/process_memory_rss_megabytes"] > 0
    history = tracker.get_metric_history(
        run.run_id, "system/system_memory_usage_percentage", TENANT
    )
    assert len(history) >= 2


def test_configuration_precedence(tmp_path, monkeypatch) -> None:
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.delenv("MLFLOW_ARTIFACT_ROOT", raising=False)
    monkeypatch.delenv("MLFLOW_REGISTRY_URI", raising=False)
    monkeypatch.setenv("MATIH_HOME", str(tmp_path / "home"))
    embedded = ExperimentTracker()
    assert embedded.store.embedded
    assert embedded.tracking_uri == f"sqlite:///{tmp_path / 'home' / 'mlflow.db'}"
    assert embedded.default_artifact_root == (tmp_path / "home" / "artifacts").as_uri()
    assert embedded.registry_uri == embedded.tracking_uri
    assert "embedded store" in embedded.store.describe()

    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path}/env.db")
    monkeypatch.setenv("MLFLOW_REGISTRY_URI", f"sqlite:///{tmp_path}/reg.db")
    from_env = ExperimentTracker()
    assert from_env.tracking_uri.endswith("env.db") and from_env.registry_uri.endswith("reg.db")
    assert not from_env.store.embedded

    explicit = ExperimentTracker(
        tracking_uri=f"sqlite:///{tmp_path}/arg.db", default_artifact_root=str(tmp_path / "art")
    )
    assert explicit.tracking_uri.endswith("arg.db")
    assert explicit.default_artifact_root == (tmp_path / "art").as_uri()
    assert explicit.registry_uri.endswith("reg.db")  # the env's registry still applies


def test_singleton_from_environment(matih_env) -> None:
    one = get_experiment_tracker(refresh=True)
    assert one is get_experiment_tracker()
    assert one.tracking_uri == matih_env["MLFLOW_TRACKING_URI"]
    assert one.tenant_id == "acme-corp"
    with one.start_run("from-env") as run:  # tenant from MATIH_TENANT_ID
        run.log_metric("x", 1)
    assert one.get_run(run.run_id).tags["matih.user_id"] == "alice@acme.com"


def test_missing_tenant_is_a_clear_error(tracker, exp_name, monkeypatch) -> None:
    monkeypatch.delenv("MATIH_TENANT_ID", raising=False)
    bare = ExperimentTracker(tracking_uri=tracker.tracking_uri)
    with pytest.raises(InvalidInputError, match="MATIH_TENANT_ID"):
        bare.start_run(exp_name)


def test_unknown_ids_are_not_found(tracker) -> None:
    with pytest.raises(NotFoundError, match="was not found for tenant 'acme-corp'"):
        tracker.get_run("0" * 32, TENANT)
    with pytest.raises(NotFoundError):
        tracker.get_experiment("424242", TENANT)
    with pytest.raises(NotFoundError):
        tracker.get_metric_history("nope", "loss", TENANT)


def test_listeners_see_every_stored_point_off_the_callers_thread(tracker, exp_name) -> None:
    import threading
    import time

    seen: list[tuple] = []
    threads: set[str] = set()

    def listener(points) -> None:
        threads.add(threading.current_thread().name)
        seen.extend(points)

    def broken(points) -> None:
        raise RuntimeError("a viewer bug must not break logging")

    with tracker.start_run(exp_name, cfg()) as run:
        run.add_listener(broken)
        run.add_listener(listener)
        assert run.tracker is tracker
        for i in range(2500):
            run.log_metric("loss", float(i), step=i)  # never calls a listener itself
        assert threading.current_thread().name not in threads
        deadline = time.monotonic() + 30
        while len(seen) < 2500 and time.monotonic() < deadline:
            time.sleep(0.05)  # the writer thread sends without any flush
        assert threads == {f"matih-writer-{run.run_id[:8]}"}
        run.flush()
        run.remove_listener(broken)
        run.remove_listener(broken)  # removing twice is harmless
    assert sorted(p[3] for p in seen) == list(range(2500))
    assert {p[0] for p in seen} == {"loss"}
    assert tracker.resolve_tenant(TENANT) == TENANT


def test_a_reader_on_another_thread_can_read_without_flushing_the_open_run(
    tracker, exp_name
) -> None:
    with tracker.start_run(exp_name, RunConfig(tenant_id="acme-corp")) as run:
        run.log_metric("loss", 1.0, step=0)
        run.flush()
        run.log_metric("loss", 0.5, step=1)  # buffered, not yet written
        # Not flushed: what is stored so far (the writer may have sent step 1 meanwhile).
        unflushed = tracker.get_metric_history(run.run_id, "loss", "acme-corp", flush=False)
        assert [p.step for p in unflushed] in ([0], [0, 1])
        # Flushed (the default): everything logged so far, nothing left pending.
        assert len(tracker.get_metric_history(run.run_id, "loss", "acme-corp")) == 2
        assert run.pending == 0
        assert tracker.get_run(run.run_id, "acme-corp", flush=False).id == run.run_id


def test_batch_writes_to_an_ended_run_are_refused(
    tracker: ExperimentTracker, exp_name: str
) -> None:
    """A metrics-only batch checks the run's status alone (no whole-run read); with params
    the run is read whole. Either way an ended run takes nothing."""
    run = tracker.start_run(exp_name, cfg())
    tracker.log_batch(run.run_id, [{"key": "auc", "value": 0.5}], tenant_id=TENANT)
    run.end()
    with pytest.raises(ConflictError, match="has ended"):
        tracker.log_batch(run.run_id, [{"key": "auc", "value": 0.9}], tenant_id=TENANT)
    with pytest.raises(ConflictError, match="has ended"):
        tracker.log_batch(run.run_id, [], {"lr": "0.1"}, tenant_id=TENANT)
    got = tracker.get_run(run.run_id, TENANT)
    assert got.metrics == {"auc": 0.5} and got.params == {}
