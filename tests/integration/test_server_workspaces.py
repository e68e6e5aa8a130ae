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
from matih_jupyter.core.backend import workspaces
from matih_jupyter.core.backend.workspaces import WorkspaceRouter
from matih_jupyter.core.errors import BackendUnavailableError, InvalidInputError, NotFoundError
from matih_jupyter.core.registry import ModelRegistry


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


def test_tracker_routes_each_tenant_to_its_own_workspace(ws_server, tenant, tmp_path, monkeypatch):
    """No explicit scope anywhere: the tracker and the registry bind the tenant's workspace
    themselves (on the caller's thread and on each run's writer thread), and the server
    then keeps the tenants apart on top of matih's own checks."""
    from mlflow.exceptions import MlflowException
    from sklearn.datasets import make_classification
    from sklearn.linear_model import LogisticRegression

    from matih_jupyter.core.backend.internals import request_workspace

    monkeypatch.setenv("MATIH_HOME", str(tmp_path / "home"))
    a, b = f"{tenant}-a", f"{tenant}-b"
    tracker = ExperimentTracker(tracking_uri=ws_server.url)
    registry = ModelRegistry(tracker)
    router = WorkspaceRouter(ws_server.url)
    client = tracker.client
    x, y = make_classification(n_samples=60, n_features=4, random_state=3)

    def populate(t: str) -> tuple[str, str]:
        with tracker.start_run("churn", RunConfig(tenant_id=t, run_name=f"{t}-run")) as run:
            for step in range(50):
                run.log_metric("auc", 0.5 + step / 100, step=step)  # sent by the writer thread
        registry.register_model(
            t, "churn", LogisticRegression().fit(x, y), "sklearn", {"auc": 0.9}, {}, None,
            user_id="alice",
        )  # fmt: skip
        return run.experiment_id, run.run_id

    exp_a, run_a = populate(a)
    exp_b, run_b = populate(b)

    # Raw MLflow, one workspace at a time: each holds only its tenant's data.
    for mine, other, other_run in ((a, b, run_b), (b, a, run_a)):
        with router.scope(mine):
            names = {e.name for e in client.search_experiments()}
            assert f"{mine}/churn" in names and f"{other}/churn" not in names
            models = {m.name for m in client.search_registered_models()}
            assert f"{mine}.churn" in models and all(m.startswith(f"{mine}.") for m in models)
            with pytest.raises(MlflowException, match=r"RESOURCE_DOES_NOT_EXIST|does not exist"):
                client.get_run(other_run)
    # The shared default workspace holds neither tenant.
    with request_workspace(None):
        names = {e.name for e in client.search_experiments()}
        assert not any(n.startswith(tenant) for n in names)
        with pytest.raises(MlflowException):
            client.get_experiment(exp_a)

    # Through matih, each call is routed to the workspace of the tenant it acts for.
    assert len(tracker.get_metric_history(run_a, "auc", a)) == 50
    assert len(tracker.get_metric_history(run_b, "auc", b)) == 50
    with pytest.raises(NotFoundError):
        tracker.get_run(run_a, b)
    with pytest.raises(NotFoundError):
        tracker.get_experiment(exp_b, a)
    assert sorted(e.name for e in tracker.list_experiments(b)) == ["churn", "models.churn"]
    assert registry.get_model(a, "churn") is not None
    assert registry.get_model(b, "churn").tenant_id == b
    assert registry.get_model(b, "churn").run_id != registry.get_model(a, "churn").run_id
    from mlflow.utils.workspace_context import get_request_workspace

    assert get_request_workspace() is None  # no call leaves this thread bound to a tenant


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


