"""What the browser tiers share (tests/browser, tests/labextension): a real JupyterLab in a
subprocess, and Debian's Chromium driven by Playwright's sync API.

Each tier keeps its own fixtures (its store, its lab's settings and arguments); this module
holds the mechanics, so both start and stop things the same way.
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# Without the background-networking flags Chromium keeps dialling
# hosts this closed network refuses.
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
SCREENSHOTS = Path(__file__).resolve().parents[1] / "test-output" / "screenshots"
#: A news toast would cover the page.
NO_NEWS = {
    "@jupyterlab/apputils-extension/notification": {"fetchNews": "false", "checkForUpdates": False}
}


# pytest-jupyter's autouse fixtures run an asyncio loop that breaks Playwright's sync API
# ("Cannot close a running event loop"); the browser tiers start their own server, so their
# conftests import these no-op replacements.
@pytest.fixture
def jp_asyncio_loop() -> Iterator[None]:
    yield None


@pytest.fixture
def jp_server_cleanup() -> Iterator[None]:
    yield None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def store_env(folder: Path, tenant: str) -> dict[str, str]:
    """A fresh MLflow store in ``folder``, as the environment the lab's kernels inherit."""
    (folder / "artifacts").mkdir(exist_ok=True)
    return {
        "MLFLOW_TRACKING_URI": f"sqlite:///{folder / 'mlflow.db'}",
        "MLFLOW_ARTIFACT_ROOT": (folder / "artifacts").as_uri(),
        "MATIH_HOME": str(folder / "home"),
        "MATIH_TENANT_ID": tenant,
        "MATIH_USER_ID": "alice@acme.com",
    }


@contextlib.contextmanager
def jupyterlab(
    root: Path,
    env: Mapping[str, str],
    *,
    token: str,
    settings: Mapping[str, Mapping[str, Any]] = NO_NEWS,
    extra_args: Sequence[str] = (),
    ready_path: str = "/api/status",
    app: str = "jupyterlab",
) -> Iterator[str]:
    """Run JupyterLab on 127.0.0.1 with its own settings and workspaces (so nothing leaks
    between runs) until the block ends; yields its base URL once ``ready_path`` answers.

    ``app`` is the module run with ``python -m``: ``"notebook"`` serves Notebook 7 the
    same way (it reads the same settings directory)."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium (see .ci/run)")
    for plugin, values in settings.items():
        path = root / "settings" / f"{plugin}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))
    for sub in ("workspaces", "notebooks", "runtime"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    full_env = {
        **os.environ,
        **env,
        "JUPYTERLAB_SETTINGS_DIR": str(root / "settings"),
        "JUPYTERLAB_WORKSPACES_DIR": str(root / "workspaces"),
        "JUPYTER_RUNTIME_DIR": str(root / "runtime"),
    }
    port = free_port()
    log_path = root / "lab.log"
    log = log_path.open("wb")
    proc = subprocess.Popen(
        [
            sys.executable, "-m", app, "--no-browser", "--allow-root",
            f"--port={port}", "--ServerApp.ip=127.0.0.1",
            f"--ServerApp.root_dir={root / 'notebooks'}",
            f"--IdentityProvider.token={token}",
            *extra_args,
        ],
        env=full_env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(f"{base}{ready_path}?token={token}", timeout=5) as r:
                    if r.status == 200:
                        break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                log.flush()
                pytest.fail(f"{app} did not start:\n" + log_path.read_text()[-4000:])
            time.sleep(0.3)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@contextlib.contextmanager
def chromium() -> Iterator[Any]:
    """Debian's Chromium through Playwright's sync API (one instance per thread: callers
    hold it for one test module at a time)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def keep_screenshot(page: Any, name: str) -> None:
    """Save the page as test output (test-output/screenshots/NAME.png)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))


#: The page model and the built widget module a widget page loads.
PAGE_MODEL = Path(__file__).resolve().parent / "browser" / "page_model.js"


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: Any) -> None:
        pass


@contextlib.contextmanager
def widget_page(root: Path, page_html: str) -> Iterator[str]:
    """Serve ``page_html`` as ``index.html`` from ``root`` on 127.0.0.1, beside the built
    widget module (``chart_widget.js``/``.css``) and the page model; yield the page's URL.
    The page loads the module the way anywidget does, with `PageModel` as its model."""
    import matih_jupyter.widgets

    static = Path(matih_jupyter.widgets.__file__).parent / "static"
    for name in ("chart_widget.js", "chart_widget.css"):
        shutil.copy(static / name, root / name)
    shutil.copy(PAGE_MODEL, root / PAGE_MODEL.name)
    (root / "index.html").write_text(page_html, encoding="utf-8")
    handler = functools.partial(_QuietHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/index.html"
    finally:
        server.shutdown()
        server.server_close()
