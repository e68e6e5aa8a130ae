"""%%matih_run, %matih_run start/end/status and %matih_log in a real IPython shell, checked
against the MLflow store through a separate tracker."""

from __future__ import annotations

import pytest
from IPython.core.error import UsageError

TENANT = "acme-corp"


def runs_of(tracker, experiment):
    return tracker.list_runs(TENANT, experiment)


def only_run(tracker, experiment):
    runs = runs_of(tracker, experiment)
    assert len(runs) == 1, runs
    return tracker.get_run(runs[0].id, TENANT)


def test_load_ext_registers_every_magic_without_importing_mlflow(shell):
    names = shell.magics_manager.lsmagic()
    for magic in (
        "matih_tenant",
        "matih_experiment",
        "matih_run",
        "matih_log",
        "matih_runs",
        "matih_compare",
        "matih_models",
        "matih_promote",
    ):
        assert magic in names["line"], magic
    assert "matih_run" in names["cell"]
    assert "matih_sweep" in names["cell"]


def test_cell_run_finishes_with_metrics_source_and_provenance(shell, tracker, exp_name, tmp_path):
    source = (
        "total = 0\n"
        "for step in range(5):\n"
        "    total += step\n"
        "    run.log_metric('loss', 1 / (step + 1), step=step)\n"
        "%matih_log total acc=total / 10 --step 4\n"
        "run.log_params({'lr': 0.1})\n"
        "total * 2"
    )
    header = f"%%matih_run {exp_name} --name first --tag team=fraud"
    result = shell.run_cell(f"{header}\n{source}")
    assert result.success, result.error_in_exec
    assert result.result == 20  # the last expression is the cell's output
    run = only_run(tracker, exp_name)
    assert run.status == "finished"
    assert run.name == "first"
    assert run.tags["team"] == "fraud"
    assert run.tags["matih.tenant_id"] == TENANT
    assert run.tags["matih.user_id"] == "alice@acme.com"
    assert run.params == {"lr": "0.1"}
    assert run.metrics["total"] == 10
    assert run.metrics["acc"] == 1.0
    history = tracker.get_metric_history(run.id, "loss", TENANT)
    assert [p.step for p in history] == [0, 1, 2, 3, 4]
    assert "cell.py" in run.artifacts
    stored = tracker.download_artifacts(run.id, "cell.py", tmp_path, TENANT)
    assert stored.read_text() == f"{header}\n{source}\n"  # the cell as the user wrote it
    # the ActiveRun stays bound after the cell, ended
    assert shell.user_ns["run"].run_id == run.id
    assert shell.user_ns["run"].ended


def test_rerunning_a_cell_makes_a_new_run_without_param_conflicts(shell, tracker, exp_name):
    cell = f"%%matih_run {exp_name}\nrun.log_param('seed', seed)\n"
    for seed in (1, 2):
        shell.user_ns["seed"] = seed
        assert shell.run_cell(cell).success
    runs = runs_of(tracker, exp_name)
    assert sorted(r.params["seed"] for r in runs) == ["1", "2"]
    assert {r.status for r in runs} == {"finished"}


def test_exception_fails_the_run_tags_it_and_still_shows(shell, tracker, exp_name, capsys):
    result = shell.run_cell(
        f"%%matih_run {exp_name}\n"
        "for i in range(3):\n"
        "    run.log_metric('x', i, step=i)\n"
        "raise ValueError('bad batch 7')\n"
    )
    assert isinstance(result.error_in_exec, ValueError)
    err = capsys.readouterr()
    # the user's error is shown like any cell error, with the cell's line
    assert "ValueError" in err.out + err.err
    assert "bad batch 7" in err.out + err.err
    run = only_run(tracker, exp_name)
    assert run.status == "failed"
    assert run.tags["matih.error.type"] == "ValueError"
    assert run.tags["matih.error.message"] == "bad batch 7"
    assert len(tracker.get_metric_history(run.id, "x", TENANT)) == 3


