"""What changed for a tenant: cheap tokens the sidebar polls to stay live.

A client keeps the last answer and reloads only what changed: the experiments list when
``experiments`` differs, an experiment's runs when its entry in ``runs`` differs. Each
token is a digest of what the sidebar shows, read from the tenant's data only (another
tenant's activity never moves it):

- the experiments: their ids, names, descriptions, stages and last-update times;
- per experiment, its runs that are running (status, latest metrics, tags) and those of
  the tenant's `NEWEST` most recently started runs that belong to it (status, end), and
  when one of its runs was last deleted or restored through matih (an old run deleted is
  among neither).

A new run is among the newest, a run that ends leaves the running ones, a metric logged
changes a running run: each moves its experiment's token. Three MLflow searches, whatever
the number of runs; answers are shared for `TTL` seconds by the tenant's clients.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Callable
from typing import Any

from ..core.tenancy import TAG_RUNS_REMOVED
from .schemas import MAX_PAGE

#: How many of the newest runs are watched (runs started since the last poll are among them).
NEWEST = 20
#: The most running runs watched; beyond them a running run's metrics may change unseen.
MAX_RUNNING = MAX_PAGE
#: Seconds an answer is shared by the tenant's clients.
TTL = 0.5
#: Tags that change without anything the sidebar shows changing (a live run's heartbeat).
_QUIET_TAG_PREFIXES = ("matih.heartbeat",)


def _digest(value: Any) -> str:
    data = json.dumps(value, sort_keys=True, default=str).encode()
    return hashlib.sha256(data).hexdigest()[:24]


def _experiment_state(exp: Any) -> list[Any]:
    return [exp.id, exp.name, exp.description, exp.lifecycle_stage, exp.last_updated]


def _run_state(run: Any, detailed: bool) -> list[Any]:
    state = [run.id, run.name, run.status, run.end_time]
    if detailed:
        tags = {k: v for k, v in run.tags.items() if not k.startswith(_QUIET_TAG_PREFIXES)}
        state += [run.metrics, tags]
    return state


def compute(tracker: Any, tenant: str) -> dict[str, Any]:
    """The tenant's change tokens: ``{"experiments": str, "runs": {experiment_id: str}}``."""
    experiments = tracker.list_experiments(tenant)
    states: dict[str, list[Any]] = {e.id: [e.tags.get(TAG_RUNS_REMOVED)] for e in experiments}
    if experiments:
        running = tracker.list_runs(
            tenant, filter_string="attributes.status = 'RUNNING'", max_results=MAX_RUNNING
        )
        newest = tracker.list_runs(tenant, max_results=NEWEST)
        for runs, detailed in ((running, True), (newest, False)):
            for run in runs:
                states.setdefault(run.experiment_id, []).append(_run_state(run, detailed))
    return {
        "experiments": _digest([_experiment_state(e) for e in experiments]),
        "runs": {exp_id: _digest(sorted(s, key=str)) for exp_id, s in states.items()},
    }


class ChangeFeed:
    """`compute`, shared for `TTL` seconds per tenant.

    Args:
        tracker: Returns the server's tracker (built on first use).
    """

    def __init__(self, tracker: Callable[[], Any], ttl: float = TTL) -> None:
        self._tracker = tracker
        self._ttl = ttl
        self._lock = threading.Lock()
        self._recent: dict[str, tuple[float, dict[str, Any]]] = {}

    def tokens(self, tenant: str) -> dict[str, Any]:
        now = time.monotonic()
        with self._lock:
            hit = self._recent.get(tenant)
        if hit and now - hit[0] < self._ttl:
            return hit[1]
        answer = compute(self._tracker(), tenant)
        with self._lock:
            self._recent[tenant] = (now, answer)
        return answer
