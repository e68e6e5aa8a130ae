"""Lossless buffered logging.

The caller's thread only appends a tuple to a deque. A writer thread sends batches within
MLflow's limits. ``flush()`` drains on the caller's thread too, so the final flush costs no
thread hand-off. A batch is taken out of the queue only once it was sent; if sending
fails, or is interrupted (``KeyboardInterrupt``), it goes back to the front of the queue.

Failures are sorted in two kinds:

* transient (the backend is unreachable): with a spool (see `spool.Spool`) the data moves
  to a durable local file at once and is replayed, exactly once, when the backend answers
  again; without one it stays queued in memory and is retried with back-off. Either way
  ``flush()`` raises `LoggingError` with the count still pending instead of hanging;
* permanent (MLflow refused the batch): the refused items are kept on the error
  (``LoggingError.dropped``) and the error is raised at the caller's next logging call or
  flush, so it never lives only in a log.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from typing import Any

from ..errors import BackendUnavailableError, LoggingError, MatihError
from .spool import Spool

MAX_METRICS = 1000
MAX_PARAMS = 100
MAX_TAGS = 100
MAX_ITEMS = 1000
#: MLflow's 1 MB request limit, with room for the JSON framing.
MAX_BYTES = 900_000

#: Metric points a run holds in memory ahead of the store. Past that, a loop that logs
#: faster than the store writes sends a batch itself for each batch it queues: it goes at
#: the store's pace, and the writer's memory stays bounded however long the run grows.
MAX_QUEUED = 50_000

MetricItem = tuple[str, float, int, int]  # key, value, timestamp ms, step
#: Seconds between sends while a listener (a live chart) follows the points.
LIVE_INTERVAL = 0.1
KVItem = tuple[str, str]
Sender = Callable[[list[MetricItem], list[KVItem], list[KVItem]], None]
Terminator = Callable[[str, int], None]


class BatchWriter:
    """Queues metrics, params and tags of one run and writes them in batches.

    Args:
        send: Writes one batch; raises `BackendUnavailableError` for transient failures
            and any other exception for permanent ones.
        interval: Seconds between background sends when fewer than a full batch waits.
        name: Thread name, for debugging.
        on_tick: Called by the writer thread about every ``tick_interval`` seconds
            (heartbeats).
        spool: Where batches go while the backend is unreachable; None keeps them in memory.
        terminate: Ends the run (status, end time ms); used for an end spooled while the
            backend was unreachable.
        start: Start the writer thread (False for a one-off replay on the caller's thread).
    """

    def __init__(
        self,
        send: Sender,
        *,
        interval: float = 0.5,
        name: str = "matih-writer",
        on_tick: Callable[[], None] | None = None,
        tick_interval: float = 30.0,
        spool: Spool | None = None,
        terminate: Terminator | None = None,
        start: bool = True,
    ) -> None:
        self._send = send
        self.spool = spool
        self._terminate = terminate
        self._interval = interval
        self.metrics: deque[MetricItem] = deque()
        self.params: deque[KVItem] = deque()
        self.tags: deque[KVItem] = deque()
        self._send_lock = threading.Lock()
        # Callers (flush, a live view) waiting for the send lock: the writer thread steps
        # aside for them, as a Lock would let it take the lock back again and again.
        self._callers_waiting = 0
        self._count_lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = False
        self._stop_after_drain = False
        self._permanent: LoggingError | None = None
        self._transient: BaseException | None = None
        self._on_tick = on_tick
        self._tick_interval = tick_interval
        self._last_tick = time.monotonic()
        self.points_sent = 0
        #: Called on the writer's thread with each batch of metric points MLflow accepted.
        self.listeners: list[Callable[[list[MetricItem]], None]] = []
        #: Inboxes that receive each metric point as it is queued (see `MetricTap`).
        #: Replaced, never changed in place, so the caller's thread can iterate it unlocked.
        self.taps: tuple[deque[MetricItem], ...] = ()
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)
        if start:
            self._thread.start()

    # -- caller side -------------------------------------------------------------------

    def put_metric(self, item: MetricItem) -> None:
        """Queue one metric point: the training loop's hot path."""
        # Queue first, then taps: a tap opened meanwhile then finds the point in one of
        # the two (see `MetricTap.open`).
        self.metrics.append(item)
        for tap in self.taps:
            tap.append(item)
        if len(self.metrics) >= MAX_METRICS:
            self._wake.set()
            if len(self.metrics) > MAX_QUEUED:
                self._keep_up()

    def put_metrics(self, items: list[MetricItem]) -> None:
        """Queue several metric points, in order."""
        self.metrics.extend(items)
        for tap in self.taps:
            tap.extend(items)
        if len(self.metrics) >= MAX_METRICS:
            self._wake.set()
            while len(self.metrics) > MAX_QUEUED and self._keep_up():
                pass

    def _keep_up(self) -> bool:
        """Send one batch on the caller's thread, the queue being `MAX_QUEUED` ahead of
        the store; True if it did. Not while the backend is unreachable: a spool takes
        what is queued (in order, behind what it holds), else the writer keeps retrying."""
        if self._transient is not None and self.spool is None:
            return False
        with self.sends_held():
            if len(self.metrics) <= MAX_QUEUED:
                return False  # the writer caught up meanwhile
            if self._transient is not None or (self.spool is not None and self.spool.has_data):
                assert self.spool is not None
                self._spill()
                return False
            try:
                self._send_isolating(*self._take())
            except BackendUnavailableError as exc:
                self._transient = exc
                if self.spool is not None:
                    self._spill()
                return False
        return True

    @contextlib.contextmanager
    def sends_held(self) -> Iterator[None]:
        """Nothing moves from the queue to MLflow inside this block (the writer and any
        flush wait), so a reader sees each point either stored or queued."""
        with self._count_lock:
            self._callers_waiting += 1
        try:
            self._send_lock.acquire()
        finally:
            with self._count_lock:
                self._callers_waiting -= 1
        try:
            yield
        finally:
            self._send_lock.release()

    @property
    def failed(self) -> bool:
        """True when a permanent failure waits to be reported."""
        return self._permanent is not None

    @property
    def queued(self) -> int:
        """Items waiting in memory."""
        return len(self.metrics) + len(self.params) + len(self.tags)

    @property
    def spooled(self) -> int:
        """Items waiting in the durable spool."""
        return self.spool.items if self.spool is not None else 0

    @property
    def pending(self) -> int:
        """Items not yet written to MLflow (in memory or spooled)."""
        return self.queued + self.spooled

    @property
    def backend_error(self) -> BaseException | None:
        """The last transient failure, while the backend is unreachable; else None."""
        return self._transient

    def raise_failure(self) -> None:
        """Raise (once) the permanent failure the writer met, if any."""
        err = self._permanent
        if err is not None:
            self._permanent = None
            raise err

    def wake(self) -> None:
        self._wake.set()

    def flush(self, timeout: float | None = 60.0) -> None:
        """Write everything queued now; raise `LoggingError` if that is not possible.

        Runs on the caller's thread. With a spool, an unreachable backend is answered at
        once: the items go to the spool and the error says so. Without one, transient
        failures are retried until ``timeout``.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        delay = 0.2
        while True:
            with self.sends_held():
                try:
                    self._drain()
                    break
                except BackendUnavailableError as exc:
                    self._transient = exc
                    if self.spool is not None:
                        raise self._unreachable() from None
            if deadline is not None and time.monotonic() + delay > deadline:
                raise self._unreachable()
            time.sleep(delay)
            delay = min(delay * 2, 5.0)
        self.raise_failure()

    def _unreachable(self) -> LoggingError:
        if self.spool is not None:
            where = (
                f"They are saved in {self.spool.path} and will be sent when the backend "
                "answers again (by this process, or the next one that starts a tracker)."
            )
        else:
            where = "They are kept in memory; call flush() again when the backend is back."
        return LoggingError(
            f"{self.pending} logged items could not be written: the MLflow backend is unreachable.",
            hint=where,
            pending=self.pending,
        )

    def spool_end(self, status: str, end_time: int) -> None:
        """Record, durably, that the run ended while the backend was unreachable; the
        writer thread keeps trying and ends the run in MLflow once it answers."""
        if self.spool is None:
            raise RuntimeError("no spool")
        with self.sends_held():
            self._spill()
            self.spool.append({"end": status, "end_time": end_time})
        self._stop_after_drain = True

    def close(self, timeout: float | None = 60.0) -> None:
        """Flush, then stop the writer thread."""
        self.flush(timeout)
        self.stop()

    def stop(self) -> None:
        self._stop = True
        self._wake.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout=5)
        if self.spool is not None and not self.spool.has_data:
            self.spool.release()

    # -- writer side -------------------------------------------------------------------

    def _send_interval(self) -> float:
        """Seconds between background sends: shorter while someone watches the points
        arrive (a live chart), so what is logged shows within a fraction of a second."""
        return min(self._interval, LIVE_INTERVAL) if self.listeners else self._interval

    def _loop(self) -> None:
        backoff = self._send_interval()
        while not self._stop:
            # Backing off from an unreachable backend, else the current send interval (a
            # live chart may have started listening since the last send).
            self._wake.wait(backoff if backoff > self._interval else self._send_interval())
            self._wake.clear()
            if self._stop:
                break
            self._tick()
            if not self.queued and not (self.spool is not None and self.spool.has_data):
                continue
            # Never hold the lock across a wait, so a caller's flush can always get in.
            if self._callers_waiting or not self._send_lock.acquire(timeout=0.05):
                time.sleep(0.001)
                continue
            try:
                self._drain()
                backoff = self._send_interval()
                if self._stop_after_drain:
                    self._stop = True
            except BackendUnavailableError as exc:
                self._transient = exc
                backoff = min(max(backoff * 2, 1.0), 30.0)
            except BaseException:  # pragma: no cover - the thread must not die silently
                backoff = self._send_interval()
            finally:
                self._send_lock.release()

    def _tick(self) -> None:
        if self._on_tick is None:
            return
        now = time.monotonic()
        if now - self._last_tick >= self._tick_interval:
            self._last_tick = now
            with contextlib.suppress(Exception):  # a heartbeat must never break logging
                self._on_tick()

    def _drain(self) -> None:
        """Replay the spool, then send what was queued when the drain began. The caller
        holds ``_send_lock``.

        Items queued meanwhile wait for the next drain: a loop that logs faster than
        MLflow stores must not keep the lock forever from a flush or a live view."""
        if self.spool is not None and self.spool.has_data:
            self._replay()
        left = [len(self.metrics), len(self.params), len(self.tags)]
        while max(left) > 0 and self.queued:
            metrics, params, tags = batch = self._take()
            try:
                self._send_isolating(*batch)
            except BackendUnavailableError:
                if self.spool is not None:
                    self._spill()
                raise
            # The queues are first in, first out: once as many items of a kind were
            # taken as were queued at the start, all of those were sent.
            left = [left[0] - len(metrics), left[1] - len(params), left[2] - len(tags)]
        self._transient = None

    def _replay(self) -> None:
        """Send the spool's records in order, committing after each."""
        assert self.spool is not None
        for offset, record in self.spool.pending_records():
            if "end" in record:
                if self._terminate is not None:
                    self._terminate(record["end"], int(record["end_time"]))
            else:
                metrics = [tuple(m) for m in record.get("m", ())]
                params = [tuple(p) for p in record.get("p", ())]
                tags = [tuple(t) for t in record.get("t", ())]
                self._send_isolating(metrics, params, tags, keep=False)
            self.spool.commit(offset, record)
        self.spool.clear()

    def _spill(self) -> None:
        """Move everything queued in memory to the spool."""
        assert self.spool is not None
        while self.queued:
            batch = self._take()
            try:
                self.spool.append_batch(*batch)
            except BaseException:
                self._put_back(*batch)
                raise

    def _send_isolating(self, metrics: list, params: list, tags: list, keep: bool = True) -> None:
        """Send one batch; if MLflow refuses it, split it until the refused items are
        isolated, so one bad item never takes the good ones with it. ``keep`` puts what
        was not sent back in the queues when sending stops (not needed for spool replay:
        the record stays in the spool)."""
        work = [(metrics, params, tags)]
        while work:
            m, p, t = work.pop()
            try:
                self._send(m, p, t)
            except MatihError as exc:
                if isinstance(exc, BackendUnavailableError):
                    if keep:
                        self._put_back_all([*work, (m, p, t)])
                    raise
                if len(m) + len(p) + len(t) <= 1:
                    self._record_permanent(exc, m, p, t)
                else:
                    work.extend(_halves(m, p, t))
            except BaseException:
                # Interrupted (KeyboardInterrupt) or unexpected: keep everything not sent.
                if keep:
                    self._put_back_all([*work, (m, p, t)])
                raise
            else:
                self.points_sent += len(m)
                if m and self.listeners:
                    self._notify(m)

    def _notify(self, metrics: list) -> None:
        for listener in list(self.listeners):
            with contextlib.suppress(Exception):  # a viewer must never break logging
                listener(metrics)

    def _put_back_all(self, batches: list) -> None:
        for m, p, t in reversed(batches):
            self._put_back(m, p, t)

    def _take(self) -> tuple[list[MetricItem], list[KVItem], list[KVItem]]:
        size = 0
        params: list[KVItem] = []
        tags: list[KVItem] = []
        while self.params and len(params) < MAX_PARAMS and size < MAX_BYTES:
            kv = self.params.popleft()
            params.append(kv)
            size += len(kv[0]) + len(kv[1]) + 32
        while self.tags and len(tags) < MAX_TAGS and size < MAX_BYTES:
            kv = self.tags.popleft()
            tags.append(kv)
            size += len(kv[0]) + len(kv[1]) + 32
        room = min(MAX_METRICS, MAX_ITEMS - len(params) - len(tags))
        metrics: list[MetricItem] = []
        pop = self.metrics.popleft
        while self.metrics and len(metrics) < room and size < MAX_BYTES:
            item = pop()
            metrics.append(item)
            size += len(item[0]) + 64
        return metrics, params, tags

    def _put_back(self, metrics: list, params: list, tags: list) -> None:
        self.metrics.extendleft(reversed(metrics))
        self.params.extendleft(reversed(params))
        self.tags.extendleft(reversed(tags))

    def _record_permanent(self, exc: MatihError, metrics: list, params: list, tags: list) -> None:
        dropped: list[Any] = [*metrics, *params, *tags]
        if self._permanent is not None:
            dropped = [*self._permanent.dropped, *dropped]
        self._permanent = LoggingError(
            f"MLflow refused {len(dropped)} logged items: {exc.message}",
            hint=exc.hint or "The refused items are listed on this error's .dropped attribute.",
            dropped=dropped,
        )


def _halves(metrics: list, params: list, tags: list) -> list[tuple[list, list, list]]:
    """Split a batch of two or more items into two non-empty batches."""
    items = [(0, x) for x in metrics] + [(1, x) for x in params] + [(2, x) for x in tags]
    mid = len(items) // 2
    out = []
    for part in (items[mid:], items[:mid]):
        groups: tuple[list, list, list] = ([], [], [])
        for kind, x in part:
            groups[kind].append(x)
        out.append(groups)
    return out


def iter_batches(
    metrics: list[MetricItem], params: list[KVItem], tags: list[KVItem]
) -> Iterator[tuple[list[MetricItem], list[KVItem], list[KVItem]]]:
    """Split lists of items into batches within MLflow's per-request limits."""
    m, p, t = 0, 0, 0
    while m < len(metrics) or p < len(params) or t < len(tags):
        bp = params[p : p + MAX_PARAMS]
        bt = tags[t : t + MAX_TAGS]
        room = min(MAX_METRICS, MAX_ITEMS - len(bp) - len(bt))
        bm = metrics[m : m + room]
        yield bm, bp, bt
        m, p, t = m + len(bm), p + len(bp), t + len(bt)
