"""``%%matih_sweep`` in a real IPython shell, on the test's own store."""

from __future__ import annotations

from IPython.utils.capture import capture_output

TENANT = "acme-corp"


def _children(tracker, parent_id: str):
    runs = tracker.list_runs(
        TENANT, None, filter_string=f"tags.`mlflow.parentRunId` = '{parent_id}'"
    )
    return sorted(runs, key=lambda r: int(r.tags["matih.sweep.trial"]))


def test_a_cell_that_is_the_objective_runs_a_nested_sweep(shell, tracker, exp_name, capsys):
    cell = (
        f"%%matih_sweep {exp_name} --trials 4 --metric loss --name grid\n"
        "x = trial.suggest_float('x', -2, 2)\n"
        "%matih_log extra=x * 2\n"
        "(x - 0.5) ** 2\n"
    )
    assert shell.run_cell(cell).success
    result = shell.user_ns["sweep"]
    out = capsys.readouterr().out
    assert "Sweep 'grid': 4 trials run (4 complete)." in out
    assert f"run {result.best_run_id}" in out
    runs = _children(tracker, result.parent_run_id)
    assert len(runs) == 4 and {r.status for r in runs} == {"finished"}
    for run in runs:  # %matih_log inside the cell went to the trial's own run
        assert run.metrics["extra"] == 2 * float(run.params["x"])
    assert min(r.metrics["loss"] for r in runs) == result.best_value
    assert tracker.get_run(result.parent_run_id, TENANT).tags["matih.sweep.name"] == "grid"


def test_a_cell_defining_objective_and_a_second_cell_continue_one_sweep(shell, tracker, exp_name):
    cell = (
        f"%%matih_sweep {exp_name} --trials {{n}} --metric acc --direction maximize --result s\n"
        "def objective(trial):\n"
        "    return 1 - abs(trial.suggest_float('x', 0, 1) - 0.3)\n"
    )
    assert shell.run_cell(cell.format(n=2)).success
    first = shell.user_ns["s"]
    assert shell.run_cell(cell.format(n=3)).success
    again = shell.user_ns["s"]
    assert again.parent_run_id == first.parent_run_id
    assert len(again.trials) == 1
    assert len(_children(tracker, again.parent_run_id)) == 3


def test_bad_input_is_one_clear_line(shell, exp_name, capsys):
    result = shell.run_cell(f"%%matih_sweep {exp_name} --trials 2 --metric m --direction up\n1.0\n")
    assert not result.success
    err = capsys.readouterr().err
    assert "direction" in err and "Traceback" not in err
    result = shell.run_cell(f"%%matih_sweep {exp_name} --trials 2 --metric m\n'abc'\n")
    assert not result.success
    err = capsys.readouterr().err
    assert "not a number" in err and "Traceback" not in err


def test_the_summary_says_why_trials_failed(shell, exp_name, capsys):
    cell = (
        f"%%matih_sweep {exp_name} --trials 3 --metric m\n"
        "x = trial.suggest_float('x', 0, 1)\n"
        "if trial.number == 1:\n"
        "    raise ValueError('diverged at epoch 3')\n"
        "x\n"
    )
    assert shell.run_cell(cell).success
    out = capsys.readouterr().out
    assert "3 trials run (2 complete, 1 fail)." in out
    assert "trial 1 failed: ValueError: diverged at epoch 3" in out


def test_help_explains_the_cell_forms(shell):
    doc = shell.find_cell_magic("matih_sweep").__doc__
    assert "objective(trial)" in doc and "--trials" in doc and "continues" in doc


def test_register_best_after_the_cell_registers_and_shows_the_promotion_widget(
    shell, tracker, exp_name, process_registry
):
    shell.run_cell(
        "from sklearn.datasets import make_classification\n"
        "from sklearn.tree import DecisionTreeClassifier\n"
        "X, y = make_classification(n_samples=100, n_features=4, random_state=0)\n"
    )
    cell = (
        f"%%matih_sweep {exp_name} --trials 3 --metric acc --direction maximize\n"
        "model = DecisionTreeClassifier(max_depth=trial.suggest_int('depth', 1, 4)).fit(X, y)\n"
        "model.score(X, y), model\n"
    )
    assert shell.run_cell(cell).success
    with capture_output() as shown:
        registered = shell.run_cell("version = sweep.register_best('sweep-tree')")
    assert registered.success, registered.error_in_exec
    widgets = [
        o.data for o in shown.outputs if "application/vnd.jupyter.widget-view+json" in o.data
    ]
    assert widgets, "the promotion widget was not shown"
    version = shell.user_ns["version"]
    sweep = shell.user_ns["sweep"]
    assert version.run_id == sweep.best_run_id
    assert version.stage == "development"
    assert process_registry.get_model(TENANT, "sweep-tree") is not None


def test_live_shows_the_sweep_view_then_leaves_its_figure(shell, tracker, exp_name):
    cell = (
        f"%%matih_sweep {exp_name} --trials 3 --metric loss --name watched --live\n"
        "x = trial.suggest_float('x', -2, 2)\n"
        "for step in range(3):\n"
        "    trial.report((x - 0.5) ** 2 + 1 / (step + 1), step)\n"
        "(x - 0.5) ** 2\n"
    )
    with capture_output() as cap:
        assert shell.run_cell(cell).success
    kinds = [set(o.data) for o in cap.outputs]
    assert "application/vnd.jupyter.widget-view+json" in kinds[0]
    assert {"image/png", "text/plain"} <= kinds[-1]  # the figure replaces the view
    text = cap.outputs[-1].data["text/plain"]
    result = shell.user_ns["sweep"]
    assert f"trial {result.best_trial:>3} complete" in text.splitlines()[1]
    assert "Sweep 'watched': 3 trials run (3 complete)." in cap.stdout


def test_live_view_is_finished_when_the_sweep_stops_on_a_broken_objective(shell, exp_name):
    with capture_output() as cap:
        result = shell.run_cell(
            f"%%matih_sweep {exp_name} --trials 3 --metric m --live\n'not a number'\n"
        )
    assert not result.success
    assert "image/png" in cap.outputs[-1].data  # no live view left behind
    assert "not a number" in cap.stderr and "Traceback" not in cap.stderr


def test_help_explains_live(shell):
    doc = shell.find_cell_magic("matih_sweep").__doc__
    assert "--live" in doc and "click" in doc.lower()
