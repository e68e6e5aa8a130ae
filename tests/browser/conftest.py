"""A real JupyterLab (subprocess) and Debian's Chromium for the widget browser tests.

One JupyterLab serves the session; each test writes its own notebook (nbformat) and uses
its own experiment or model names. The lab's kernels and the tests share one temporary
MLflow store: tests seed it through the core and check the browser's effects there.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
TENANT = "acme-corp"
TOKEN = "widgets-" + uuid.uuid4().hex
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-output" / "screenshots"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


# pytest-jupyter's autouse fixtures run an asyncio loop that breaks Playwright's sync API
# ("Cannot close a running event loop"); these tests start their own server instead.
@pytest.fixture
def jp_asyncio_loop() -> Iterator[None]:
    yield None


@pytest.fixture
def jp_server_cleanup() -> Iterator[None]:
    yield None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def lab_store(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The MLflow store shared by the lab's kernels and the tests, as environment."""
    d = tmp_path_factory.mktemp("widgets-store")
    (d / "artifacts").mkdir()
    return {
        "MLFLOW_TRACKING_URI": f"sqlite:///{d / 'mlflow.db'}",
        "MLFLOW_ARTIFACT_ROOT": (d / "artifacts").as_uri(),
        "MATIH_HOME": str(d / "home"),
        "MATIH_TENANT_ID": TENANT,
        "MATIH_USER_ID": "alice@acme.com",
    }


@pytest.fixture(scope="session")
def lab_tracker(lab_store: dict[str, str]) -> Any:
    from matih_jupyter.core.tracker import ExperimentTracker

    return ExperimentTracker(
        lab_store["MLFLOW_TRACKING_URI"], lab_store["MLFLOW_ARTIFACT_ROOT"], tenant_id=TENANT
    )


@pytest.fixture(scope="session")
def lab_registry(lab_tracker: Any) -> Any:
    from matih_jupyter.core.registry import ModelRegistry

    return ModelRegistry(lab_tracker)


@pytest.fixture(scope="module")
def notebooks_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("widgets-lab")


@pytest.fixture(scope="module")
def lab(notebooks_dir: Path, lab_store: dict[str, str], lab_tracker: Any) -> Iterator[str]:
    """A running JupyterLab for one test module (its kernels stop with it); yields its URL."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium (see .ci/run)")
    lab_tracker.list_experiments(TENANT)  # migrate the store before kernels touch it
    root = notebooks_dir
    settings = root / "settings"
    path = settings / "@jupyterlab/apputils-extension/notification.jupyterlab-settings"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"fetchNews": "false", "checkForUpdates": False}))
    for sub in ("workspaces", "notebooks", "runtime"):
        (root / sub).mkdir(exist_ok=True)
    env = {
        **os.environ,
        **lab_store,
        "JUPYTERLAB_SETTINGS_DIR": str(settings),
        "JUPYTERLAB_WORKSPACES_DIR": str(root / "workspaces"),
        "JUPYTER_RUNTIME_DIR": str(root / "runtime"),
        "MPLBACKEND": "Agg",
    }
    port = _free_port()
    log_path = root / "lab.log"
    log = log_path.open("wb")
    proc = subprocess.Popen(
        [
            sys.executable, "-m", "jupyterlab", "--no-browser", "--allow-root",
            f"--port={port}", "--ServerApp.ip=127.0.0.1",
            f"--ServerApp.root_dir={root / 'notebooks'}",
            f"--IdentityProvider.token={TOKEN}",
        ],
        env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(f"{base}/api/status?token={TOKEN}", timeout=5) as r:
                    if r.status == 200:
                        break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                log.flush()
                pytest.fail("JupyterLab did not start:\n" + log_path.read_text()[-4000:])
            time.sleep(0.3)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def _playwright_in_use() -> Any:
    """A sync Playwright another test folder started in this thread and still holds."""
    import gc

    from playwright.sync_api import Playwright

    return next((o for o in gc.get_objects() if isinstance(o, Playwright)), None)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Chromium for one module. Playwright's sync API allows one instance per thread; when
    another folder's fixture still holds it, launch from that one instead."""
    from playwright.sync_api import Error, sync_playwright

    manager = sync_playwright()
    try:
        p, owned = manager.start(), True
    except Error:
        p, owned = _playwright_in_use(), False
        if p is None:
            raise
    b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    try:
        yield b
    finally:
        b.close()
        if owned:
            p.stop()


@pytest.fixture
def page(browser: Any, lab: str, request: pytest.FixtureRequest) -> Iterator[Any]:
    """A fresh browser page; a screenshot of its last state is kept as test output."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    pg = context.new_page()
    pg.set_default_timeout(30_000)
    yield pg
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    try:
        pg.screenshot(path=str(SCREENSHOTS / f"widgets-{request.node.name}-end.png"))
    finally:
        context.close()
