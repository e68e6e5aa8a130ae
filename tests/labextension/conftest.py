"""A real JupyterLab (subprocess) with the lab extension, driven by Debian's Chromium.

One JupyterLab serves the whole folder: it starts in about 5 s, and the tests keep apart by
using their own experiments and models. The lab and the tests share one temporary MLflow
store: the tests seed it through the core (`ExperimentTracker`, `ModelRegistry`) and check
the browser's effects there too.
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
#: The lab's user may also pick this tenant (``X-Tenant-ID``), and no other.
OTHER_TENANT = "globex"
TOKEN = "labext-" + uuid.uuid4().hex
#: The runs list refreshes every second while a run is live (user setting, in seconds).
REFRESH_INTERVAL = 1
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

pytestmark = pytest.mark.slow


# The pytest-jupyter plugin's autouse fixtures run an event loop that breaks Playwright's
# sync API ("Cannot close a running event loop"); these tests start their own server.
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
    """The MLflow store the lab and the tests share, as environment variables."""
    d = tmp_path_factory.mktemp("labext-store")
    (d / "artifacts").mkdir()
    return {
        "MLFLOW_TRACKING_URI": f"sqlite:///{d / 'mlflow.db'}",
        "MLFLOW_ARTIFACT_ROOT": (d / "artifacts").as_uri(),
        "MATIH_HOME": str(d / "home"),
        "MATIH_TENANT_ID": TENANT,
        "MATIH_USER_ID": "alice@acme.com",
    }


@pytest.fixture(scope="session")
def tracker(lab_store: dict[str, str]) -> Any:
    from matih_jupyter.core.tracker import ExperimentTracker

    return ExperimentTracker(
        lab_store["MLFLOW_TRACKING_URI"],
        lab_store["MLFLOW_ARTIFACT_ROOT"],
        tenant_id=TENANT,
    )


@pytest.fixture(scope="session")
def registry(tracker: Any) -> Any:
    from matih_jupyter.core.registry import ModelRegistry

    return ModelRegistry(tracker)


@pytest.fixture(scope="session")
def lab(
    tmp_path_factory: pytest.TempPathFactory, lab_store: dict[str, str], tracker: Any
) -> Iterator[str]:
    """A running JupyterLab; yields its URL (with the token)."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium (see .ci/run)")
    tracker.list_experiments(TENANT)  # migrate the store before the server touches it
    root = tmp_path_factory.mktemp("labext-root")
    settings = root / "settings"
    for plugin, values in {
        "@jupyterlab/apputils-extension/notification": {
            "fetchNews": "false",
            "checkForUpdates": False,
        },
        "matih-jupyter-labextension/plugin": {"refreshInterval": REFRESH_INTERVAL},
    }.items():
        path = settings / f"{plugin}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))
    (root / "workspaces").mkdir()
    (root / "notebooks").mkdir()
    env = {
        **os.environ,
        **lab_store,
        "JUPYTERLAB_SETTINGS_DIR": str(settings),
        "JUPYTERLAB_WORKSPACES_DIR": str(root / "workspaces"),
        "JUPYTER_RUNTIME_DIR": str(root / "runtime"),
    }
    port = _free_port()
    log = (root / "lab.log").open("wb")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "jupyterlab",
            "--no-browser",
            "--allow-root",
            f"--port={port}",
            "--ServerApp.ip=127.0.0.1",
            f"--ServerApp.root_dir={root / 'notebooks'}",
            f"--IdentityProvider.token={TOKEN}",
            "--LabApp.expose_app_in_browser=True",
            f"--MatihJupyter.allowed_tenants={OTHER_TENANT}",
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(
                    f"{base}/matih/api/v1/whoami?token={TOKEN}", timeout=5
                ) as r:
                    if r.status == 200:
                        break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                log.flush()
                pytest.fail("JupyterLab did not start:\n" + (root / "lab.log").read_text()[-4000:])
            time.sleep(0.3)
        yield f"{base}/lab?token={TOKEN}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def _running_playwright() -> Any:
    """The sync Playwright another test folder already started in this process, if any."""
    import gc

    from playwright.sync_api import Playwright

    return next((o for o in gc.get_objects() if isinstance(o, Playwright)), None)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Chromium for this module.

    Playwright's sync API allows one instance per thread, and in a full ``pytest`` run another
    folder's session-scoped fixture may still hold it: then launch from that one.
    """
    from playwright.sync_api import Error, sync_playwright

    manager = sync_playwright()
    try:
        p = manager.start()
        owned = True
    except Error:
        p, owned = _running_playwright(), False
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
    """A fresh page on JupyterLab, fully started; a screenshot is kept after each test."""
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    pg = context.new_page()
    pg.set_default_timeout(20_000)
    pg.goto(lab.replace("/lab?", "/lab/workspaces/auto-" + uuid.uuid4().hex[:8] + "?reset&"))
    pg.wait_for_selector("#jp-main-dock-panel", timeout=60_000)
    pg.wait_for_selector(".jp-LauncherBody, .jp-Launcher", timeout=60_000)
    yield pg
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    try:
        pg.screenshot(path=str(SCREENSHOTS / f"labextension-{request.node.name}-end.png"))
    finally:
        context.close()
