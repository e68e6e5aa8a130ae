"""ModelPromotion against a real ModelRegistry on the temporary MLflow store."""

from __future__ import annotations

import functools
from typing import Any

import pytest

from matih_jupyter.core import ModelRegistry, allowed_transitions
from matih_jupyter.widgets import ModelPromotion

from .conftest import TENANT, XSS


@functools.lru_cache(maxsize=1)
def _model() -> Any:
    from sklearn.datasets import make_classification
    from sklearn.linear_model import LogisticRegression

    x, y = make_classification(n_samples=80, n_features=4, random_state=0)
    return LogisticRegression(max_iter=200).fit(x, y)


@pytest.fixture
def registry(tracker):
    return ModelRegistry(tracker)


def _register(reg, name="churn", auc=0.80, loss=0.5, tenant=TENANT, user="alice"):
    return reg.register_model(
        tenant, name, _model(), "sklearn", {"auc": auc, "loss": loss}, {"C": 1.0}, user_id=user
    )


@pytest.fixture
def two_versions(registry):
    _register(registry, auc=0.80, loss=0.50)
    registry.create_version(TENANT, "churn", _model(), "sklearn", {"auc": 0.86, "loss": 0.40}, {})
    return registry


def _stage(reg, version, name="churn"):
    return next(v.stage for v in reg.list_versions(TENANT, name) if v.version == version)


def _enabled(widget):
    return {s for s, b in widget.stage_buttons.items() if not b.disabled}


def test_buttons_follow_the_lifecycle(two_versions):
    widget = ModelPromotion(registry=two_versions, tenant_id=TENANT, user_id="bob")
    assert widget.model.value == "churn"
    assert [v for _, v in widget.version.options] == ["2", "1"]  # newest first
    assert widget.version.value == "2"
    assert _enabled(widget) == set(allowed_transitions("development")) == {"staging"}
    assert widget.rollback_button.disabled  # nothing in production yet
    widget.stage_buttons["staging"].click()
    widget.confirm_button.click()
    assert _enabled(widget) == {"production", "development"}
    # A disabled move asked for programmatically is refused in the error area, not applied.
    widget.request("archived")
    assert (
        "LifecycleError" in widget.errors.text and "production, development" in widget.errors.text
    )
    assert _stage(two_versions, "2") == "staging"


def test_promote_button_changes_the_stage_in_mlflow(two_versions):
    widget = ModelPromotion("churn", registry=two_versions, tenant_id=TENANT, user_id="bob")
    widget.version.value = "1"
    widget.stage_buttons["staging"].click()
    assert widget.confirm_box.layout.display == "flex"  # confirm step first
    assert _stage(two_versions, "1") == "development"
    widget.reason.value = "validated on holdout"
    widget.confirm_button.click()
    assert _stage(two_versions, "1") == "staging"
    assert widget.confirm_box.layout.display == "none"
    widget.stage_buttons["production"].click()
    assert "first champion" in widget.delta.value
    widget.confirm_button.click()
    assert _stage(two_versions, "1") == "production"
    assert two_versions.get_version_by_alias(TENANT, "churn", "production").version == "1"
    last = two_versions.history(TENANT, "churn")[-1]
    assert (last.version, last.from_stage, last.to_stage, last.user_id) == (
        "1",
        "staging",
        "production",
        "bob",
    )
    assert "moved to production" in widget.errors.text
    assert not widget.rollback_button.disabled


def test_challenger_vs_champion_delta_and_cancel(two_versions):
    reg = two_versions
    for step in ("staging", "production"):
        reg.transition_stage(TENANT, "churn", "1", step, user_id="alice")
    reg.transition_stage(TENANT, "churn", "2", "staging", user_id="alice")
    widget = ModelPromotion("churn", registry=reg, tenant_id=TENANT)
    widget.version.value = "2"
    widget.stage_buttons["production"].click()
    rows = {r["metric"]: r for r in widget.delta_rows(widget.current, widget.champion)}
    assert rows["auc"]["delta"] == pytest.approx(0.06) and rows["auc"]["better"] is True
    assert rows["loss"]["delta"] == pytest.approx(-0.10) and rows["loss"]["better"] is True
    assert "champion v1" in widget.delta.value and "+0.06" in widget.delta.value
    assert "version 1 (in production now) will be archived" in widget.summary.value
    widget.cancel_button.click()
    assert widget.pending is None and _stage(reg, "2") == "staging"


