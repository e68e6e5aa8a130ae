"""Sweeps in the runs listing: a sweep's trials folded under its parent run.

A sweep (``tracker.sweep``) is a parent run tagged ``matih.sweep.role = parent``; each of its
trials is a child run (``mlflow.parentRunId``) tagged ``matih.sweep.trial``. The listing keeps
trials out of the top level and lists them with ``?parent=``; both are MLflow filters run by
the core's `list_runs`, so paging and the tenant clause stay the core's. The tag names are
the core's (`SweepTag`).
"""

from __future__ import annotations

import math
from typing import Any

from ..core import SweepTag

#: The largest page MLflow's stores accept; counting trials reads whole pages.
_COUNT_PAGE = 1000


def runs_filter(user_filter: str | None, parent_id: str | None, include_trials: bool) -> str:
    """The user's filter, narrowed to one parent's children, or to the top level (no
    trials) unless ``include_trials``. MLflow filters only know AND, so clauses join."""
    clauses = [user_filter.strip()] if user_filter and user_filter.strip() else []
    if parent_id is not None:
        # The id was read back from the store by the core, so it holds no quote.
        clauses.append(f"tags.`{SweepTag.PARENT}` = '{parent_id}'")
    elif not include_trials:
        clauses.append(f"tags.`{SweepTag.TRIAL}` IS NULL")
    return " and ".join(clauses)


def is_sweep(run: Any) -> bool:
    return run.tags.get(SweepTag.ROLE) == "parent"


def summary(run: Any, children: int) -> dict[str, Any]:
    """What the sidebar shows of a sweep on its parent's row."""
    tags = run.tags
    return {
        "name": tags.get(SweepTag.NAME),
        "metric": tags.get(SweepTag.METRIC),
        "direction": tags.get(SweepTag.DIRECTION),
        "children": children,
        "best_run_id": tags.get(SweepTag.BEST_RUN) or None,
        "best_trial": _int(tags.get(SweepTag.BEST_TRIAL)),
        "best_value": _float(tags.get(SweepTag.BEST_VALUE)),
    }


def count_children(list_page: Any, parent_id: str) -> int:
    """How many runs the parent's ``?parent=`` listing holds, page by page.
    ``list_page(filter_string, max_results, page_token)`` is the core's `list_runs`."""
    total, token = 0, None
    while True:
        page = list_page(runs_filter(None, parent_id, True), _COUNT_PAGE, token)
        total += len(page)
        token = page.next_page_token
        if not token:
            return total


def _int(text: str | None) -> int | None:
    try:
        return int(text) if text else None
    except ValueError:
        return None


def _float(text: str | None) -> float | None:
    """The best value as stored (``repr`` of a float); None for a missing or odd one."""
    try:
        value = float(text) if text else None
    except ValueError:
        return None
    return value if value is not None and math.isfinite(value) else None
