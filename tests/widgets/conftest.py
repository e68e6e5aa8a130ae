"""Widget tests run without a kernel: widgets are constructed against real MLflow on the
temporary store and driven through their traits and callbacks."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

XSS = "<img src=x onerror=alert(1)>"
TENANT = "acme-corp"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def wait_for(predicate: Callable[[], bool], timeout: float = 15.0, what: str = "condition") -> None:
    """Poll until ``predicate()`` is true (background threads), or fail naming ``what``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    pytest.fail(f"timed out after {timeout}s waiting for {what}")


@pytest.fixture
def process_registry(tracker: Any, matih_env: dict[str, str]) -> Iterator[Any]:
    """The process registry (what a widget given no registry uses), on the test's tracker;
    afterwards the hooks a test added are removed and the process tracker is put back."""
    from matih_jupyter.core import get_experiment_tracker, get_model_registry, use_tracker

    previous = get_experiment_tracker()
    registry = get_model_registry()
    before = {hook.id for hook in registry.hooks.all()}
    use_tracker(tracker)
    try:
        yield registry
    finally:
        for hook in registry.hooks.all():
            if hook.id not in before:
                registry.remove_hook(hook.id)
        use_tracker(previous)


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
