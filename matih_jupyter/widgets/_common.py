"""Helpers shared by the widgets: escaping, error areas, figures rendered to PNG.

Figures are drawn with `matplotlib.figure.Figure` on an Agg canvas, never through
``pyplot``: pyplot keeps a process-global figure registry and backend, which is neither
thread-safe (the live plot draws on a background thread) nor ours to change in a user's
notebook.
"""

from __future__ import annotations

import base64
import html
import io
import math
import re
from collections.abc import Iterable, Sequence
from typing import Any

import ipywidgets as w

from ..core.errors import MatihError

# Words in metric names that mean "minimised"; everything else is maximised unless told
# otherwise. Matched per word ("val_loss", "train/mse"), so "answer_acc" is not "wer".
_LOWER_WORDS = frozenset(
    [
        "loss",
        "err",
        "error",
        "errors",
        "mse",
        "rmse",
        "mae",
        "mape",
        "smape",
        "perplexity",
        "ppl",
        "latency",
        "time",
        "seconds",
        "duration",
        "cost",
        "regret",
        "wer",
        "cer",
        "fpr",
        "fnr",
        "bpc",
        "nll",
        "distance",
    ]
)
_LOWER_SUFFIXES = ("loss", "error")


def esc(value: Any) -> str:
    """`html.escape` of ``str(value)``, quotes included (values also land in attributes)."""
    return html.escape("" if value is None else str(value), quote=True)


def goal_for(key: str, goals: dict[str, str] | None = None) -> str:
    """``"min"`` or ``"max"``: how the best value of metric ``key`` is chosen."""
    if goals and key in goals:
        goal = str(goals[key]).lower()
        if goal not in ("min", "max"):
            raise ValueError(f"goal for {key!r} must be 'min' or 'max', not {goals[key]!r}")
        return goal
    words = [word for word in re.split(r"[^a-z0-9]+", key.lower()) if word]
    lower = any(wd in _LOWER_WORDS or wd.endswith(_LOWER_SUFFIXES) for wd in words)
    return "min" if lower else "max"


def best_index(values: Sequence[float], goal: str) -> int | None:
    """Index of the best finite value, or None when there is none."""
    best: int | None = None
    for i, v in enumerate(values):
        if v is None or not isinstance(v, (int, float)) or not math.isfinite(v):
            continue
        if best is None or (v < values[best] if goal == "min" else v > values[best]):
            best = i
    return best


def finite_number(value: Any) -> float | None:
    """``value`` as a finite float, or None (missing, text, NaN, infinite)."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def fmt(value: Any) -> str:
    """A compact display form of a metric or param value."""
    if isinstance(value, float):
        if math.isnan(value):
            return "n/a"
        if value != 0 and (abs(value) >= 1e6 or abs(value) < 1e-3):
            return f"{value:.3e}"
        return f"{value:.4g}"
    return "" if value is None else str(value)


def error_html(exc: BaseException) -> str:
    """An error as escaped HTML: message and hint for our errors, never a traceback."""
    if isinstance(exc, MatihError):
        text = f"<b>{esc(type(exc).__name__)}</b>: {esc(exc.message)}"
        if exc.hint:
            text += f"<br><i>{esc(exc.hint)}</i>"
    else:
        text = f"<b>Unexpected error</b> ({esc(type(exc).__name__)}): {esc(exc)}"
    return f'<div class="matih-error" style="color:#b00020">{text}</div>'


class ErrorArea:
    """An HTML widget that shows one error (or nothing)."""

    def __init__(self) -> None:
        self.widget = w.HTML(value="", layout=w.Layout(min_height="0px"))
        self.widget.add_class("matih-error-area")
        self.last: BaseException | None = None

    def show(self, exc: BaseException) -> None:
        self.last = exc
        self.widget.value = error_html(exc)

    def info(self, text: str) -> None:
        """A non-error note (already escaped by the caller)."""
        self.last = None
        self.widget.value = f'<div class="matih-info" style="color:#1b5e20">{text}</div>'

    def clear(self) -> None:
        self.last = None
        self.widget.value = ""

    @property
    def text(self) -> str:
        return self.widget.value


def new_figure(width: float, height: float, dpi: int) -> Any:
    """A matplotlib Figure on its own Agg canvas (no pyplot, no global state)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=dpi)
    FigureCanvasAgg(fig)
    return fig


def figure_png(fig: Any) -> bytes:
    """The figure as PNG bytes."""
    buf = io.BytesIO()
    fig.canvas.print_png(buf)
    return buf.getvalue()


def message_png(text: str, width: float = 6.0, height: float = 1.2, dpi: int = 80) -> bytes:
    """A small PNG carrying a message, for charts with nothing to draw yet."""
    fig = new_figure(width, height, dpi)
    fig.text(0.5, 0.5, text, ha="center", va="center", color="#555555", usetex=False)
    return figure_png(fig)


def plain(text: str) -> str:
    """Text safe to hand to matplotlib: ``$`` would start mathtext."""
    return str(text).replace("$", r"\$")


def ema(values: Iterable[float], alpha: float) -> list[float]:
    """Exponential moving average with TensorBoard-style debiasing; ``alpha`` in [0, 1)."""
    out: list[float] = []
    last = 0.0
    n = 0
    for v in values:
        if not math.isfinite(v):
            out.append(v)
            continue
        n += 1
        last = alpha * last + (1 - alpha) * v
        out.append(last / (1 - alpha**n) if alpha > 0 else v)
    return out


def widget_bundle(widget: Any, text: str) -> dict[str, Any]:
    """A live widget's output: its view, with ``text`` for what cannot show widgets."""
    shown = widget._repr_mimebundle_() or {}
    # anywidget answers (data, metadata); ipywidgets answers data.
    bundle = dict(shown[0] if isinstance(shown, tuple) else shown)
    bundle["text/plain"] = text
    return bundle


def png_bundle(png: bytes, text: str) -> dict[str, Any]:
    """A finished view's output: a PNG and its text summary, shown anywhere."""
    return {"image/png": base64.b64encode(png).decode("ascii"), "text/plain": text}
