"""RunComparison against real runs on the temporary MLflow store: the table, the overlay of
the selected runs' histories (the shared browser chart, checked at its message boundary)
and the browser's scatter and parallel coordinates (their synced state, and selections
arriving from the browser)."""

from __future__ import annotations

import html
import json
from types import SimpleNamespace

import numpy as np
import pytest

from matih_jupyter import InvalidInputError, NotFoundError, RunConfig
from matih_jupyter.widgets import RunComparison
from matih_jupyter.widgets.chart_widget import MetricChart
from matih_jupyter.widgets.compare import _BEST_STYLE
from matih_jupyter.widgets.runs_chart import (
    MAX_CATEGORIES,
    OTHER,
    RunsChart,
    rank_params,
    runs_table,
)

from .conftest import TENANT, XSS

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


def _ready(chart) -> list[dict]:
    """What a view of ``chart`` opening now receives: every curve, decoded."""
    sent: list[dict] = []

    def receive(content, buffers=None):
        columns = [np.frombuffer(b, dtype="<f8") for b in buffers or []]
        for i, series in enumerate(content["series"]):
            series["steps"], series["values"], series["times"] = columns[3 * i : 3 * i + 3]
            sent.append(series)

    chart.send = receive
    chart._handle_custom_msg({"type": "ready", "width": 500}, [])
    return sent


def test_selection_overlays_histories_and_shows_differing_params(tracker, exp_name, runs):
    widget = RunComparison(exp_name, tracker=tracker, tenant_id=TENANT)
    assert widget.selected.empty
    assert isinstance(widget.overlay, MetricChart) and widget.overlay.view == "live"
    assert widget.overlay.curves == {} and "tick runs" in widget.overlay.status
    widget.chart_metric.value = "auc"
    widget._checkboxes[runs["alpha"]].value = True
    widget._checkboxes[runs["gamma"]].value = True
    selected = widget.selected
    assert sorted(selected["run_name"]) == ["alpha", "gamma"]
    assert set(selected["run_id"]) == {runs["alpha"], runs["gamma"]}
    # The browser chart gets each selected run's history, read through the tracker.
    curves = {s["run_label"]: s for s in _ready(widget.overlay)}
    assert set(curves) == {"alpha", "gamma"} and all(s["metric"] == "auc" for s in curves.values())
    history = tracker.get_metric_history(runs["gamma"], "auc", TENANT)
    assert list(curves["gamma"]["steps"]) == [p.step for p in history] == [0, 1, 2, 3]
    assert list(curves["gamma"]["values"]) == pytest.approx([p.value for p in history])
    assert list(curves["gamma"]["times"]) == [p.timestamp for p in history]
    assert widget.overlay.goals == {"auc": "max"} and widget.overlay.status == "auc · 2 run(s)"
    assert widget.differing_params() == {"depth": ["3", "5"], "lr": ["0.1", "0.001"]} or (
        widget.differing_params() == {"depth": ["5", "3"], "lr": ["0.001", "0.1"]}
    )
    assert "optimizer" not in widget.differences.value and "lr" in widget.differences.value
    widget.chart_metric.value = "loss"
    assert {(k[1], k[2]) for k in widget.overlay.curves} == {("alpha", "loss"), ("gamma", "loss")}
    widget._checkboxes[runs["alpha"]].value = False
    assert list(widget.selected["run_name"]) == ["gamma"]
    assert [s["run_label"] for s in _ready(widget.overlay)] == ["gamma"]
    # selection survives re-sorting
    widget.sort("run_name")
    assert list(widget.selected["run_name"]) == ["gamma"]


def test_overlay_sends_only_new_curves_and_a_fresh_chart_keeps_the_settings(
    tracker, exp_name, runs
):
    widget = RunComparison(exp_name, tracker=tracker, tenant_id=TENANT)
    widget.chart_metric.value = "loss"
    widget.select([runs["alpha"]])
    chart = widget.overlay
    chart.set_state({"smoothing": 0.6, "log_scale": True})  # a person used the controls
    sent: list[dict] = []
    chart.send = lambda content, buffers=None: sent.append(content)
    widget._checkboxes[runs["beta"]].value = True  # one more run: only its curve is sent
    assert widget.overlay is chart and widget.overlay_chart.reads == 2
    assert [[s["run_label"] for s in m["series"]] for m in sent] == [["beta"]]
    widget.select([runs["beta"]])  # alpha taken out: a fresh chart, the same settings
    fresh = widget.overlay
    assert fresh is not chart and widget.overlay_chart.box.children == (fresh,)
    assert (fresh.smoothing, fresh.log_scale) == (0.6, True)
    assert [k[1] for k in fresh.curves] == ["beta"]
    assert widget.overlay_chart.reads == 2  # the histories read before are kept
    widget.refresh()  # until the runs are read again
    assert widget.overlay_chart.reads == 3


