"""%matih_tenant, %matih_experiment, %matih_runs and %matih_compare in a real IPython shell,
including tenant-boundary attacks."""

from __future__ import annotations

import pandas as pd
import pytest
from IPython.core.error import UsageError

TENANT = "acme-corp"


def make_runs(shell, exp_name, losses):
    """One finished cell run per loss, named r0, r1, ..."""
    ids = []
    for i, loss in enumerate(losses):
        cell = (
            f"%%matih_run {exp_name} --name r{i}\n"
            f"run.log_params({{'i': {i}}})\n"
            f"run.log_metrics({{'loss': {loss}, 'acc': {1 - loss}}})\n"
        )
        assert shell.run_cell(cell).success
        ids.append(shell.user_ns["run"].run_id)
    return ids


# -- %matih_tenant ------------------------------------------------------------------------


def test_tenant_shows_tenant_user_job_and_store(shell, capsys, store_dir):
    shell.run_line_magic("matih_tenant", "")
    out = capsys.readouterr().out
    assert "tenant: acme-corp" in out
    assert "user:   alice@acme.com" in out
    assert "job:    -" in out
    assert f"MLflow at sqlite:///{store_dir / 'mlflow.db'}" in out


def test_tenant_switch_sets_tags_on_new_runs(shell, tracker, exp_name, capsys):
    shell.run_line_magic("matih_tenant", "globex --user bob@globex.com --job job-42")
    assert "Tracking for tenant 'globex' as user 'bob@globex.com', job 'job-42'" in (
        capsys.readouterr().out
    )
    assert shell.run_cell(f"%%matih_run {exp_name}\nrun.log_metric('m', 1)\n").success
    run = tracker.list_runs("globex", exp_name)[0]
    assert run.tags["matih.tenant_id"] == "globex"
    assert run.tags["matih.user_id"] == "bob@globex.com"
    assert run.tags["matih.job_id"] == "job-42"
    # acme-corp (the environment's tenant) sees nothing of it
    assert tracker.list_experiments(TENANT) == []
    shell.run_line_magic("matih_tenant", "")
    out = capsys.readouterr().out
    assert "tenant: globex" in out and "job:    job-42" in out


@pytest.mark.parametrize("bad", ["ACME", "a_b", "%", "a%", "x' OR '1'='1", "acme/x", "a", "ab-"])
def test_tenant_refuses_invalid_ids_with_the_rule(shell, bad):
    with pytest.raises(UsageError) as info:
        shell.run_line_magic("matih_tenant", f'"{bad}"')
    assert "tenant" in str(info.value).lower()
    assert "lowercase" in str(info.value) or "a-z" in str(info.value)


def test_tenant_switch_refused_while_a_run_is_open(shell, exp_name):
    shell.run_line_magic("matih_run", f"start {exp_name}")
    for text in ("globex", "--user mallory", "--job other"):
        with pytest.raises(UsageError, match="A run is open"):
            shell.run_line_magic("matih_tenant", text)
    shell.run_line_magic("matih_run", "end")
    shell.run_line_magic("matih_tenant", "globex")


def test_tenant_switch_refused_inside_a_cell_run(shell, tracker, exp_name):
    result = shell.run_cell(f"%%matih_run {exp_name}\n%matih_tenant globex\n")
    assert isinstance(result.error_in_exec, UsageError)
    assert tracker.list_runs(TENANT, exp_name)[0].status == "failed"


def test_tenant_empty_user_or_job_and_missing_tenant(shell, monkeypatch, capsys):
    with pytest.raises(UsageError, match="user"):
        shell.run_line_magic("matih_tenant", "--user ''")
    with pytest.raises(UsageError, match="job"):
        shell.run_line_magic("matih_tenant", "--job ' '")
    with pytest.raises(UsageError, match="unrecognized"):
        shell.run_line_magic("matih_tenant", "a b")
    monkeypatch.delenv("MATIH_TENANT_ID")
    shell.run_line_magic("matih_tenant", "")
    assert "(not set: use %matih_tenant TENANT)" in capsys.readouterr().out
    monkeypatch.setenv("MATIH_TENANT_ID", "Bad_Tenant")
    with pytest.raises(UsageError, match="MATIH_TENANT_ID"):
        shell.run_line_magic("matih_runs", "")


# -- %matih_experiment ----------------------------------------------------------------------


