"""The Experiments panel as a live board, in a real JupyterLab and Chromium: experiments
and runs started elsewhere (here: the Python API in the test process, on the lab's store)
appear, update and finish with no click, in two browsers at once; a hidden panel stops
asking the server."""

from __future__ import annotations

import time
import uuid
from typing import Any

import pytest
from lab_harness import keep_screenshot
from playwright.sync_api import expect

from matih_jupyter import RunConfig

pytestmark = pytest.mark.slow

TENANT = "acme-corp"  # the lab's tenant (conftest.py)
#: A new run must show within about 2 s; the margin is for a busy shared machine.
APPEARS_WITHIN_MS = 6_000


def open_experiments(page: Any) -> Any:
    page.click('.jp-SideBar.jp-mod-left [data-id="matih-experiments"]')
    panel = page.locator("#matih-experiments")
    expect(panel).to_be_visible()
    return panel


def changes_polls(page: Any) -> list[str]:
    """The URLs of the panel's change polls, as the page sends them (kept growing)."""
    seen: list[str] = []
    page.on("request", lambda r: seen.append(r.url) if "/matih/api/v1/changes" in r.url else None)
    return seen


@pytest.fixture
def second_page(browser: Any, lab: str) -> Any:
    """Another browser (its own context: cookies, storage) on the same lab."""
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    pg = context.new_page()
    pg.set_default_timeout(20_000)
    pg.goto(lab.replace("/lab?", "/lab/workspaces/other-" + uuid.uuid4().hex[:8] + "?reset&"))
    pg.wait_for_selector(".jp-LauncherBody, .jp-Launcher", timeout=60_000)
    yield pg
    context.close()


def test_new_experiments_and_runs_appear_and_finish_without_a_click(
    page: Any, second_page: Any, tracker: Any
) -> None:
    panels = [open_experiments(p) for p in (page, second_page)]
    polls = changes_polls(page)
    for panel in panels:
        expect(panel.locator(".matih-live")).to_have_text("live")

    # A new experiment shows in both browsers.
    exp = f"lab-board-{uuid.uuid4().hex[:6]}"
    exp_id = tracker.get_or_create_experiment(exp, TENANT)
    for panel in panels:
        expect(panel.locator(f'[data-experiment-id="{exp_id}"]')).to_have_count(
            1, timeout=APPEARS_WITHIN_MS
        )
        panel.locator(f'[data-experiment-id="{exp_id}"]').click()
        expect(panel.locator(".matih-runs-empty")).to_have_text("No runs in this experiment yet.")

    # A run started after the panels loaded appears, with its status and latest metrics.
    run = tracker.start_run(exp, RunConfig(run_name="board-run", tenant_id=TENANT))
    started = time.monotonic()
    try:
        run.log_metric("loss", 0.9, step=0).flush()
        rows = [p.locator(f'tr[data-run-id="{run.run_id}"]') for p in panels]
        for row in rows:
            expect(row).to_have_attribute("data-status", "running", timeout=APPEARS_WITHIN_MS)
        seen_after = time.monotonic() - started
        for row in rows:
            expect(row.locator('[data-metric="loss"]')).to_have_text("0.9")
        run.log_metric("loss", 0.25, step=1).flush()
        for row in rows:
            expect(row.locator('[data-metric="loss"]')).to_have_text(
                "0.25", timeout=APPEARS_WITHIN_MS
            )
        keep_screenshot(panels[0], "labextension-live-board-running")
    finally:
        run.end()
    for row in rows:
        expect(row).to_have_attribute("data-status", "finished", timeout=APPEARS_WITHIN_MS)
        expect(row.locator(".matih-status")).to_have_text("finished")
    print(f"new run shown {seen_after:.1f} s after it started")

    # The polls ask for tokens only: no listing is reloaded while nothing changes.
    listings: list[str] = []
    page.on("request", lambda r: listings.append(r.url) if "/runs" in r.url else None)
    before = len(polls)
    page.wait_for_timeout(3_000)
    assert len(polls) - before >= 2, polls
    assert listings == []
    assert all("no_track_activity=1" in url for url in polls)


def test_a_hidden_panel_stops_asking_the_server(page: Any) -> None:
    open_experiments(page)
    polls = changes_polls(page)
    page.wait_for_timeout(2_500)
    assert len(polls) >= 1, "the visible panel polls"

    # Another sidebar tab hides the panel: no more polls.
    page.click('.jp-SideBar.jp-mod-left [data-id="filebrowser"]')
    expect(page.locator("#matih-experiments")).to_be_hidden()
    page.wait_for_timeout(1_200)  # a poll in flight may still land
    hidden_at = len(polls)
    page.wait_for_timeout(3_000)
    assert len(polls) == hidden_at, polls[hidden_at:]

    # Shown again, it polls again.
    open_experiments(page)
    page.wait_for_timeout(2_500)
    assert len(polls) > hidden_at
