"""Transition hooks and webhooks: payloads, gates that veto, failures that are
reported without leaving the registry half-changed. Webhooks hit a real HTTP server on
127.0.0.1 started by the test."""

from __future__ import annotations

import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from matih_jupyter.core.errors import ConflictError, InvalidInputError
from matih_jupyter.core.registry import HookFailureWarning, HookVetoError

from .conftest import register, version_in


@pytest.fixture
def webhook_server():
    """A local HTTP server recording JSON posts; ``status`` sets its answer."""
    received: list[dict] = []
    state = {"status": 200}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            length = int(self.headers.get("Content-Length", 0))
            received.append(
                {
                    "path": self.path,
                    "body": json.loads(self.rfile.read(length)),
                    "content_type": self.headers.get("Content-Type"),
                    "token": self.headers.get("X-Token"),
                }
            )
            self.send_response(state["status"])
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    yield base, received, state
    server.shutdown()
    server.server_close()


def test_callable_hook_gets_payload_on_staging_and_production(registry):
    calls = []
    registry.add_hook(calls.append)
    v = version_in(registry, "production")
    assert [(c["from_stage"], c["to_stage"]) for c in calls] == [
        ("development", "staging"),
        ("staging", "production"),
    ]
    payload = calls[-1]
    assert payload["event"] == "model_version.stage_changed"
    assert payload["tenant_id"] == "acme" and payload["model_id"] == "churn"
    assert payload["model_name"] == "acme.churn" and payload["version"] == v
    assert payload["user_id"] == "alice" and payload["run_id"]
    # Archiving is not a hooked stage by default.
    registry.transition_stage("acme", "churn", v, "archived")
    assert len(calls) == 2


def test_before_hook_vetoes_and_nothing_changes(registry):
    v = version_in(registry, "staging")
    before = registry.history("acme", "churn")
    model_before = registry.get_model("acme", "churn")

    def gate(payload):
        raise RuntimeError("shadow deployment has not passed")

    hook_id = registry.add_hook(gate, stages=["production"], before=True, name="shadow-gate")
    with pytest.raises(HookVetoError, match=r"shadow-gate.*shadow deployment") as err:
        registry.transition_stage("acme", "churn", v, "production")
    assert isinstance(err.value, ConflictError)
    assert registry.history("acme", "churn") == before
    assert registry.get_model("acme", "churn").aliases == model_before.aliases
    assert registry.get_version("acme", "churn", v).stage == "staging"
    # A gate returning False vetoes too; removing the gate lets the move through.
    assert registry.remove_hook(hook_id)
    registry.add_hook(lambda p: False, stages=["production"], before=True, name="no")
    with pytest.raises(HookVetoError):
        registry.transition_stage("acme", "churn", v, "production")
    registry.hooks._hooks.clear()
    registry.transition_stage("acme", "churn", v, "production")


def test_failing_after_hook_is_reported_and_recorded(registry):
    v = version_in(registry, "development")

    def broken(payload):
        raise ValueError("CI is down")

    registry.add_hook(broken, name="ci-trigger")
    with pytest.warns(HookFailureWarning, match=r"ci-trigger.*CI is down"):
        md = registry.transition_stage("acme", "churn", v, "staging")
    # The change is committed and whole: stage, alias and history.
    assert md.aliases == {"staging": v}
    last = registry.history("acme", "churn")[-1]
    assert last.to_stage == "staging"
    assert len(last.hook_failures) == 1 and "CI is down" in last.hook_failures[0]


def test_webhook_receives_json(registry, webhook_server):
    base, received, _ = webhook_server
    registry.add_webhook(f"{base}/deploy", stages=["production"], headers={"X-Token": "t0k"})
    v = version_in(registry, "production")
    assert len(received) == 1
    hit = received[0]
    assert hit["path"] == "/deploy" and hit["content_type"] == "application/json"
    assert hit["token"] == "t0k"
    assert hit["body"]["version"] == v and hit["body"]["to_stage"] == "production"
    assert hit["body"]["tenant_id"] == "acme"


def test_webhook_error_status_is_reported(registry, webhook_server):
    base, received, state = webhook_server
    state["status"] = 500
    registry.add_webhook(f"{base}/hook")
    v = register(registry).versions[-1]
    with pytest.warns(HookFailureWarning, match="HTTP 500"):
        registry.transition_stage("acme", "churn", v, "staging")
    assert registry.get_version("acme", "churn", v).stage == "staging"
    assert "HTTP 500" in registry.history("acme", "churn")[-1].hook_failures[0]
    assert len(received) == 1


def test_before_webhook_vetoes(registry, webhook_server):
    base, received, state = webhook_server
    state["status"] = 403
    registry.add_webhook(f"{base}/gate", stages=["staging"], before=True)
    v = register(registry).versions[-1]
    with pytest.raises(HookVetoError, match="HTTP 403"):
        registry.transition_stage("acme", "churn", v, "staging")
    assert registry.get_version("acme", "churn", v).stage == "development"
    assert len(received) == 1
    state["status"] = 204
    registry.transition_stage("acme", "churn", v, "staging")
    assert len(received) == 2


def test_unreachable_webhook_fails_fast(registry):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    registry.add_webhook(f"http://127.0.0.1:{port}/x", timeout=1.0)
    v = register(registry).versions[-1]
    with pytest.warns(HookFailureWarning, match="no answer"):
        registry.transition_stage("acme", "churn", v, "staging")
    assert registry.get_version("acme", "churn", v).stage == "staging"


def test_hook_scoped_to_tenant(registry):
    seen = []
    registry.add_hook(lambda p: seen.append(p["tenant_id"]), tenant_id="beta")
    version_in(registry, "staging", tenant="acme")
    version_in(registry, "staging", tenant="beta")
    assert seen == ["beta"]


def test_bad_hooks_refused(registry):
    with pytest.raises(InvalidInputError, match="callback"):
        registry.add_hook("not callable")
    with pytest.raises(InvalidInputError, match="stage"):
        registry.add_hook(print, stages=["live"])
    with pytest.raises(InvalidInputError, match="url"):
        registry.add_webhook("file:///etc/passwd")
    with pytest.raises(InvalidInputError, match="timeout"):
        registry.add_webhook("http://127.0.0.1:1/x", timeout=0)
    with pytest.raises(InvalidInputError, match="tenant"):
        registry.add_hook(print, tenant_id="A%")