def test_rollback_restores_the_previous_production_version(two_versions):
    reg = two_versions
    for v in ("1", "2"):
        for step in ("staging", "production"):
            reg.transition_stage(TENANT, "churn", v, step, user_id="alice")
    widget = ModelPromotion("churn", registry=reg, tenant_id=TENANT, user_id="carol")
    assert widget.champion.version == "2"
    widget.rollback_button.click()  # one click, no confirm step
    assert _stage(reg, "1") == "production" and _stage(reg, "2") == "development"
    assert widget.champion.version == "1"
    assert widget.pending is None and widget.confirm_box.layout.display == "none"
    assert "one-click rollback" in widget.history_html.value
    last = reg.history(TENANT, "churn")[-1]
    assert last.user_id == "carol" and "one-click rollback" in (last.reason or "")


def test_lost_race_is_reported_in_the_widget(two_versions):
    reg = two_versions
    reg.transition_stage(TENANT, "churn", "1", "staging", user_id="alice")
    reg.transition_stage(TENANT, "churn", "2", "staging", user_id="alice")
    widget = ModelPromotion("churn", registry=reg, tenant_id=TENANT)
    widget.version.value = "1"
    widget.stage_buttons["production"].click()
    # Someone else promotes version 2 while the confirm step is open.
    reg.transition_stage(TENANT, "churn", "2", "production", user_id="mallory")
    widget.confirm_button.click()
    assert "ConflictError" in widget.errors.text or "LifecycleError" in widget.errors.text
    assert "Traceback" not in widget.errors.text
    assert _stage(reg, "2") == "production" and _stage(reg, "1") == "staging"
    assert widget.champion.version == "2"  # the widget re-read the registry


def test_models_of_other_tenants_are_invisible(registry):
    _register(registry, name="mine")
    _register(registry, name="secret", tenant="other-corp")
    widget = ModelPromotion(registry=registry, tenant_id=TENANT)
    assert list(widget.model.options) == ["mine"]
    widget = ModelPromotion("secret", registry=registry, tenant_id=TENANT)
    assert "NotFoundError" in widget.errors.text and widget.model.value == "mine"


def test_no_models_and_user_text_is_escaped(registry):
    empty = ModelPromotion(registry=registry, tenant_id=TENANT)
    assert "no registered models" in empty.table.value
    assert all(b.disabled for b in empty.stage_buttons.values())
    _register(registry, user=XSS)
    widget = ModelPromotion(registry=registry, tenant_id=TENANT)
    widget.stage_buttons["staging"].click()
    widget.reason.value = XSS
    widget.confirm_button.click()
    for html in (widget.table.value, widget.history_html.value, widget.errors.text):
        assert "<img" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in widget.table.value
    assert widget.history_html.value.count("&lt;img src=x onerror=alert(1)&gt;") == 2


# -- the process registry: its hooks gate and hear the widget's moves ------------------------


def test_without_a_registry_the_widget_uses_the_process_registry(process_registry):
    _register(process_registry)
    widget = ModelPromotion(tenant_id=TENANT)
    assert widget.registry is process_registry
    assert widget.model.value == "churn"


def test_a_before_hook_veto_stops_the_promote_action(process_registry):
    _register(process_registry)
    seen = []

    def freeze(payload):
        seen.append(payload)
        raise RuntimeError("staging is frozen until the release review")

    process_registry.add_hook(freeze, stages=["staging"], before=True, name="release-freeze")
    history = process_registry.history(TENANT, "churn")
    widget = ModelPromotion("churn", tenant_id=TENANT, user_id="bob")
    widget.stage_buttons["staging"].click()
    widget.reason.value = "validated on holdout"
    widget.confirm_button.click()
    text = widget.errors.text
    assert "HookVetoError" in text and "Hook &#x27;release-freeze&#x27; refused" in text
    assert "staging is frozen until the release review" in text
    assert "Nothing was changed" in text and "Traceback" not in text
    assert [(p["version"], p["to_stage"], p["user_id"]) for p in seen] == [("1", "staging", "bob")]
    assert _stage(process_registry, "1") == "development"
    assert process_registry.history(TENANT, "churn") == history
    assert widget.current.stage == "development"  # the widget re-read the registry
    assert _enabled(widget) == {"staging"}


def test_a_webhook_hears_the_promote_action(process_registry, webhook_receiver):
    _register(process_registry)
    process_registry.add_webhook(webhook_receiver.url, stages=["staging"])
    widget = ModelPromotion("churn", tenant_id=TENANT, user_id="bob")
    widget.stage_buttons["staging"].click()
    widget.reason.value = "validated on holdout"
    widget.confirm_button.click()
    assert _stage(process_registry, "1") == "staging"
    assert "moved to staging" in widget.errors.text
    assert len(webhook_receiver.received) == 1
    payload = webhook_receiver.received[0]
    assert (payload["tenant_id"], payload["model_id"], payload["version"]) == (TENANT, "churn", "1")
    assert (payload["from_stage"], payload["to_stage"]) == ("development", "staging")
    assert (payload["user_id"], payload["reason"]) == ("bob", "validated on holdout")