@pytest.fixture(scope="module")
def auth_server(stack, tmp_path_factory):
    """A server with workspaces and MLflow's basic-auth app, configured as in
    docs/deploy/basic_auth.ini (NO_PERMISSIONS by default, no access to 'default')."""
    ini = tmp_path_factory.mktemp("auth") / "basic_auth.ini"
    ini.write_text(
        "[mlflow]\n"
        "default_permission = NO_PERMISSIONS\n"
        "grant_default_workspace_access = false\n"
        f"database_uri = {stack.pg.create_database('mlflow_auth')}\n"
        "admin_username = admin\n"
        "authorization_function = mlflow.server.auth:authenticate_request_basic_auth\n"
    )
    env = {
        "MLFLOW_AUTH_CONFIG_PATH": str(ini),
        "MLFLOW_AUTH_ADMIN_PASSWORD": ADMIN_PW,
        "MLFLOW_FLASK_SERVER_SECRET_KEY": "integration-tier-secret-key-0123456789",
    }
    return stack.server(
        workers=1, enable_workspaces=True, extra_args=["--app-name", "basic-auth"], extra_env=env
    )


ADMIN_PW = "admin-pw-for-tests-123"


def _as(monkeypatch, user: str) -> None:
    monkeypatch.setenv("MLFLOW_TRACKING_USERNAME", user)
    monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", ADMIN_PW if user == "admin" else f"{user}-pw-1")
    workspaces._reset_cache()


def test_auth_app_enforces_tenants_per_user(auth_server, tenant, monkeypatch, tmp_path):
    """The onboarding recipe of docs/deployment.md, then each user in the other's tenant."""
    from mlflow.exceptions import MlflowException
    from mlflow.server.auth.client import AuthServiceClient

    from matih_jupyter.core.errors import MatihError

    monkeypatch.setenv("MATIH_HOME", str(tmp_path / "home"))
    acme, globex = f"{tenant}-acme", f"{tenant}-globex"
    alice, bob = f"alice-{tenant}", f"bob-{tenant}"
    _as(monkeypatch, "admin")
    admin = AuthServiceClient(auth_server.url)
    for user, t in ((alice, acme), (bob, globex)):
        workspaces.ensure_workspace(auth_server.url, t)  # admins may create workspaces
        role = admin.create_role(t, f"{t}-members")
        admin.add_role_permission(role.id, "workspace", "*", "USE")
        admin.add_role_permission(role.id, "experiment", "*", "EDIT")
        admin.add_role_permission(role.id, "registered_model", "*", "EDIT")
        admin.create_user(user, f"{user}-pw-1")
        admin.assign_role(user, role.id)

    _as(monkeypatch, alice)
    tracker = ExperimentTracker(tracking_uri=auth_server.url)
    router = WorkspaceRouter(auth_server.url)
    with router.scope(acme):
        exp = tracker.get_or_create_experiment("churn", acme)
        run = tracker.create_run(exp, RunConfig(tenant_id=acme))
        tracker.log_batch(run.id, metrics=[{"key": "auc", "value": 0.9}], tenant_id=acme)
        assert tracker.get_run(run.id, acme).metrics == {"auc": 0.9}
    with router.scope(globex):
        assert tracker.client.search_experiments() == []
        with pytest.raises((MlflowException, MatihError)):
            tracker.get_or_create_experiment("intrude", globex)

    _as(monkeypatch, bob)
    tracker = ExperimentTracker(tracking_uri=auth_server.url)
    router = WorkspaceRouter(auth_server.url)
    for ws in (acme, globex):
        with router.scope(ws):
            assert f"{acme}/churn" not in {e.name for e in tracker.client.search_experiments()}
            with pytest.raises(MlflowException, match=r"403|Permission denied|does not exist"):
                tracker.client.get_run(run.id)
    with router.scope(acme), pytest.raises(MatihError):
        tracker.get_run(run.id, acme)
    # Through matih (which binds acme's workspace itself), the server's refusal is a clear
    # error, not a generic one.
    from matih_jupyter import AccessDeniedError

    assert tracker.list_experiments(acme) == []  # the server shows bob nothing there
    with pytest.raises(AccessDeniedError, match="refused access"):
        tracker.get_or_create_experiment("intrude", acme)

    # No credentials at all: refused.
    monkeypatch.delenv("MLFLOW_TRACKING_USERNAME")
    monkeypatch.delenv("MLFLOW_TRACKING_PASSWORD")
    with pytest.raises(MlflowException, match=r"401|credentials|Unauthorized"):
        tracker.client.search_experiments()
