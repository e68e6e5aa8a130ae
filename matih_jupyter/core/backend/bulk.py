"""Reads of MLflow without the cyclic garbage collector's passes over the heap.

A page of 1,000 runs has MLflow build some 30,000 short-lived objects (ORM rows, then
entities), and a Jupyter server answering a burst of requests holds thousands more in
flight. Those allocations set off the collector's passes over the whole heap, which in a
process holding a large heap (a kernel with pandas loaded, a Jupyter server: 500,000
objects, some 170 ms a full pass) cost more than the reads themselves: more than half of
``mlflow.search_runs``' time for 1,000 runs in such a process. Reference counting frees
those objects, so a read pauses the collector for its own duration: overlapping reads
(server threads) share one pause, and the collector runs again when the last of them ends.
Reads that keep overlapping still collect: the young objects (where new cycles sit) after
`MAX_PAUSE` seconds, everything after `MAX_FULL_PAUSE`.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

#: Seconds of continuous pause after which a read that ends collects the young objects.
MAX_PAUSE = 2.0
#: Seconds of continuous pause after which a read that ends runs a full collection.
MAX_FULL_PAUSE = 60.0

_F = TypeVar("_F", bound=Callable[..., Any])
_lock = threading.Lock()
_readers = 0
_young_at = _full_at = 0.0
_was_enabled = False


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """Run a read with the cyclic garbage collector paused (see the module)."""
    global _readers, _young_at, _full_at, _was_enabled
    with _lock:
        if _readers == 0:
            _was_enabled = gc.isenabled()
            _young_at = _full_at = time.monotonic()
            gc.disable()
        _readers += 1
    try:
        yield
    finally:
        overdue = None
        with _lock:
            _readers -= 1
            now = time.monotonic()
            if _readers == 0:
                if _was_enabled:
                    gc.enable()
            elif now - _full_at > MAX_FULL_PAUSE:
                _young_at = _full_at = now
                overdue = 2
            elif now - _young_at > MAX_PAUSE:
                _young_at, overdue = now, 1
        if overdue is not None:
            gc.collect(overdue)


def gc_paused(fn: _F) -> _F:
    """Decorator: the method is a read, run with the collector paused."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with collector_paused():
            return fn(*args, **kwargs)

    return wrapper  # type: ignore[return-value]
