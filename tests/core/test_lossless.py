"""Buffered logging loses nothing: normal end, exceptions, interrupts, interpreter exit
without end(), refused writes and a backend that goes away."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
import urllib.request
from pathlib import Path

import pytest

from matih_jupyter import ExperimentTracker, LoggingError, RunConfig

TENANT = "acme-corp"


def _script(tracking_uri: str, body: str) -> str:
    return textwrap.dedent(
        f"""
        from matih_jupyter import ExperimentTracker, RunConfig
        tracker = ExperimentTracker(tracking_uri={tracking_uri!r})
        run = tracker.start_run("child", RunConfig(tenant_id={TENANT!r}))
        print(run.run_id, flush=True)
        for i in range(3000):
            run.log_metric("loss", 1.0 / (i + 1), step=i)
        run.log_param("lr", 0.1)
        """
    ) + textwrap.dedent(body)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("ending", "status", "error_type"),
    [
        ("", "finished", None),  # falls off the end of the script without run.end()
        ("raise ValueError('bad data')\n", "failed", "ValueError"),
        ("raise KeyboardInterrupt\n", "killed", "KeyboardInterrupt"),
    ],
)
def test_child_process_exiting_without_end_keeps_every_point(
    tracker: ExperimentTracker, tmp_path: Path, ending: str, status: str, error_type: str | None
) -> None:
    script = tmp_path / "child.py"
    script.write_text(_script(tracker.tracking_uri, ending))
    proc = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=120, cwd=tmp_path
    )
    run_id = proc.stdout.split()[0]
    run = tracker.get_run(run_id, TENANT)
    assert run.status == status, proc.stderr
    assert run.params == {"lr": "0.1"}
    history = tracker.get_metric_history(run_id, "loss", TENANT)
    assert [p.step for p in history] == list(range(3000))
    assert run.tags.get("matih.error.type") == error_type
    assert "matih.end_reason" in run.tags


def test_refused_write_surfaces_at_the_next_call_and_keeps_the_rest(tracker, exp_name) -> None:
    run = tracker.start_run(exp_name, RunConfig(tenant_id=TENANT))
    # Someone logged this param outside matih; the run object cannot know before MLflow says so.
    tracker.client.log_param(run.run_id, "lr", "0.1")
    run.log_param("lr", "0.5")
    for i in range(10):
        run.log_metric("loss", float(i), step=i)
    with pytest.raises(LoggingError) as info:
        run.flush()
    assert info.value.dropped == [("lr", "0.5")]
    assert "another value" in str(info.value)
    run.log_metric("after", 1.0)  # reported once; logging goes on
    run.end()
    got = tracker.get_run(run.run_id, TENANT)
    assert got.params == {"lr": "0.1"}
    assert len(tracker.get_metric_history(run.run_id, "loss", TENANT)) == 10
    assert got.metrics["after"] == 1.0


def test_a_loop_far_ahead_of_the_store_keeps_the_writer_bounded(
    tracker, exp_name, monkeypatch
) -> None:
    """A loop logging faster than the store writes runs at the store's pace once it is
    MAX_QUEUED points ahead: the queue stays bounded, and every point arrives in order."""
    from matih_jupyter.core.tracking import buffer

    monkeypatch.setattr(buffer, "MAX_QUEUED", 2000)
    run = tracker.start_run(exp_name, RunConfig(tenant_id=TENANT))
    most = 0
    for i in range(12_000):
        run.log_metric("loss", float(i), step=i)
        most = max(most, run.pending)
    run.log_metrics({"a": 1.0, "b": 2.0}, step=0)
    run.end()
    assert 2000 - buffer.MAX_METRICS < most <= 2000  # at the bound, never past it
    history = tracker.get_metric_history(run.run_id, "loss", TENANT)
    assert [p.value for p in history] == [float(i) for i in range(12_000)]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start_server(store: Path, port: int) -> subprocess.Popen:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "mlflow",
            "server",
            "--backend-store-uri",
            f"sqlite:///{store / 'mlflow.db'}",
            "--default-artifact-root",
            (store / "artifacts").as_uri(),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            "1",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        # Its own process group: `mlflow server` starts uvicorn workers, which must stop with
        # it (see _stop). MLflow's job runners are not needed here.
        start_new_session=True,
        env={**os.environ, "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"},
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as r:
                if r.status == 200:
                    return proc
        except OSError:
            time.sleep(0.3)
    _stop(proc)
    raise RuntimeError("mlflow server did not start")


def _stop(proc: subprocess.Popen, sig: int = signal.SIGTERM) -> None:
    """Stop the server and every process it started."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, sig)
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)