def test_keyboard_interrupt_kills_the_run_and_keeps_every_point(shell, tracker, exp_name):
    result = shell.run_cell(
        f"%%matih_run {exp_name}\n"
        "for i in range(2500):\n"
        "    run.log_metric('x', i, step=i)\n"
        "raise KeyboardInterrupt\n"
    )
    assert isinstance(result.error_in_exec, KeyboardInterrupt)
    run = only_run(tracker, exp_name)
    assert run.status == "killed"
    assert len(tracker.get_metric_history(run.id, "x", TENANT)) == 2500


def test_syntax_error_opens_no_run(shell, tracker, exp_name):
    result = shell.run_cell(f"%%matih_run {exp_name}\nfor x in :\n")
    assert isinstance(result.error_before_exec or result.error_in_exec, SyntaxError)
    assert tracker.list_experiments(TENANT) == []


def test_as_binds_another_variable_and_default_experiment(shell, tracker, exp_name):
    shell.run_line_magic("matih_experiment", exp_name)
    assert shell.run_cell("%%matih_run --as r2\nr2.log_metric('m', 3)\n").success
    assert "run" not in shell.user_ns
    run = only_run(tracker, exp_name)
    assert run.metrics == {"m": 3.0}


def test_notebook_path_from_vscode_variable_is_tagged(shell, tracker, exp_name):
    shell.user_ns["__vsc_ipynb_file__"] = "/home/alice/churn.ipynb"
    assert shell.run_cell(f"%%matih_run {exp_name}\npass\n").success
    run = only_run(tracker, exp_name)
    assert run.tags["matih.notebook_path"] == "/home/alice/churn.ipynb"


def test_notebook_path_from_jupyter_session_env(shell, tracker, exp_name, monkeypatch):
    monkeypatch.setenv("JPY_SESSION_NAME", "/work/nb/train.ipynb")
    assert shell.run_cell(f"%%matih_run {exp_name}\npass\n").success
    assert only_run(tracker, exp_name).tags["matih.notebook_path"] == "/work/nb/train.ipynb"


def test_started_run_spans_cells_and_is_flushed_after_every_cell(shell, tracker, exp_name, capsys):
    assert shell.run_cell(f"%matih_run start {exp_name} --name long --tag stage=dev").success
    assert "Started run 'long'" in capsys.readouterr().out
    run_id = shell.user_ns["run"].run_id
    assert shell.run_cell(
        "for i in range(3):\n    run.log_metric('loss', 1.0 / (i + 1), step=i)\n"
    ).success
    # the post_run_cell hook wrote everything: a reader outside sees it before the end
    history = tracker.client.get_metric_history(run_id, "loss")
    assert len(history) == 3
    assert shell.run_cell("%matih_log loss=0.1 --step 3").success
    assert len(tracker.client.get_metric_history(run_id, "loss")) == 4
    shell.run_line_magic("matih_run", "status")
    out = capsys.readouterr().out
    assert "RUNNING run 'long'" in out and "open until %matih_run end" in out
    shell.run_line_magic("matih_run", "end")
    run = tracker.get_run(run_id, TENANT)
    assert run.status == "finished"
    assert run.tags["stage"] == "dev"
    assert "Ended run 'long'" in capsys.readouterr().out
    shell.run_line_magic("matih_run", "status")
    assert "No run is open" in capsys.readouterr().out


def test_end_with_status_and_nested_runs(shell, tracker, exp_name):
    shell.run_line_magic("matih_run", f"start {exp_name} --name parent")
    parent = shell.user_ns["run"].run_id
    assert shell.run_cell(
        f"%%matih_run {exp_name} --nested --name child\nrun.log_metric('a', 1)\n"
    ).success
    shell.run_line_magic("matih_run", "start --nested --name child2 --as inner")
    inner = shell.user_ns["inner"].run_id
    shell.run_line_magic("matih_run", "end --status killed")
    shell.run_line_magic("matih_run", "end --status FAILED")
    runs = {r.name: r for r in runs_of(tracker, exp_name)}
    assert runs["child"].parent_run_id == parent
    assert runs["child2"].parent_run_id == parent
    assert runs["child2"].status == "killed" and runs["child2"].id == inner
    assert runs["parent"].status == "failed"


