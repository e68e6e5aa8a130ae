"""The metric tap: every point of a run of this process as it is logged, for live views."""

from __future__ import annotations

import threading
import time
from collections import deque

from matih_jupyter import RunConfig

TENANT = "acme-corp"


def cfg() -> RunConfig:
    return RunConfig(tenant_id=TENANT, user_id="alice@acme.com")


def _stored(tracker, run_id: str, key: str) -> list[tuple[int, float]]:
    history = tracker.get_metric_history(run_id, key, TENANT, flush=False)
    return [(int(p.step), float(p.value)) for p in history]


def test_points_reach_the_tap_before_mlflow_stores_them(tracker, exp_name):
    with tracker.start_run(exp_name, cfg()) as run:
        tap = run.metric_tap()
        stored, queued = tap.open(lambda: _stored(tracker, run.run_id, "loss"))
        assert (stored, queued) == ([], [])
        with run._writer.sends_held():  # the writer cannot store anything meanwhile
            run.log_metric("loss", 0.5, step=1)
            run.log_metrics({"loss": 0.25, "acc": 0.75}, step=2)
            taken = [(k, v, s) for k, v, _, s in tap.take()]
            assert _stored(tracker, run.run_id, "loss") == []
        assert taken == [("loss", 0.5, 1), ("loss", 0.25, 2), ("acc", 0.75, 2)]
        assert tap.take() == []  # each point once
        tap.close()
        run.log_metric("loss", 0.1, step=3)
        assert tap.take() == []  # a closed tap is fed no more
        assert run._writer.taps == ()


def test_a_tap_opened_while_the_loop_logs_misses_no_point_and_repeats_none(tracker, exp_name):
    """Points stored before the tap opened, queued then, and logged after: each exactly
    once, with two threads logging (a training loop and a system-metrics sampler)."""
    logged: dict[str, int] = {}
    with tracker.start_run(exp_name, cfg()) as run:
        started, stop = threading.Event(), threading.Event()

        def loop(key: str, many: bool) -> None:
            i = 0
            while not stop.is_set() or i < 3000:
                if many:
                    run.log_metrics({key: float(i)}, step=i)
                else:
                    run.log_metric(key, float(i), step=i)
                i += 1
                if i == 2000:
                    started.set()
                if i % 10 == 0:
                    time.sleep(0.001)
            logged[key] = i

        threads = [
            threading.Thread(target=loop, args=("loss", False)),
            threading.Thread(target=loop, args=("cpu", True)),
        ]
        for t in threads:
            t.start()
        assert started.wait(30)
        tap = run.metric_tap()
        stored, queued = tap.open(
            lambda: {k: _stored(tracker, run.run_id, k) for k in ("loss", "cpu")}
        )
        got: dict[str, list[tuple[int, float]]] = {k: list(v) for k, v in stored.items()}
        taken = 0
        while taken < 500:  # the loops go on logging while the tap is followed
            fresh = tap.take()
            taken += len(fresh)
            for key, value, _, step in fresh:
                got[key].append((step, value))
            time.sleep(0.01)
        stop.set()
        for t in threads:
            t.join()
        for key, value, _, step in [*queued, *tap.take()]:
            got[key].append((step, value))
        tap.close()
    assert stored["loss"], "the writer had stored points before the tap opened"
    for key in ("loss", "cpu"):
        assert sorted(got[key]) == [(i, float(i)) for i in range(logged[key])], key


def test_points_queued_when_the_tap_opens_are_handed_over_once(tracker, exp_name):
    with tracker.start_run(exp_name, cfg()) as run:
        run.log_metric("loss", 0.0, step=0)
        run.flush()
        for i in range(1, 11):
            run.log_metric("loss", float(i), step=i)  # queued: the writer sends later
        tap = run.metric_tap()
        stored, queued = tap.open(lambda: _stored(tracker, run.run_id, "loss"))
        run.log_metric("loss", 11.0, step=11)
        later = [(s, v) for _, v, _, s in tap.take()]
        tap.close()
    handed = stored + [(s, v) for _, v, _, s in queued]
    assert sorted(handed) == [(i, float(i)) for i in range(11)]
    assert later == [(11, 11.0)]


def test_a_failed_catch_up_read_leaves_no_tap_behind(tracker, exp_name):
    with tracker.start_run(exp_name, cfg()) as run:
        tap = run.metric_tap()

        def down():
            raise ConnectionError("backend down")

        try:
            tap.open(down)
        except ConnectionError:
            pass
        else:  # pragma: no cover - the read's error must reach the caller
            raise AssertionError("the catch-up error was swallowed")
        assert not tap.opened
        assert run._writer.taps == ()
        run.log_metric("loss", 1.0)
        assert tap.take() == []


def test_a_point_logged_as_the_tap_opens_is_returned_once(tracker, exp_name):
    """A thread logging exactly while the tap opens: the point is queued before the
    queue is copied, and reaches the new tap after it (the race, played in order)."""
    with tracker.start_run(exp_name, cfg()) as run:
        writer = run._writer
        racing = ("loss", 7.0, 0, 7)

        class RacingQueue(deque):
            def copy(self):
                self.append(racing)  # the other thread queued it ...
                snapshot = super().copy()
                for tap in writer.taps:  # ... and feeds the taps only now
                    tap.append(racing)
                return snapshot

        with writer.sends_held():
            writer.metrics = RacingQueue(writer.metrics)
        tap = run.metric_tap()
        _, queued = tap.open(lambda: [])
        writer.metrics = deque(writer.metrics)
        run.log_metric("loss", 8.0, step=8)
        assert queued == [racing]
        assert [(s, v) for _, v, _, s in tap.take()] == [(8, 8.0)]
        tap.close()


def test_flush_returns_while_another_thread_keeps_logging(tracker, exp_name):
    """A flush writes what was queued when it began: a loop that logs while each batch
    is being sent must not keep it (or a live view opening) waiting forever."""
    with tracker.start_run(exp_name, cfg()) as run:
        stop = threading.Event()

        def loop() -> None:
            i = 0
            while not stop.is_set():
                run.log_metric("loss", float(i), step=i)
                i += 1
                if i % 50 == 0:
                    time.sleep(0.005)  # a little faster than MLflow stores

        logger = threading.Thread(target=loop)
        logger.start()
        try:
            time.sleep(0.3)
            flusher = threading.Thread(target=run.flush)
            flusher.start()
            flusher.join(60)
            assert not flusher.is_alive(), "flush never returned under continuous logging"
        finally:
            stop.set()
            logger.join()
