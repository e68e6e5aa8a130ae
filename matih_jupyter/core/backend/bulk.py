"""Large reads of MLflow without the cyclic garbage collector's passes over the heap.

A page of 1,000 runs has MLflow build some 30,000 short-lived objects (ORM rows, then
entities). In a process holding a large heap, as a kernel with pandas loaded or a Jupyter
server does, those allocations set off the collector's passes over the whole heap, which
then cost more than the read itself (more than half of ``mlflow.search_runs``' time for
1,000 runs in such a process). Reference counting frees those objects, so a large read
pauses the collector for its own duration: overlapping reads (server threads) share one
pause, and the collector runs again when the last of them ends. Reads that keep overlapping
for longer than `MAX_PAUSE` still collect the young objects (where any new cycle sits).
"""

from __future__ import annotations

import contextlib
import gc
import threading
import time
from collections.abc import Iterator

#: Seconds of continuous pause after which a read that ends collects the young objects.
MAX_PAUSE = 2.0

_lock = threading.Lock()
_readers = 0
_paused_at = 0.0
_was_enabled = False


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """Run a large read with the cyclic garbage collector paused (see the module)."""
    global _readers, _paused_at, _was_enabled
    with _lock:
        if _readers == 0:
            _was_enabled = gc.isenabled()
            _paused_at = time.monotonic()
            gc.disable()
        _readers += 1
    try:
        yield
    finally:
        overdue = False
        with _lock:
            _readers -= 1
            if _readers == 0:
                if _was_enabled:
                    gc.enable()
            elif time.monotonic() - _paused_at > MAX_PAUSE:
                _paused_at, overdue = time.monotonic(), True
        if overdue:
            gc.collect(1)
