"""Promotions over REST go through the process registry, with every hook added to it: the
ones the server's configuration installs (``c.MatihJupyter.registry_hooks`` and
``webhooks``) and any other code in the process adds (`get_model_registry().add_hook`)."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from hook_harness import WebhookReceiver

from . import registry_gates
from .conftest import Api

pytestmark = pytest.mark.timeout(180)

#: How the tests name the install function, as an administrator names their own.
GATES = f"{registry_gates.__name__}:install"


@pytest.fixture
def matih_config(
    matih_config: dict[str, Any], process_hooks: Any, webhook_receiver: WebhookReceiver
) -> dict[str, Any]:
    """The conftest's settings plus a gate and a webhook. ``process_hooks`` comes first,
    so the hooks the server installs are removed after the test."""
    webhook = {"url": webhook_receiver.url, "stages": ["staging", "production"]}
    return {**matih_config, "registry_hooks": [GATES], "webhooks": [webhook]}


@pytest.fixture(scope="module")
def onnx_b64() -> str:
    pytest.importorskip("skl2onnx")
    import numpy as np
    from skl2onnx import to_onnx
    from sklearn.linear_model import LogisticRegression

    x = np.array([[0.0, 1.0], [1.0, 0.0], [0.2, 0.9], [0.9, 0.1]], dtype=np.float32)
    model = LogisticRegression().fit(x, [0, 1, 0, 1])
    return base64.b64encode(to_onnx(model, x[:1]).SerializeToString()).decode()


async def _register(api: Api, onnx_b64: str) -> None:
    r = await api("POST", "models", {"name": "churn", "onnx_model": onnx_b64})
    assert r.status == 201, r


async def _stages(api: Api) -> dict[str, str]:
    r = await api("GET", "models/churn/versions")
    return {v["version"]: v["stage"] for v in r.json["versions"]}


async def test_configured_gate_refuses_and_configured_webhook_hears(
    api: Api, onnx_b64: str, process_hooks: Any, webhook_receiver: WebhookReceiver
) -> None:
    await _register(api, onnx_b64)
    # The server installed both on the one registry of the process.
    names = {hook.name for hook in process_hooks.hooks.all()}
    assert {"release-freeze", webhook_receiver.url} <= names

    r = await api("PUT", "models/churn/stage", {"version": "1", "stage": "staging"})
    assert r.status == 200 and r.json["stage"] == "staging", r
    assert [(p["model_id"], p["version"], p["from_stage"], p["to_stage"]) for p in
            webhook_receiver.received] == [("churn", "1", "development", "staging")]  # fmt: skip
    assert webhook_receiver.received[0]["user_id"] == "alice"
    assert webhook_receiver.received[0]["tenant_id"] == "acme-corp"
    history = (await api("GET", "models/churn/history")).json["history"]

    r = await api(
        "PUT", "models/churn/stage", {"version": "1", "stage": "production", "reason": "ship it"}
    )
    assert r.status == 409, r
    assert r.json["error"] == "conflict"
    assert "Hook 'release-freeze' refused moving version 1" in r.json["message"]
    assert registry_gates.FREEZE_MESSAGE in r.json["message"]
    assert "Nothing was changed" in r.json["hint"]
    # Nothing changed, and the after-webhook heard nothing more.
    assert await _stages(api) == {"1": "staging"}
    assert (await api("GET", "models/churn/history")).json["history"] == history
    assert len(webhook_receiver.received) == 1


async def test_a_hook_added_to_the_process_registry_gates_rest_too(
    api: Api, onnx_b64: str, process_hooks: Any, webhook_receiver: WebhookReceiver
) -> None:
    await _register(api, onnx_b64)

    def needs_model_card(payload: dict[str, Any]) -> bool:
        return "model card" in (payload["reason"] or "")

    process_hooks.add_hook(
        needs_model_card, stages=["staging"], before=True, tenant_id="acme-corp",
        name="needs-model-card",
    )  # fmt: skip
    r = await api("PUT", "models/churn/stage", {"version": "1", "stage": "staging"})
    assert r.status == 409 and "needs-model-card" in r.json["message"], r
    assert await _stages(api) == {"1": "development"}
    assert webhook_receiver.received == []

    reason = "model card reviewed"
    body = {"version": "1", "stage": "staging", "reason": reason}
    r = await api("PUT", "models/churn/stage", body)
    assert r.status == 200, r
    assert await _stages(api) == {"1": "staging"}
    assert [(p["to_stage"], p["reason"]) for p in webhook_receiver.received] == [
        ("staging", reason)
    ]
