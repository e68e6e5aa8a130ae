"""LiveMetricsPlot against a real run on the temporary MLflow store: the kernel streams only
new points to the browser chart (checked at the widget's message boundary), and leaves a
PNG of the final curves in the output when the run ends."""

from __future__ import annotations

import base64
import json
import time

import numpy as np
import pytest
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output

from matih_jupyter import InvalidInputError, NotFoundError, RunConfig
from matih_jupyter.widgets import LiveMetricsPlot

from .conftest import PNG_MAGIC, TENANT, XSS, wait_for

WIDGET_MIME = "application/vnd.jupyter.widget-view+json"


def _fast(run_or_id, tracker, **kw):
    return LiveMetricsPlot(
        run_or_id, tracker=tracker, tenant_id=TENANT, interval=0.05, max_cpu_fraction=1.0, **kw
    )


class Browser:
    """What reaches the front end: the widget's custom messages, decoded."""

    def __init__(self, plot: LiveMetricsPlot) -> None:
        self.messages: list[dict] = []
        plot.chart.send = self.receive  # the transport to the browser, recorded

    def receive(self, content: dict, buffers: list[bytes] | None = None) -> None:
        columns = [np.frombuffer(b, dtype="<f8") for b in buffers or []]
        for i, series in enumerate(content["series"]):
            series["steps"], series["values"], series["times"] = columns[3 * i : 3 * i + 3]
        self.messages.append(content)

    def points(self, metric: str) -> list[tuple[float, float]]:
        return [
            (s, v)
            for m in self.messages
            for series in m["series"]
            if series["metric"] == metric
            for s, v in zip(series["steps"], series["values"], strict=True)
        ]


def test_only_new_points_are_sent_and_the_final_png_comes_at_the_end(tracker, exp_name):
    run = tracker.start_run(exp_name, RunConfig(run_name="train", tenant_id=TENANT))
    plot = _fast(run, tracker)
    browser = Browser(plot)
    assert plot.running and "waiting for metrics" in plot.chart.status
    for step in range(10):
        run.log_metrics({"loss": 1.0 / (step + 1), "acc": step / 10}, step=step)
    run.flush()
    wait_for(lambda: len(browser.points("loss")) == 10, what="the first 10 points")
    for step in range(10, 25):
        run.log_metrics({"loss": 1.0 / (step + 1), "acc": 0.5 + step / 100}, step=step)
    run.flush()
    wait_for(lambda: len(browser.points("loss")) == 25, what="15 more points")
    # Each point went to the browser exactly once, in step order.
    assert [s for s, _ in browser.points("loss")] == list(range(25))
    assert plot.chart.points_sent == 50 and len(browser.messages) >= 2
    assert not any(s["replace"] for m in browser.messages for s in m["series"])
    run.end()
    wait_for(lambda: not plot.running, what="the plot to stop after the run ended")
    assert plot.status == "FINISHED" and plot.chart.status == "train · finished · 50 points"
    assert plot.final_png is not None and plot.final_png.startswith(PNG_MAGIC)
    summary = plot.summary()
    assert summary["loss"]["latest"] == pytest.approx(1 / 25)
    assert summary["loss"]["best"] == pytest.approx(1 / 25) and summary["loss"]["goal"] == "min"
    assert summary["acc"]["best"] == pytest.approx(9 / 10) and summary["acc"]["goal"] == "max"
    assert plot.chart.goals == {"acc": "max", "loss": "min"}


def test_in_process_run_is_followed_through_its_writer_not_mlflow(tracker, exp_name):
    run = tracker.start_run(exp_name, RunConfig(run_name="train", tenant_id=TENANT))
    run.log_metric("loss", 2.0, step=0)
    run.flush()  # stored before the plot exists: read once from MLflow
    plot = _fast(run, tracker)
    wait_for(lambda: len(plot.history.get("loss", [])) == 1, what="the stored point")
    reads = plot.mlflow_polls
    for step in range(1, 300):
        run.log_metric("loss", 1.0 / step, step=step)
    run.flush()
    wait_for(lambda: len(plot.history.get("loss", [])) == 300, what="points via the writer")
    assert plot.mlflow_polls == reads  # nothing read back from MLflow while training
    run.end()
    wait_for(lambda: not plot.running, what="the end")
    assert [p[0] for p in plot.history["loss"]] == list(range(300))  # no duplicates at the seam