def test_log_params_and_tags(shell, tracker, exp_name):
    shell.run_line_magic("matih_run", f"start {exp_name}")
    shell.user_ns["cfg"] = {"depth": 5}
    shell.run_line_magic("matih_log", "depth=cfg['depth'] lr = 0.01 --params")
    shell.run_line_magic("matih_log", "dataset='v3 final' --tags")
    run_id = shell.user_ns["run"].run_id
    shell.run_line_magic("matih_run", "end")
    run = tracker.get_run(run_id, TENANT)
    assert run.params == {"depth": "5", "lr": "0.01"}
    assert run.tags["dataset"] == "v3 final"


def test_log_numpy_scalars_and_expressions_with_spaces(shell, tracker, exp_name):
    import numpy as np

    shell.user_ns["np"] = np
    shell.user_ns["vals"] = [1.0, 2.0, 3.0]
    shell.run_line_magic("matih_run", f"start {exp_name}")
    shell.run_line_magic(
        "matih_log", "mean=np.mean(vals) best=max(vals, key=lambda v: -v) --step len(vals)"
    )
    run_id = shell.user_ns["run"].run_id
    shell.run_line_magic("matih_run", "end")
    run = tracker.get_run(run_id, TENANT)
    assert run.metrics == {"mean": 2.0, "best": 1.0}
    assert tracker.get_metric_history(run_id, "mean", TENANT)[0].step == 3


# -- user mistakes: UsageError with a hint, never a traceback ------------------------------


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("", "needs an action"),
        ("myexp", "needs an action"),
        ("end", "nothing to end"),
        ("start a b", "Too many words"),
        ("status --name x", "only go with"),
        ("status --status FINISHED", "only goes with"),
        ("end --status DONE", "not an end state"),
        ("end --status DONE", "Use --status FINISHED, FAILED or KILLED."),
        ("end --as x", "--as does not go"),
        ("start exp --tag novalue", "not key=value"),
        ("start exp --tag matih.tenant_id=evil", "reserved"),
        ("start exp --as 2x", "not a Python variable"),
        ("start exp --as class", "not a Python variable"),
        ("start exp --no-models", "only goes with --autolog"),
        ("start exp --status KILLED", "only goes with"),
        ("start --nested exp", "no run is open to nest under"),
        ("start exp --nested", "no run is open to nest under"),
        ("start 'bad/name'", "experiment name"),
        ("start exp --bogus", "unrecognized arguments"),
    ],
)
def test_run_line_mistakes_are_usage_errors(shell, text, needle):
    with pytest.raises(UsageError) as info:
        shell.run_line_magic("matih_run", text)
    assert needle in str(info.value)
    # no chained exception, so IPython shows one line and no traceback
    assert info.value.__cause__ is None
    assert info.value.__suppress_context__ or info.value.__context__ is None


def test_run_without_experiment_or_tenant_says_how(shell, monkeypatch):
    with pytest.raises(UsageError, match="matih_experiment"):
        shell.run_line_magic("matih_run", "start")
    monkeypatch.delenv("MATIH_TENANT_ID")
    with pytest.raises(UsageError, match="matih_tenant TENANT"):
        shell.run_line_magic("matih_run", "start exp")


@pytest.mark.parametrize(
    ("header", "needle"),
    [
        ("%%matih_run end", "not a cell form"),
        ("%%matih_run a b", "at most one experiment"),
        ("%%matih_run exp --status FAILED", "only goes with"),
        ("%%matih_run exp --tag =x", "not key=value"),
    ],
)
def test_cell_mistakes_open_no_run(shell, tracker, header, needle, capsys):
    result = shell.run_cell(f"{header}\nx = 1\n")
    assert isinstance(result.error_in_exec, UsageError)
    err = capsys.readouterr()
    shown = err.out + err.err
    assert needle in shown
    assert "Traceback" not in shown
    assert tracker.list_experiments(TENANT) == []
    assert "x" not in shell.user_ns


