"""Pure helpers behind the widgets: best-value direction, escaping, smoothing."""

from __future__ import annotations

import math

import pytest

from matih_jupyter import InvalidInputError
from matih_jupyter.widgets._common import best_index, ema, error_html, esc, goal_for

from .conftest import XSS


@pytest.mark.parametrize(
    ("key", "goal"),
    [
        ("val_loss", "min"), ("train/logloss", "min"), ("val-MAE", "min"), ("error_rate", "min"),
        ("epoch_time", "min"), ("auc", "max"), ("val_acc", "max"), ("answer_accuracy", "max"),
    ],
)  # fmt: skip
def test_goal_by_metric_name(key, goal):
    assert goal_for(key) == goal
    assert goal_for(key, {key: "max" if goal == "min" else "min"}) != goal


def test_best_index_skips_nan_and_inf():
    assert best_index([math.nan, 0.3, math.inf, 0.1], "min") == 3
    assert best_index([math.nan, 0.3, -math.inf, 0.5], "max") == 3
    assert best_index([math.nan], "max") is None


def test_escaping_and_errors_never_show_markup_or_tracebacks():
    assert esc(XSS) == "&lt;img src=x onerror=alert(1)&gt;"
    assert esc('"quoted"') == "&quot;quoted&quot;"
    html = error_html(InvalidInputError("filter", XSS, hint=XSS))
    assert "<img" not in html and html.count("&lt;img") == 2
    assert "<img" not in error_html(RuntimeError(XSS))


def test_ema_is_debiased_and_passes_nan_through():
    assert ema([1.0, 1.0, 1.0], 0.9) == pytest.approx([1.0, 1.0, 1.0])
    out = ema([0.0, math.nan, 10.0], 0.5)
    assert out[0] == 0.0 and math.isnan(out[1]) and 0.0 < out[2] < 10.0