def test_the_chart_is_replaced_by_the_final_png_when_the_run_ends(tracker, exp_name):
    existed = InteractiveShell.initialized()
    shell = InteractiveShell.instance()  # display() needs a shell to publish to
    try:
        run = tracker.start_run(exp_name, RunConfig(tenant_id=TENANT))
        with capture_output() as captured:
            plot = _fast(run, tracker).display()
            for step in range(5):
                run.log_metric("val_loss", 5.0 - step, step=step)
            run.end()
            wait_for(lambda: not plot.running, what="the plot to stop")
        first, last = captured.outputs[0], captured.outputs[-1]
        assert WIDGET_MIME in first.data and "image/png" not in first.data
        assert last.update is True and last.transient["display_id"] == first.transient["display_id"]
        # The saved output is the PNG alone: a widget view would be "model not found".
        assert set(last.data) == {"image/png", "text/plain"}
        png = base64.b64decode(last.data["image/png"])
        assert png.startswith(PNG_MAGIC) and png == plot.final_png
        assert "val_loss: latest 1 best 1" in last.data["text/plain"]
    finally:
        if not existed:  # leave a shell another test made alone
            InteractiveShell.clear_instance()
        del shell


def test_a_view_opening_later_gets_every_curve_downsampled_and_a_zoom_gets_detail(
    tracker, exp_name
):
    exp_id = tracker.get_or_create_experiment(exp_name, TENANT)
    created = tracker.create_run(exp_id, RunConfig(tenant_id=TENANT, run_name="long"))
    for start in range(0, 20_000, 1000):
        tracker.log_batch(
            created.id,
            [{"key": "loss", "value": float(np.sin(s / 50)), "step": s}
             for s in range(start, start + 1000)],
            tenant_id=TENANT,
        )  # fmt: skip
    tracker.end_run(created.id, "FINISHED", TENANT)
    plot = _fast(created.id, tracker, start=False)
    plot.refresh()
    browser = Browser(plot)
    plot.chart._handle_custom_msg({"type": "ready", "width": 300}, [])
    (view,) = browser.messages[-1]["series"]
    assert view["replace"] and 300 < view["n"] <= 4 * 300
    assert view["steps"][0] == 0 and view["steps"][-1] == 19_999
    assert view["values"].max() == pytest.approx(1.0, abs=1e-3)  # peaks survive
    plot.chart._handle_custom_msg(
        {"type": "zoom", "min": 1000, "max": 1200, "width": 300, "x": "step"}, []
    )
    (detail,) = browser.messages[-1]["series"]
    assert detail["replace"] and list(detail["steps"]) == list(range(1000, 1201))


def test_a_point_logged_into_the_middle_replaces_the_curve(tracker, exp_name):
    exp_id = tracker.get_or_create_experiment(exp_name, TENANT)
    created = tracker.create_run(exp_id, RunConfig(tenant_id=TENANT))
    tracker.log_batch(
        created.id, [{"key": "auc", "value": 0.5, "step": s} for s in (0, 1, 3)], tenant_id=TENANT
    )
    plot = _fast(created.id, tracker, start=False)
    browser = Browser(plot)
    plot.refresh()
    tracker.log_batch(created.id, [{"key": "auc", "value": 0.7, "step": 2}], tenant_id=TENANT)
    plot.refresh()
    last = browser.messages[-1]["series"][0]
    assert last["replace"] and list(last["steps"]) == [0, 1, 2, 3]
    assert [p[0] for p in plot.history["auc"]] == [0, 1, 2, 3]


def test_run_by_id_finishes_when_the_status_changes(tracker, exp_name):
    exp_id = tracker.get_or_create_experiment(exp_name, TENANT)
    created = tracker.create_run(exp_id, RunConfig(tenant_id=TENANT, run_name="rest"))
    plot = _fast(created.id, tracker, metrics=["auc"])
    tracker.log_batch(
        created.id,
        metrics=[{"key": "auc", "value": 0.5 + i / 100, "step": i} for i in range(20)]
        + [{"key": "ignored", "value": 1.0, "step": 0}],
        tenant_id=TENANT,
    )
    wait_for(lambda: len(plot.history.get("auc", [])) == 20, what="20 auc points")
    assert "ignored" not in plot.history
    tracker.end_run(created.id, "KILLED", tenant_id=TENANT)
    wait_for(lambda: not plot.running, what="the plot to notice the end")
    assert plot.status == "KILLED" and plot.final_png.startswith(PNG_MAGIC)
    assert "killed" in plot.chart.status


