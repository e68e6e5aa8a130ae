"""Sweeps in the Experiments panel, in a real JupyterLab and Chromium: a sweep run through
the core shows as one parent row whose trials unfold under it (keyboard too), the best
trial starred, each trial's state shown."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
from lab_harness import keep_screenshot
from playwright.sync_api import expect
from sweep_harness import mixed_objective

from matih_jupyter import RunConfig

pytestmark = pytest.mark.slow

TENANT = "acme-corp"  # the lab's tenant (conftest.py)


def open_experiment(page: Any, tracker: Any, name: str) -> Any:
    page.click('.jp-SideBar.jp-mod-left [data-id="matih-experiments"]')
    panel = page.locator("#matih-experiments")
    expect(panel).to_be_visible()
    panel.locator(
        f'[data-experiment-id="{tracker.get_or_create_experiment(name, TENANT)}"]'
    ).click()
    expect(panel.locator(".matih-runs-section h3")).to_contain_text(name)
    return panel


def test_a_sweep_unfolds_its_trials_with_the_best_starred(page: Any, tracker: Any) -> None:
    exp = f"lab-sweep-{uuid.uuid4().hex[:6]}"
    config = RunConfig(run_name="search", tenant_id=TENANT)
    result = tracker.sweep(
        mixed_objective, exp, config, n_trials=5, metric="loss", sweep_name="search"
    )
    with tracker.start_run(exp, RunConfig(run_name="baseline", tenant_id=TENANT)) as run:
        run.log_metric("loss", 3.0)

    panel = open_experiment(page, tracker, exp)

    # The top level: the sweep's parent and the baseline, no trial.
    expect(panel.locator("tr[data-run-id]")).to_have_count(2)
    parent = panel.locator(f'tr[data-run-id="{result.parent_run_id}"]')
    expect(parent.locator(".matih-sweep-summary")).to_contain_text("5 trials")
    toggle = parent.locator("button.matih-sweep-toggle")
    expect(toggle).to_have_attribute("aria-expanded", "false")

    # The toggle is the next stop after the row's checkbox; Enter unfolds the trials.
    parent.locator("input[type=checkbox]").focus()
    page.keyboard.press("Tab")
    expect(toggle).to_be_focused()
    page.keyboard.press("Enter")
    expect(toggle).to_have_attribute("aria-expanded", "true")
    trials = panel.locator(f'tr.matih-trial[data-parent-run-id="{result.parent_run_id}"]')
    expect(trials).to_have_count(5)
    expect(trials.locator(".matih-trial-number")).to_have_text(["#0", "#1", "#2", "#3", "#4"])
    states = [trials.nth(i).get_attribute("data-trial-state") for i in range(5)]
    assert states[1:3] == ["fail", "pruned"] and {states[0], *states[3:]} == {"complete"}
    expect(trials.nth(2).locator(".matih-status")).to_have_text("pruned")

    # Exactly one star, on the best trial's row, and it says what it means.
    expect(panel.locator(".matih-best")).to_have_count(1)
    best = panel.locator(f'tr[data-run-id="{result.best_run_id}"]')
    star = best.locator(".matih-best")
    expect(star).to_have_text("★")
    expect(star).to_have_attribute("title", re.compile(r"^Best trial of the sweep \(loss \S+\)$"))
    expect(best).to_have_class(re.compile(r"\bmatih-best-trial\b"))
    # Readable in the default sidebar (250 px): the star sits inside the panel.
    pane, box = panel.bounding_box(), star.bounding_box()
    assert pane["width"] <= 300 and box["x"] + box["width"] <= pane["x"] + pane["width"]
    keep_screenshot(panel, "labextension-sweep-trials")

    # Trials compare like any runs; folding them away drops them from the comparison.
    trials.nth(1).locator("input[type=checkbox]").check()  # failed: never the best
    best.locator("input[type=checkbox]").check()
    expect(panel.locator(".matih-compare h3")).to_have_text("Compare 2 runs")

    # Enter again folds them away.
    toggle.focus()
    page.keyboard.press("Enter")
    expect(toggle).to_have_attribute("aria-expanded", "false")
    expect(trials).to_have_count(0)
    expect(panel.locator(".matih-compare")).to_have_count(0)
