"""Where a live plot's points come from: the writer of a run open in this process (nothing
is read back from MLflow while it trains), or MLflow itself for a run id, read
incrementally (only histories whose latest value moved are read again)."""

from __future__ import annotations

import time
from typing import Any

from ..core import END_STATUSES

#: (step, wall time in ms, value): one point of one metric.
Point = tuple[int, int, float]
# Histories are re-read at least this often even when latest values look unchanged
# (a metric logged with the same value at a new step changes nothing in `get_run`).
_FORCE_REFRESH_S = 2.0


class Update:
    """What a poll found for one metric: new points, or (``replace``) the whole curve
    again, when a point arrived in the middle of what was known."""

    def __init__(self, points: list[Point], replace: bool = False) -> None:
        self.points = points
        self.replace = replace


class PolledRun:
    """New points of a run, read from MLflow through the tracker (tenant-checked)."""

    def __init__(self, tracker: Any, run_id: str, tenant: str) -> None:
        self.tracker = tracker
        self.run_id = run_id
        self.tenant = tenant
        self.status = "RUNNING"
        self.start_ms: int | None = None
        self.reads = 0
        # Per metric: how many points were returned, and the last of them (sorted).
        self._known: dict[str, tuple[int, Point]] = {}
        self._fingerprint: Any = None
        self._last_full = 0.0

    @property
    def ended(self) -> bool:
        return self.status in END_STATUSES

    def poll(self, force: bool = False) -> dict[str, Update]:
        """What changed since the last poll, per metric."""
        self.reads += 1
        # Never flush: this thread reads while the training loop logs.
        run = self.tracker.get_run(self.run_id, self.tenant, include_artifacts=False, flush=False)
        self.status = run.status.upper()
        if self.start_ms is None and run.start_time:
            self.start_ms = _iso_ms(run.start_time)
        fingerprint = (tuple(sorted(run.metrics.items())), self.status)
        now = time.monotonic()
        if (
            not force
            and fingerprint == self._fingerprint
            and (now - self._last_full < _FORCE_REFRESH_S)
        ):
            return {}
        self._fingerprint, self._last_full = fingerprint, now
        out: dict[str, Update] = {}
        for key in sorted(run.metrics):
            update = self._diff(key, self.history(key))
            if update is not None:
                out[key] = update
        return out

    def history(self, key: str) -> list[Point]:
        points = self.tracker.get_metric_history(self.run_id, key, self.tenant, flush=False)
        return sorted((int(p.step), int(p.timestamp), float(p.value)) for p in points)

    def _diff(self, key: str, points: list[Point]) -> Update | None:
        count, last = self._known.get(key, (0, (0, 0, 0.0)))
        if not points:
            return None
        self._known[key] = (len(points), points[-1])
        if count == 0 or (len(points) >= count and points[count - 1] == last):
            fresh = points[count:]
            return Update(fresh) if fresh else None
        return Update(points, replace=True)


class WriterFeed:
    """New points of a run open in this process, as the training loop logs them.

    It follows the run's metric tap: a point arrives the moment ``log_metric`` queues it,
    whatever pace the writer sends to MLflow at, and nothing is read back from MLflow
    while the run trains. The first poll catches up once: what MLflow stored before the
    feed existed, and what was queued but not yet stored.
    """

    def __init__(self, run: Any, polled: PolledRun) -> None:
        self.run = run
        self.polled = polled
        self._tap = run.metric_tap()
        self._caught_up = False

    @property
    def ended(self) -> bool:
        return bool(self.run.ended)

    @property
    def status(self) -> str:
        return str(self.run.status) if self.run.ended else "RUNNING"

    @property
    def reads(self) -> int:
        return self.polled.reads

    def poll(self, force: bool = False) -> dict[str, Update]:
        out: dict[str, Update] = {}
        if not self._caught_up:
            if self.run.ended:  # ending flushed: MLflow holds every point
                out = self.polled.poll(force=True)
            else:
                out, queued = self._tap.open(lambda: self.polled.poll(force=True))
                _add(out, queued)
            self._caught_up = True
        _add(out, self._tap.take())
        return out

    def close(self) -> None:
        self._tap.close()


def _add(out: dict[str, Update], items: list[tuple[str, float, int, int]]) -> None:
    """Add logged ``(key, value, timestamp ms, step)`` items to the updates, as points."""
    for key, value, ts, step in items:
        out.setdefault(key, Update([])).points.append((int(step), int(ts), float(value)))


def _iso_ms(text: str) -> int:
    import datetime as dt

    return int(dt.datetime.fromisoformat(text).timestamp() * 1000)