@pytest.fixture
def server(store_dir: Path, monkeypatch):
    """A real `mlflow server` on the test's store, which the test can stop and restart."""
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_TIMEOUT", "20")
    port = _free_port()
    handle = {"proc": _start_server(store_dir, port), "uri": f"http://127.0.0.1:{port}"}

    def stop() -> None:
        _stop(handle["proc"])

    def start() -> None:
        handle["proc"] = _start_server(store_dir, port)

    handle["stop"], handle["start"] = stop, start
    yield handle
    _stop(handle["proc"], signal.SIGKILL)


@pytest.mark.slow
def test_backend_down_spools_and_replays_once(server, monkeypatch) -> None:
    tracker = ExperimentTracker(tracking_uri=server["uri"])
    run = tracker.start_run("remote", RunConfig(tenant_id=TENANT))
    for i in range(500):
        run.log_metric("loss", float(i), step=i)
    run.flush()
    assert run.sync_status == "All logged data is written."
    server["stop"]()
    started = time.monotonic()
    for i in range(500, 1500):
        run.log_metric("loss", float(i), step=i)  # never blocks on the dead server
    assert time.monotonic() - started < 1.0
    with pytest.raises(LoggingError, match="unreachable") as info:
        run.flush(timeout=3)
    assert info.value.pending == 1000
    assert "will be sent when the backend answers again" in str(info.value)
    spool_file = run._writer.spool.path
    assert spool_file.exists() and "unreachable" in run.sync_status
    server["start"]()
    run.end()
    assert not spool_file.exists()
    history = tracker.get_metric_history(run.run_id, "loss", TENANT)
    assert [p.step for p in history] == list(range(1500))  # no gaps, no duplicates
    assert tracker.get_run(run.run_id, TENANT).status == "finished"


@pytest.mark.slow
def test_process_ending_while_backend_down_is_replayed_by_the_next(server, tmp_path) -> None:
    script = tmp_path / "child.py"
    script.write_text(
        textwrap.dedent(
            f"""
            import sys, time
            from matih_jupyter import ExperimentTracker, RunConfig
            tracker = ExperimentTracker(tracking_uri={server["uri"]!r})
            run = tracker.start_run("remote", RunConfig(tenant_id={TENANT!r}))
            print(run.run_id, flush=True)
            for i in range(100):
                run.log_metric("loss", float(i), step=i)
            while run.pending:  # the writer sends them (a slow server only delays it)
                time.sleep(0.05)
            print("sent", flush=True)
            sys.stdin.readline()  # the test stops the server now
            for i in range(100, 400):
                run.log_metric("loss", float(i), step=i)
            """
        )
    )
    child = subprocess.Popen(
        [sys.executable, str(script)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
    )
    run_id = child.stdout.readline().strip()
    assert child.stdout.readline().strip() == "sent"
    server["stop"]()
    _, err = child.communicate("go\n", timeout=120)
    assert "could not end run" in err and "unreachable" in err
    server["start"]()
    tracker = ExperimentTracker(tracking_uri=server["uri"])
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline and tracker.get_run(run_id, TENANT).status == "running":
        time.sleep(0.5)  # the new tracker replays in the background
    assert tracker.replay_spools() == {}  # nothing left, so nothing is sent twice
    run = tracker.get_run(run_id, TENANT)
    assert run.status == "finished"
    steps = [p.step for p in tracker.get_metric_history(run_id, "loss", TENANT)]
    assert steps == list(range(400))


def test_replay_after_a_crash_between_send_and_commit_sends_nothing_twice(tracker, exp_name):
    from matih_jupyter.core.tracking.spool import Spool

    exp_id = tracker.get_or_create_experiment(exp_name, TENANT)
    run_id = tracker.create_run(exp_id, RunConfig(tenant_id=TENANT)).id
    points = [["loss", float(i), 1000 + i, i] for i in range(50)]
    spool = Spool(run_id)
    spool.append_batch(points, [["lr", "0.1"]], [["note", "x"]])
    spool.append({"end": "KILLED", "end_time": 99_999})
    spool.release()
    # The crashed process had sent the first record but not committed its offset.
    sent = [{"key": k, "value": v, "timestamp": ts, "step": s} for k, v, ts, s in points]
    tracker.log_batch(run_id, sent, {"lr": "0.1"}, tenant_id=TENANT)
    assert tracker.replay_spools() == {run_id: 52}
    assert tracker.replay_spools() == {}
    history = tracker.get_metric_history(run_id, "loss", TENANT)
    assert [p.step for p in history] == list(range(50))
    got = tracker.get_run(run_id, TENANT)
    assert got.params == {"lr": "0.1"} and got.tags["note"] == "x"
    assert got.status == "killed"
