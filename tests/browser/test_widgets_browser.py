"""The widgets in a real JupyterLab, driven by Chromium like a person would.

Each test writes a notebook with nbformat, opens it, runs its cells one by one and checks
the page and, for writes, MLflow itself.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from matih_jupyter import RunConfig

from .conftest import SCREENSHOTS, TENANT
from .notebook_driver import eventually, open_notebook, run_cell, unique, wait_done

pytestmark = [pytest.mark.slow, pytest.mark.browser]

XSS = "<img src=x onerror=alert(1)>"


def shot(page: Any, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"widgets-{name}.png"), full_page=True)


def test_live_chart_draws_while_the_cell_runs_and_leaves_the_final_png(
    page: Any, lab: str, notebooks_dir: Path, lab_tracker: Any
) -> None:
    experiment = unique("browser-live")
    loop = (
        f"%%matih_run {experiment} --name live-browser --live\n"
        "import time\n"
        "for step in range(100):\n"
        "    run.log_metric('loss', 1.0 / (step + 1), step=step)\n"
        "    run.log_metric('accuracy', step / 100, step=step)\n"
        "    time.sleep(0.05)\n"
    )
    path = open_notebook(page, lab, notebooks_dir, ["%load_ext matih_jupyter", loop])
    wait_done(run_cell(page, 0))
    running = run_cell(page, 1)
    chart = running.locator(".matih-live-widget .matih-chart-root")
    expect(chart).to_be_visible(timeout=20_000)
    draws: list[int] = []

    def drawn_again() -> bool:
        draws.append(int(chart.get_attribute("data-draws") or 0))
        return len(set(draws)) >= 4

    eventually(drawn_again, timeout=30, what="the chart to draw new points three times")
    # Still training: the prompt shows the cell is running while the chart grows.
    assert running.locator(".jp-InputArea-prompt").inner_text().strip() == "[*]:"
    expect(running.locator(".matih-chart-panel")).to_have_count(2)
    latency = float(chart.get_attribute("data-arrival-latency-ms") or "inf")
    assert latency < 5_000  # points arrive while they are fresh (the figure: bench)
    over = running.locator(".matih-chart-panel .u-over").first
    box = over.bounding_box()
    over.hover(position={"x": box["width"] / 2, "y": box["height"] / 2})
    expect(running.locator(".matih-chart-readout")).to_contain_text("step ")
    shot(page, "live-plot-running")
    wait_done(running, timeout=60)
    # The run ended: the chart became the final curves as a plain image.
    expect(running.locator(".matih-chart-root")).to_have_count(0, timeout=15_000)
    static = running.locator(".jp-OutputArea-output img")
    expect(static).to_have_count(1)
    assert static.get_attribute("src").startswith("data:image/png;base64,")
    shot(page, "live-plot-finished")
    # Saved, the notebook carries that PNG: JupyterLab, GitHub and nbviewer show it.
    page.keyboard.press("Control+s")
    saved_outputs = eventually(
        lambda: [
            o
            for o in json.loads(path.read_text())["cells"][1].get("outputs", [])
            if "image/png" in o.get("data", {})
        ],
        what="the saved notebook to hold the PNG",
    )
    png = saved_outputs[0]["data"]["image/png"]
    assert base64.b64decode(png).startswith(b"\x89PNG")
    assert "application/vnd.jupyter.widget-view+json" not in saved_outputs[0]["data"]
    runs = lab_tracker.list_runs(TENANT, experiment_name=experiment)
    assert len(runs) == 1 and runs[0].status == "finished"
    assert len(lab_tracker.get_metric_history(runs[0].id, "loss", TENANT)) == 100


def test_comparison_sorts_and_selection_overlays(
    page: Any, lab: str, notebooks_dir: Path, lab_tracker: Any
) -> None:
    experiment = unique("browser-cmp")
    specs = {XSS: (0.1, 0.70), "beta": (0.01, 0.90), "gamma": (0.001, 0.80)}
    for name, (lr, auc) in specs.items():
        with lab_tracker.start_run(experiment, RunConfig(run_name=name, tenant_id=TENANT)) as r:
            r.log_params({"lr": lr, "depth": 5 if name == "beta" else 3})
            for step in range(5):
                r.log_metric("auc", auc - (4 - step) * 0.05, step=step)
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    open_notebook(
        page, lab, notebooks_dir,
        [
            "from matih_jupyter.widgets import RunComparison\n"
            f"cmp = RunComparison({experiment!r})\ncmp",
            "print('SELECTED', sorted(cmp.selected['run_name']))",
        ],
    )  # fmt: skip
    out = run_cell(page, 0)
    wait_done(out)
    table = out.locator(".matih-run-table")
    expect(table).to_be_visible()

    def names() -> list[str]:
        return table.locator(".matih-cell span[title]").all_inner_texts()

    eventually(lambda: sorted(names()) == sorted(specs), what="three rows")
    # A row is one widget whose cells sit in the grid's columns, under their headers.
    headers = table.locator(".matih-sort-header")
    cells = table.locator(".matih-row").first.locator(".matih-cell")
    assert cells.count() == headers.count() == 5
    for i in range(5):
        head, cell = headers.nth(i).bounding_box(), cells.nth(i).bounding_box()
        assert head and cell and cell["y"] > head["y"]
        assert abs(head["x"] + head["width"] / 2 - cell["x"] - cell["width"] / 2) < 2
    table.locator(".matih-sort-header", has_text="auc").click()  # sorted by auc, descending
    eventually(lambda: names() == ["beta", "gamma", XSS], what="descending auc order")
    table.locator(".matih-sort-header", has_text="auc").click()  # again: ascending
    eventually(lambda: names() == [XSS, "gamma", "beta"], what="ascending auc order")
    expect(table.locator(".matih-cell", has_text="0.9").first).to_be_visible()
    # The selected runs' curves are drawn in the browser by the shared chart.
    overlay = out.locator(".matih-compare-overlay .matih-chart-root")
    boxes = table.locator("input[type=checkbox]")
    boxes.nth(1).check()
    expect(overlay.locator(".matih-chart-legend-entry")).to_have_count(1)
    boxes.nth(2).check()
    expect(overlay.locator(".matih-chart-legend-entry")).to_have_count(2)
    expect(overlay).to_have_attribute("data-points", "10")
    expect(out.locator(".matih-param-diff")).to_be_visible()
    expect(out.locator(".matih-param-diff")).to_contain_text("depth")
    shot(page, "comparison-selected")
    printed = run_cell(page, 1)
    wait_done(printed)
    expect(printed.locator(".jp-OutputArea-output")).to_contain_text("SELECTED ['beta', 'gamma']")
    assert dialogs == []  # the run named like an <img onerror> stayed text
    expect(table.get_by_text(XSS)).to_be_visible()


def test_promote_button_changes_the_stage_in_mlflow(
    page: Any, lab: str, notebooks_dir: Path, lab_registry: Any
) -> None:
    from sklearn.linear_model import LogisticRegression

    model = unique("browser-model")
    est = LogisticRegression().fit([[0.0], [1.0], [2.0], [3.0]], [0, 0, 1, 1])
    lab_registry.register_model(TENANT, model, est, "sklearn", {"auc": 0.80}, {"C": 1.0})
    lab_registry.create_version(TENANT, model, est, "sklearn", {"auc": 0.86}, {"C": 2.0})
    for step in ("staging", "production"):
        lab_registry.transition_stage(TENANT, model, "1", step, user_id="alice")
    lab_registry.transition_stage(TENANT, model, "2", "staging", user_id="alice")
    open_notebook(
        page, lab, notebooks_dir,
        [f"from matih_jupyter.widgets import ModelPromotion\nModelPromotion({model!r})"],
    )  # fmt: skip
    out = run_cell(page, 0)
    wait_done(out)
    widget = out.locator(".matih-model-promotion")
    expect(widget.locator(".matih-version-table")).to_contain_text("staging")
    # v2 (newest, staging) is selected: only production and development are allowed.
    expect(widget.locator("button.matih-to-archived")).to_be_disabled()
    expect(widget.locator("button.matih-to-staging")).to_be_disabled()
    expect(widget.locator("button.matih-to-production")).to_be_enabled()
    widget.locator("button.matih-to-production").click()
    box = widget.locator(".matih-confirm-box")
    expect(box.locator(".matih-delta")).to_contain_text("champion v1")
    expect(box.locator(".matih-delta")).to_contain_text("+0.06")
    box.locator("input[type=text]").fill("beats v1 on auc")
    box.locator("input[type=text]").press("Tab")
    shot(page, "promotion-confirm")
    box.locator("button.matih-confirm").click()

    def stages() -> dict[str, str]:
        return {v.version: v.stage for v in lab_registry.list_versions(TENANT, model)}

    eventually(lambda: stages() == {"2": "production", "1": "archived"}, what="v2 in production")
    last = lab_registry.history(TENANT, model)
    assert any(r.version == "2" and r.to_stage == "production" and r.reason for r in last)
    assert any("beats v1 on auc" in (r.reason or "") for r in last)
    expect(widget.locator(".matih-error-area")).to_contain_text("moved to production")
    expect(widget.locator("button.matih-to-archived")).to_be_enabled()
    shot(page, "promotion-done")
