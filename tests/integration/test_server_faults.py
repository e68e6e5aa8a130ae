"""The server fails: logging never blocks the notebook, data goes to the durable spool,
the user is told, and when the server returns the spool is replayed exactly once.

These tests stop and restart their own ``mlflow server`` (same port, same database).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import textwrap
import time

import pytest
from services import MlflowServer, free_port

from matih_jupyter import ExperimentTracker, RunConfig
from matih_jupyter.core.errors import BackendUnavailableError, LoggingError


@pytest.fixture(scope="module")
def fault_server(stack) -> MlflowServer:
    return stack.server(workers=1)


@pytest.fixture
def server_up(fault_server):
    fault_server.start()
    yield fault_server
    fault_server.start()  # leave it running for the next test


def _wait_for(predicate, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


def _assert_exact_history(tracker, run_id: str, steps: int) -> None:
    history = tracker.get_metric_history(run_id, "m")
    got = [p.step for p in history]
    dupes = len(got) - len(set(got))
    missing = sorted(set(range(steps)) - set(got))
    assert dupes == 0, f"{dupes} duplicated points"
    assert missing == [], f"{len(missing)} points lost, first {missing[:5]}"
    assert got == list(range(steps))
    assert all(p.value == float(p.step) * 0.5 for p in history)


def test_server_stops_mid_run_logging_does_not_block_and_spool_replays_once(
    server_up, tenant, tmp_path, monkeypatch, capsys
):
    home = tmp_path / "home"
    monkeypatch.setenv("MATIH_HOME", str(home))
    tracker = ExperimentTracker(tracking_uri=server_up.url, tenant_id=tenant)
    run = tracker.start_run("faults", RunConfig(run_name="outage"))
    for step in range(500):
        run.log_metric("m", step * 0.5, step)
    run.flush()
    assert run.pending == 0 and run.backend_error is None

    server_up.stop()
    per_call = []
    for step in range(500, 3000):
        t0 = time.perf_counter()
        run.log_metric("m", step * 0.5, step)
        per_call.append(time.perf_counter() - t0)
    # The writer notices the outage in the background; the caller never waited for it.
    assert _wait_for(lambda: run.backend_error is not None, 30), "outage not detected"
    assert "unreachable" in run.sync_status
    t0 = time.perf_counter()
    with pytest.raises(LoggingError) as info:
        run.flush(timeout=5)
    flush_s = time.perf_counter() - t0
    assert info.value.pending > 0
    assert "unreachable" in str(info.value)
    spool_files = list((home / "spool").glob("*.jsonl"))
    assert [p.stem for p in spool_files] == [run.run_id]
    assert spool_files[0].stat().st_size > 0
    for step in range(3000, 4000):  # still logging during the outage
        t0 = time.perf_counter()
        run.log_metric("m", step * 0.5, step)
        per_call.append(time.perf_counter() - t0)
    worst_ms = max(per_call) * 1000
    median_us = statistics.median(per_call) * 1e6
    assert worst_ms < 100, f"a logging call blocked {worst_ms:.1f} ms during the outage"

    restart0 = time.perf_counter()
    server_up.start()
    restart_s = time.perf_counter() - restart0
    # Back: the writer replays the spool by itself; flush then succeeds.
    replay0 = time.perf_counter()
    assert _wait_for(lambda: run.pending == 0 and run.backend_error is None, 90), run.sync_status
    replay_s = time.perf_counter() - replay0
    run.flush(timeout=30)
    run.end()
    assert run.status == "FINISHED"
    _assert_exact_history(tracker, run.run_id, 4000)
    assert tracker.get_run(run.run_id).status == "finished"
    assert not list((home / "spool").glob("*.jsonl")), "spool not cleared after replay"
    with capsys.disabled():
        print(
            f"\n[faults] outage: log_metric median {median_us:.1f} us, worst {worst_ms:.2f} ms; "
            f"flush raised in {flush_s:.2f} s (pending {info.value.pending}); server restart "
            f"{restart_s:.1f} s; spool replayed {replay_s:.1f} s after; 4000/4000 points, "
            "0 duplicates"
        )


CHILD = textwrap.dedent(
    """
    import json, sys, time
    from matih_jupyter import ExperimentTracker, RunConfig
    from matih_jupyter.core.errors import LoggingError
    url, tenant, go = sys.argv[1], sys.argv[2], sys.argv[3]
    tracker = ExperimentTracker(tracking_uri=url, tenant_id=tenant)
    run = tracker.start_run("faults", RunConfig(run_name="dies-offline"))
    for step in range(1000):
        run.log_metric("m", step * 0.5, step)
    run.flush()
    print(json.dumps({"run_id": run.run_id}), flush=True)
    while not __import__("os").path.exists(go):  # the parent stops the server meanwhile
        time.sleep(0.05)
    for step in range(1000, 2500):
        run.log_metric("m", step * 0.5, step)
    try:
        run.end()
    except LoggingError as exc:
        print(json.dumps({"pending": exc.pending}), flush=True)
    """
)


def test_process_exits_during_outage_next_tracker_replays_exactly_once(
    server_up, tenant, tmp_path, monkeypatch
):
    home = tmp_path / "home"
    env = {**os.environ, "MATIH_HOME": str(home)}
    go = tmp_path / "go"
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, server_up.url, tenant, str(go)],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert child.stdout is not None
    run_id = json.loads(child.stdout.readline())["run_id"]
    server_up.stop()
    go.touch()
    out, _ = child.communicate(timeout=120)
    assert child.returncode == 0
    assert json.loads(out.strip().splitlines()[-1])["pending"] > 0
    assert (home / "spool" / f"{run_id}.jsonl").exists()

    server_up.start()
    monkeypatch.setenv("MATIH_HOME", str(home))
    tracker = ExperimentTracker(tracking_uri=server_up.url, tenant_id=tenant)
    # Replaying twice (e.g. two notebooks starting at once) must not duplicate anything.
    tracker.replay_spools()
    ExperimentTracker(tracking_uri=server_up.url, tenant_id=tenant).replay_spools()
    assert _wait_for(lambda: not (home / "spool" / f"{run_id}.jsonl").exists(), 60)
    _assert_exact_history(tracker, run_id, 2500)
    assert tracker.get_run(run_id).status == "finished"


def test_server_down_at_run_start_is_a_clear_error_within_seconds(tmp_path, monkeypatch, tenant):
    monkeypatch.setenv("MATIH_HOME", str(tmp_path / "home"))
    url = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    tracker = ExperimentTracker(tracking_uri=url, tenant_id=tenant)
    t0 = time.perf_counter()
    with pytest.raises(BackendUnavailableError) as info:
        tracker.start_run("faults")
    elapsed = time.perf_counter() - t0
    assert "did not answer" in str(info.value)
    assert info.value.hint and "running" in info.value.hint
    assert elapsed < 15, f"took {elapsed:.1f} s to report a dead server"
    print(f"\n[faults] dead server reported after {elapsed:.2f} s")


def test_stopped_server_at_run_start(server_up, tenant, tmp_path, monkeypatch):
    monkeypatch.setenv("MATIH_HOME", str(tmp_path / "home"))
    tracker = ExperimentTracker(tracking_uri=server_up.url, tenant_id=tenant)
    tracker.list_experiments()
    server_up.stop()
    t0 = time.perf_counter()
    with pytest.raises(BackendUnavailableError):
        tracker.start_run("faults")
    assert time.perf_counter() - t0 < 15
