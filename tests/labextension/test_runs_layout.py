"""The runs list at the sidebar's default width (~250 px) and over many runs, in a real
JupyterLab and Chromium: nothing overflows its column, status pills and metrics read whole,
the list pages in as it scrolls and searches every run on the server."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from lab_harness import keep_screenshot
from playwright.sync_api import expect

from matih_jupyter import RunConfig

pytestmark = pytest.mark.slow

TENANT = "acme-corp"  # the lab's tenant (conftest.py)
#: The sidebar's width in these tests: JupyterLab's default, about 250 px.
SIDEBAR = (230, 280)
#: Runs per page of the sidebar's list (labextension/src/model.ts RUNS_PAGE).
PAGE = 50

#: Every element of the runs section must sit inside its cell (or, outside the table,
#: inside the panel), and no cell may scroll sideways. Answers the offenders.
OVERFLOWS = """
(panel) => {
  const bad = [];
  const pane = panel.getBoundingClientRect();
  const within = (el, box, slack = 0.5) => {
    const r = el.getBoundingClientRect();
    return r.width === 0 || (r.left >= box.left - slack && r.right <= box.right + slack);
  };
  const name = el => el.className || el.tagName;
  panel.querySelectorAll('.matih-runs-section *').forEach(el => {
    const cell = el.closest('td, th');
    if (cell && cell !== el && !within(el, cell.getBoundingClientRect())) {
      bad.push(`${name(el)} leaves its cell (${el.textContent.slice(0, 40)})`);
    }
    if (!within(el, pane)) {
      bad.push(`${name(el)} leaves the panel`);
    }
  });
  panel.querySelectorAll('.matih-runs td, .matih-runs th, .matih-status').forEach(el => {
    if (el.scrollWidth > el.clientWidth + 1) {
      bad.push(`${name(el)} is cut: ${el.textContent.slice(0, 40)}`);
    }
  });
  const side = panel.closest('.matih-sidebar');
  if (side.scrollWidth > side.clientWidth + 1) {
    bad.push(`the panel scrolls sideways (${side.scrollWidth} > ${side.clientWidth})`);
  }
  return bad;
}
"""

#: Metric chips of one row that share a line must keep a visible gap between them.
CHIP_GAPS = """
(row) => {
  const chips = [...row.querySelectorAll('.matih-metric-chip')].map(c => c.getBoundingClientRect());
  const gaps = [];
  for (let i = 1; i < chips.length; i++) {
    if (Math.abs(chips[i].top - chips[i - 1].top) < 2) {
      gaps.push(chips[i].left - chips[i - 1].right);
    }
  }
  return gaps;
}
"""


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:6]}"


def open_experiment(page: Any, exp_id: str) -> Any:
    page.click('.jp-SideBar.jp-mod-left [data-id="matih-experiments"]')
    panel = page.locator("#matih-experiments")
    expect(panel).to_be_visible()
    panel.locator(f'[data-experiment-id="{exp_id}"]').click()
    expect(panel.locator(".matih-runs-section")).to_be_visible()
    return panel


def ended_run(tracker: Any, exp: str, name: str, status: str, metrics: dict) -> str:
    run = tracker.start_run(exp, RunConfig(run_name=name, tenant_id=TENANT))
    for key, value in metrics.items():
        run.log_metric(key, value)
    run.end(status)
    return str(run.run_id)


def test_runs_fit_the_default_sidebar_width(page: Any, tracker: Any) -> None:
    exp = unique("lab-narrow")
    metrics = {"val_auc": 0.9216, "val_acc": 0.894, "train/loss_of_the_last_epoch": 0.0123}
    ids = {
        status: ended_run(
            tracker, exp, f"{status}-gradient-boosting-with-a-long-name", status, metrics
        )
        for status in ("FINISHED", "FAILED", "KILLED")
    }
    live = tracker.start_run(exp, RunConfig(run_name="running-now", tenant_id=TENANT))
    try:
        live.log_metric("val_auc", 0.5).flush()
        exp_id = tracker.get_or_create_experiment(exp, TENANT)
        panel = open_experiment(page, exp_id)
        rows = panel.locator("tr[data-run-id]")
        expect(rows).to_have_count(4)

        width = panel.bounding_box()["width"]
        assert SIDEBAR[0] <= width <= SIDEBAR[1], width
        assert panel.evaluate(OVERFLOWS) == []

        for status, run_id in ids.items():
            row = panel.locator(f'tr[data-run-id="{run_id}"]')
            pill = row.locator(".matih-status")
            expect(pill).to_have_text(status.lower())  # whole, not "fin" / "kil"
            # Start and duration are shown, inside the row.
            for part in (".matih-start", ".matih-duration"):
                box = row.locator(part).bounding_box()
                assert box and box["width"] > 0, (status, part)
            expect(row.locator(".matih-duration")).not_to_have_text("")
            # Each metric reads as its own "key value", never "0.9216val_acc".
            chips = row.locator(".matih-metric-chip")
            expect(chips).to_have_count(3)
            assert all(g >= 4 for g in row.evaluate(CHIP_GAPS)), row.evaluate(CHIP_GAPS)
            expect(row.locator('[data-metric="val_auc"]')).to_have_text("0.9216")
            # The whole story is in the row's tooltip.
            tip = row.get_attribute("title")
            assert run_id in tip and f"status {status.lower()}" in tip
            assert "val_acc = 0.894" in tip and "train/loss_of_the_last_epoch" in tip
        expect(panel.locator(f'tr[data-run-id="{live.run_id}"] .matih-status')).to_have_text(
            "running"
        )
        keep_screenshot(panel, "labextension-runs-250px")

        # Ticking two runs adds the comparison: still nothing leaves the panel.
        panel.locator(f'tr[data-run-id="{ids["FINISHED"]}"] input[type=checkbox]').check()
        panel.locator(f'tr[data-run-id="{ids["FAILED"]}"] input[type=checkbox]').check()
        expect(panel.locator(".matih-compare h3")).to_have_text("Compare 2 runs")
        assert panel.evaluate(OVERFLOWS) == []
    finally:
        live.end()


def test_the_list_pages_in_on_scroll_and_searches_every_run(page: Any, tracker: Any) -> None:
    exp = unique("lab-many")
    exp_id = tracker.get_or_create_experiment(exp, TENANT)
    total = 2 * PAGE + 20
    ids = [
        tracker.create_run(exp_id, RunConfig(run_name=f"run-{i:03d}", tenant_id=TENANT)).id
        for i in range(total)
    ]
    for i in (3, 7, 110):
        tracker.end_run(ids[i], "FAILED", TENANT)
    for i in range(total):
        if i not in (3, 7, 110):
            tracker.end_run(ids[i], "FINISHED", TENANT)

    pages: list[int] = []

    def listed(response: Any) -> None:
        if f"/experiments/{exp_id}/runs" in response.url and response.ok:
            pages.append(len(json.loads(response.body())["runs"]))

    page.on("response", listed)
    panel = open_experiment(page, exp_id)
    rows = panel.locator("tr[data-run-id]")
    expect(rows).to_have_count(PAGE)
    expect(panel.locator(".matih-runs-count")).to_have_text(f"{PAGE} runs shown")
    # Newest first: the oldest runs are not loaded yet.
    expect(panel.locator(f'tr[data-run-id="{ids[0]}"]')).to_have_count(0)

    # Scrolling to the end of the list loads the next page, then the last one.
    for shown in (2 * PAGE, total):
        panel.locator(".matih-more").scroll_into_view_if_needed()
        expect(rows).to_have_count(shown)
    expect(panel.locator(".matih-load-more")).to_have_count(0)
    expect(panel.locator(".matih-runs-count")).to_have_text(f"{total} runs")
    assert len({r.get_attribute("data-run-id") for r in rows.all()}) == total
    assert pages and max(pages) <= PAGE, pages
    keep_screenshot(panel, "labextension-runs-paged")

    # The search runs on the server: it finds the oldest run, never loaded by scrolling up.
    panel.locator(".matih-run-search").fill("run-000")
    expect(rows).to_have_count(1)
    expect(panel.locator(f'tr[data-run-id="{ids[0]}"]')).to_have_count(1)
    panel.locator(".matih-run-search").fill("run-01")
    expect(rows).to_have_count(10)
    panel.locator(".matih-run-search").fill("no-such-run")
    expect(panel.locator(".matih-runs-empty")).to_have_text("No run matches.")

    # A status, alone and with a search.
    panel.locator(".matih-run-search").fill("")
    panel.locator(".matih-run-status").select_option("failed")
    expect(rows).to_have_count(3)
    assert {r.get_attribute("data-status") for r in rows.all()} == {"failed"}
    panel.locator(".matih-run-search").fill("run-00")
    expect(rows).to_have_count(2)
    expect(panel.locator(f'tr[data-run-id="{ids[110]}"]')).to_have_count(0)
    assert panel.evaluate(OVERFLOWS) == []

    # Clearing both shows the first page again.
    panel.locator(".matih-run-search").fill("")
    panel.locator(".matih-run-status").select_option("")
    expect(rows).to_have_count(PAGE)