def test_experiment_default_is_created_and_shown(shell, tracker, exp_name, capsys):
    shell.run_line_magic("matih_experiment", "")
    assert "No default experiment" in capsys.readouterr().out
    shell.run_line_magic("matih_experiment", exp_name)
    assert f"Default experiment: {TENANT}/{exp_name}" in capsys.readouterr().out
    assert [e.name for e in tracker.list_experiments(TENANT)] == [exp_name]
    shell.run_line_magic("matih_experiment", "")
    assert f"Default experiment: {TENANT}/{exp_name}" in capsys.readouterr().out


def test_experiment_default_is_per_tenant(shell, exp_name, capsys):
    shell.run_line_magic("matih_experiment", exp_name)
    shell.run_line_magic("matih_tenant", "globex")
    with pytest.raises(UsageError, match="no default"):
        shell.run_line_magic("matih_run", "start")


@pytest.mark.parametrize("bad", ["a/b", "'  '", "'%'", "_x"])
def test_experiment_invalid_names(shell, bad):
    with pytest.raises(UsageError, match="experiment name"):
        shell.run_line_magic("matih_experiment", bad)


def test_archived_experiment_is_refused_with_a_hint(shell, tracker, exp_name):
    exp_id = tracker.get_or_create_experiment(exp_name, TENANT)
    tracker.archive_experiment(exp_id, TENANT)
    with pytest.raises(UsageError, match="archived"):
        shell.run_line_magic("matih_experiment", exp_name)


# -- %matih_runs ----------------------------------------------------------------------------


def test_runs_table_for_default_named_and_all_experiments(shell, exp_name, capsys):
    ids = make_runs(shell, exp_name, [0.5, 0.2])
    make_runs(shell, "other-exp", [0.9])
    frame = shell.run_line_magic("matih_runs", exp_name)
    assert isinstance(frame, pd.DataFrame)
    assert list(frame["run_id"]) == ids[::-1]  # newest first
    assert list(frame.columns[:8]) == [
        "run_id",
        "run_name",
        "experiment",
        "status",
        "start_time",
        "duration_seconds",
        "user_id",
        "parent_run_id",
    ]
    assert set(frame["status"]) == {"finished"}
    assert set(frame["experiment"]) == {exp_name}
    assert {"metrics.loss", "metrics.acc"} <= set(frame.columns)
    # no default experiment yet: every experiment of the tenant
    assert len(shell.run_line_magic("matih_runs", "")) == 3
    shell.run_line_magic("matih_experiment", "other-exp")
    assert len(shell.run_line_magic("matih_runs", "")) == 1
    assert len(shell.run_line_magic("matih_runs", "--all")) == 3
    assert len(shell.run_line_magic("matih_runs", "--all --max 2")) == 2


def test_runs_filter_and_its_errors(shell, exp_name, capsys):
    make_runs(shell, exp_name, [0.5, 0.2, 0.1])
    frame = shell.run_line_magic("matih_runs", f'{exp_name} --filter "metrics.loss < 0.3"')
    assert sorted(frame["run_name"]) == ["r1", "r2"]
    empty = shell.run_line_magic("matih_runs", f'{exp_name} --filter "metrics.loss > 5"')
    assert empty.empty and "run_id" in empty.columns
    assert "No runs match." in capsys.readouterr().out
    with pytest.raises(UsageError, match="not a valid MLflow filter"):
        shell.run_line_magic("matih_runs", f'{exp_name} --filter "loss <<< 1"')


def test_runs_filter_cannot_cross_the_tenant(shell, tracker, exp_name):
    make_runs(shell, exp_name, [0.5])
    shell.run_line_magic("matih_tenant", "globex")
    make_runs(shell, exp_name, [0.4])
    for attack in (
        "\"tags.`matih.tenant_id` = 'acme-corp'\"",
        "\"tags.`matih.tenant_id` LIKE '%'\"",
        "\"attributes.status = 'FINISHED' or 1 = 1\"",
    ):
        try:
            frame = shell.run_line_magic("matih_runs", f"--all --filter {attack}")
        except UsageError:
            continue  # refused as an invalid filter: also fine
        assert set(frame["run_name"]) <= {"r0"}
        assert all(tracker.get_run(r, "globex").tenant_id == "globex" for r in frame["run_id"])


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("exp --all", "not both"),
        ("--orphans --filter x", "does not go with"),
        ("--stale-after 5", "only goes with"),
        ("--orphans --stale-after -1", "not a number of seconds"),
        ("--max 0", "positive whole number"),
        ("no-such-experiment", "was not found for tenant 'acme-corp'"),
        ("'bad/name'", "experiment name"),
    ],
)
def test_runs_mistakes(shell, text, needle):
    with pytest.raises(UsageError) as info:
        shell.run_line_magic("matih_runs", text)
    assert needle in str(info.value)


