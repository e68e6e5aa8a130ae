"""Fixtures for the magics: a fresh real IPython shell per test, with the extension loaded,
pointed at the test's own MLflow store; the process registry the magics promote with; a
real HTTP server that receives webhooks."""

from __future__ import annotations

import atexit
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from IPython.core.interactiveshell import InteractiveShell
from traitlets.config import Config


@pytest.fixture
def shell(
    matih_env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[InteractiveShell]:
    # A private IPython directory and an in-memory history: tests never touch ~/.ipython.
    monkeypatch.setenv("IPYTHONDIR", str(tmp_path / "ipython"))
    config = Config()
    config.HistoryManager.hist_file = ":memory:"
    InteractiveShell.clear_instance()
    sh = InteractiveShell.instance(config=config)
    sh.run_line_magic("load_ext", "matih_jupyter")
    try:
        yield sh
    finally:
        sh.run_line_magic("unload_ext", "matih_jupyter")
        # IPython registers an exit hook per shell that resets it (a full garbage
        # collection each); run the cheap part now instead of once per test at exit.
        atexit.unregister(sh.atexit_operations)
        if sh.history_manager is not None:
            sh.history_manager.end_session()
            sh.history_manager.close()
        InteractiveShell.clear_instance()


@pytest.fixture
def process_registry(shell: InteractiveShell) -> Iterator[Any]:
    """The process registry (what ``%matih_promote`` uses), on the test's store; hooks a
    test adds to it are removed afterwards."""
    from matih_jupyter.core import get_model_registry
    from matih_jupyter.magics import get_session

    _ = get_session(shell).tracker  # moves the process tracker to the test's store
    registry = get_model_registry()
    before = {hook.id for hook in registry.hooks.all()}
    try:
        yield registry
    finally:
        for hook in registry.hooks.all():
            if hook.id not in before:
                registry.remove_hook(hook.id)


class WebhookReceiver:
    """A real HTTP server on 127.0.0.1 that keeps the JSON bodies POSTed to it."""

    def __init__(self) -> None:
        received: list[dict[str, Any]] = []

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                received.append(json.loads(self.rfile.read(length)))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.received = received
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/promotions"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(10)


@pytest.fixture
def webhook_receiver() -> Iterator[WebhookReceiver]:
    receiver = WebhookReceiver()
    try:
        yield receiver
    finally:
        receiver.close()