def test_widget_state_holds_display_settings_only(tracker, exp_name, monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", "s3cret-pass")
    monkeypatch.setenv("MLFLOW_TRACKING_TOKEN", "tok-123")
    with tracker.start_run(exp_name, RunConfig(tenant_id=TENANT, run_name="train")) as run:
        plot = _fast(run, tracker, smoothing=0.3, log_scale=True, x="time")
        run.log_metric("loss", 1.0)
    plot.finish()
    state = json.dumps(
        {k: v for k, v in plot.chart.get_state().items() if k not in ("_esm", "_css")}
    )
    for secret in ("s3cret-pass", "tok-123", tracker.tracking_uri, run.artifact_uri):
        assert secret not in state
    assert (plot.chart.smoothing, plot.chart.log_scale, plot.chart.x) == (0.3, True, "relative")


def test_run_name_is_text_not_html(tracker, exp_name):
    with tracker.start_run(exp_name, RunConfig(tenant_id=TENANT, run_name=XSS)) as run:
        plot = _fast(run, tracker)
        run.log_metric("loss", 1.0)
    plot.finish()
    # The chart shows status with textContent; the summary is plain text.
    assert plot.chart.status.startswith(XSS)
    assert XSS in plot.static_bundle()["text/plain"]


def test_foreign_or_unknown_runs_are_refused(tracker, exp_name):
    with tracker.start_run(exp_name, RunConfig(tenant_id="other-corp")) as foreign:
        foreign.log_metric("loss", 1.0)
    with pytest.raises(NotFoundError) as err:
        LiveMetricsPlot(foreign.run_id, tracker=tracker, tenant_id=TENANT)
    with pytest.raises(NotFoundError) as err2:
        LiveMetricsPlot("0" * 32, tracker=tracker, tenant_id=TENANT)
    assert err.value.message.replace(foreign.run_id, "0" * 32) == err2.value.message


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"x": "epoch"}, "x"),
        ({"smoothing": 1.0}, "smoothing"),
        ({"interval": 0}, "interval"),
        ({"max_cpu_fraction": 0}, "max_cpu_fraction"),
        ({"goals": {"loss": "lowest"}}, "goals"),
        ({"layout": "grid"}, "layout"),
    ],
)
def test_bad_options_name_the_field(tracker, exp_name, kwargs, field):
    with (
        tracker.start_run(exp_name, RunConfig(tenant_id=TENANT)) as run,
        pytest.raises(InvalidInputError) as err,
    ):
        LiveMetricsPlot(run, tracker=tracker, **kwargs)
    assert err.value.field == field


def test_following_a_run_of_this_process_costs_the_kernel_little(tracker, exp_name):
    """With the defaults the plot only hands over new points: a small share of wall time
    (the figure is measured by benchmarks/bench_live_plot.py; this bounds it loosely)."""
    with tracker.start_run(exp_name, RunConfig(tenant_id=TENANT)) as run:
        plot = LiveMetricsPlot(run, tracker=tracker)
        began = time.perf_counter()
        step = 0
        while time.perf_counter() - began < 3.0:
            run.log_metrics({"a": step, "b_loss": -step, "c": step % 7}, step=step)
            step += 1
            time.sleep(0.001)
        wall = time.perf_counter() - began
    plot.finish()
    assert 2 <= plot.updates <= wall / plot.interval + 2
    assert plot.chart.points_sent == 3 * step
    assert plot.busy_seconds <= 0.05 * wall, (plot.busy_seconds, wall)


def test_a_metric_the_run_never_logged_is_named_in_the_chart(tracker, exp_name):
    with tracker.start_run(exp_name, RunConfig(tenant_id=TENANT, run_name="train")) as run:
        plot = _fast(run, tracker, metrics=["val_auc", "loss"])
        run.log_metrics({"loss": 0.5, "acc": 0.9})
    plot.finish()
    assert plot.chart.error == ("Run 'train' logged no 'val_auc'; its metrics: acc, loss.")
    assert [k for k in plot.history] == ["loss"]


def test_points_appended_after_a_replace_are_sent_and_kept_once():
    from matih_jupyter.widgets.chart_widget import MetricChart

    chart = MetricChart()
    chart.replace("r", "run", "loss", [0, 1], [1.0, 0.5], [10, 20])
    chart.append("r", "run", "loss", [2], [0.25], [30])
    sent = []
    chart.send = lambda content, buffers=None: sent.append((content, buffers))
    chart.flush()
    (series,) = sent[0][0]["series"]
    assert series["replace"] and series["n"] == 3
    assert chart.point_count() == 3