def test_runs_chart_state_is_compact_columns_of_display_data(tracker, exp_name, runs):
    widget = RunComparison(exp_name, tracker=tracker, tenant_id=TENANT)
    chart = widget.runs_chart
    assert isinstance(chart, RunsChart) and chart.view == "runs"
    table = chart.table
    order = {rid: i for i, rid in enumerate(table["ids"])}
    assert set(order) == set(runs.values()) and len(table["names"]) == 3
    assert table["names"][order[runs["beta"]]] == "beta"
    columns = {c["key"]: c for c in table["columns"]}
    assert set(columns) == {
        "params.lr", "params.depth", "params.optimizer", "metrics.loss", "metrics.auc"
    }  # fmt: skip
    lr = columns["params.lr"]
    assert lr["type"] == "number" and lr["log"] is True  # 0.001 .. 0.1: two decades
    assert lr["values"][order[runs["gamma"]]] == pytest.approx(0.001)
    assert columns["params.depth"]["type"] == "number" and not columns["params.depth"]["log"]
    optimizer = columns["params.optimizer"]
    assert optimizer["type"] == "category" and optimizer["categories"] == ["adam"]
    assert optimizer["values"] == [0, 0, 0]
    auc = columns["metrics.auc"]
    assert auc["goal"] == "max" and columns["metrics.loss"]["goal"] == "min"
    assert auc["values"][order[runs["gamma"]]] == pytest.approx(0.90)
    # Saved with the notebook: plain JSON, and nothing but what the table shows.
    synced = ("table", "x_key", "y_key", "axes", "selected", "status", "error")
    state = json.dumps({k: v for k, v in chart.get_state().items() if k in synced}, allow_nan=False)
    run = tracker.get_run(runs["beta"], TENANT)
    private = [tracker.tracking_uri, run.artifact_uri, run.user_id, *run.tags.values()]
    for secret in [*private, "sqlite", "file:", TENANT]:
        assert len(str(secret)) < 8 or str(secret) not in state  # ("1", "adam", ...)
    assert chart.x_key == "params.lr" and chart.y_key == "metrics.auc"
    assert chart.axes == ["params.lr", "params.depth", "metrics.loss", "metrics.auc"]


def test_scatter_defaults_to_a_param_most_runs_have_and_follows_the_dropdowns(
    tracker, exp_name, runs
):
    with tracker.start_run(exp_name, RunConfig(run_name="odd", tenant_id=TENANT)) as run:
        run.log_params({"aaa_only_here": "1", "lr": "0.5"})
        run.log_metric("auc", 0.5)
    widget = RunComparison(exp_name, tracker=tracker, tenant_id=TENANT)
    # lr: four runs, values that differ (not "aaa_only_here": one run; not optimizer: same)
    assert widget.scatter_param.value == "lr" and widget.runs_chart.x_key == "params.lr"
    widget.scatter_param.value = "optimizer"  # a categorical axis
    assert widget.runs_chart.x_key == "params.optimizer"
    widget.scatter_metric.value = "loss"
    assert widget.runs_chart.y_key == "metrics.loss"
    assert widget.runs_chart.axes[-1] == "metrics.loss"  # default axes follow the metric
    widget.runs_chart.set_state({"axes": ["params.depth", "metrics.auc"]})  # chosen in the browser
    widget.scatter_metric.value = "auc"
    widget.refresh()
    assert widget.runs_chart.axes == ["params.depth", "metrics.auc"]  # a person's choice stays


def test_the_scatters_default_param_follows_new_runs_but_a_chosen_one_stays(tracker, exp_name):
    def logged(name: str, params: dict[str, str]) -> None:
        with tracker.start_run(exp_name, RunConfig(run_name=name, tenant_id=TENANT)) as run:
            run.log_params(params)
            run.log_metric("auc", 0.5)

    logged("first", {"alpha": "1", "lr": "0.1"})
    widget = RunComparison(exp_name, tracker=tracker, tenant_id=TENANT)
    assert widget.scatter_param.value == "alpha"  # one run: nothing differs yet
    logged("second", {"lr": "0.2"})
    logged("third", {"lr": "0.3"})
    widget.refresh()
    # alpha is now a param only one run has; lr differs between the runs
    assert widget.scatter_param.value == "lr" and widget.runs_chart.x_key == "params.lr"
    widget.scatter_param.value = "alpha"  # a person's choice
    logged("fourth", {"lr": "0.4"})
    widget.refresh()
    assert widget.scatter_param.value == "alpha" and widget.runs_chart.x_key == "params.alpha"


def test_a_selection_in_the_browser_sets_the_checked_runs(tracker, exp_name, runs):
    widget = RunComparison(exp_name, tracker=tracker, tenant_id=TENANT)
    widget.chart_metric.value = "auc"
    # What the front end's model.set('selected', ...) + save_changes() arrive as.
    widget.runs_chart.set_state({"selected": [runs["gamma"], runs["alpha"]]})
    assert sorted(widget.selected["run_name"]) == ["alpha", "gamma"]
    assert {rid for rid, box in widget._checkboxes.items() if box.value} == {
        runs["alpha"], runs["gamma"]
    }  # fmt: skip
    assert {k[1] for k in widget.overlay.curves} == {"alpha", "gamma"}
    assert "depth" in widget.differences.value
    widget._checkboxes[runs["beta"]].value = True  # ticking the table reaches the browser
    assert set(widget.runs_chart.selected) == set(runs.values())
    widget.runs_chart.set_state({"selected": []})  # cleared in the browser
    assert widget.selected.empty and not any(b.value for b in widget._checkboxes.values())
    assert widget.errors.text == ""


