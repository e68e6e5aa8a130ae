"""Runs seen from the registry: training metrics logged to a tenant's run (also one that
has ended), and runs compared side by side."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ..backend import convert
from ..backend.error_map import translate_errors
from ..comparison import comparison_row
from ..errors import InvalidInputError
from ..values import metric_values, now_ms, step_value

if TYPE_CHECKING:
    from ..tracking.tracker import ExperimentTracker

#: The registry's comparison row: the run, its parameters, the metrics asked for.
ROW_FIELDS = ("run_id", "parameters", "metrics")
_BATCH = 1000


def log_training_metrics(
    tracker: ExperimentTracker, tenant: str, run_id: str, step: Any, metrics: Mapping[str, Any]
) -> None:
    """Log ``metrics`` at ``step`` with the client: the tracker's writer needs a running
    run, and a finished training run may still receive metrics."""
    at = step_value(step)
    clean = metric_values(metrics)
    tracker.get_run(run_id, tenant, include_artifacts=False)
    now = now_ms()
    m, _, _ = convert.entities([(k, v, now, at) for k, v in clean.items()], [], [])
    for i in range(0, len(m), _BATCH):
        with translate_errors(f"logging to run {run_id}"):
            tracker.client.log_batch(run_id, metrics=m[i : i + _BATCH], synchronous=True)


def compare_runs(
    tracker: ExperimentTracker, tenant: str, run_ids: Sequence[str], metrics: Sequence[str]
) -> list[dict[str, Any]]:
    """``[{"run_id", "parameters", "metrics": {m: value|None}}]``, one per run in order."""
    if isinstance(run_ids, str) or isinstance(metrics, str):
        raise InvalidInputError("run_ids", "expected lists of run ids and metric names.")
    keys = list(metrics)
    rows = [
        comparison_row(tracker.get_run(run_id, tenant, include_artifacts=False), keys)
        for run_id in run_ids
    ]
    return [{k: row[k] for k in ROW_FIELDS} for row in rows]
