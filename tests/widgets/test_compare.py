"""RunComparison against real runs on the temporary MLflow store."""

from __future__ import annotations

import pytest

from matih_jupyter import InvalidInputError, NotFoundError, RunConfig
from matih_jupyter.widgets import RunComparison
from matih_jupyter.widgets.compare import _BEST_STYLE

from .conftest import PNG_MAGIC, TENANT, XSS

SPECS = [  # name, lr, depth, final loss, final auc
    ("alpha", "0.1", "3", 0.40, 0.71),
    ("beta", "0.01", "5", 0.25, 0.83),
    ("gamma", "0.001", "5", 0.30, 0.90),
]


@pytest.fixture
def runs(tracker, exp_name):
    ids = {}
    for name, lr, depth, loss, auc in SPECS:
        with tracker.start_run(exp_name, RunConfig(run_name=name, tenant_id=TENANT)) as run:
            run.log_params({"lr": lr, "depth": depth, "optimizer": "adam"})
            for step in range(4):
                run.log_metrics(
                    {"loss": loss + (3 - step) * 0.1, "auc": auc - (3 - step) * 0.05}, step
                )
        ids[name] = run.run_id
    return ids


def _names(widget):
    return [r.name for r in widget.runs]


def test_table_lists_params_and_metrics(tracker, exp_name, runs):
    widget = RunComparison(exp_name, tracker=tracker, tenant_id=TENANT)
    frame = widget.dataframe()
    assert set(frame["run_name"]) == {"alpha", "beta", "gamma"}
    assert {"params.lr", "params.depth", "metrics.loss", "metrics.auc"} <= set(frame.columns)
    row = frame.set_index("run_name").loc["beta"]
    assert row["params.lr"] == "0.01" and row["metrics.auc"] == pytest.approx(0.83)
    assert "3 run(s)" in widget.count.value


def test_sorting_by_dropdown_and_header_clicks(tracker, exp_name, runs):
    widget = RunComparison(exp_name, tracker=tracker, tenant_id=TENANT)
    widget.sort_by.value = "metrics.auc"
    widget.direction.value = "desc"
    assert _names(widget) == ["gamma", "beta", "alpha"]
    widget.direction.value = "asc"
    assert _names(widget) == ["alpha", "beta", "gamma"]
    widget.header_buttons["metrics.loss"].click()
    assert widget.sort_key == "metrics.loss"
    loss_order = _names(widget)
    widget.header_buttons["metrics.loss"].click()  # same header again flips the direction
    assert _names(widget) == list(reversed(loss_order))
    assert {loss_order[0], loss_order[-1]} == {"beta", "alpha"}
    # numeric-looking params sort as numbers, not as text ("0.001" < "0.01" < "0.1")
    widget.sort("params.lr", descending=False)
    assert _names(widget) == ["gamma", "beta", "alpha"]
    assert "▲" in widget.header_buttons["params.lr"].description
    with pytest.raises(InvalidInputError):
        widget.sort("metrics.nope")


def test_best_value_per_metric_is_highlighted(tracker, exp_name, runs):
    widget = RunComparison(exp_name, tracker=tracker, tenant_id=TENANT)
    highlighted = [
        c.value
        for c in widget.table.children
        if isinstance(getattr(c, "value", None), str) and _BEST_STYLE in c.value
    ]
    # loss is minimised (beta: 0.25), auc maximised (gamma: 0.90)
    assert len(highlighted) == 2
    assert any(">0.25<" in h for h in highlighted) and any(">0.9<" in h for h in highlighted)


def test_filter_narrows_and_errors_are_shown_inline(tracker, exp_name, runs):
    widget = RunComparison(exp_name, tracker=tracker, tenant_id=TENANT)
    widget.filter.value = "params.depth = '5' and metrics.auc > 0.85"
    assert _names(widget) == ["gamma"]
    assert widget.errors.text == ""
    widget.filter.value = "metrics.auc >> oops"
    assert "InvalidInputError" in widget.errors.text and "oops" in widget.errors.text
    assert "Traceback" not in widget.errors.text
    assert _names(widget) == ["gamma"]  # the last good result stays
    widget.filter.value = ""
    assert len(widget.runs) == 3 and widget.errors.text == ""


