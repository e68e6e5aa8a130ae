"""Widgets never leave a tenant's MLflow workspace bound on the caller's thread.

On a server with workspaces every tracker and registry call binds its tenant's workspace
(MLflow's request-workspace context variable) for its own duration only. A widget that
bound it on the notebook's thread would send the user's later MLflow calls to that
workspace. Here the tracker's router behaves as on such a server (`WorkspacesOn`), so a
binding really sets the variable; the SQLite store does not read it, so the data stays
where the test put it. After every widget action the variable is what it was before:
unset, or the workspace the caller had set itself.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator

import pytest

from matih_jupyter.core import ModelRegistry, RunConfig
from matih_jupyter.core.backend.internals import current_request_workspace, request_workspace
from matih_jupyter.core.backend.workspaces import WorkspaceRouter, workspace_for_tenant
from matih_jupyter.widgets import LiveMetricsPlot, ModelPromotion, RunComparison

from .conftest import TENANT, wait_for


class WorkspacesOn(WorkspaceRouter):
    """A router as on a server with ``--enable-workspaces``: each tenant has its own
    workspace (named after it), so `bind` sets MLflow's request workspace."""

    def workspace(self, tenant_id: str) -> str | None:
        return workspace_for_tenant(tenant_id)


@pytest.fixture
def ws_tracker(tracker):
    tracker.workspaces = WorkspacesOn(tracker.tracking_uri)
    return tracker


@pytest.fixture(params=[None, "caller-ws"], ids=["unbound", "caller-bound"])
def caller_workspace(request) -> Iterator[str | None]:
    """The caller's own workspace: none, or one it set itself before using the widgets."""
    if request.param is None:
        assert current_request_workspace() is None
        yield None
        return
    with request_workspace(request.param):
        yield request.param


def unchanged(expected: str | None) -> None:
    assert current_request_workspace() == expected


def test_the_router_really_binds(ws_tracker) -> None:
    """Without this, the tests below would pass whatever the widgets did."""
    bound = contextvars.copy_context().run(
        lambda: (ws_tracker.bind_tenant(TENANT), current_request_workspace())[1]
    )
    assert bound == TENANT


@pytest.fixture
def runs(ws_tracker, exp_name) -> list[str]:
    ids = []
    for name, auc in (("alpha", 0.7), ("beta", 0.8)):
        with ws_tracker.start_run(exp_name, RunConfig(run_name=name, tenant_id=TENANT)) as run:
            run.log_params({"lr": str(auc / 10)})
            for step in range(3):
                run.log_metric("auc", auc - (2 - step) * 0.1, step=step)
        ids.append(run.run_id)
    return ids


def test_run_comparison(ws_tracker, exp_name, runs, caller_workspace) -> None:
    widget = RunComparison(exp_name, run_ids=runs, tracker=ws_tracker, tenant_id=TENANT)
    unchanged(caller_workspace)
    assert sorted(r.name for r in widget.runs) == ["alpha", "beta"]
    widget.refresh()
    unchanged(caller_workspace)
    widget.select(runs)  # draws the overlay: metric histories
    unchanged(caller_workspace)
    assert not widget.errors.text
    assert len(widget.selected) == 2


def test_model_promotion(ws_tracker, caller_workspace) -> None:
    from sklearn.datasets import make_classification
    from sklearn.linear_model import LogisticRegression

    registry = ModelRegistry(ws_tracker)
    x, y = make_classification(n_samples=60, n_features=4, random_state=0)
    registry.register_model(
        TENANT, "churn", LogisticRegression().fit(x, y), "sklearn", {"auc": 0.8}, {}
    )
    unchanged(caller_workspace)
    widget = ModelPromotion("churn", registry=registry, tenant_id=TENANT, user_id="bob")
    unchanged(caller_workspace)
    widget.refresh()
    unchanged(caller_workspace)
    widget.stage_buttons["staging"].click()
    widget.confirm_button.click()  # promote
    unchanged(caller_workspace)
    assert "moved to staging" in widget.errors.text
    assert registry.list_versions(TENANT, "churn")[0].stage == "staging"


def test_live_plot_of_a_run_id(ws_tracker, exp_name, caller_workspace) -> None:
    exp_id = ws_tracker.get_or_create_experiment(exp_name, TENANT)
    created = ws_tracker.create_run(exp_id, RunConfig(tenant_id=TENANT))
    ws_tracker.log_batch(
        created.id, [{"key": "loss", "value": 1.0 / (i + 1), "step": i} for i in range(5)],
        tenant_id=TENANT,
    )  # fmt: skip
    unchanged(caller_workspace)
    plot = LiveMetricsPlot(created.id, tracker=ws_tracker, tenant_id=TENANT, start=False)
    unchanged(caller_workspace)
    plot.refresh()  # polls on the caller's thread
    unchanged(caller_workspace)
    assert len(plot.history["loss"]) == 5 and plot.status == "RUNNING"
    ws_tracker.end_run(created.id, "FINISHED", TENANT)
    plot.finish()
    unchanged(caller_workspace)
    assert plot.status == "FINISHED" and plot.final_png


def test_live_plot_of_an_open_run(ws_tracker, exp_name, caller_workspace) -> None:
    run = ws_tracker.start_run(exp_name, RunConfig(tenant_id=TENANT))
    run.log_metric("loss", 2.0, step=0)
    plot = LiveMetricsPlot(run, interval=0.05, max_cpu_fraction=1.0)
    unchanged(caller_workspace)
    for step in range(1, 20):
        run.log_metric("loss", 1.0 / step, step=step)
    run.flush()
    wait_for(lambda: len(plot.history.get("loss", [])) == 20, what="points via the writer")
    plot.refresh()
    unchanged(caller_workspace)
    run.end()
    wait_for(lambda: not plot.running, what="the end")
    unchanged(caller_workspace)
    assert plot.status == "FINISHED"
