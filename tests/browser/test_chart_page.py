"""The chart's front end in Chromium, on a page that loads the built widget module the way
anywidget does (a model object with anywidget's interface): streaming, hover, zoom and
reset, legend toggles, smoothing, log scale and x modes, theme switches, keyboard use.
The same module runs inside JupyterLab in test_live_chart_browser.py."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from lab_harness import keep_screenshot, widget_page

pytestmark = pytest.mark.browser

PAGE = Path(__file__).parent / "chart_page" / "index.html"
T0 = 1_767_225_600_000.0  # a wall time in ms


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with widget_page(tmp_path_factory.mktemp("chart-page"), PAGE.read_text()) as url:
        yield url


@pytest.fixture
def chart(browser: Any, site: str, request: pytest.FixtureRequest) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1000, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(site)
    page.wait_for_function("window.ready === true")
    yield page
    try:
        keep_screenshot(page, f"chart-{request.node.name}")
    finally:
        context.close()
    assert errors == []


def curve(run: str, metric: str, steps: range, f: Any, label: str | None = None) -> dict:
    return {
        "run": run,
        "label": label or run,
        "metric": metric,
        "steps": list(steps),
        "values": [f(s) for s in steps],
        "times": [T0 + 100.0 * s for s in steps],
    }


def push(page: Any, mode: str, curves: list[dict]) -> None:
    page.evaluate("([mode, curves]) => window.pushPoints(mode, curves)", [mode, curves])


def frames(page: Any, n: int = 2) -> None:
    page.evaluate(
        "n => new Promise(r => {"
        " const f = k => (k ? requestAnimationFrame(() => f(k - 1)) : r()); f(n); })",
        n,
    )


def draws(page: Any) -> int:
    return int(page.evaluate("() => Number(window.chart.root.dataset.draws || 0)"))


def x_range(page: Any, panel: str) -> list[float]:
    return page.evaluate(
        "p => { const u = window.chart.panels.get(p).plot;"
        " return [u.scales.x.min, u.scales.x.max]; }",
        panel,
    )


def test_points_stream_in_and_every_batch_is_drawn(chart: Any) -> None:
    assert "waiting for metrics" in chart.inner_text(".matih-chart-message")
    seen = []
    for batch in range(5):
        steps = range(batch * 20, (batch + 1) * 20)
        push(chart, "append", [
            curve("run-a", "loss", steps, lambda s: 1 / (s + 1)),
            curve("run-a", "acc", steps, lambda s: s / 100),
        ])  # fmt: skip
        frames(chart)
        seen.append(draws(chart))
    assert seen == sorted(seen) and seen[-1] > seen[0] >= 1
    assert chart.evaluate("() => window.chart.root.dataset.points") == "200"
    assert chart.locator(".matih-chart-panel").count() == 2
    assert chart.inner_text(".matih-chart-panel >> nth=0").startswith("loss")
    chart.evaluate("() => window.model.set('status', 'gbm · running · 200 points')")
    assert chart.locator(".matih-chart-message[role=status]").inner_text() == (
        "gbm · running · 200 points"
    )


def test_hover_reads_out_step_value_wall_time_and_time_since_start(chart: Any) -> None:
    push(chart, "append", [curve("run-a", "loss", range(100), lambda s: 10 - s / 10, "gbm")])
    frames(chart)
    over = chart.locator(".matih-chart-panel .u-over").first
    box = over.bounding_box()
    over.hover(position={"x": box["width"] / 2, "y": box["height"] / 2})
    frames(chart)
    text = chart.inner_text(".matih-chart-readout")
    match = re.search(r"gbm: ([\d.]+) · step (\d+) · \d\d:\d\d:\d\d · \+([\d.]+) s", text)
    assert match, text
    step = int(match.group(2))
    assert 40 <= step <= 60
    assert float(match.group(1)) == pytest.approx(10 - step / 10, rel=1e-4)
    assert float(match.group(3)) == pytest.approx(step * 0.1, abs=0.01)


def test_drag_zooms_every_panel_asks_for_detail_and_double_click_resets(chart: Any) -> None:
    steps = range(1000)
    push(chart, "append", [
        curve("run-a", "loss", steps, lambda s: 1 / (s + 1)),
        curve("run-a", "acc", steps, lambda s: s / 1000),
    ])  # fmt: skip
    frames(chart)
    full = x_range(chart, "loss")
    over = chart.locator('.matih-chart-panel[data-panel="loss"] .u-over')
    box = over.bounding_box()
    y = box["y"] + box["height"] / 2
    chart.mouse.move(box["x"] + box["width"] * 0.25, y)
    chart.mouse.down()
    chart.mouse.move(box["x"] + box["width"] * 0.5, y, steps=5)
    chart.mouse.up()
    frames(chart)
    zoomed = x_range(chart, "loss")
    assert full[0] <= 10 and full[1] >= 990
    assert 200 < zoomed[0] < zoomed[1] < 550
    assert x_range(chart, "acc") == pytest.approx(zoomed)  # the other panel follows
    sent = chart.evaluate("() => window.model.sent.filter(m => m.type === 'zoom')")
    assert sent and sent[-1]["min"] == pytest.approx(zoomed[0])
    over.dblclick(position={"x": box["width"] / 2, "y": box["height"] / 2})
    frames(chart)
    assert x_range(chart, "loss") == pytest.approx(full)


def test_legend_entries_toggle_a_run_in_every_panel(chart: Any) -> None:
    push(chart, "append", [
        curve("run-a", "loss", range(50), lambda s: 1 / (s + 1), "first"),
        curve("run-b", "loss", range(50), lambda s: 2 / (s + 1), "second"),
    ])  # fmt: skip
    frames(chart)
    entry = chart.locator('.matih-chart-legend-entry[data-key="run-b"]')
    assert entry.get_attribute("aria-pressed") == "true"
    entry.click()
    frames(chart)
    assert entry.get_attribute("aria-pressed") == "false"
    shown = chart.evaluate(
        "() => window.chart.panels.get('loss').plot.series.slice(1).map(s => s.show)"
    )
    assert shown == [True, False]
    entry.press("Space")  # keyboard reachable: a real button
    frames(chart)
    assert entry.get_attribute("aria-pressed") == "true"


def test_smoothing_from_the_keyboard_draws_a_debiased_ema_over_a_faint_raw_curve(chart: Any):
    push(chart, "append", [curve("run-a", "loss", range(200), lambda s: (s % 2) * 2.0)])
    frames(chart)
    slider = chart.locator(".matih-chart-controls input[type=range]")
    slider.focus()
    for _ in range(60):
        slider.press("ArrowRight")
    frames(chart)
    assert chart.evaluate("() => window.model.state.smoothing") == pytest.approx(0.6)
    series = chart.evaluate(
        "() => window.chart.panels.get('loss').plot.series.slice(1).map(s => s.label)"
    )
    assert series == ["run-a", "run-a (smoothed)"]
    smooth = chart.evaluate("() => window.chart.panels.get('loss').plot.data[2]")
    # Debiased: the first smoothed value is the first raw value, not pulled towards zero.
    assert smooth[0] == pytest.approx(0.0) and smooth[1] == pytest.approx(2 * 0.4 / (1 - 0.36))
    assert smooth[-1] == pytest.approx(0.8 / 0.64)  # the steady state at a peak


def test_log_scale_and_x_modes_come_from_the_controls(chart: Any) -> None:
    push(chart, "append", [curve("run-a", "loss", range(1, 100), lambda s: 1 / s)])
    frames(chart)
    chart.locator(".matih-chart-controls input[type=checkbox]").check()
    frames(chart)
    assert chart.evaluate("() => window.chart.panels.get('loss').plot.scales.y.distr") == 3
    chart.locator(".matih-chart-controls select").first.select_option("relative")
    frames(chart)
    assert x_range(chart, "loss")[1] == pytest.approx(9.9, abs=0.5)  # seconds since start
    assert chart.evaluate("() => [window.model.state.log_scale, window.model.state.x]") == [
        True,
        "relative",
    ]


# The x axis's label as drawn on the canvas (uPlot draws it at the axis's label position,
# centred, text baseline at the top), and the x control's shown option, in CSS pixels.
X_LABEL_BOX = """p => {
  const u = window.chart.panels.get(p).plot, axis = u.axes[0], c2d = u.ctx;
  const r = devicePixelRatio;
  c2d.save(); c2d.font = axis.labelFont[0]; c2d.textBaseline = 'top';
  const m = c2d.measureText(axis.label); c2d.restore();
  const centre = (u.bbox.left + u.bbox.width / 2) / r, top = axis._lpos;
  return {
    label: axis.label, left: centre - m.width / r / 2, right: centre + m.width / r / 2,
    top: top - m.actualBoundingBoxAscent / r, bottom: top + m.actualBoundingBoxDescent / r,
    width: c2d.canvas.width / r, height: c2d.canvas.height / r, ticksEnd: axis._pos + axis._size
  };
}"""
X_CONTROL = """() => {
  const sel = document.querySelector('.matih-chart-controls select');
  const text = sel.selectedOptions[0].textContent;
  const probe = document.createElement('canvas').getContext('2d');
  probe.font = getComputedStyle(sel).font;
  const textWidth = probe.measureText(text).width;
  return { text, textWidth, scrollWidth: sel.scrollWidth, clientWidth: sel.clientWidth };
}"""


@pytest.mark.parametrize("width", [260, 900])
def test_the_x_axis_label_and_its_control_are_never_clipped(chart: Any, width: int) -> None:
    chart.set_viewport_size({"width": width + 40, "height": 900})
    chart.evaluate(f"() => document.getElementById('host').style.width = '{width}px'")
    push(chart, "append", [curve("run-a", "loss", range(1, 100), lambda s: 1 / s)])
    for mode, label in [("relative", "time (s)"), ("time", "wall time"), ("step", "step")]:
        chart.locator(".matih-chart-controls select").first.select_option(mode)
        frames(chart)
        box = chart.evaluate(X_LABEL_BOX, "loss")
        assert box["label"] == label
        # Wholly on the canvas, and below the tick values' band (not drawn over them).
        assert box["left"] >= 0 and box["right"] <= box["width"], box
        assert box["ticksEnd"] <= box["top"] and box["bottom"] <= box["height"], box
        control = chart.evaluate(X_CONTROL)
        assert control["scrollWidth"] <= control["clientWidth"], control
        assert control["textWidth"] < control["clientWidth"], control


def test_a_theme_switch_redraws_with_the_themes_colours(chart: Any) -> None:
    push(chart, "append", [curve("run-a", "loss", range(10), float)])
    frames(chart)
    stroke = (
        "() => { const u = window.chart.panels.get('loss').plot; return u.axes[0].stroke(u, 0); }"
    )
    assert chart.evaluate(stroke) == "#222"
    chart.evaluate("() => document.body.dataset.jpThemeName = 'JupyterLab Dark'")
    frames(chart, 3)
    assert chart.evaluate(stroke) == "#eee"


def test_kernel_errors_show_as_an_alert_and_unknown_messages_are_ignored(chart: Any) -> None:
    chart.evaluate("() => window.model.emit('msg:custom', {type: 'something-else'}, [])")
    chart.evaluate("() => window.model.set('error', \"Run 'x' was not found for tenant 'acme'.\")")
    alert = chart.locator(".matih-chart-message[role=alert]")
    assert "was not found" in alert.inner_text()


def test_three_curves_of_100k_points_are_drawn(chart: Any) -> None:
    steps = range(100_000)
    push(chart, "append", [
        curve("run-a", m, steps, lambda s, k=k: k + (s % 97) / 97) for k, m in enumerate("abc")
    ])  # fmt: skip
    frames(chart, 3)
    assert chart.evaluate("() => window.chart.root.dataset.points") == "300000"
    assert float(chart.evaluate("() => window.chart.lastDrawMs")) > 0
