"""`TrialsTable`: a sweep's trials as a table drawn in the browser, one row per trial
(number, state, value, duration, params), the best marked. Clicking a row selects that
trial: ``selected`` holds its run id, which the sweep view links, in the browser, to the
parallel coordinates and the trial curves, so a click answers while the sweep still runs
(the kernel is busy then and hears of it only afterwards).

The rows are display data saved with the notebook: no tags, URIs, users or credentials.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anywidget
import traitlets as t

from ._common import finite_number

_STATIC = Path(__file__).parent / "static"

#: Longest params text in a row (the rest is cut with an ellipsis).
MAX_PARAMS_TEXT = 120


class TrialsTable(anywidget.AnyWidget):
    """The browser's table of a sweep's trials; ``selected`` is the clicked trial's run."""

    _esm = _STATIC / "chart_widget.js"
    _css = _STATIC / "chart_widget.css"

    view = t.Unicode("trials", help="Which chart the front end draws.").tag(sync=True)
    rows = t.List(t.Dict(), help="One row per trial, in trial order.").tag(sync=True)
    metric = t.Unicode("", help="The sweep's metric (the value column's title).").tag(sync=True)
    best = t.Unicode("", help="Run id of the best trial so far.").tag(sync=True)
    selected = t.List(t.Unicode(), help="Run ids of the selected trials.").tag(sync=True)
    status = t.Unicode("", help="A note shown above the table.").tag(sync=True)


def trial_row(outcome: Any, ended_at: float | None = None) -> dict[str, Any]:
    """One trial as a table row. A running trial's duration runs up to ``ended_at``
    (now), an ended one's is its own."""
    duration = outcome.duration
    if duration is None and ended_at is not None and outcome.started:
        duration = max(0.0, ended_at - outcome.started)
    return {
        "id": outcome.run_id,
        "number": int(outcome.number),
        "state": outcome.state,
        "value": finite_number(outcome.value),
        "duration": None if duration is None else round(float(duration), 3),
        "params": params_text(outcome.params),
        "error": (outcome.error or "")[:200],
    }


def params_text(params: dict[str, Any]) -> str:
    text = ", ".join(f"{k}={_short(v)}" for k, v in sorted(params.items()))
    return text if len(text) <= MAX_PARAMS_TEXT else text[: MAX_PARAMS_TEXT - 1] + "…"


def _short(value: Any) -> str:
    number = finite_number(value)
    if number is not None and not isinstance(value, bool) and not float(number).is_integer():
        return f"{number:.4g}"
    return str(value)
