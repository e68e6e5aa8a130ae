"""``%%matih_sweep --live`` in a real JupyterLab, driven by Chromium: the trials table fills
while the sweep runs, a click on a trial selects it in the parallel coordinates and shows
only its curves (in the browser, while the kernel is still busy), and the sweep leaves its
figure behind."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from .conftest import SCREENSHOTS, TENANT
from .notebook_driver import eventually, open_notebook, run_cell, unique, wait_done

pytestmark = [pytest.mark.slow, pytest.mark.browser]


def sweep_cell(experiment: str) -> str:
    """Six trials of about a second each: three reported steps, 0.3 s apart."""
    return (
        f"%%matih_sweep {experiment} --trials 6 --metric loss --name watched --live --seed 1\n"
        "import time\n"
        "x = trial.suggest_float('x', -2, 2)\n"
        "for step in range(3):\n"
        "    trial.report((x - 0.5) ** 2 + 1 / (step + 1), step)\n"
        "    time.sleep(0.3)\n"
        "(x - 0.5) ** 2\n"
    )


def test_live_sweep_view_fills_and_a_click_shows_one_trials_curves(
    page: Any, lab: str, notebooks_dir: Path, lab_tracker: Any
) -> None:
    experiment = unique("browser-sweep")
    open_notebook(page, lab, notebooks_dir, ["%load_ext matih_jupyter", sweep_cell(experiment)])
    wait_done(run_cell(page, 0))
    running = run_cell(page, 1)
    table = running.locator(".matih-trials-widget")
    expect(table).to_be_visible(timeout=30_000)
    ended = table.locator("tbody tr[data-state='COMPLETE']")
    eventually(lambda: ended.count() >= 2, timeout=30, what="two trials to end")
    assert running.locator(".jp-InputArea-prompt").inner_text().strip() == "[*]:"
    curves = running.locator(".matih-live-widget").nth(1)  # progress first, then curves
    legend = curves.locator(".matih-chart-legend-entry")
    eventually(lambda: legend.count() >= 2, what="two trials' curves")

    ended.first.click()  # the kernel is busy: the browser alone answers the click
    expect(ended.first).to_have_attribute("aria-selected", "true")
    expect(legend).to_have_count(1)
    expect(legend.first).to_contain_text("trial 0")
    runs_root = running.locator(".matih-runs-root")
    expect(runs_root).to_have_attribute("data-selected", "1")
    assert running.locator(".jp-InputArea-prompt").inner_text().strip() == "[*]:"
    progress = running.locator(".matih-live-widget").first
    expect(progress.locator(".matih-chart-message")).to_contain_text("best loss")
    over = progress.locator(".matih-chart-panel .u-over").first
    box = over.bounding_box()
    over.hover(position={"x": box["width"] - 2, "y": box["height"] / 2})
    expect(progress.locator(".matih-chart-readout")).to_contain_text("· trial ")  # not "step"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "sweep-live.png"), full_page=True)

    ended.first.click()  # clicked again: every trial's curves come back
    eventually(lambda: legend.count() >= 2, what="every trial's curves again")

    wait_done(running, timeout=60)
    expect(running.locator(".matih-trials-widget")).to_have_count(0, timeout=15_000)
    static = running.locator(".jp-OutputArea-output img")
    assert static.first.get_attribute("src").startswith("data:image/png;base64,")
    (parent,) = [
        r for r in lab_tracker.list_runs(TENANT, experiment_name=experiment)
        if r.tags.get("matih.sweep.role") == "parent"
    ]  # fmt: skip
    assert parent.status == "finished"
