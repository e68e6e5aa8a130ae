"""Every metric point of a run open in this process, as it is logged.

A live view follows the tap rather than what MLflow stored: the writer sends batches at
its own pace, and slower still while the training loop holds the interpreter lock, but a
point reaches the tap the moment ``log_metric`` queues it. The training loop pays one
``deque.append`` per open tap.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import TypeVar

from .buffer import BatchWriter, MetricItem

T = TypeVar("T")


class MetricTap:
    """The metric points of one run's writer from `open` on: `take` returns those logged
    since the last call, in the order they were logged."""

    def __init__(self, writer: BatchWriter) -> None:
        self._writer = writer
        self._inbox: deque[MetricItem] = deque()
        # Points queued when the tap opened: one logged at that very moment can reach
        # the inbox too, and is told apart by identity. Holding the points keeps their
        # ids from being reused.
        self._caught_up: list[MetricItem] = []
        self._caught_up_ids: set[int] = set()

    @property
    def opened(self) -> bool:
        # By identity: deques compare equal by content, and empty inboxes are all equal.
        return any(tap is self._inbox for tap in self._writer.taps)

    def open(self, read_stored: Callable[[], T]) -> tuple[T, list[MetricItem]]:
        """Start receiving points, and catch up: return ``read_stored()`` (what MLflow
        stored so far) and the points queued but not yet stored. With sends held, each
        earlier point is in exactly one of the two; each later one arrives in `take`."""
        writer = self._writer
        with writer.sends_held():
            writer.taps = (*writer.taps, self._inbox)
            try:
                queued = list(writer.metrics.copy())  # one step: the loop may be logging
                stored = read_stored()
            except BaseException:
                self.close()
                raise
        self._caught_up = queued
        self._caught_up_ids = {id(item) for item in queued}
        return stored, queued

    def take(self) -> list[MetricItem]:
        """The points logged since the last call (none twice, none already returned by
        `open`)."""
        inbox, seen = self._inbox, self._caught_up_ids
        out: list[MetricItem] = []
        while inbox:
            item = inbox.popleft()
            if id(item) not in seen:
                out.append(item)
        return out

    def close(self) -> None:
        """Stop receiving points (the training loop stops feeding this tap)."""
        writer = self._writer
        writer.taps = tuple(t for t in writer.taps if t is not self._inbox)
