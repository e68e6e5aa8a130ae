"""--autolog (MLflow autologging nested under the matih run), --live, %matih_models and
%matih_promote in a real IPython shell on the test's store."""

from __future__ import annotations

import os
import sys
import warnings

import pytest
from IPython.core.error import UsageError
from IPython.utils.capture import capture_output

TENANT = "acme-corp"

FIT = (
    "from sklearn.linear_model import LogisticRegression\n"
    "from sklearn.datasets import make_classification\n"
    "X, y = make_classification(n_samples=80, n_features=4, random_state=0)\n"
    "LogisticRegression(C={c}, max_iter=200).fit(X, y)\n"
)


def fluent_state():
    from mlflow.tracking import fluent
    from mlflow.tracking._model_registry import utils as registry_utils
    from mlflow.tracking._tracking_service import utils as tracking_utils

    return (
        tracking_utils._tracking_uri,
        registry_utils._registry_uri,
        fluent._active_experiment_id,
        os.environ.get("MLFLOW_TRACKING_URI"),
        os.environ.get("MLFLOW_REGISTRY_URI"),
    )


# -- --autolog ----------------------------------------------------------------------------


def test_autolog_cell_nests_sklearn_fits_under_the_run_in_the_tenant(shell, tracker, exp_name):
    import mlflow

    before = fluent_state()
    result = shell.run_cell(
        f"%%matih_run {exp_name} --name sweep --autolog --no-models\n" + FIT.format(c=0.5)
    )
    assert result.success, result.error_in_exec
    runs = tracker.list_runs(TENANT, exp_name)
    (parent,) = [r for r in runs if r.parent_run_id is None]
    (child,) = [r for r in runs if r.parent_run_id is not None]
    assert parent.name == "sweep" and parent.status == "finished"
    assert child.parent_run_id == parent.id
    assert child.status == "finished"
    assert child.params["C"] == "0.5"
    assert "training_accuracy_score" in child.metrics
    assert child.tags["matih.tenant_id"] == TENANT
    assert child.tags["matih.user_id"] == "alice@acme.com"
    assert child.tags["mlflow.autologging"] == "sklearn"
    assert child.experiment_id == parent.experiment_id
    # owned by the tenant like any of its runs, invisible to another
    assert tracker.get_run(child.id, TENANT).id == child.id
    with pytest.raises(LookupError):
        tracker.get_run(child.id, "globex")
    # autologging ended with the cell; MLflow's global state is as it was
    assert fluent_state() == before
    assert mlflow.active_run() is None
    assert shell.run_cell(FIT.format(c=2.0)).success
    assert len(tracker.list_runs(TENANT, exp_name)) == 2


def test_autolog_started_run_spans_cells_until_end(shell, tracker, exp_name):
    before = fluent_state()
    shell.run_line_magic("matih_run", f"start {exp_name} --autolog --no-models")
    parent_id = shell.user_ns["run"].run_id
    assert shell.run_cell(FIT.format(c=0.1)).success
    assert shell.run_cell(FIT.format(c=0.2)).success
    shell.run_line_magic("matih_run", "status")
    shell.run_line_magic("matih_run", "end")
    children = [r for r in tracker.list_runs(TENANT, exp_name) if r.parent_run_id == parent_id]
    assert sorted(r.params["C"] for r in children) == ["0.1", "0.2"]
    assert fluent_state() == before
    assert shell.run_cell(FIT.format(c=0.3)).success
    assert len(tracker.list_runs(TENANT, exp_name)) == 3


def test_a_second_autolog_scope_is_refused_and_leaves_no_open_run(shell, tracker, exp_name):
    shell.run_line_magic("matih_run", f"start {exp_name} --autolog --no-models")
    result = shell.run_cell("%%matih_run --nested --autolog\nran = True\n")
    assert isinstance(result.error_in_exec, UsageError)
    assert "already on" in str(result.error_in_exec)
    assert "ran" not in shell.user_ns
    failed = [r for r in tracker.list_runs(TENANT, exp_name) if r.parent_run_id]
    assert [r.status for r in failed] == ["failed"]
    assert len(shell.run_line_magic("matih_runs", "").query("status == 'running'")) == 1
    shell.run_line_magic("matih_run", "end")


