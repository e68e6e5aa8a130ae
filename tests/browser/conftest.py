"""A real JupyterLab (subprocess) and Debian's Chromium for the widget browser tests.

One JupyterLab serves the session; each test writes its own notebook (nbformat) and uses
its own experiment or model names. The lab's kernels and the tests share one temporary
MLflow store: tests seed it through the core and check the browser's effects there.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from lab_harness import (
    SCREENSHOTS,
    chromium,
    jupyterlab,
    keep_screenshot,
    store_env,
)

# pytest-jupyter's loop fixtures, replaced for Playwright (see lab_harness).
from lab_harness import jp_asyncio_loop as jp_asyncio_loop
from lab_harness import jp_server_cleanup as jp_server_cleanup

__all__ = ["SCREENSHOTS", "TENANT", "TOKEN"]

TENANT = "acme-corp"
TOKEN = "widgets-" + uuid.uuid4().hex


@pytest.fixture(scope="session")
def lab_store(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The MLflow store shared by the lab's kernels and the tests, as environment."""
    return store_env(tmp_path_factory.mktemp("widgets-store"), TENANT)


@pytest.fixture(scope="session")
def lab_tracker(lab_store: dict[str, str]) -> Any:
    from matih_jupyter import ExperimentTracker

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
    lab_tracker.list_experiments(TENANT)  # migrate the store before kernels touch it
    with jupyterlab(notebooks_dir, {**lab_store, "MPLBACKEND": "Agg"}, token=TOKEN) as base:
        yield base


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Chromium for one module."""
    with chromium() as b:
        yield b


@pytest.fixture
def page(browser: Any, lab: str, request: pytest.FixtureRequest) -> Iterator[Any]:
    """A fresh browser page; a screenshot of its last state is kept as test output."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    pg = context.new_page()
    pg.set_default_timeout(30_000)
    yield pg
    try:
        keep_screenshot(pg, f"widgets-{request.node.name}-end")
    finally:
        context.close()
