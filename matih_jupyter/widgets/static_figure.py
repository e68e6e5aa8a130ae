"""The final curves as a PNG, for places that cannot run the chart (GitHub, nbviewer,
``jupyter nbconvert``): drawn once, when a run ends, never while it trains."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ._common import best_index, ema, figure_png, fmt, goal_for, new_figure, plain

#: (step, wall time in ms, value) points of one metric, in step order.
Series = Sequence[tuple[int, int, float]]


def curves_png(
    history: Mapping[str, Series],
    *,
    goals: Mapping[str, str] | None = None,
    by_time: bool = False,
    start_ms: int | None = None,
    smoothing: float = 0.0,
    log_scale: bool = False,
    step_label: str = "step",
    width: float = 7.0,
    panel_height: float = 2.4,
    dpi: int = 72,
) -> bytes:
    """One panel per metric: raw values (faint when smoothed), the smoothed curve and the
    best value marked, titled with the latest and best values."""
    keys = [k for k, s in history.items() if s]
    fig = new_figure(width, panel_height * max(1, len(keys)), dpi)
    if not keys:
        fig.text(0.5, 0.5, "no metrics logged", ha="center", va="center", color="#555")
        return figure_png(fig)
    axes = fig.subplots(len(keys), 1, squeeze=False)[:, 0]
    for ax, key in zip(axes, keys, strict=True):
        _panel(ax, key, history[key], goal_for(key, dict(goals or {})), by_time, start_ms,
               smoothing, log_scale)  # fmt: skip
    # The browser chart's words: its picture keeps them.
    axes[-1].set_xlabel("time (s)" if by_time else step_label, fontsize=8)
    inch = panel_height * len(keys)
    fig.subplots_adjust(left=0.1, right=0.97, top=1 - 0.3 / inch, bottom=0.45 / inch, hspace=0.55)
    return figure_png(fig)


def _panel(
    ax: Any,
    key: str,
    series: Series,
    goal: str,
    by_time: bool,
    start_ms: int | None,
    smoothing: float,
    log_scale: bool,
) -> None:
    t0 = start_ms if start_ms is not None else series[0][1]
    xs = [(ts - t0) / 1000.0 if by_time else step for step, ts, _ in series]
    ys = [v for _, _, v in series]
    ax.plot(xs, ys, color="#1f77b4", linewidth=1.4, alpha=0.3 if smoothing > 0 else 1.0)
    if smoothing > 0:
        ax.plot(xs, ema(ys, smoothing), color="#1f77b4", linewidth=1.6)
    best = best_index(ys, goal)
    if best is not None:
        ax.plot([xs[best]], [ys[best]], marker="o", color="#d62728", markersize=4)
    finite = [v for v in ys if v == v and abs(v) != float("inf")]
    if log_scale:
        ax.set_yscale("log" if finite and min(finite) > 0 else "symlog")
    ax.grid(True, alpha=0.3)
    ax.tick_params(labelsize=8)
    best_text = fmt(ys[best]) if best is not None else "n/a"
    ax.set_title(
        plain(f"{key}   latest {fmt(ys[-1])}   best {best_text} ({goal})"), fontsize=9, loc="left"
    )
