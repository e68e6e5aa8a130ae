"""What the tiers that test promotion hooks share: a real webhook receiver, and the undoing
of hooks a test added to the process registry (it lives as long as the test process)."""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


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


@contextlib.contextmanager
def added_hooks_removed(registry: Any) -> Iterator[Any]:
    """Yield ``registry``; afterwards remove every hook added to it meanwhile."""
    before = {hook.id for hook in registry.hooks.all()}
    try:
        yield registry
    finally:
        for hook in registry.hooks.all():
            if hook.id not in before:
                registry.remove_hook(hook.id)
