"""The lab extension in a real JupyterLab and Chromium, on data seeded through the core.

Each test seeds its own experiments or models (unique names), drives the sidebar like a
person (clicks, typing, dialogs) and checks both the page and, for writes, MLflow itself.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
from lab_harness import keep_screenshot
from playwright.sync_api import expect

from matih_jupyter import RunConfig

pytestmark = pytest.mark.slow

TENANT = "acme-corp"  # the lab's tenant (MATIH_TENANT_ID in conftest.py)
OTHER_TENANT = "globex"  # also allowed to the lab's user (conftest.py)
FOREIGN_TENANT = "initech"  # not allowed


def shot(page: Any, name: str) -> None:
    """Keep a screenshot of the current state as test output."""
    keep_screenshot(page, f"labextension-{name}")


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:6]}"


def open_panel(page: Any, panel_id: str) -> Any:
    """Click the panel's tab in the left sidebar, like a person; return the panel."""
    page.click(f'.jp-SideBar.jp-mod-left [data-id="{panel_id}"]')
    panel = page.locator(f"#{panel_id}")
    expect(panel).to_be_visible()
    return panel


def open_experiment(page: Any, tracker: Any, name: str) -> Any:
    panel = open_panel(page, "matih-experiments")
    exp_id = tracker.get_or_create_experiment(name, TENANT)
    panel.locator(f'[data-experiment-id="{exp_id}"]').click()
    expect(panel.locator(".matih-runs-section h3")).to_contain_text(name)
    return panel


def finished_run(tracker: Any, experiment: str, name: str, params: dict, losses: list) -> str:
    with tracker.start_run(experiment, RunConfig(run_name=name, tenant_id=TENANT)) as run:
        run.log_params(params)
        for step, loss in enumerate(losses):
            run.log_metric("loss", loss, step=step)
        run.log_metric("accuracy", 1 - losses[-1])
    return str(run.run_id)


def test_panel_lists_only_the_tenants_experiments(page: Any, tracker: Any) -> None:
    mine = [unique("lab-iso-alpha"), unique("lab-iso-beta")]
    secret = unique("lab-iso-secret")
    theirs = unique("lab-iso-globex")
    for name in mine:
        tracker.get_or_create_experiment(name, TENANT)
    secret_id = tracker.get_or_create_experiment(secret, FOREIGN_TENANT)
    theirs_id = tracker.get_or_create_experiment(theirs, OTHER_TENANT)

    panel = open_panel(page, "matih-experiments")
    select = panel.locator(".matih-tenant-select")
    expect(select).to_have_value(TENANT)
    expect(panel.locator(".matih-store")).to_contain_text("mlflow.db")
    expect(page.locator(".matih-status-tenant")).to_have_text(f"Tenant: {TENANT}")
    items = panel.locator(".matih-experiments li")
    for name in mine:
        expect(items.filter(has_text=name)).to_have_count(1)
    names = items.locator(".matih-name").all_inner_texts()
    assert secret not in names and theirs not in names
    assert not any(n.startswith(("lab-iso-secret", "lab-iso-globex")) for n in names)
    assert panel.locator(f'[data-experiment-id="{secret_id}"]').count() == 0
    # Only the user's own tenants are offered.
    assert select.locator("option").all_inner_texts() == [TENANT, OTHER_TENANT]

    # Search narrows the list to matching names.
    panel.locator(".matih-search").fill(mine[1])
    expect(items).to_have_count(1)
    expect(items.first).to_contain_text(mine[1])
    panel.locator(".matih-search").fill("no-such-experiment-xyz")
    expect(panel.locator(".matih-empty")).to_contain_text("No experiment matches")
    panel.locator(".matih-search").fill("lab-iso")
    shot(page, "experiments-tenant-only")

    # Switching to the user's other tenant shows that tenant's experiments only.
    select.select_option(OTHER_TENANT)
    expect(page.locator(".matih-status-tenant")).to_have_text(f"Tenant: {OTHER_TENANT}")
    expect(panel.locator(f'[data-experiment-id="{theirs_id}"]')).to_have_count(1)
    names = items.locator(".matih-name").all_inner_texts()
    assert not set(mine) & set(names) and secret not in names
    shot(page, "experiments-other-tenant")
    select.select_option(TENANT)
    expect(items.filter(has_text=mine[0])).to_have_count(1)
    expect(panel.locator(f'[data-experiment-id="{theirs_id}"]')).to_have_count(0)