def test_filter_cannot_reach_another_tenant(tracker, exp_name, runs):
    with tracker.start_run(exp_name, RunConfig(run_name="theirs", tenant_id="other-corp")) as r:
        r.log_metric("auc", 0.99)
    widget = RunComparison(tracker=tracker, tenant_id=TENANT)
    assert "theirs" not in _names(widget)
    widget.filter.value = "tags.`matih.tenant_id` = 'other-corp'"
    assert widget.runs == [] or "theirs" not in _names(widget)
    widget.filter.value = "attributes.run_name LIKE '%'"
    assert "theirs" not in _names(widget)


def test_selection_overlays_histories_and_shows_differing_params(tracker, exp_name, runs):
    widget = RunComparison(exp_name, tracker=tracker, tenant_id=TENANT)
    assert widget.selected.empty
    empty_chart = widget.overlay.value
    widget._checkboxes[runs["alpha"]].value = True
    widget._checkboxes[runs["gamma"]].value = True
    selected = widget.selected
    assert sorted(selected["run_name"]) == ["alpha", "gamma"]
    assert set(selected["run_id"]) == {runs["alpha"], runs["gamma"]}
    assert bytes(widget.overlay.value).startswith(PNG_MAGIC)
    assert widget.overlay.value != empty_chart
    assert widget.differing_params() == {"depth": ["3", "5"], "lr": ["0.1", "0.001"]} or (
        widget.differing_params() == {"depth": ["5", "3"], "lr": ["0.001", "0.1"]}
    )
    assert "optimizer" not in widget.differences.value and "lr" in widget.differences.value
    widget.chart_metric.value = "loss"
    assert bytes(widget.overlay.value).startswith(PNG_MAGIC)
    widget._checkboxes[runs["alpha"]].value = False
    assert list(widget.selected["run_name"]) == ["gamma"]
    # selection survives re-sorting
    widget.sort("run_name")
    assert list(widget.selected["run_name"]) == ["gamma"]


def test_metric_against_param_plot(tracker, exp_name, runs):
    widget = RunComparison(exp_name, tracker=tracker, tenant_id=TENANT)
    widget.scatter_param.value = "lr"
    widget.scatter_metric.value = "auc"
    lr_png = bytes(widget.scatter.value)
    widget.scatter_param.value = "optimizer"  # categorical axis
    assert lr_png.startswith(PNG_MAGIC) and bytes(widget.scatter.value) != lr_png


def test_explicit_run_ids_and_foreign_ids(tracker, exp_name, runs):
    widget = RunComparison(
        run_ids=[runs["alpha"], runs["beta"]], tracker=tracker, tenant_id=TENANT, metrics=["auc"]
    )
    assert sorted(_names(widget)) == ["alpha", "beta"]
    assert widget.metrics == ["auc"]
    with tracker.start_run(exp_name, RunConfig(tenant_id="other-corp")) as foreign:
        pass
    with pytest.raises(NotFoundError):
        RunComparison(run_ids=[foreign.run_id], tracker=tracker, tenant_id=TENANT)
    with pytest.raises(InvalidInputError):
        RunComparison(run_ids=["x') or 1=1 --"], tracker=tracker, tenant_id=TENANT)


def test_user_text_is_escaped_everywhere(tracker, exp_name):
    for i in range(2):
        with tracker.start_run(exp_name, RunConfig(run_name=XSS, tenant_id=TENANT)) as run:
            run.log_params({"note": f"{XSS}{i}"})
            run.log_metric("auc", 0.5 + i / 10)
    widget = RunComparison(exp_name, tracker=tracker, tenant_id=TENANT)
    for run in widget.runs:
        widget._checkboxes[run.id].value = True
    html_parts = [str(c.value) for c in widget.table.children if hasattr(c, "value")]
    html_parts += [widget.differences.value, widget.count.value, widget.errors.text]
    assert not any("<img" in part for part in html_parts)
    assert sum("&lt;img src=x onerror=alert(1)&gt;" in p for p in html_parts) >= 4
    widget.filter.value = f"params.note = '{XSS}"  # broken filter echoing user text
    assert "<img" not in widget.errors.text and "&lt;img" in widget.errors.text
