"""A real JupyterLab (subprocess) with the lab extension, driven by Debian's Chromium.

One JupyterLab serves the whole folder: it starts in about 5 s, and the tests keep apart by
using their own experiments and models. The lab and the tests share one temporary MLflow
store: the tests seed it through the core (`ExperimentTracker`, `ModelRegistry`) and check
the browser's effects there too.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from lab_harness import (
    NO_NEWS,
    chromium,
    jupyterlab,
    keep_screenshot,
    store_env,
)

# pytest-jupyter's loop fixtures, replaced for Playwright (see lab_harness).
from lab_harness import jp_asyncio_loop as jp_asyncio_loop
from lab_harness import jp_server_cleanup as jp_server_cleanup

TENANT = "acme-corp"
#: The lab's user may also pick this tenant (``X-Tenant-ID``), and no other.
OTHER_TENANT = "globex"
TOKEN = "labext-" + uuid.uuid4().hex
#: The sidebar checks for changes every second while visible (user setting, in seconds).
REFRESH_INTERVAL = 1
ROOT = Path(__file__).resolve().parents[2]
#: The notebook the empty Models panel points to.
TUTORIAL = "notebooks/03_compare_and_promote.ipynb"

pytestmark = pytest.mark.slow


@pytest.fixture(scope="session")
def lab_store(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The MLflow store the lab and the tests share, as environment variables."""
    return store_env(tmp_path_factory.mktemp("labext-store"), TENANT)


@pytest.fixture(scope="session")
def tracker(lab_store: dict[str, str]) -> Any:
    from matih_jupyter import ExperimentTracker

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
    """A running JupyterLab; yields its URL (with the token). Its folder holds the
    tutorial notebook the empty Models panel links to, where a clone has it."""
    tracker.list_experiments(TENANT)  # migrate the store before the server touches it
    root = tmp_path_factory.mktemp("labext-root")
    served = root / "notebooks" / TUTORIAL  # the lab serves root/notebooks
    served.parent.mkdir(parents=True)
    shutil.copy(ROOT / TUTORIAL, served)
    settings = {
        **NO_NEWS,
        "matih-jupyter-labextension/plugin": {"refreshInterval": REFRESH_INTERVAL},
    }
    with jupyterlab(
        root,
        lab_store,
        token=TOKEN,
        settings=settings,
        extra_args=[
            "--LabApp.expose_app_in_browser=True",
            f"--MatihJupyter.allowed_tenants={OTHER_TENANT}",
        ],
        ready_path="/matih/api/v1/whoami",
    ) as base:
        yield f"{base}/lab?token={TOKEN}"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Chromium for this module."""
    with chromium() as b:
        yield b


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
    try:
        keep_screenshot(pg, f"labextension-{request.node.name}-end")
    finally:
        context.close()
