"""Large reads pause the cyclic garbage collector for their own duration only: overlapping
reads share one pause, the collector runs again after the last, and a collector the
process had turned off stays off."""

from __future__ import annotations

import gc
import threading

import pytest

from matih_jupyter.core.backend import bulk


@pytest.fixture(autouse=True)
def _collector_on():
    was = gc.isenabled()
    gc.enable()
    yield
    if not was:
        gc.disable()


def test_overlapping_reads_share_one_pause() -> None:
    entered, release = threading.Event(), threading.Event()

    def other_read() -> None:
        with bulk.collector_paused():
            entered.set()
            release.wait(10)

    thread = threading.Thread(target=other_read)
    with bulk.collector_paused():
        assert not gc.isenabled()
        thread.start()
        assert entered.wait(10)
    assert not gc.isenabled()  # the other read still runs
    release.set()
    thread.join(10)
    assert gc.isenabled()


def test_a_failing_read_ends_its_pause() -> None:
    with pytest.raises(KeyError), bulk.collector_paused():
        raise KeyError("x")
    assert gc.isenabled()


def test_a_collector_turned_off_stays_off() -> None:
    gc.disable()
    with bulk.collector_paused():
        pass
    assert not gc.isenabled()


def test_reads_overlapping_for_long_still_collect_young_cycles(monkeypatch) -> None:
    monkeypatch.setattr(bulk, "MAX_PAUSE", 0.0)
    collected = []
    gc.callbacks.append(lambda phase, info: collected.append(info["generation"]))
    try:
        with bulk.collector_paused():
            with bulk.collector_paused():
                pass
            assert collected and not gc.isenabled()
    finally:
        gc.callbacks.pop()


def test_reads_that_never_stop_overlapping_still_collect_everything(monkeypatch) -> None:
    monkeypatch.setattr(bulk, "MAX_FULL_PAUSE", 0.0)
    collected = []
    gc.callbacks.append(lambda phase, info: collected.append(info["generation"]))
    try:
        with bulk.collector_paused(), bulk.collector_paused():
            pass
        assert 2 in collected
    finally:
        gc.callbacks.pop()


def test_a_read_method_runs_paused() -> None:
    seen = []

    @bulk.gc_paused
    def read() -> str:
        seen.append(gc.isenabled())
        return "read"

    assert read() == "read" and seen == [False] and gc.isenabled()
    assert read.__name__ == "read"
