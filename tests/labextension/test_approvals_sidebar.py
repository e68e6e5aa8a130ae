"""Governed promotion in the sidebar, in a real JupyterLab and Chromium: a lab whose server
reads a policy file (``MATIH_POLICY_FILE``). The browser's user is the lab's token user;
the other person is ``alice``, acting through the core on the same store and policy.

The policy: only alice may move versions into staging; production needs a second person
(anyone may approve but the requester)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from lab_harness import NO_NEWS, chromium, jupyterlab, keep_screenshot, store_env
from playwright.sync_api import expect

pytestmark = pytest.mark.slow

TENANT = "acme-corp"
TOKEN = "approvals-" + uuid.uuid4().hex
POLICY = """
[tenants.acme-corp.stages.staging]
users = ["alice"]

[tenants.acme-corp.stages.production]
approval = true
"""


@pytest.fixture(scope="module")
def governed_lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Any]]:
    """A lab on its own store with the policy; yields its URL and a registry (as alice's
    process would have) on the same store and policy."""
    from matih_jupyter import ExperimentTracker
    from matih_jupyter.core.registry import ModelRegistry

    folder = tmp_path_factory.mktemp("approvals-store")
    policy = folder / "policy.toml"
    policy.write_text(POLICY)
    env = {**store_env(folder, TENANT), "MATIH_POLICY_FILE": str(policy)}
    tracker = ExperimentTracker(env["MLFLOW_TRACKING_URI"], env["MLFLOW_ARTIFACT_ROOT"])
    tracker.list_experiments(TENANT)  # migrate the store before the server touches it
    registry = ModelRegistry(tracker)
    registry.set_policy(policy)
    root = tmp_path_factory.mktemp("approvals-root")
    with jupyterlab(
        root, env, token=TOKEN, settings=NO_NEWS, ready_path="/matih/api/v1/whoami"
    ) as base:
        yield f"{base}/lab?token={TOKEN}", registry


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as b:
        yield b


@pytest.fixture
def page(browser: Any, governed_lab: tuple[str, Any], request: pytest.FixtureRequest) -> Any:
    lab, _ = governed_lab
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    pg = context.new_page()
    pg.set_default_timeout(20_000)
    pg.goto(lab.replace("/lab?", "/lab/workspaces/auto-" + uuid.uuid4().hex[:8] + "?reset&"))
    pg.wait_for_selector("#jp-main-dock-panel", timeout=60_000)
    yield pg
    try:
        keep_screenshot(pg, f"approvals-{request.node.name}-end")
    finally:
        context.close()


def model(registry: Any, staged: bool) -> str:
    """A new model with v1, moved to staging by alice when ``staged``."""
    from sklearn.datasets import make_classification
    from sklearn.linear_model import LogisticRegression

    name = f"gov-{uuid.uuid4().hex[:6]}"
    x, y = make_classification(n_samples=60, n_features=4, random_state=0)
    fitted = LogisticRegression(max_iter=200).fit(x, y)
    registry.register_model(TENANT, name, fitted, "sklearn", {"auc": 0.8}, {}, user_id="alice")
    if staged:
        registry.transition_stage(TENANT, name, "1", "staging", user_id="alice")
    return name


def open_model(page: Any, name: str) -> Any:
    page.click('.jp-SideBar.jp-mod-left [data-id="matih-models"]')
    panel = page.locator("#matih-models")
    expect(panel).to_be_visible()
    panel.locator("button.matih-refresh").click()  # refresh: models seeded meanwhile
    panel.locator(f'[data-model-id="{name}"]').click()
    return panel


def confirm(page: Any, reason: str) -> None:
    dialog = page.locator(".jp-Dialog")
    expect(dialog).to_be_visible()
    dialog.locator("textarea.matih-reason").fill(reason)
    dialog.locator(".jp-mod-accept").click()
    expect(page.locator(".jp-Dialog")).to_have_count(0)


def toast(page: Any, text: str) -> Any:
    """The error notification saying ``text`` (others may still be showing)."""
    found = page.locator(".Toastify__toast--error, .jp-Notification-Toast-error", has_text=text)
    expect(found.first).to_be_visible()
    return found.first


def test_a_user_without_the_right_is_refused_in_the_sidebar(page: Any, governed_lab) -> None:
    _, registry = governed_lab
    name = model(registry, staged=False)
    panel = open_model(page, name)
    v1 = panel.locator('.matih-versions li[data-version="1"]')
    v1.locator("button.matih-move-staging").click()
    confirm(page, "no right")
    toast(page, "may not move versions")
    expect(v1).to_have_attribute("data-stage", "development")
    assert registry.get_version(TENANT, name, "1").stage == "development"
    assert [r.to_stage for r in registry.history(TENANT, name)] == ["development"]


def test_approve_another_users_request_from_the_sidebar(page: Any, governed_lab) -> None:
    _, registry = governed_lab
    name = model(registry, staged=True)
    request = registry.request_transition(TENANT, name, "1", "production", "A/B ok", "alice")
    panel = open_model(page, name)
    row = panel.locator(f'.matih-request[data-request="{request.id}"]')
    expect(row).to_contain_text("staging → production by alice")
    expect(row).to_contain_text("A/B ok")
    pane, box = panel.bounding_box(), row.bounding_box()  # laid out for the sidebar's width
    assert box["x"] + box["width"] <= pane["x"] + pane["width"] + 0.5
    row.locator("button.matih-approve").click()
    confirm(page, "looked at the A/B test")
    v1 = panel.locator('.matih-versions li[data-version="1"]')
    expect(v1).to_have_attribute("data-stage", "production")
    expect(panel.locator(".matih-request")).to_have_count(0)
    expect(panel.locator(".matih-history .matih-approved")).to_contain_text("approved by")
    moved = registry.history(TENANT, name)[-1]
    assert (moved.to_stage, moved.user_id, moved.request_id) == ("production", "alice", request.id)
    assert moved.approved_by not in (None, "alice")
    keep_screenshot(page, "approvals-approved")


def test_the_browser_user_cannot_approve_their_own_request(page: Any, governed_lab) -> None:
    _, registry = governed_lab
    name = model(registry, staged=True)
    panel = open_model(page, name)
    v1 = panel.locator('.matih-versions li[data-version="1"]')
    v1.locator("button.matih-move-production").click()
    confirm(page, "ship it")
    toast(page, "needs approval by a second person")
    row = panel.locator(".matih-request")
    expect(row).to_have_count(1)
    row.locator("button.matih-approve").click()
    confirm(page, "self")
    toast(page, "cannot approve it")
    expect(v1).to_have_attribute("data-stage", "staging")
    (pending,) = registry.requests(TENANT, name)
    assert pending.reason == "ship it"
    # alice (a second person) may; rejecting also clears it from the panel.
    registry.reject(TENANT, name, pending.id, user_id="alice", reason="not yet")
    panel.locator("button.matih-refresh").click()
    expect(panel.locator(".matih-request")).to_have_count(0)
