"""`SweepView` fed by a real sweep: the progress curve, the parallel coordinates, the trials
table and each trial's curves, from the trials' metric taps; then the static figure."""

from __future__ import annotations

import json

import pytest
from sweep_harness import mixed_objective, reporting_objective

from matih_jupyter import RunConfig
from matih_jupyter.widgets import SweepView
from matih_jupyter.widgets.trials_table import trial_row

from .conftest import PNG_MAGIC, TENANT, XSS


def reporting(trial):
    """The shared reporting objective, with a param whose text is markup."""
    trial.suggest_categorical("kind", ["a", XSS])
    return reporting_objective(trial)


@pytest.fixture
def swept(tracker, exp_name):
    view = SweepView("loss", "minimize", sweep_name="s", n_trials=6, interval=0.05)
    cfg = RunConfig(tenant_id=TENANT, user_id="alice@acme.com")
    result = tracker.sweep(
        reporting, exp_name, cfg, n_trials=6, metric="loss", sweep_name="s",
        on_trial=view.on_trial,
    )  # fmt: skip
    yield view, result
    if view.final_png is None:
        view.finish()


def test_the_trials_table_has_a_row_per_trial_and_marks_the_best(swept):
    view, result = swept
    view._step()
    rows = view.table.rows
    assert [r["number"] for r in rows] == list(range(6))
    assert [r["state"] for r in rows[:3]] == ["COMPLETE", "FAIL", "PRUNED"]
    assert "diverged" in rows[1]["error"] and rows[2]["value"] is None
    assert all(r["duration"] >= 0 for r in rows)
    assert view.table.best == result.best_run_id
    best_row = next(r for r in rows if r["id"] == result.best_run_id)
    assert best_row["value"] == pytest.approx(result.best_value)
    # Display data only: nothing but the trial's own numbers and params.
    assert set(rows[0]) == {"id", "number", "state", "value", "duration", "params", "error"}
    assert "alice" not in json.dumps(view.table.get_state())


def test_the_progress_curve_is_the_best_so_far_per_trial(swept):
    view, result = swept
    view._step()  # what the view's thread does every interval
    curves = {run: c for (run, _label, _metric), c in view.progress.curves.items()}
    best = curves["best"]
    assert best.values == sorted(best.values, reverse=True)  # never worse than before
    assert best.values[-1] == pytest.approx(result.best_value)
    completed = [t for t in result.trials if t.state == "COMPLETE"]
    assert curves["trials"].steps == [float(t.number) for t in completed]
    assert "best loss" in view.progress.status and "6/6 trials ended" in view.progress.status


def test_parallel_coordinates_hold_the_ended_trials_params_against_the_metric(swept):
    view, result = swept
    view._step()
    table = view.runs.table
    assert table["ids"] == [t.run_id for t in sorted(result.trials, key=lambda t: t.number)]
    keys = [c["key"] for c in table["columns"]]
    assert {"params.x", "params.kind", "metrics.loss"} <= set(keys)
    assert view.runs.axes[-1] == "metrics.loss"
    assert view.runs.y_key == "metrics.loss" and view.runs.x_key.startswith("params.")


def test_each_trials_curves_come_from_its_tap_as_mlflow_stored_them(swept, tracker):
    view, result = swept
    for trial in result.trials:
        stored = tracker.get_metric_history(trial.run_id, "loss", TENANT)
        shown = [c for (run, _, m), c in view.curves.curves.items() if run == trial.run_id]
        if not stored:
            assert not shown
            continue
        (curve,) = shown
        assert list(zip(curve.steps, curve.values, strict=True)) == [
            (float(p.step), pytest.approx(p.value)) for p in stored
        ]
    labels = {label for (_, label, _) in view.curves.curves}
    assert "trial 0" in labels


def test_selection_links_the_table_to_the_lines_and_the_trial_curves(swept):
    view, _ = swept
    links = [(ln.source, ln.target) for ln in view._links]
    assert ((view.table, "selected"), (view.runs, "selected")) in links
    assert ((view.table, "selected"), (view.curves, "runs")) in links


def test_finishing_leaves_a_figure_and_a_text_table_and_closes_the_charts(swept):
    view, result = swept
    assert "application/vnd.jupyter.widget-view+json" in view.bundle()
    view.finish()
    bundle = view.bundle()
    assert set(bundle) == {"image/png", "text/plain"}
    import base64

    assert base64.b64decode(bundle["image/png"]).startswith(PNG_MAGIC)
    text = bundle["text/plain"]
    first = text.splitlines()[1]  # best first
    assert f"trial {result.best_trial:>3} complete" in first
    assert "fail" in text and "pruned" in text
    assert view.table.comm is None and view.progress.comm is None


def test_a_trial_row_of_a_running_trial_counts_its_duration_so_far():
    from matih_jupyter.core.tracking.sweep.trial_run import TrialOutcome

    running = TrialOutcome(3, "r" * 32, "RUNNING", None, {}, started=100.0)
    assert trial_row(running, ended_at=102.5)["duration"] == 2.5
    many = TrialOutcome(4, "r" * 32, "COMPLETE", 0.5, {f"p{i}": 0.123456 for i in range(40)})
    assert len(trial_row(many)["params"]) <= 120


def test_the_mixed_objective_sweep_view_shows_failures_without_values(tracker, exp_name):
    view = SweepView("loss", sweep_name="m", interval=0.05)
    cfg = RunConfig(tenant_id=TENANT)
    tracker.sweep(mixed_objective, exp_name, cfg, n_trials=3, metric="loss", sweep_name="m",
                  on_trial=view.on_trial)  # fmt: skip
    view.finish()
    assert "trial   1 fail" in view.text()