def test_autolog_scope_survives_a_failing_cell(shell, tracker, exp_name):
    before = fluent_state()
    result = shell.run_cell(
        f"%%matih_run {exp_name} --autolog --no-models\n" + FIT.format(c=1.0) + "1 / 0\n"
    )
    assert isinstance(result.error_in_exec, ZeroDivisionError)
    assert fluent_state() == before
    runs = tracker.list_runs(TENANT, exp_name)
    statuses = sorted((r.parent_run_id is None, r.status) for r in runs)
    assert statuses == [(False, "finished"), (True, "failed")]


def test_autolog_keeps_mlflows_y_pred_warning_out_of_the_cell_but_not_the_users(shell, exp_name):
    # MLflow's training metrics call log_loss(y_pred=...), renamed in scikit-learn 1.9; the
    # same call in the user's own code must still warn (the filter is not global).
    users_call = "from sklearn.metrics import log_loss\nlog_loss([0, 1], y_pred=[0.2, 0.7])\n"
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        fitted = shell.run_cell(f"%%matih_run {exp_name} --autolog --no-models\n" + FIT.format(c=1))
        assert fitted.success, fitted.error_in_exec
        mlflows = [str(w.message) for w in seen if "y_pred" in str(w.message)]
        own = shell.run_cell(f"%%matih_run {exp_name} --autolog --no-models\n" + users_call)
        assert own.success, own.error_in_exec
        users = [w.category for w in seen if "y_pred" in str(w.message)]
    assert mlflows == []
    assert users == [FutureWarning]
    from mlflow.sklearn import utils

    assert utils._get_metrics_value_dict.__name__ == "_get_metrics_value_dict"
    assert not hasattr(utils._get_metrics_value_dict, "__wrapped__")  # put back at the end


# -- --live -------------------------------------------------------------------------------


def test_live_plot_is_shown_and_left_as_a_static_figure(shell, tracker, exp_name):
    with capture_output() as cap:
        result = shell.run_cell(
            f"%%matih_run {exp_name} --live\n"
            "for i in range(20):\n"
            "    run.log_metric('loss', 1 / (i + 1), step=i)\n"
        )
    assert result.success, result.error_in_exec
    kinds = [set(o.data) for o in cap.outputs]
    assert "application/vnd.jupyter.widget-view+json" in kinds[0]
    assert any("image/png" in k for k in kinds[1:])  # the final figure replaces the widget
    (run,) = tracker.list_runs(TENANT, exp_name)
    assert run.status == "finished"


def test_live_on_a_started_run_stays_until_end(shell, tracker, exp_name):
    with capture_output() as cap:
        shell.run_line_magic("matih_run", f"start {exp_name} --live")
    assert "application/vnd.jupyter.widget-view+json" in cap.outputs[0].data
    assert shell.run_cell("for i in range(5):\n    run.log_metric('loss', 1 / (i + 1), step=i)\n")
    with capture_output() as cap:
        shell.run_line_magic("matih_run", "status")
        shell.run_line_magic("matih_run", "end")
    assert "live plot" in cap.stdout
    assert any("image/png" in o.data for o in cap.outputs)
    (run,) = tracker.list_runs(TENANT, exp_name)
    assert len(tracker.get_metric_history(run.id, "loss", TENANT)) == 5


def test_live_without_the_widgets_module_is_a_usage_error(shell, tracker, exp_name, monkeypatch):
    monkeypatch.setitem(sys.modules, "matih_jupyter.widgets", None)
    with pytest.raises(UsageError, match=r"needs the matih_jupyter\.widgets module"):
        shell.run_line_magic("matih_run", f"start {exp_name} --live")
    result = shell.run_cell(f"%%matih_run {exp_name} --live\nx = 1\n")
    assert isinstance(result.error_in_exec, UsageError)
    assert tracker.list_experiments(TENANT) == []
    with pytest.raises(UsageError, match="promotion widget needs"):
        shell.run_line_magic("matih_promote", "")