def test_end_inside_a_cell_run_is_refused(shell, exp_name, tracker):
    result = shell.run_cell(f"%%matih_run {exp_name}\n%matih_run end\n")
    assert isinstance(result.error_in_exec, UsageError)
    run = only_run(tracker, exp_name)
    assert run.status == "failed"
    assert run.tags["matih.error.type"] == "UsageError"


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("loss=1", "No run is open"),
    ],
)
def test_log_without_run(shell, text, needle):
    with pytest.raises(UsageError, match=needle):
        shell.run_line_magic("matih_log", text)


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("", "arguments are required"),
        ("loss=undefined_name", "NameError"),
        ("name='abc'", "metrics are real numbers"),
        ("flag=True", "metrics are real numbers"),
        ("name='abc'", "Log it with --params or --tags"),
        ("x=1 --step 1.5", "--step 1.5 must evaluate to an integer"),
        ("x=1 --step 1.5", "not an integer"),
        ("x=1 --step nope", "Could not evaluate"),
        ("x=1 --params --tags", "Choose one"),
        ("'bad key'=1", "not a valid key"),
        ("a==1", "not key=expression"),
        ("x=(1", "Unbalanced"),
        ("x='abc", "Unclosed string"),
        ("3=1", "not a valid key"),
        ("bad%key=1", "not a valid key"),
    ],
)
def test_log_mistakes(shell, exp_name, text, needle):
    shell.run_line_magic("matih_run", f"start {exp_name}")
    with pytest.raises(UsageError) as info:
        shell.run_line_magic("matih_log", text)
    assert needle in str(info.value)


def test_param_conflict_is_a_usage_error_naming_both_values(shell, exp_name):
    shell.run_line_magic("matih_run", f"start {exp_name}")
    shell.run_line_magic("matih_log", "lr=0.1 --params")
    with pytest.raises(UsageError, match="write-once"):
        shell.run_line_magic("matih_log", "lr=0.2 --params")


def test_usage_errors_show_one_line_without_traceback(shell, capsys):
    shell.run_cell("%matih_log x=1")
    err = capsys.readouterr()
    shown = err.out + err.err
    assert "UsageError: No run is open to log to." in shown
    assert "%matih_run start" in shown  # the hint
    assert "Traceback" not in shown


def test_help_is_written_for_users(shell):
    doc = shell.find_line_magic("matih_run").__doc__
    assert "FINISHED" in doc and "--as VAR" in doc and "--autolog" in doc
    for name in ("matih_log", "matih_runs", "matih_compare", "matih_tenant", "matih_promote"):
        assert "Examples" in shell.find_line_magic(name).__doc__
    assert "usage:" in shell.find_line_magic("matih_log").__doc__.lower() or "::" in doc


def test_unload_ends_open_runs_and_removes_magics(shell, tracker, exp_name):
    shell.run_line_magic("matih_run", f"start {exp_name}")
    run_id = shell.user_ns["run"].run_id
    shell.run_line_magic("unload_ext", "matih_jupyter")
    assert "matih_run" not in shell.magics_manager.lsmagic()["line"]
    run = tracker.get_run(run_id, TENANT)
    assert run.status == "killed"
    assert "unloaded" in run.tags["matih.end_reason"]
    shell.run_line_magic("load_ext", "matih_jupyter")  # the fixture unloads again
    assert "matih_run" in shell.magics_manager.lsmagic()["line"]


def test_unreachable_backend_is_a_usage_error_not_a_hang(shell, monkeypatch):
    import socket

    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"http://127.0.0.1:{port}")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_TIMEOUT", "5")
    with pytest.raises(UsageError) as info:
        shell.run_line_magic("matih_run", "start exp")
    assert "did not answer" in str(info.value)
    assert "tracking server is running" in str(info.value)


def test_a_write_refused_by_mlflow_is_reported_after_the_cell(shell, tracker, exp_name, capsys):
    shell.run_line_magic("matih_run", f"start {exp_name}")
    run_id = shell.user_ns["run"].run_id
    # another process set the param first; this kernel does not know
    tracker.client.log_param(run_id, "lr", "0.2")
    assert shell.run_cell("%matih_log lr=0.1 --params").success
    err = capsys.readouterr().err
    assert f"matih: could not write what run '{shell.user_ns['run'].run_name}'" in err
    assert "Traceback" not in err
    # reported once; the run goes on and keeps the value that was stored first
    shell.run_line_magic("matih_log", "x=1")
    shell.run_line_magic("matih_run", "end")
    run = tracker.get_run(run_id, TENANT)
    assert run.params["lr"] == "0.2"
    assert run.metrics["x"] == 1.0
