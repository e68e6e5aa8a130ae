"""`RunsChart`: many runs at once, drawn in the browser: a parameter-against-metric scatter
and parallel coordinates, with hover and selection (click a point, drag a box, brush an
axis) that the kernel sees in ``selected``.

The rows travel as compact columns in the synced state (run ids, names, and one column per
chosen param or metric: numbers, or category codes with their labels). That state is saved
with the notebook, so it holds display data only: no tags, URIs, users or credentials.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import anywidget
import traitlets as t

from ._common import finite_number, goal_for

_STATIC = Path(__file__).parent / "static"

#: Most columns sent to the browser per kind, and most categories per column (the rest
#: share one "(other)" category).
MAX_PARAMS = 40
MAX_METRICS = 40
MAX_CATEGORIES = 60
OTHER = "(other)"
#: Longest text of a name or category sent to the browser.
MAX_TEXT = 80


class RunsChart(anywidget.AnyWidget):
    """The browser's scatter and parallel coordinates of a set of runs.

    ``table`` holds the rows (see `runs_table`); ``x_key`` and ``y_key`` name the scatter's
    columns (``"params.lr"``, ``"metrics.auc"``), ``axes`` the parallel coordinates' columns
    in order. ``selected`` is the run ids selected, set by the kernel or by a person in the
    browser.
    """

    _esm = _STATIC / "chart_widget.js"
    _css = _STATIC / "chart_widget.css"

    view = t.Unicode("runs", help="Which chart the front end draws.").tag(sync=True)
    table = t.Dict(help="Rows as columns: ids, names, columns.").tag(sync=True)
    x_key = t.Unicode("", help="The scatter's x column.").tag(sync=True)
    y_key = t.Unicode("", help="The scatter's y column.").tag(sync=True)
    axes = t.List(t.Unicode(), help="Parallel coordinates' columns.").tag(sync=True)
    selected = t.List(t.Unicode(), help="Selected run ids.").tag(sync=True)
    height = t.Int(260, help="Height of each chart in pixels.").tag(sync=True)
    status = t.Unicode("", help="A note shown above the charts.").tag(sync=True)
    error = t.Unicode("", help="An error shown above the charts.").tag(sync=True)


def _text(value: Any) -> str:
    text = str(value)
    return text if len(text) <= MAX_TEXT else text[: MAX_TEXT - 1] + "…"


def is_numeric(values: Sequence[Any]) -> bool:
    """Every present value parses as a finite number (``"0.01"``, ``"5"``)."""
    present = [v for v in values if v is not None]
    return bool(present) and all(finite_number(v) is not None for v in present)


def rank_params(runs: Sequence[Any], params: Sequence[str]) -> list[str]:
    """Params most worth plotting first: those whose value differs between runs, then those
    the most runs have, numeric before text, more distinct values first, then by name."""

    def key(name: str) -> tuple:
        values = [r.params.get(name) for r in runs if r.params.get(name) is not None]
        distinct = len(set(values))
        return (distinct < 2, -len(values), not is_numeric(values), -distinct, name)

    return sorted(params, key=key)


def rank_metrics(runs: Sequence[Any], metrics: Sequence[str]) -> list[str]:
    """Metrics the most runs have first, then by name."""

    def key(name: str) -> tuple:
        return (-sum(finite_number(r.metrics.get(name)) is not None for r in runs), name)

    return sorted(metrics, key=key)


def default_axes(
    runs: Sequence[Any], params: Sequence[str], metrics: Sequence[str], metric: str | None
) -> list[str]:
    """Parallel coordinates' first axes: up to six of ``params`` (ranked) whose value
    differs between runs, two other metrics, and the scatter's metric last (the outcome
    reads at the right)."""
    varying = [p for p in params if len({r.params.get(p) for r in runs} - {None}) > 1]
    keys = [f"params.{p}" for p in varying[:6]]
    keys += [f"metrics.{m}" for m in metrics if m != metric][:2]
    if metric:
        keys.append(f"metrics.{metric}")
    return keys


def _log_spread(values: Sequence[float | None]) -> bool:
    """Values that read best on a log axis: positive, spanning two decades or more, and
    spread across them (learning rates 1e-4..1e-1), not crowded into the top decade (a
    dropout drawn uniformly from 0.0001..0.5)."""
    present = [v for v in values if v is not None]
    if len(set(present)) < 3 or min(present) <= 0 or max(present) / min(present) < 100:
        return False
    low = sum(v < max(present) / 10 for v in present)
    return low >= 0.3 * len(present)


def param_column(runs: Sequence[Any], name: str) -> dict[str, Any]:
    """One param as a column: numbers when every present value is one (on a log axis when
    they spread over decades, see `_log_spread`), else category codes."""
    raw = [r.params.get(name) for r in runs]
    column: dict[str, Any] = {"key": f"params.{name}", "label": _text(name), "kind": "param"}
    if is_numeric(raw):
        values = [finite_number(v) for v in raw]
        column.update(type="number", log=_log_spread(values), values=values)
        return column
    counts: dict[str, int] = {}
    for v in raw:
        if v is not None:
            counts[str(v)] = counts.get(str(v), 0) + 1
    kept = sorted(sorted(counts, key=lambda c: -counts[c])[:MAX_CATEGORIES], key=str.lower)
    overflow = len(counts) > len(kept)
    categories = [_text(c) for c in kept] + ([OTHER] if overflow else [])
    index = {c: i for i, c in enumerate(kept)}
    codes = [None if v is None else index.get(str(v), len(kept) if overflow else None) for v in raw]
    column.update(type="category", categories=categories, values=codes)
    return column


def metric_column(runs: Sequence[Any], name: str, goals: dict[str, str]) -> dict[str, Any]:
    return {
        "key": f"metrics.{name}",
        "label": _text(name),
        "kind": "metric",
        "type": "number",
        "log": False,
        "goal": goal_for(name, goals),
        "values": [finite_number(r.metrics.get(name)) for r in runs],
    }


def runs_table(
    runs: Sequence[Any],
    params: Sequence[str],
    metrics: Sequence[str],
    goals: dict[str, str] | None = None,
) -> dict[str, Any]:
    """The synced ``table``: run ids and names, then a column per param and metric (at most
    `MAX_PARAMS` and `MAX_METRICS`, in the order given)."""
    goals = goals or {}
    columns = [param_column(runs, p) for p in params[:MAX_PARAMS]]
    columns += [metric_column(runs, m, goals) for m in metrics[:MAX_METRICS]]
    return {
        "ids": [r.id for r in runs],
        "names": [_text(r.name or "") for r in runs],
        "columns": columns,
    }
