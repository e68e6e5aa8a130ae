"""Shared fixtures: a real MLflow store on a temporary SQLite file per test.

Creating a SQLite store runs MLflow's migrations (about 2 s), so one migrated store is
made per session and copied for each test: every test gets a fresh, private store.
"""

from __future__ import annotations

import gc
import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from hook_harness import WebhookReceiver


@pytest.fixture(scope="session")
def _template_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from mlflow.tracking import MlflowClient

    path = tmp_path_factory.mktemp("template") / "mlflow.db"
    client = MlflowClient(tracking_uri=f"sqlite:///{path}")
    client.search_experiments()  # runs the migrations
    client.search_registered_models()
    from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore

    # Close the engine so the copied file is complete.
    engine = SqlAlchemyStore._engine_map.pop(f"sqlite:///{path}", None)
    if engine is not None:
        engine.dispose()
    return path


@pytest.fixture
def store_dir(tmp_path: Path, _template_store: Path) -> Path:
    """A folder holding a fresh, migrated ``mlflow.db`` and an ``artifacts`` folder."""
    d = tmp_path / "store"
    d.mkdir()
    shutil.copy(_template_store, d / "mlflow.db")
    (d / "artifacts").mkdir()
    return d


@pytest.fixture
def tracking_uri(store_dir: Path) -> str:
    return f"sqlite:///{store_dir / 'mlflow.db'}"


@pytest.fixture
def matih_env(
    store_dir: Path, tracking_uri: str, monkeypatch: pytest.MonkeyPatch
) -> dict[str, str]:
    """Environment pointing every matih entry point at the test's store."""
    env = {
        "MLFLOW_TRACKING_URI": tracking_uri,
        "MLFLOW_ARTIFACT_ROOT": (store_dir / "artifacts").as_uri(),
        "MATIH_HOME": str(store_dir / "home"),
        "MATIH_TENANT_ID": "acme-corp",
        "MATIH_USER_ID": "alice@acme.com",
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("MLFLOW_REGISTRY_URI", raising=False)
    return env


@pytest.fixture
def tracker(tracking_uri: str, store_dir: Path):
    from matih_jupyter import ExperimentTracker

    return ExperimentTracker(
        tracking_uri=tracking_uri, default_artifact_root=(store_dir / "artifacts").as_uri()
    )


@pytest.fixture
def exp_name() -> str:
    return f"exp-{uuid.uuid4().hex[:8]}"


@pytest.fixture(autouse=True)
def _private_matih_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch):
    """Every test gets its own MATIH_HOME (embedded store, spool), never ~/.matih."""
    monkeypatch.setenv("MATIH_HOME", str(tmp_path_factory.mktemp("matih-home")))


@pytest.fixture(autouse=True)
def _no_global_mlflow_leak():
    """Tests must not depend on MLflow's process-global tracking URI."""
    before = os.environ.get("MLFLOW_TRACKING_URI")
    yield
    assert os.environ.get("MLFLOW_TRACKING_URI") == before


@pytest.fixture(autouse=True)
def _heap_thawed() -> Iterator[None]:
    """A Jupyter server started inside the test process freezes the process's heap once
    warm (`matih_jupyter.server.startup_heap`): no test leaves it frozen for the next."""
    yield
    gc.unfreeze()


@pytest.fixture
def webhook_receiver() -> Iterator[WebhookReceiver]:
    """A real webhook endpoint on 127.0.0.1, for promotion-hook tests of every tier."""
    receiver = WebhookReceiver()
    try:
        yield receiver
    finally:
        receiver.close()