def test_runs_refresh_while_a_run_is_live(page: Any, tracker: Any) -> None:
    exp = unique("lab-live")
    run = tracker.start_run(exp, RunConfig(run_name="live-run", tenant_id=TENANT))
    try:
        run.log_metric("loss", 0.9, step=0).flush()
        panel = open_experiment(page, tracker, exp)
        row = panel.locator(f'tr[data-run-id="{run.run_id}"]')
        expect(row).to_have_attribute("data-status", "running")
        expect(panel.locator(".matih-live")).to_have_text("live")
        # The interval comes from the user setting (conftest writes refreshInterval = 1).
        expect(panel.locator(".matih-live")).to_have_attribute("title", re.compile(r"every 1 s"))
        expect(row.locator('[data-metric="loss"]')).to_have_text("0.9")

        # New values and the run's end reach the page with no click (refresh interval 1 s).
        run.log_metric("loss", 0.25, step=1).flush()
        expect(row.locator('[data-metric="loss"]')).to_have_text("0.25", timeout=15_000)
        shot(page, "runs-live")
    finally:
        run.end()
    expect(row).to_have_attribute("data-status", "finished", timeout=15_000)
    expect(row.locator(".matih-status")).to_have_text("finished")
    # The board stays live: it follows the experiment, not only its running runs.
    expect(panel.locator(".matih-live")).to_have_text("live")


def test_selecting_two_runs_draws_the_comparison(page: Any, tracker: Any) -> None:
    exp = unique("lab-compare")
    a = finished_run(tracker, exp, "run-a", {"lr": "0.1", "seed": "7"}, [1.0, 0.6, 0.4, 0.3])
    b = finished_run(tracker, exp, "run-b", {"lr": "0.01", "seed": "7"}, [1.0, 0.8, 0.7, 0.65])
    panel = open_experiment(page, tracker, exp)
    expect(panel.locator("tr[data-run-id]")).to_have_count(2)
    expect(panel.locator(".matih-hint")).to_contain_text("Tick two or more runs")

    panel.locator(f'tr[data-run-id="{a}"] input[type=checkbox]').check()
    panel.locator(f'tr[data-run-id="{b}"] input[type=checkbox]').check()
    chart = panel.locator(".matih-compare-chart")
    expect(chart.locator(".matih-chart-root")).to_be_visible()
    panel.locator(".matih-metric-select").select_option("loss")
    # The notebook widgets' chart: one curve per run, each through its four logged steps.
    expect(chart.locator(".matih-chart-panel canvas")).to_have_count(1)
    expect(chart.locator(".matih-chart-root")).to_have_attribute("data-points", "8")
    curves = chart.evaluate(
        "el => [...el.matihChart.store.curves.values()].map(c => [c.run, c.steps.length])"
    )
    assert sorted(curves) == sorted([[a, 4], [b, 4]])
    legend = chart.locator(".matih-chart-legend-entry")
    assert sorted(legend.all_inner_texts()) == ["run-a", "run-b"]
    # The lines differ because the histories differ.
    values = chart.evaluate(
        "el => [...el.matihChart.store.curves.values()].map(c => c.values.join(','))"
    )
    assert values[0] != values[1]
    # Hovering reads values out, as in the notebook.
    over = chart.locator(".u-over")
    box = over.bounding_box()
    over.hover(position={"x": box["width"] - 2, "y": box["height"] / 2})
    expect(chart.locator(".matih-chart-readout")).to_contain_text("step 3")
    # Only the differing param is listed, with each run's value.
    diff = panel.locator(".matih-param-diff tbody tr")
    expect(diff).to_have_count(1)
    expect(diff.first).to_have_attribute("data-param", "lr")
    order = [t.strip() for t in panel.locator(".matih-param-diff thead th").all_inner_texts()]
    expected = {"Param": "lr", "run-a": "0.1", "run-b": "0.01"}
    expect(diff.first.locator("td")).to_have_text([expected[h] for h in order])
    shot(page, "compare-loss")

    # Another metric: accuracy has one point per run.
    panel.locator(".matih-metric-select").select_option("accuracy")
    expect(chart.locator(".matih-chart-root")).to_have_attribute("data-points", "2")
    # Unticking one run removes the comparison.
    panel.locator(f'tr[data-run-id="{b}"] input[type=checkbox]').uncheck()
    expect(panel.locator(".matih-compare-chart")).to_have_count(0)


