"""The scale-out tier: real PostgreSQL, a real S3 API (moto server mode) and a real
``mlflow server`` with proxied S3 artifacts, started once per session on 127.0.0.1.

Every test here gets the ``integration`` marker. Tests isolate themselves by tenant id
(a fresh one per test), not by a fresh server, because a server costs seconds to start.
Tests that stop a server (faults) or need other flags (workspaces) start their own.
"""

from __future__ import annotations

import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from services import MlflowServer, Stack


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.integration)


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """PostgreSQL + S3 (bucket created with boto3) + a migrated MLflow database template."""
    st = Stack(tmp_path_factory.mktemp("stack")).start()
    try:
        yield st
    finally:
        st.stop()


@pytest.fixture(scope="session")
def mlflow_server(stack: Stack) -> MlflowServer:
    """The shared ``mlflow server`` (PostgreSQL metadata, artifacts proxied to S3)."""
    return stack.server(workers=2)


@pytest.fixture(scope="session")
def ctx():
    """Worker processes for the concurrency tests (forkserver, MLflow preloaded)."""
    import workers

    return workers.context()


@pytest.fixture
def tenant() -> str:
    """A fresh tenant per test: tests share the server and must not see each other."""
    return f"t-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def server_env(
    mlflow_server: MlflowServer, tenant: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> dict[str, str]:
    """The environment a notebook on this deployment has (JupyterHub would set it)."""
    env = {
        "MLFLOW_TRACKING_URI": mlflow_server.url,
        "MATIH_HOME": str(tmp_path / "home"),
        "MATIH_TENANT_ID": tenant,
        "MATIH_USER_ID": "alice@acme.com",
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    for key in ("MLFLOW_ARTIFACT_ROOT", "MLFLOW_REGISTRY_URI", "MLFLOW_WORKSPACE"):
        monkeypatch.delenv(key, raising=False)
    return env


@pytest.fixture
def tracker(server_env: dict[str, str]):
    from matih_jupyter import ExperimentTracker

    return ExperimentTracker(tracking_uri=server_env["MLFLOW_TRACKING_URI"])
