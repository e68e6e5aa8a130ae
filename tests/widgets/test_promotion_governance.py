"""ModelPromotion under a policy: a user without the right is refused in the widget, a
failed gate names its rule, a production move becomes a pending request listed in the
widget, and another user approves (or rejects) it from their own widget."""

from __future__ import annotations

import functools
from typing import Any

import pytest

from matih_jupyter.core import ModelRegistry
from matih_jupyter.widgets import ModelPromotion

from .conftest import TENANT, XSS

POLICY = {
    "tenants": {
        TENANT: {
            "stages": {
                "staging": {
                    "users": ["alice", "carol"],
                    "metrics": [{"metric": "auc", "min": 0.75}],
                },
                "production": {"users": ["alice", "carol"], "approval": True},
            }
        }
    }
}


@functools.lru_cache(maxsize=1)
def _model() -> Any:
    from sklearn.datasets import make_classification
    from sklearn.linear_model import LogisticRegression

    x, y = make_classification(n_samples=80, n_features=4, random_state=0)
    return LogisticRegression(max_iter=200).fit(x, y)


@pytest.fixture
def registry(tracker: Any) -> Any:
    reg = ModelRegistry(tracker)
    reg.set_policy(POLICY)
    return reg


def register(reg: Any, auc: float = 0.8) -> str:
    md = reg.register_model(TENANT, "churn", _model(), "sklearn", {"auc": auc}, {})
    return str(md.current_version)


def move(widget: ModelPromotion, version: str, stage: str, reason: str = "") -> None:
    """What a user does: pick the version, click the stage's button, give a reason, confirm."""
    widget.version.value = version
    widget.stage_buttons[stage].click()
    widget.reason.value = reason
    widget.confirm_button.click()


def test_a_user_without_the_right_is_refused_in_the_widget(registry):
    v = register(registry)
    widget = ModelPromotion("churn", registry=registry, tenant_id=TENANT, user_id="mallory")
    move(widget, v, "staging")
    assert "User &#x27;mallory&#x27; may not move versions" in widget.errors.text
    assert "[tenants.acme-corp.stages.staging]" in widget.errors.text
    assert registry.get_version(TENANT, "churn", v).stage == "development"
    assert "Traceback" not in widget.errors.text


def test_a_failed_gate_names_the_rule_in_the_widget(registry):
    v = register(registry, auc=0.7)
    widget = ModelPromotion("churn", registry=registry, tenant_id=TENANT, user_id="alice")
    move(widget, v, "staging")
    assert "gate &#x27;auc &gt;= 0.75&#x27; failed" in widget.errors.text
    assert registry.get_version(TENANT, "churn", v).stage == "development"


def test_request_in_one_widget_approve_in_another(registry):
    v = register(registry)
    alice = ModelPromotion("churn", registry=registry, tenant_id=TENANT, user_id="alice")
    move(alice, v, "staging")
    move(alice, v, "production", reason=XSS)
    assert "needs approval by a second person" in alice.errors.text
    assert alice.confirm_box.layout.display == "none"
    assert registry.get_version(TENANT, "churn", v).stage == "staging"
    assert alice.requests.widget.layout.display == "flex"
    (request,) = alice.requests.pending
    assert f'data-request="{request.id}"' in alice.requests.table.value
    assert XSS not in alice.requests.table.value  # the reason is escaped

    alice.requests.approve_button.click()  # the requester cannot approve her own
    assert "cannot approve it" in alice.errors.text
    assert registry.get_version(TENANT, "churn", v).stage == "staging"

    carol = ModelPromotion("churn", registry=registry, tenant_id=TENANT, user_id="carol")
    assert [r.id for r in carol.requests.pending] == [request.id]
    carol.requests.reason.value = "checked the shadow run"
    carol.requests.approve_button.click()
    assert "approved" in carol.errors.text
    assert registry.get_version(TENANT, "churn", v).stage == "production"
    assert carol.requests.widget.layout.display == "none"
    assert "approved by carol" in carol.history_html.value
    assert "pass: auc &gt;= 0.75" in carol.history_html.value  # the staging move's gate


def test_reject_from_the_widget(registry):
    v = register(registry)
    registry.transition_stage(TENANT, "churn", v, "staging", user_id="alice")
    registry.request_transition(TENANT, "churn", v, "production", user_id="alice")
    mallory = ModelPromotion("churn", registry=registry, tenant_id=TENANT, user_id="mallory")
    mallory.requests.reject_button.click()
    assert "may not decide" in mallory.errors.text
    carol = ModelPromotion("churn", registry=registry, tenant_id=TENANT, user_id="carol")
    carol.requests.reject_button.click()
    assert "rejected" in carol.errors.text
    assert registry.requests(TENANT, "churn", None)[0].status == "rejected"
    assert registry.get_version(TENANT, "churn", v).stage == "staging"