def test_orphans_none_while_runs_are_alive_here(shell, exp_name, capsys):
    shell.run_line_magic("matih_run", f"start {exp_name}")
    frame = shell.run_line_magic("matih_runs", "--orphans --stale-after 0")
    assert frame.empty
    assert "No orphaned runs." in capsys.readouterr().out
    closed = shell.run_line_magic("matih_runs", "--close-orphans --stale-after 0")
    assert closed.empty
    assert "Closed 0 orphaned run(s)" in capsys.readouterr().out


# -- %matih_compare -------------------------------------------------------------------------


def test_compare_top_by_metric_and_by_ids(shell, exp_name):
    ids = make_runs(shell, exp_name, [0.5, 0.1, 0.3, 0.2])
    best = shell.run_line_magic(
        "matih_compare", f"{exp_name} --metrics loss,acc --top 2 --ascending"
    )
    assert isinstance(best, pd.DataFrame)
    assert list(best["run_name"]) == ["r1", "r3"]
    assert list(best.columns[-2:]) == ["metrics.loss", "metrics.acc"]
    assert "params.i" in best.columns
    worst = shell.run_line_magic("matih_compare", f"{exp_name} --metrics loss --top 1")
    assert list(worst["run_name"]) == ["r0"]
    chosen = shell.run_line_magic("matih_compare", f"--runs {ids[2]},{ids[0]}")
    assert list(chosen["run_id"]) == [ids[2], ids[0]]
    shell.run_line_magic("matih_experiment", exp_name)
    assert len(shell.run_line_magic("matih_compare", "")) == 4
    assert len(shell.run_line_magic("matih_compare", '--filter "metrics.loss >= 0.3"')) == 2


def test_compare_of_an_experiment_is_the_table_of_its_listed_runs(shell, exp_name, monkeypatch):
    """The runs an experiment lists are compared as listed (not read again by id), and
    the table is the one the tracker builds for the same ids."""
    from matih_jupyter.magics.session import get_session

    make_runs(shell, exp_name, [0.5, 0.1, 0.3])
    tracker = get_session().tracker
    listed = shell.run_line_magic("matih_compare", f"{exp_name} --metrics loss")
    expected = tracker.compare_runs(TENANT, list(listed["run_id"]), ["loss"])
    pd.testing.assert_frame_equal(listed, expected)

    def read_again(*args, **kwargs):
        raise AssertionError("the listed runs were read again")

    monkeypatch.setattr(type(tracker), "get_runs", read_again)
    assert len(shell.run_line_magic("matih_compare", f"{exp_name} --metrics loss")) == 3


def test_compare_another_tenants_run_looks_missing(shell, exp_name):
    (theirs,) = make_runs(shell, exp_name, [0.5])
    shell.run_line_magic("matih_tenant", "globex")
    with pytest.raises(UsageError) as foreign:
        shell.run_line_magic("matih_compare", f"--runs {theirs}")
    with pytest.raises(UsageError) as missing:
        shell.run_line_magic("matih_compare", "--runs 0123456789abcdef0123456789abcdef")
    assert "not found for tenant 'globex'" in str(foreign.value)
    assert str(foreign.value).replace(theirs, "ID") == str(missing.value).replace(
        "0123456789abcdef0123456789abcdef", "ID"
    )


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("--runs a,b --top 3", "names the runs already"),
        ("exp --runs a", "names the runs already"),
        ("--ascending", "only goes with --top"),
        ("--metrics ,", "empty"),
        ("--metrics 'loss` DESC, x'", "metric"),
        ("--top -2", "positive whole number"),
        ('--runs "\'; drop"', "not found"),
    ],
)
def test_compare_mistakes(shell, text, needle):
    with pytest.raises(UsageError) as info:
        shell.run_line_magic("matih_compare", text)
    assert needle in str(info.value)
