"""Buffered logging loses nothing: normal end, exceptions, interrupts, interpreter exit
without end(), refused writes and a backend that goes away."""

from __future__ import annotations

import socket
import subprocess
import sys
import textwrap
import time
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
    )
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return proc
        except OSError:
            time.sleep(0.3)
    proc.kill()
    raise RuntimeError("mlflow server did not start")


@pytest.mark.slow
def test_backend_down_keeps_points_and_replays_once(store_dir: Path, monkeypatch) -> None:
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_TIMEOUT", "2")
    port = _free_port()
    server = _start_server(store_dir, port)
    try:
        tracker = ExperimentTracker(tracking_uri=f"http://127.0.0.1:{port}")
        run = tracker.start_run("remote", RunConfig(tenant_id=TENANT))
        for i in range(500):
            run.log_metric("loss", float(i), step=i)
        run.flush()
        server.terminate()
        server.wait(30)
        started = time.monotonic()
        for i in range(500, 1500):
            run.log_metric("loss", float(i), step=i)  # never blocks on the dead server
        assert time.monotonic() - started < 1.0
        with pytest.raises(LoggingError, match="unreachable") as info:
            run.flush(timeout=3)
        assert info.value.pending == 1000
        assert run.pending == 1000
        server = _start_server(store_dir, port)
        run.end()
        history = tracker.get_metric_history(run.run_id, "loss", TENANT)
        assert [p.step for p in history] == list(range(1500))  # no gaps, no duplicates
    finally:
        server.kill()
