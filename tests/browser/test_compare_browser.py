"""RunComparison's browser charts in a real JupyterLab: the scatter and the parallel
coordinates of every listed run, a hover read-out, and selections made in the browser (a
click on a point, an axis brush) that the kernel sees in ``.selected`` and the overlay
draws; a bad run id shows a message in the widget."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from matih_jupyter import RunConfig

from .conftest import TENANT
from .notebook_driver import open_notebook, run_cell, unique, wait_done
from .test_widgets_browser import shot

pytestmark = [pytest.mark.slow, pytest.mark.browser]

LOW = [0.55 + 0.005 * i for i in range(20)]  # auc of the "low" runs: 0.55 .. 0.645
HIGH = [0.80 + 0.005 * i for i in range(20)]  # and of the "high" ones: 0.80 .. 0.895


def chart_js(body: str) -> str:
    """A function of the page's RunsChart (the widget's element keeps it)."""
    return f"arg => {{ const c = document.querySelector('.matih-runs-widget').matihRuns; {body} }}"


def printed(page: Any, index: int) -> str:
    out = run_cell(page, index)
    wait_done(out)
    return out.locator(".jp-OutputArea-output").last.inner_text()


def test_browser_selection_reaches_the_kernel_and_the_overlay(
    page: Any, lab: str, notebooks_dir: Path, lab_tracker: Any
) -> None:
    experiment = unique("browser-runs")
    for i, auc in enumerate(LOW + HIGH):
        name = f"{'high' if auc >= 0.8 else 'low'}-{i:02d}"
        with lab_tracker.start_run(experiment, RunConfig(run_name=name, tenant_id=TENANT)) as r:
            r.log_params({"lr": str(10.0 ** -(i % 4 + 1)), "depth": str(2 + i % 7)})
            for step in range(3):
                r.log_metric("auc", auc - (2 - step) * 0.01, step=step)
    open_notebook(
        page, lab, notebooks_dir,
        [
            "from matih_jupyter.widgets import RunComparison\n"
            f"cmp = RunComparison({experiment!r}, max_table_rows=5)\ncmp",
            "print('SELECTED', sorted(cmp.selected['run_name']))",
            "cmp.select(['0123456789abcdef0123456789abcdef'])",
        ],
    )  # fmt: skip
    out = run_cell(page, 0)
    wait_done(out)
    root = out.locator(".matih-runs-root")
    root.scroll_into_view_if_needed()
    expect(root).to_have_attribute("data-runs", "40")
    expect(out.locator(".matih-runs-scatter canvas")).to_have_attribute("data-points", "40")
    expect(out.locator(".matih-runs-parallel canvas")).to_have_attribute("data-lines", "40")
    # Hover the highest point: the read-out names it.
    best = page.evaluate(
        chart_js(
            "const ys = c.scatter.py; let b = 0;"
            " for (let i = 1; i < ys.length; i++) { if (ys[i] < ys[b]) { b = i; } }"
            " return { row: b, at: c.scatter.position(b) };"
        )
    )
    box = out.locator(".matih-runs-scatter canvas").bounding_box()
    page.mouse.move(box["x"] + best["at"]["x"], box["y"] + best["at"]["y"])
    expect(out.locator(".matih-runs-readout")).to_contain_text("high-39 (")
    expect(out.locator(".matih-runs-readout")).to_contain_text("auc 0.895")
    # A click selects that run: the kernel's .selected and the overlay follow.
    page.mouse.click(box["x"] + best["at"]["x"], box["y"] + best["at"]["y"])
    expect(root).to_have_attribute("data-selected", "1")
    overlay = out.locator(".matih-compare-overlay .matih-chart-root")
    expect(overlay.locator(".matih-chart-legend-entry")).to_have_text(["high-39"])
    assert "SELECTED ['high-39']" in printed(page, 1)
    # Brushing the top of the auc axis selects the high runs, in the kernel too.
    axes = page.evaluate(chart_js("return c.parallel.axes.map(a => a.column.key);"))
    k = axes.index("metrics.auc")
    pbox = out.locator(".matih-runs-parallel canvas").bounding_box()
    top, bottom = (
        page.evaluate(chart_js("return c.parallel.axisPoint(arg[0], arg[1]);"), [k, t])
        for t in (0.99, 0.62)
    )
    page.mouse.move(pbox["x"] + top["x"], pbox["y"] + top["y"])
    page.mouse.down()
    page.mouse.move(pbox["x"] + bottom["x"], pbox["y"] + bottom["y"], steps=8)
    page.mouse.up()
    expect(root).to_have_attribute("data-selected", "20")
    high = sorted(f"high-{i:02d}" for i in range(20, 40))
    assert f"SELECTED {high}" in printed(page, 1)
    expect(overlay.locator(".matih-chart-legend-entry")).to_have_count(20)
    shot(page, "comparison-browser-selection")
    # A run id that is not the tenant's: a message in the widget, and nothing selected.
    wait_done(run_cell(page, 2))
    expect(out.locator(".matih-error-area")).to_contain_text("NotFoundError")
    expect(out.locator(".matih-runs-root .matih-chart-message[role=alert]")).to_contain_text(
        "not found"
    )
    assert "SELECTED []" in printed(page, 1)