@pytest.fixture
def staged_model(registry: Any, tracker: Any) -> tuple[str, str]:
    """A model with v1 in production and v2 in staging, seeded through the core."""
    from sklearn.linear_model import LogisticRegression

    name = unique("lab-model")
    X, y = [[0.0], [1.0], [2.0], [3.0]], [0, 0, 1, 1]
    for c in (1.0, 0.5):
        est = LogisticRegression(C=c).fit(X, y)
        meta = registry.register_model(TENANT, name, est, "sklearn", {"accuracy": c}, {"C": c})
    model_id = meta.model_id
    registry.transition_stage(TENANT, model_id, "1", "staging", reason="seed")
    registry.transition_stage(TENANT, model_id, "1", "production", reason="seed")
    registry.transition_stage(TENANT, model_id, "2", "staging", reason="seed")
    return name, model_id


def _confirm(page: Any, reason: str) -> None:
    dialog = page.locator(".jp-Dialog")
    expect(dialog).to_be_visible()
    dialog.locator("textarea.matih-reason").fill(reason)
    shot(page, "dialog-" + re.sub(r"\W+", "-", reason)[:30])
    dialog.locator(".jp-Dialog-button.jp-mod-accept").click()
    expect(dialog).to_have_count(0)


def test_promote_and_rollback_through_the_dialog(
    page: Any, registry: Any, staged_model: tuple[str, str]
) -> None:
    name, model_id = staged_model
    panel = open_panel(page, "matih-models")
    item = panel.locator(f'[data-model-id="{model_id}"]')
    expect(item.locator(".matih-name")).to_have_text(name)
    item.click()
    v1 = panel.locator('.matih-versions li[data-version="1"]')
    v2 = panel.locator('.matih-versions li[data-version="2"]')
    expect(v1).to_have_attribute("data-stage", "production")
    expect(v2).to_have_attribute("data-stage", "staging")
    # Only the lifecycle's moves are offered.
    expect(v1.locator("button.matih-move")).to_have_text(["Archive", "Back to development"])
    expect(v2.locator("button.matih-move")).to_have_text(
        ["Promote to production", "Back to development"]
    )
    expect(v1.locator(".matih-alias")).to_have_text(["@production"])
    expect(v1.locator(".matih-run-link")).to_have_count(1)

    # Cancel changes nothing.
    v2.locator("button.matih-move-production").click()
    page.locator(".jp-Dialog .jp-mod-reject").click()
    expect(page.locator(".jp-Dialog")).to_have_count(0)
    assert registry.get_version(TENANT, model_id, "2").stage == "staging"

    v2.locator("button.matih-move-production").click()
    _confirm(page, "better accuracy in the lab")
    expect(v2).to_have_attribute("data-stage", "production")
    expect(v2.locator(".matih-badge")).to_have_text("production")
    expect(v1).to_have_attribute("data-stage", "archived")
    assert registry.get_version(TENANT, model_id, "2").stage == "production"
    assert registry.get_version(TENANT, model_id, "1").stage == "archived"
    moves = [(t.version, t.to_stage, t.reason) for t in registry.history(TENANT, model_id)]
    assert ("2", "production", "better accuracy in the lab") in moves
    entry = panel.locator('.matih-history li[data-version="2"]', has_text="better accuracy")
    expect(entry).to_have_count(1)
    expect(entry).to_contain_text("staging → production")
    expect(panel.locator(f'[data-model-id="{model_id}"] .matih-badge')).to_have_text("production")
    shot(page, "models-promoted")

    panel.locator("button.matih-rollback").click()
    _confirm(page, "regression in production")
    expect(v1).to_have_attribute("data-stage", "production")
    expect(v2).to_have_attribute("data-stage", "development")
    assert registry.get_version(TENANT, model_id, "1").stage == "production"
    assert registry.get_version(TENANT, model_id, "2").stage == "development"
    restored = [
        t
        for t in registry.history(TENANT, model_id)
        if (t.version, t.to_stage) == ("1", "production")
        and "regression in production" in (t.reason or "")
    ]
    assert len(restored) == 1
    rolled = panel.locator(".matih-history li", has_text="regression in production")
    expect(rolled).not_to_have_count(0)

    # Each version links to its run: the Experiments panel opens on it.
    run_id = registry.get_version(TENANT, model_id, "1").run_id
    v1.locator(".matih-run-link").click()
    experiments = page.locator("#matih-experiments")
    expect(experiments).to_be_visible()
    expect(experiments.locator(f'tr.matih-highlight[data-run-id="{run_id}"]')).to_have_count(1)
    shot(page, "models-rolled-back")


