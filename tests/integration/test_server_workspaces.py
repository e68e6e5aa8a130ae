"""Tenant -> MLflow workspace on a real ``mlflow server --enable-workspaces``.

The proof of isolation is on the server's side: a client bound to tenant B's workspace
cannot read tenant A's experiment, run or model even when it names tenant A and A's ids
(the tracker's own tag checks would let that through; the server does not).
"""

from __future__ import annotations

import threading

import pytest
from services import MlflowServer, free_port

from matih_jupyter import ExperimentTracker, RunConfig
from matih_jupyter.core import workspaces
from matih_jupyter.core.errors import BackendUnavailableError, InvalidInputError, NotFoundError
from matih_jupyter.core.registry import ModelRegistry
from matih_jupyter.core.workspaces import WorkspaceRouter


@pytest.fixture(scope="module")
def ws_server(stack) -> MlflowServer:
    return stack.server(workers=1, enable_workspaces=True)


@pytest.fixture(autouse=True)
def _fresh_detection(monkeypatch):
    monkeypatch.delenv(workspaces.ENV_MODE, raising=False)
    workspaces._reset_cache()
    yield
    workspaces._reset_cache()


def test_detection(ws_server, mlflow_server, monkeypatch, tmp_path):
    assert workspaces.detect(ws_server.url).enabled
    plain = workspaces.detect(mlflow_server.url)
    assert not plain.enabled and "--enable-workspaces" in plain.reason
    assert not workspaces.detect(f"sqlite:///{tmp_path / 'x.db'}").enabled
    with pytest.raises(BackendUnavailableError):
        workspaces.detect(f"http://127.0.0.1:{free_port()}", timeout=2)
    monkeypatch.setenv(workspaces.ENV_MODE, "on")
    with pytest.raises(InvalidInputError, match="enable-workspaces"):
        workspaces.detect(mlflow_server.url)
    monkeypatch.setenv(workspaces.ENV_MODE, "off")
    assert not workspaces.detect(ws_server.url, refresh=True).enabled
    monkeypatch.setenv(workspaces.ENV_MODE, "sometimes")
    with pytest.raises(InvalidInputError, match="auto, on or off"):
        workspaces.detect(ws_server.url)


def test_mapping_refuses_reserved_and_invalid_names():
    assert workspaces.workspace_for_tenant("acme-corp") == "acme-corp"
    for bad in ("default", "api", "workspaces", "%", "a_b", "ACME", "x' OR '1'='1", ""):
        with pytest.raises(InvalidInputError):
            workspaces.workspace_for_tenant(bad)


def test_router_is_a_no_op_without_workspaces(mlflow_server, tenant):
    router = WorkspaceRouter(mlflow_server.url)
    with router.scope(tenant) as name:
        assert name is None
    assert not router.enabled


def test_tenants_cannot_see_each_others_experiments_runs_or_models(ws_server, tenant, tmp_path,
                                                                   monkeypatch):  # fmt: skip
    from mlflow.exceptions import MlflowException
    from sklearn.datasets import make_classification
    from sklearn.linear_model import LogisticRegression

    monkeypatch.setenv("MATIH_HOME", str(tmp_path / "home"))
    a, b = f"{tenant}-a", f"{tenant}-b"
    tracker = ExperimentTracker(tracking_uri=ws_server.url)
    router = WorkspaceRouter(ws_server.url)
    client = tracker.client
    x, y = make_classification(n_samples=60, n_features=4, random_state=3)

    def populate(t: str) -> tuple[str, str]:
        with router.scope(t) as ws:
            assert ws == t
            exp_id = tracker.get_or_create_experiment("churn", t)
            run = tracker.create_run(exp_id, RunConfig(tenant_id=t, run_name=f"{t}-run"))
            tracker.log_batch(run.id, metrics=[{"key": "auc", "value": 0.9}], tenant_id=t)
            tracker.end_run(run.id, "FINISHED", tenant_id=t)
            ModelRegistry(tracker).register_model(
                t, "churn", LogisticRegression().fit(x, y), "sklearn", {"auc": 0.9}, {}, None,
                user_id="alice",
            )  # fmt: skip
            return exp_id, run.id

    exp_a, run_a = populate(a)
    _, run_b = populate(b)

    with router.scope(b):
        # The server hides A's resources from B's workspace, whatever tenant B claims.
        with pytest.raises(NotFoundError):
            tracker.get_run(run_a, a)
        with pytest.raises(NotFoundError):
            tracker.get_experiment(exp_a, a)
        assert tracker.list_experiments(a) == []
        assert ModelRegistry(tracker).get_model(a, "churn") is None
        names = {e.name for e in client.search_experiments()}
        assert f"{b}/churn" in names and f"{a}/churn" not in names
        # (the registry keeps helper models beside each model: "<model>~...")
        models = {m.name for m in client.search_registered_models()}
        assert f"{b}.churn" in models and all(m.startswith(f"{b}.") for m in models)
        with pytest.raises(MlflowException, match=r"RESOURCE_DOES_NOT_EXIST|does not exist"):
            client.get_run(run_a)
        assert tracker.get_run(run_b, b).metrics == {"auc": 0.9}

    with router.scope(a):
        assert tracker.get_run(run_a, a).metrics == {"auc": 0.9}
        with pytest.raises(NotFoundError):
            tracker.get_run(run_b, b)
        models = {m.name for m in client.search_registered_models()}
        assert f"{a}.churn" in models and all(m.startswith(f"{a}.") for m in models)

    # No workspace named: the shared default workspace, which holds neither tenant.
    names = {e.name for e in client.search_experiments()}
    assert not any(n.startswith(tenant) for n in names)
    with pytest.raises(MlflowException):
        client.get_experiment(exp_a)


def test_scope_is_per_thread_and_workspace_created_once(ws_server, tenant):
    router = WorkspaceRouter(ws_server.url)
    seen: dict[int, object] = {}
    barrier = threading.Barrier(8)

    def worker(i: int) -> None:
        barrier.wait()
        t = f"{tenant}-{i % 2}"
        with router.scope(t):
            from mlflow.utils.workspace_context import get_request_workspace

            seen[i] = get_request_workspace()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert seen == {i: f"{tenant}-{i % 2}" for i in range(8)}
    import os

    from mlflow.utils.workspace_context import get_request_workspace

    assert get_request_workspace() is None and "MLFLOW_WORKSPACE" not in os.environ
    _, body = workspaces._request(ws_server.url, "/api/3.0/mlflow/workspaces", timeout=5)
    listed = [w["name"] for w in body["workspaces"] if w["name"].startswith(tenant)]
    assert sorted(listed) == [f"{tenant}-0", f"{tenant}-1"]