# -- %matih_models / %matih_promote -------------------------------------------------------


@pytest.fixture
def registry(tracker):
    from matih_jupyter.core.registry import ModelRegistry

    return ModelRegistry(tracker)


def register(registry, tenant, name, c=1.0):
    from sklearn.datasets import make_classification
    from sklearn.linear_model import LogisticRegression

    x, y = make_classification(n_samples=60, n_features=4, random_state=0)
    model = LogisticRegression(C=c, max_iter=200).fit(x, y)
    return registry.register_model(tenant, name, model, "sklearn", {"auc": 0.8}, {"C": c})


def test_models_and_promotion_lifecycle(shell, registry, capsys):
    register(registry, TENANT, "churn")
    register(registry, TENANT, "churn", c=2.0)
    register(registry, "globex", "secret")

    table = shell.run_line_magic("matih_models", "")
    assert list(table["model_id"]) == ["churn"]  # never the other tenant's model
    assert table.loc[0, "framework"] == "sklearn"
    assert table.loc[0, "versions"] == 2
    assert list(shell.run_line_magic("matih_models", "--framework sklearn")["model_id"]) == [
        "churn"
    ]
    assert shell.run_line_magic("matih_models", "--stage production").empty
    assert "No registered models" in capsys.readouterr().out

    shell.run_line_magic("matih_promote", "churn 1 staging --reason 'beats baseline'")
    assert "version 1: development -> staging" in capsys.readouterr().out
    shell.run_line_magic("matih_promote", "churn 1 PRODUCTION")
    assert "staging -> production" in capsys.readouterr().out
    prod = shell.run_line_magic("matih_models", "--stage production")
    assert list(prod["model_id"]) == ["churn"]
    assert "production=v1" in prod.loc[0, "aliases"]
    history = registry.history(TENANT, "churn")
    moves = [(h.version, h.to_stage) for h in history]
    assert moves[-2:] == [("1", "staging"), ("1", "production")]
    assert history[-2].reason == "beats baseline"
    assert history[-1].user_id == "alice@acme.com"

    with pytest.raises(UsageError) as refused:
        shell.run_line_magic("matih_promote", "churn 2 production")
    assert "development" in str(refused.value) and "staging" in str(refused.value)


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("churn", "needs MODEL VERSION STAGE"),
        ("churn 1", "needs MODEL VERSION STAGE"),
        ("a b c d", "needs MODEL VERSION STAGE"),
        ("--reason why", "--reason needs"),
        ("missing 1 staging", "not found"),
        ("'bad/name' 1 staging", "name"),
    ],
)
def test_promote_mistakes(shell, text, needle):
    with pytest.raises(UsageError) as info:
        shell.run_line_magic("matih_promote", text)
    assert needle in str(info.value)


def test_promote_another_tenants_model_looks_missing(shell, registry):
    register(registry, "globex", "secret")
    with pytest.raises(UsageError) as foreign:
        shell.run_line_magic("matih_promote", "secret 1 staging")
    with pytest.raises(UsageError) as missing:
        shell.run_line_magic("matih_promote", "nothing 1 staging")
    assert str(foreign.value).replace("secret", "X") == str(missing.value).replace("nothing", "X")
    assert registry.list_versions("globex", "secret")[0].stage == "development"


@pytest.mark.parametrize(
    ("text", "needle"),
    [("--stage prod", "stage"), ("--framework cobol", "framework"), ("extra", "unrecognized")],
)
def test_models_mistakes(shell, text, needle):
    with pytest.raises(UsageError) as info:
        shell.run_line_magic("matih_models", text)
    assert needle in str(info.value).lower()


def test_promote_without_arguments_shows_the_widget(shell):
    with capture_output() as cap:
        result = shell.run_cell("%matih_promote")
    assert result.success, result.error_in_exec
    assert any("application/vnd.jupyter.widget-view+json" in o.data for o in cap.outputs)