def test_stale_move_is_refused_with_a_notification(
    page: Any, registry: Any, staged_model: tuple[str, str]
) -> None:
    """Another user's change between load and click: the server's 409 becomes a notification."""
    _, model_id = staged_model
    panel = open_panel(page, "matih-models")
    panel.locator(f'[data-model-id="{model_id}"]').click()
    v2 = panel.locator('.matih-versions li[data-version="2"]')
    expect(v2).to_have_attribute("data-stage", "staging")
    registry.transition_stage(TENANT, model_id, "2", "development", reason="elsewhere")

    v2.locator("button.matih-move-production").click()
    _confirm(page, "stale view")
    toast = page.locator(".Toastify__toast--error, .jp-Notification-Toast-error").first
    expect(toast).to_be_visible()
    expect(toast).to_contain_text("production")
    # The panel shows MLflow's state after the refusal.
    expect(v2).to_have_attribute("data-stage", "development")
    assert registry.get_version(TENANT, model_id, "1").stage == "production"
    shot(page, "models-refused")


def test_command_palette_opens_the_panels(page: Any) -> None:
    page.keyboard.press("Control+Shift+C")
    palette = page.locator("#command-palette")
    expect(palette).to_be_visible()
    palette.locator("input").fill("Open Models Panel")
    palette.locator(".lm-CommandPalette-item", has_text="Open Models Panel").first.click()
    expect(page.locator("#matih-models")).to_be_visible()
    expect(page.locator("#matih-models .matih-tenant-select")).to_have_value(TENANT)


def test_settings_schema_is_served_with_the_users_value(lab: str) -> None:
    """The refresh interval is a user setting (Settings Editor), validated by the schema."""
    import json
    import urllib.request

    base, token = lab.split("/lab?token=")
    url = f"{base}/lab/api/settings/matih-jupyter-labextension:plugin?token={token}"
    with urllib.request.urlopen(url, timeout=10) as r:
        body = json.load(r)
    prop = body["schema"]["properties"]["refreshInterval"]
    assert (prop["type"], prop["default"], prop["minimum"]) == ("number", 1.5, 0)
    assert body["settings"]["refreshInterval"] == 1


