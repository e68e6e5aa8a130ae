"""A durable local spool for batches the backend could not take.

When the MLflow backend is unreachable, a run's writer moves what it holds to an
append-only JSON-lines file under ``$MATIH_HOME/spool/`` (written, flushed and fsynced), so
the points survive the notebook's process. When the backend answers again the spool is
replayed in order; a committed offset in a side file records how far replay got.

Replay is exactly-once at the data level: a record is re-sent only if the process stopped
between sending it and committing the offset, and MLflow keeps one copy of a metric point
with the same key, step, timestamp and value, of a param with the same value, and of a tag.

One process at a time owns a spool (an exclusive ``flock`` on a lock file), so a spool that
a live notebook is still writing is never replayed by another process.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from ..config import matih_home


def spool_dir() -> Path:
    return matih_home() / "spool"


class Spool:
    """The spool of one run. Create it with `Spool.open`; it owns the run's lock."""

    def __init__(
        self, run_id: str, directory: Path | None = None, *, tenant: str | None = None
    ) -> None:
        self.run_id = run_id
        #: The run's tenant: stored with every record, so a replay by another process
        #: sends to the tenant's MLflow workspace.
        self.tenant = tenant
        self.dir = directory or spool_dir()
        self.path = self.dir / f"{run_id}.jsonl"
        self._offset_path = self.dir / f"{run_id}.offset"
        self._lock_path = self.dir / f"{run_id}.lock"
        self._lock: IO[Any] | None = None
        self.items = 0  # items waiting in the file (counted on open and on append)

    # -- ownership -----------------------------------------------------------------------

    def acquire(self) -> bool:
        """Take the run's lock; False if another process holds it."""
        if self._lock is not None:
            return True
        self.dir.mkdir(parents=True, exist_ok=True)
        handle = open(self._lock_path, "a+")  # noqa: SIM115 - held for the spool's life
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            return False
        self._lock = handle
        self.items = 0
        for _, rec in self._records():
            self.items += _count(rec)
            self.tenant = self.tenant or rec.get("tenant")
        return True

    def release(self) -> None:
        if self._lock is not None:
            fcntl.flock(self._lock.fileno(), fcntl.LOCK_UN)
            self._lock.close()
            self._lock = None

    # -- writing -------------------------------------------------------------------------

    def append(self, record: dict[str, Any]) -> None:
        """Append one record durably (fsync before returning)."""
        self.acquire()
        if self.tenant:
            record = {**record, "tenant": self.tenant}
        line = json.dumps(record, separators=(",", ":"), allow_nan=True) + "\n"
        with open(self.path, "a", encoding="utf-8") as f:
            f.write(line)
            f.flush()
            os.fsync(f.fileno())
        self.items += _count(record)

    def append_batch(self, metrics: list, params: list, tags: list) -> None:
        self.append({"m": metrics, "p": params, "t": tags})

    # -- replay --------------------------------------------------------------------------

    @property
    def has_data(self) -> bool:
        return self.path.exists() and self._offset() < self.path.stat().st_size

    def _offset(self) -> int:
        try:
            return int(self._offset_path.read_text() or 0)
        except (FileNotFoundError, ValueError):
            return 0

    def _records(self) -> Iterator[tuple[int, dict[str, Any]]]:
        """Records after the committed offset, with the offset just past each."""
        if not self.path.exists():
            return
        with open(self.path, "rb") as f:
            f.seek(self._offset())
            for raw in f:
                end = f.tell()
                if not raw.endswith(b"\n"):
                    return  # a torn last line from a crash mid-append: never committed
                yield end, json.loads(raw)

    def pending_records(self) -> Iterator[tuple[int, dict[str, Any]]]:
        return self._records()

    def commit(self, offset: int, record: dict[str, Any]) -> None:
        """Record that everything before ``offset`` was sent."""
        tmp = self._offset_path.with_suffix(".offset.tmp")
        tmp.write_text(str(offset))
        os.replace(tmp, self._offset_path)
        self.items = max(0, self.items - _count(record))

    def clear(self) -> None:
        """Remove the spool once everything in it was sent."""
        for p in (self.path, self._offset_path):
            with contextlib.suppress(FileNotFoundError):
                p.unlink()
        self.items = 0
        self.release()
        with contextlib.suppress(FileNotFoundError):
            self._lock_path.unlink()


def _count(record: dict[str, Any]) -> int:
    return len(record.get("m", ())) + len(record.get("p", ())) + len(record.get("t", ()))


def orphaned_spools(directory: Path | None = None) -> list[str]:
    """Run ids with spool files left behind (by this or an ended process)."""
    d = directory or spool_dir()
    if not d.is_dir():
        return []
    return sorted(p.stem for p in d.glob("*.jsonl"))