def test_runs_beyond_the_table_rows_are_drawn_and_selectable_in_the_browser(
    tracker, exp_name, runs
):
    widget = RunComparison(exp_name, tracker=tracker, tenant_id=TENANT, max_table_rows=2)
    assert len(widget._checkboxes) == 2 and len(widget.runs_chart.table["ids"]) == 3
    assert "the table shows the first 2" in widget.count.value
    hidden = next(r.id for r in widget.runs if r.id not in widget._checkboxes)
    widget.runs_chart.set_state({"selected": [hidden]})
    assert list(widget.selected["run_id"]) == [hidden]


def test_bad_input_shows_a_clear_message_in_the_widget(tracker, exp_name, runs):
    widget = RunComparison(exp_name, tracker=tracker, tenant_id=TENANT, metrics=["auc", "nope"])
    assert "No listed run logged metric 'nope'" in html.unescape(widget.errors.text)
    assert "auc" in widget.errors.text  # the hint names what was logged
    widget.chart_metric.value = "nope"
    widget.select([runs["alpha"]])
    assert widget.overlay.error == "None of the selected runs logged metric 'nope'."
    with tracker.start_run(exp_name, RunConfig(tenant_id="other-corp")) as foreign:
        pass
    for bad in (foreign.run_id, "0123456789abcdef0123456789abcdef"):
        widget.runs_chart.set_state({"selected": [runs["beta"], bad]})
        assert "NotFoundError" in widget.errors.text and bad in widget.errors.text
        assert "not found" in widget.runs_chart.error
        assert list(widget.selected["run_name"]) == ["beta"]  # the listed run is selected
    widget.select(["x') or 1=1 --"])
    assert "is not a run id" in widget.errors.text and widget.selected.empty
    widget.filter.value = "params.depth = '5'"  # alpha is filtered out now
    widget.select([runs["alpha"]])
    assert "not listed here" in widget.errors.text and "alpha" in widget.errors.text
    widget.select([runs["beta"]])  # a good selection clears the note
    assert widget.errors.text == "" and widget.runs_chart.error == ""


def test_a_thousand_runs_travel_as_compact_columns() -> None:
    fake = [
        SimpleNamespace(
            id=f"{i:032x}",
            name=f"run-{i}",
            params={
                "lr": str(10.0 ** -(i % 4 + 1)),
                "seed": f"s{i}",
                "opt": ("adam", "sgd")[i % 2],
            },
            metrics={"auc": 0.5 + (i % 100) / 200, "loss": 1.0 / (i + 1)},
        )
        for i in range(1000)
    ]
    params = rank_params(fake, ["lr", "opt", "seed"])
    assert params[0] == "lr"  # differs between runs, every run has it, numeric
    table = runs_table(fake, params, ["auc", "loss"])
    assert len(table["ids"]) == 1000 and all(len(c["values"]) == 1000 for c in table["columns"])
    seed = next(c for c in table["columns"] if c["key"] == "params.seed")
    assert len(seed["categories"]) == MAX_CATEGORIES + 1 and seed["categories"][-1] == OTHER
    assert len(json.dumps(table, allow_nan=False)) < 200_000


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
    with pytest.raises(NotFoundError):  # one foreign id among the tenant's own
        RunComparison(run_ids=[runs["alpha"], foreign.run_id], tracker=tracker, tenant_id=TENANT)


def test_runs_named_by_id_are_listed_as_a_listing_shows_them(tracker, exp_name, runs):
    """Read once, together: newest first, at most max_runs, deleted ones left out; the
    filter then asks MLflow again, within the same ids."""
    tracker.delete_run(runs["gamma"], TENANT)
    ids = [runs["alpha"], runs["gamma"], runs["beta"], runs["alpha"]]
    widget = RunComparison(run_ids=ids, tracker=tracker, tenant_id=TENANT)
    assert _names(widget) == ["beta", "alpha"]
    assert _names(RunComparison(run_ids=ids, tracker=tracker, tenant_id=TENANT, max_runs=1)) == [
        "beta"
    ]
    widget.filter.value = "params.depth = '3'"
    assert _names(widget) == ["alpha"]
    widget.filter.value = ""
    assert _names(widget) == ["beta", "alpha"]


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
    assert sum(p.count("&lt;img src=x onerror=alert(1)&gt;") for p in html_parts) >= 4
    widget.filter.value = f"params.note = '{XSS}"  # broken filter echoing user text
    assert "<img" not in widget.errors.text and "&lt;img" in widget.errors.text