def test_empty_models_panel_says_how_to_register_a_model(page: Any) -> None:
    """A tenant without models (globex here) is told how models get there, and the
    tutorial notebook opens from the panel."""
    panel = open_panel(page, "matih-models")
    panel.locator(".matih-tenant-select").select_option(OTHER_TENANT)
    expect(page.locator(".matih-status-tenant")).to_have_text(f"Tenant: {OTHER_TENANT}")
    hint = panel.locator(".matih-register-hint")
    expect(hint).to_contain_text("No registered models for this tenant yet.")
    # The real API, with the tenant in use.
    code = hint.locator(".matih-code")
    expect(code).to_contain_text(f'"{OTHER_TENANT}", "my-model"')
    assert "registry = ModelRegistry(tracker)\nregistry.register_model(" in code.inner_text()
    expect(hint).to_contain_text('sweep.register_best("my-model")')
    link = hint.locator(".matih-tutorial-link")
    expect(link).to_have_text("notebooks/03_compare_and_promote.ipynb")
    # It looks like a link: another colour than the text around it.
    colors = link.evaluate("a => [getComputedStyle(a).color, getComputedStyle(a.parentNode).color]")
    assert colors[0] != colors[1], colors
    # Readable at the sidebar's width: nothing sticks out of the panel.
    pane = panel.bounding_box()
    for box in (hint.bounding_box(), hint.locator(".matih-code").bounding_box()):
        assert box["x"] + box["width"] <= pane["x"] + pane["width"] + 0.5
    shot(page, "models-empty")

    link.click()
    tab = page.locator(".lm-DockPanel-tabBar .lm-TabBar-tab", has_text="03_compare_and_promote")
    expect(tab).to_have_count(1)
    expect(page.locator(".jp-Notebook").first).to_contain_text("Compare and promote")


def _models_list_for(tenant: str) -> Any:
    """Whether a request asks for `tenant`'s models list (no header: the lab's tenant)."""

    def asks(request: Any) -> bool:
        models_list = re.search(r"/matih/api/v1/models(\?|$)", request.url)
        return bool(models_list) and request.headers.get("x-tenant-id", TENANT) == tenant

    return asks


def test_a_late_answer_for_the_previous_tenant_is_not_shown(
    page: Any, staged_model: tuple[str, str]
) -> None:
    """A models list asked for one tenant that arrives after the user switched to another
    (a slow server) must not show the first tenant's models under the second."""
    _, model_id = staged_model
    first, second = _models_list_for(TENANT), _models_list_for(OTHER_TENANT)
    held: list[Any] = []
    page.route(
        re.compile(r".*/matih/api/v1/models.*"),
        lambda route: held.append(route) if first(route.request) else route.continue_(),
    )
    with page.expect_request(first):
        panel = open_panel(page, "matih-models")
    expect(page.locator(".matih-status-tenant")).to_have_text(f"Tenant: {TENANT}")
    with page.expect_response(lambda r: second(r.request)) as answer:
        panel.locator(".matih-tenant-select").select_option(OTHER_TENANT)
    answer.value.finished()
    expect(page.locator(".matih-status-tenant")).to_have_text(f"Tenant: {OTHER_TENANT}")
    expect(panel.locator(".matih-register-hint")).to_be_visible()

    # Only now does the server's answer for the first tenant, which has this model, arrive.
    assert held, "the first tenant's models list was asked for"
    for route in held:
        with page.expect_response(lambda r: first(r.request)) as late:
            route.continue_()
        late.value.finished()
    page.evaluate("() => new Promise(done => requestAnimationFrame(() => setTimeout(done, 300)))")
    assert panel.locator(f'[data-model-id="{model_id}"]').count() == 0
    expect(panel.locator(".matih-register-hint")).to_be_visible()
    expect(page.locator(".matih-status-tenant")).to_have_text(f"Tenant: {OTHER_TENANT}")
