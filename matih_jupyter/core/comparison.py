"""Runs side by side: one row shape for every view that compares runs (the tracker's
DataFrame, the registry, the REST API, the magics and the widgets)."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from .models import RunResponse

if TYPE_CHECKING:
    import pandas as pd

FIXED_COLUMNS = ["run_id", "run_name", "status", "start_time", "duration_seconds"]


def comparison_row(run: RunResponse, metrics: Sequence[str]) -> dict[str, Any]:
    """``{run_id, run_name, status, start_time, duration_seconds, parameters, metrics}``;
    a metric the run does not have is None."""
    return {
        "run_id": run.id,
        "run_name": run.name,
        "status": run.status,
        "start_time": run.start_time,
        "duration_seconds": run.duration_seconds,
        "parameters": dict(run.params),
        "metrics": {k: run.metrics.get(k) for k in metrics},
    }


def comparison_rows(
    runs: Iterable[RunResponse], metrics: Sequence[str] | None = None
) -> tuple[list[str], list[dict[str, Any]]]:
    """The metric keys compared (``metrics``, else every key any run has, sorted) and one
    `comparison_row` per run."""
    runs = list(runs)
    keys = list(metrics) if metrics is not None else sorted({k for r in runs for k in r.metrics})
    return keys, [comparison_row(r, keys) for r in runs]


def comparison_frame(rows: Sequence[dict[str, Any]], metrics: Sequence[str]) -> pd.DataFrame:
    """Rows as a flat table: the fixed columns, ``params.*`` sorted, ``metrics.*`` in the
    order asked (NaN where a run lacks one)."""
    import pandas as pd

    if not rows:
        return pd.DataFrame()
    flat = []
    for row in rows:
        item = {k: row[k] for k in FIXED_COLUMNS}
        item["start_time"] = pd.Timestamp(row["start_time"]) if row["start_time"] else pd.NaT
        item.update({f"params.{k}": v for k, v in row["parameters"].items()})
        item.update(
            {f"metrics.{k}": math.nan if v is None else v for k, v in row["metrics"].items()}
        )
        flat.append(item)
    frame = pd.DataFrame(flat)
    params = sorted(c for c in frame.columns if c.startswith("params."))
    return frame[FIXED_COLUMNS + params + [f"metrics.{k}" for k in metrics]]


def comparison_table(runs: Iterable[RunResponse], metrics: Iterable[str] | None) -> pd.DataFrame:
    """The runs as the comparison table (`comparison_rows`, then `comparison_frame`): for
    runs already read, such as a listing's."""
    keys, rows = comparison_rows(runs, list(metrics) if metrics is not None else None)
    return comparison_frame(rows, keys)
