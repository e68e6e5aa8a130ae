"""Recovery after a process died: spooled data sent and runs ended as they asked, and
runs left RUNNING by a dead process found and closed."""

from __future__ import annotations

import datetime as dt
import socket
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import psutil

from ..backend import convert
from ..backend.error_map import translate_errors
from ..errors import LoggingError
from ..isolation import isolated_methods
from ..models import RunResponse
from ..values import now_ms
from . import live_runs
from .buffer import BatchWriter
from .provenance import TAG_HOST, TAG_PID
from .run_tags import TAG_END_REASON, TAG_HEARTBEAT
from .spool import Spool, orphaned_spools

if TYPE_CHECKING:
    from .ownership import Ownership

#: A run whose heartbeat is older than this many seconds counts as orphaned.
DEFAULT_STALE_AFTER = 120.0


@isolated_methods
class RecoveryMixin:
    """Recovery methods of `ExperimentTracker`."""

    _client: Any
    _own: Ownership
    _tenant: Callable[[str | None], str]
    bind_tenant: Callable[[str], str]
    list_runs: Callable[..., list[RunResponse]]

    def replay_spools(self) -> dict[str, int]:
        """Send data that runs spooled while the backend was unreachable and whose process
        has ended, and end those runs as they asked. Spools another live process owns are
        left alone. Returns, per run id, how many items were sent; runs still unreachable
        are left for a later call."""
        sent: dict[str, int] = {}
        live = live_runs.open_run_ids()
        for run_id in orphaned_spools():
            if run_id in live:
                continue
            spool = Spool(run_id)
            if not spool.acquire():
                continue
            items = spool.items
            if spool.tenant:
                self.bind_tenant(spool.tenant)

            def send(m: list, p: list, t: list, run_id: str = run_id) -> None:
                em, ep, et = convert.entities(m, p, t)
                with translate_errors(f"replaying spooled data of run {run_id}"):
                    self._client.log_batch(run_id, metrics=em, params=ep, tags=et)

            def terminate(status: str, end_time: int, run_id: str = run_id) -> None:
                with translate_errors(f"ending run {run_id}"):
                    self._client.set_terminated(run_id, status=status, end_time=end_time)

            writer = BatchWriter(send, spool=spool, terminate=terminate, start=False)
            try:
                writer.flush(timeout=0)
                sent[run_id] = items
            except LoggingError:
                pass
            finally:
                spool.release()
        return sent

    def find_orphan_runs(
        self,
        tenant_id: str | None = None,
        experiment_name: str | None = None,
        stale_after: float = DEFAULT_STALE_AFTER,
    ) -> list[RunResponse]:
        """Runs still RUNNING whose process is gone: its pid is dead on this host, or its
        heartbeat is older than ``stale_after`` seconds. Runs created without a process
        behind them (the REST quick start) never count."""
        runs = self.list_runs(
            tenant_id, experiment_name, filter_string="attributes.status = 'RUNNING'"
        )
        host = socket.gethostname()
        now = now_ms()
        live_ids = live_runs.open_run_ids()
        orphans = []
        for run in runs:
            beat = run.tags.get(TAG_HEARTBEAT)
            if beat is None or run.id in live_ids:
                continue
            if _process_gone(run, host) or (
                beat.isdigit() and now - int(beat) > stale_after * 1000
            ):
                orphans.append(run)
        return orphans

    def close_orphan_runs(
        self,
        tenant_id: str | None = None,
        experiment_name: str | None = None,
        stale_after: float = DEFAULT_STALE_AFTER,
    ) -> list[RunResponse]:
        """End every orphaned run as KILLED, tagging why; returns the runs closed."""
        tenant = self._tenant(tenant_id)
        closed = self.find_orphan_runs(tenant, experiment_name, stale_after)
        for run in closed:
            self._end_orphan(run.id)
        return closed

    def close_orphan_run(self, run_id: str, tenant_id: str | None = None) -> None:
        """End one run of the tenant that `find_orphan_runs` found, as KILLED."""
        self._own.run(run_id, self._tenant(tenant_id))
        self._end_orphan(run_id)

    def _end_orphan(self, run_id: str) -> None:
        with translate_errors(f"closing orphaned run {run_id}"):
            self._client.set_tag(
                run_id, TAG_END_REASON, "orphaned: its process stopped without ending it"
            )
            self._client.set_terminated(run_id, status="KILLED", end_time=now_ms())


def _process_gone(run: RunResponse, host: str) -> bool:
    """Whether the run's process, on this host, has ended."""
    pid = run.tags.get(TAG_PID)
    return (
        run.tags.get(TAG_HOST) == host
        and bool(pid)
        and str(pid).isdigit()
        and not _alive(int(str(pid)), run.start_time)
    )


def _alive(pid: int, run_start_iso: str) -> bool:
    """Whether process ``pid`` still runs and is older than the run (not a reused pid)."""
    try:
        proc = psutil.Process(pid)
        created = proc.create_time()
    except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
        return False
    if proc.status() == psutil.STATUS_ZOMBIE:
        return False
    start = dt.datetime.fromisoformat(run_start_iso).timestamp() if run_start_iso else 0
    return created <= start + 1
