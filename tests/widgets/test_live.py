"""LiveMetricsPlot against a real run on the temporary MLflow store."""

from __future__ import annotations

import base64

import pytest
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output

from matih_jupyter import InvalidInputError, NotFoundError, RunConfig
from matih_jupyter.widgets import LiveMetricsPlot

from .conftest import PNG_MAGIC, TENANT, XSS, wait_for

WIDGET_MIME = "application/vnd.jupyter.widget-view+json"


def _fast(run_or_id, tracker, **kw):
    # A generous CPU budget so the test does not wait on the throttle.
    return LiveMetricsPlot(
        run_or_id, tracker=tracker, tenant_id=TENANT, interval=0.05, max_cpu_fraction=1.0, **kw
    )


def test_picks_up_new_points_while_running_and_leaves_png_at_end(tracker, exp_name):
    run = tracker.start_run(exp_name, RunConfig(run_name="train", tenant_id=TENANT))
    plot = _fast(run, tracker)
    assert plot.running
    assert bytes(plot.image.value).startswith(PNG_MAGIC)  # first frame drawn before training
    for step in range(10):
        run.log_metrics({"loss": 1.0 / (step + 1), "acc": step / 10}, step=step)
    run.flush()
    wait_for(lambda: len(plot.history.get("loss", [])) == 10, what="first 10 points")
    first_png, first_redraws = plot.image.value, plot.redraws
    for step in range(10, 25):
        run.log_metrics({"loss": 1.0 / (step + 1), "acc": 0.5 + step / 100}, step=step)
    run.flush()
    wait_for(lambda: len(plot.history.get("loss", [])) == 25, what="15 more points")
    wait_for(lambda: plot.redraws > first_redraws, what="a redraw")
    assert plot.image.value != first_png
    run.end()
    wait_for(lambda: not plot.running, what="the poller to stop after the run ended")
    assert plot.status == "FINISHED"
    assert plot.final_png is not None and plot.final_png.startswith(PNG_MAGIC)
    summary = plot.summary()
    assert summary["loss"]["latest"] == pytest.approx(1 / 25)
    assert summary["loss"]["best"] == pytest.approx(1 / 25) and summary["loss"]["goal"] == "min"
    assert summary["acc"]["best"] == pytest.approx(9 / 10) and summary["acc"]["goal"] == "max"
    assert summary["acc"]["best_step"] == 9
    assert "finished" in plot.header.value
    assert "<td>loss</td>" in plot.stats.value


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
    assert [p[0] for p in plot.history["loss"]] == list(range(300))
    run.end()
    wait_for(lambda: not plot.running, what="the end")
    assert [p[0] for p in plot.history["loss"]] == list(range(300))  # no duplicates at the seam


def test_display_is_replaced_by_a_static_png_when_the_run_ends(tracker, exp_name):
    existed = InteractiveShell.initialized()
    shell = InteractiveShell.instance()  # display() needs a shell to publish to
    try:
        run = tracker.start_run(exp_name, RunConfig(tenant_id=TENANT))
        with capture_output() as captured:
            plot = _fast(run, tracker).display()
            for step in range(5):
                run.log_metric("val_loss", 5.0 - step, step=step)
            run.end()
            wait_for(lambda: not plot.running, what="the poller to stop")
        first, last = captured.outputs[0], captured.outputs[-1]
        assert WIDGET_MIME in first.data
        display_id = first.transient["display_id"]
        assert last.update is True and last.transient["display_id"] == display_id
        assert WIDGET_MIME not in last.data
        png = base64.b64decode(last.data["image/png"])
        assert png.startswith(PNG_MAGIC) and png == plot.final_png
        assert "val_loss: latest 1 best 1" in last.data["text/plain"]
    finally:
        if not existed:  # leave a shell another test made alone
            InteractiveShell.clear_instance()
        del shell


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
    wait_for(lambda: not plot.running, what="the poller to notice the end")
    assert plot.status == "KILLED" and plot.final_png.startswith(PNG_MAGIC)
    assert "killed" in plot.header.value


def test_options_redraw_after_the_end(tracker, exp_name):
    with tracker.start_run(exp_name, RunConfig(tenant_id=TENANT)) as run:
        plot = _fast(run, tracker)
        for step in range(30):
            run.log_metric("loss", 10.0 / (step + 1) + (step % 3), step=step)
    plot.finish()
    final = plot.final_png
    plot.smoothing.value = 0.6
    assert plot.final_png != final and plot.final_png.startswith(PNG_MAGIC)
    smoothed = plot.final_png
    plot.log_scale.value = True
    assert plot.final_png != smoothed
    plot.x_axis.value = "time"
    assert plot.final_png.startswith(PNG_MAGIC)
    assert not plot.errors.text


def test_run_name_is_escaped(tracker, exp_name):
    with tracker.start_run(exp_name, RunConfig(tenant_id=TENANT, run_name=XSS)) as run:
        plot = _fast(run, tracker)
        run.log_metric("loss", 1.0)
    plot.finish()
    assert XSS not in plot.header.value
    assert "&lt;img src=x onerror=alert(1)&gt;" in plot.header.value
    assert XSS in plot.static_bundle()["text/plain"]  # plain text is not HTML


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
    ],
)
def test_bad_options_name_the_field(tracker, exp_name, kwargs, field):
    with (
        tracker.start_run(exp_name, RunConfig(tenant_id=TENANT)) as run,
        pytest.raises(InvalidInputError) as err,
    ):
        LiveMetricsPlot(run, tracker=tracker, **kwargs)
    assert err.value.field == field


def test_default_budget_throttles_redraws(tracker, exp_name):
    """With the default budget the poller spends a small share of wall time."""
    import time

    with tracker.start_run(exp_name, RunConfig(tenant_id=TENANT)) as run:
        plot = LiveMetricsPlot(run, tracker=tracker)
        began = time.perf_counter()
        step = 0
        while time.perf_counter() - began < 4.0:
            run.log_metrics({"a": step, "b_loss": -step, "c": step % 7}, step=step)
            step += 1
            time.sleep(0.001)
        wall = time.perf_counter() - began
    plot.finish()
    assert plot.redraws >= 2  # the first frame and at least one while logging
    assert plot.redraws <= wall / plot.interval + 2
    # The budget is paid after each iteration, so it can be exceeded by at most the cost of
    # the last one (the poller cannot know what a redraw costs before doing it).
    budget = plot.max_cpu_fraction * wall + plot.max_iteration_seconds
    assert plot.busy_seconds <= budget * 1.1, (plot.busy_seconds, budget, plot.polls)
