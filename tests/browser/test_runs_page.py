"""The comparison's scatter and parallel coordinates in Chromium: the built widget module on a
page with an anywidget-like model, fed the state `RunComparison` builds for 1,000 runs.
Checks the drawing, the hover read-out, and that a selection made in the browser (a click,
Shift-click, the keyboard, a box, axis brushes) reaches the model as ``set('selected')``
followed by ``save_changes()``, which is how it arrives in the kernel."""

from __future__ import annotations

import itertools
import random
import re
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from lab_harness import keep_screenshot, widget_page

from matih_jupyter.widgets.runs_chart import default_axes, rank_params, runs_table

pytestmark = pytest.mark.browser

PAGE = Path(__file__).parent / "runs_page" / "index.html"
N = 1000
SELECTED_RGB = (0xF2, 0x8E, 0x2B)  # the palette's second colour: selected runs


def _runs() -> list[Any]:
    rnd = random.Random(7)
    runs = []
    for i in range(N):
        params = {
            "dropout": f"{rnd.uniform(0.0, 0.5):.4f}",
            "lr": str(10.0 ** -rnd.randint(1, 4)),
            "depth": str(rnd.randint(2, 10)),
            "optimizer": rnd.choice(["adam", "sgd", "rmsprop"]),
        }
        if i % 5:
            params["warmup"] = str(rnd.randint(0, 500))
        metrics = {"auc": rnd.uniform(0.5, 0.95), "loss": rnd.uniform(0.1, 2.0)}
        run_id = f"{rnd.getrandbits(128):032x}"
        runs.append(
            SimpleNamespace(id=run_id, name=f"run-{i}", order=i, params=params, metrics=metrics)
        )
    return runs


RUNS = _runs()
BY_ID = {r.id: r for r in RUNS}
PARAMS = rank_params(RUNS, ["depth", "dropout", "lr", "optimizer", "warmup"])
METRICS = ["auc", "loss"]
STATE = {
    "table": runs_table(RUNS, PARAMS, METRICS),
    "x_key": f"params.{PARAMS[0]}",
    "y_key": "metrics.auc",
    "axes": default_axes(RUNS, PARAMS, METRICS, "auc"),
    "selected": [],
}


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with widget_page(tmp_path_factory.mktemp("runs-page"), PAGE.read_text()) as url:
        yield url


@pytest.fixture
def page(browser: Any, site: str, request: pytest.FixtureRequest) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1200, "height": 800})
    pg = context.new_page()
    pg.set_default_timeout(15_000)
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    pg.goto(site)
    pg.wait_for_function("window.ready === true")
    pg.evaluate("state => window.start(state)", STATE)
    frames(pg)
    yield pg
    try:
        keep_screenshot(pg, f"runs-{request.node.name}")
    finally:
        context.close()
    assert errors == []


def frames(page: Any, n: int = 2) -> None:
    page.evaluate(
        "n => new Promise(r => {"
        " const f = k => (k ? requestAnimationFrame(() => f(k - 1)) : r()); f(n); })",
        n,
    )


def selections(page: Any) -> list[list[str]]:
    """Each selection the browser gave the model, when ``save_changes`` followed it."""
    log = page.evaluate("() => window.model.log")
    out = []
    for entry, after in itertools.pairwise([*log, {"op": "end"}]):
        if entry["op"] == "set" and entry["key"] == "selected":
            assert after == {"op": "save"}, "a selection must be saved to reach the kernel"
            out.append(entry["value"])
    return out


def canvas_box(page: Any, which: str) -> dict:
    return page.locator(f".matih-runs-{which} canvas").bounding_box()


def isolated_points(page: Any, count: int) -> list[int]:
    """Rows whose scatter points are farthest from any other point (easy to hover)."""
    return page.evaluate(
        """count => {
          const { px, py } = window.runs.scatter;
          const gap = [];
          for (let i = 0; i < px.length; i++) {
            let best = Infinity;
            for (let j = 0; j < px.length; j++) {
              if (i !== j) { best = Math.min(best, Math.hypot(px[i] - px[j], py[i] - py[j])); }
            }
            gap.push([best, i]);
          }
          return gap.sort((a, b) => b[0] - a[0]).slice(0, count).map(g => g[1]);
        }""",
        count,
    )


def point(page: Any, row: int) -> tuple[float, float]:
    box = canvas_box(page, "scatter")
    p = page.evaluate("i => window.runs.scatter.position(i)", row)
    return box["x"] + p["x"], box["y"] + p["y"]


def axis_point(page: Any, axis: str, t: float) -> tuple[float, float]:
    k = STATE["axes"].index(axis)
    box = canvas_box(page, "parallel")
    p = page.evaluate("([k, t]) => window.runs.parallel.axisPoint(k, t)", [k, t])
    return box["x"] + p["x"], box["y"] + p["y"]


def brush(page: Any, axis: str, t0: float, t1: float) -> None:
    page.mouse.move(*axis_point(page, axis, t0))
    page.mouse.down()
    page.mouse.move(*axis_point(page, axis, t1), steps=6)
    page.mouse.up()
    frames(page)


def position(values: list[float | None], v: float) -> float:
    """Where ``v`` sits on a linear axis of ``values`` (as the front end pads it)."""
    present = [x for x in values if x is not None]
    lo, hi = min(present), max(present)
    pad = (hi - lo) * 0.04
    return (v - (lo - pad)) / (hi - lo + 2 * pad)


def coloured_pixels(page: Any, which: str, rgb: tuple[int, int, int] | None = None) -> int:
    """Pixels drawn on a canvas (any, or close to ``rgb``)."""
    return page.evaluate(
        """([which, rgb]) => {
          const c = document.querySelector(`.matih-runs-${which} canvas`);
          const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
          let n = 0;
          for (let i = 0; i < d.length; i += 4) {
            if (d[i + 3] < 128) { continue; }
            if (!rgb || (Math.abs(d[i] - rgb[0]) < 24 && Math.abs(d[i + 1] - rgb[1]) < 24
                && Math.abs(d[i + 2] - rgb[2]) < 24)) { n++; }
          }
          return n;
        }""",
        [which, list(rgb) if rgb else None],
    )


def test_a_thousand_runs_are_drawn_in_the_scatter_and_the_parallel_coordinates(page: Any):
    assert STATE["x_key"] == "params.dropout"  # the param most runs have, with most values
    root = page.locator(".matih-runs-root")
    assert root.get_attribute("data-runs") == str(N)
    assert page.locator(".matih-runs-scatter canvas").get_attribute("data-points") == str(N)
    assert page.locator(".matih-runs-parallel canvas").get_attribute("data-lines") == str(N)
    assert coloured_pixels(page, "scatter") > 5_000 and coloured_pixels(page, "parallel") > 20_000
    assert coloured_pixels(page, "scatter", SELECTED_RGB) == 0  # nothing selected yet
    assert float(root.get_attribute("data-last-draw-ms")) < 500
    assert page.inner_text(".matih-runs-count") == "1000 runs · 0 selected"
    # The canvases say what they show, for screen readers.
    label = page.locator(".matih-runs-scatter canvas").get_attribute("aria-label")
    assert label == "Scatter of auc against dropout, one point per run"


def test_hovering_a_point_or_a_line_reads_out_the_run(page: Any) -> None:
    row = isolated_points(page, 1)[0]
    run = RUNS[row]
    page.mouse.move(*point(page, row))
    frames(page)
    text = page.inner_text(".matih-runs-readout")
    assert text.startswith(f"{run.name} ({run.id[:8]}) · dropout ")
    values = dict(re.findall(r"· (\w+) ([^·]+)", text))
    assert float(values["dropout"]) == pytest.approx(float(run.params["dropout"]), rel=1e-4)
    assert float(values["auc"]) == pytest.approx(run.metrics["auc"], rel=1e-4)
    assert values["optimizer"].strip() == run.params["optimizer"]
    # Between two parallel axes, the nearest line's run is named.
    box = canvas_box(page, "parallel")
    a = page.evaluate("i => window.runs.parallel.position(i, 0)", row)
    b = page.evaluate("i => window.runs.parallel.position(i, 1)", row)
    page.mouse.move(box["x"] + (a["x"] + b["x"]) / 2, box["y"] + (a["y"] + b["y"]) / 2)
    frames(page)
    named = page.inner_text(".matih-runs-readout").split(" (")[0]
    hovered = RUNS[int(named.split("-")[1])]
    mid = page.evaluate(
        "i => { const p = window.runs.parallel; const a = p.position(i, 0), b = p.position(i, 1);"
        " return (a.y + b.y) / 2; }",
        RUNS.index(hovered),
    )
    assert abs(mid - (a["y"] + b["y"]) / 2) <= 5  # its line passes under the mouse


def test_clicks_and_keys_select_runs_and_the_model_carries_them(page: Any) -> None:
    first, second = isolated_points(page, 2)
    page.mouse.click(*point(page, first))
    frames(page)
    assert selections(page) == [[RUNS[first].id]]
    page.keyboard.down("Shift")
    page.mouse.click(*point(page, second))
    page.keyboard.up("Shift")
    frames(page)
    assert selections(page)[-1] == [RUNS[i].id for i in sorted([first, second])]  # table order
    assert page.inner_text(".matih-runs-count") == "1000 runs · 2 selected"
    assert coloured_pixels(page, "scatter", SELECTED_RGB) > 20  # drawn as selected
    # From the keyboard: arrows walk the points, Enter flips one, Escape clears.
    canvas = page.locator(".matih-runs-scatter canvas")
    canvas.focus()
    canvas.press("ArrowRight")
    frames(page)
    assert page.inner_text(".matih-runs-readout").startswith("run-")
    canvas.press("Escape")
    frames(page)
    assert selections(page)[-1] == []
    # A box dragged in the scatter selects the points inside it.
    box = canvas_box(page, "scatter")
    x0, y0 = box["x"] + 70, box["y"] + 15
    x1, y1 = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x0, y0)
    page.mouse.down()
    page.mouse.move(x1, y1, steps=5)
    page.mouse.up()
    frames(page)
    within = (
        "([x0, y0, x1, y1]) => { const s = window.runs.scatter; const out = [];"
        " for (let i = 0; i < s.px.length; i++) { if (s.px[i] >= x0 && s.px[i] <= x1"
        " && s.py[i] >= y0 && s.py[i] <= y1) { out.push(i); } } return out; }"
    )
    edges = [70, 15, box["width"] / 2, box["height"] / 2]
    surely = page.evaluate(within, [edges[0] + 1, edges[1] + 1, edges[2] - 1, edges[3] - 1])
    maybe = page.evaluate(within, [edges[0] - 1, edges[1] - 1, edges[2] + 1, edges[3] + 1])
    chosen = selections(page)[-1]
    assert len(surely) > 10 and chosen == sorted(chosen, key=lambda rid: BY_ID[rid].order)
    assert {RUNS[i].id for i in surely} <= set(chosen) <= {RUNS[i].id for i in maybe}


def test_axis_brushes_select_the_runs_inside_every_brush(page: Any) -> None:
    auc = [r.metrics["auc"] for r in RUNS]
    brush(page, "metrics.auc", 0.85, 0.55)
    chosen = set(selections(page)[-1])
    for r in RUNS:
        t = position(auc, r.metrics["auc"])
        if 0.56 <= t <= 0.84:
            assert r.id in chosen
        if r.id in chosen:
            assert 0.54 <= t <= 0.86
    assert page.locator(".matih-runs-root").get_attribute("data-selected") == str(len(chosen))
    # A second brush, on lr (a log axis): only runs inside both stay selected.
    lr_at = page.evaluate(
        "() => window.runs.parallel.axes.find(a => a.column.key === 'params.lr').valuePos(0.01)"
    )
    brush(page, "params.lr", lr_at + 0.04, lr_at - 0.04)
    both = set(selections(page)[-1])
    assert both and both <= chosen
    assert all(BY_ID[rid].params["lr"] == "0.01" for rid in both)
    # A click on the auc axis takes its brush away: every run with lr 0.01 is selected.
    page.mouse.click(*axis_point(page, "metrics.auc", 0.3))
    frames(page)
    assert selections(page)[-1] == [r.id for r in RUNS if r.params["lr"] == "0.01"]


def test_the_kernels_selection_and_errors_are_shown_and_not_echoed(page: Any) -> None:
    ids = [r.id for r in RUNS[:5]]
    page.evaluate("ids => window.model.kernelSets('selected', ids)", ids)
    frames(page)
    assert page.locator(".matih-runs-root").get_attribute("data-selected") == "5"
    assert coloured_pixels(page, "parallel", SELECTED_RGB) > 50
    assert selections(page) == []  # what the kernel set does not go back to it
    page.evaluate(
        "() => window.model.kernelSets('error', \"Run '0123' was not found for tenant 'acme'.\")"
    )
    alert = page.locator(".matih-runs-root .matih-chart-message[role=alert]")
    assert "was not found" in alert.inner_text()
    # Axes chosen in the browser go to the model too.
    page.locator(".matih-runs-axes summary").click()
    page.locator('.matih-runs-axes input[data-key="params.depth"]').uncheck()
    frames(page)
    axes = page.evaluate("() => window.model.state.axes")
    assert "params.depth" not in axes and page.evaluate("() => window.model.log.at(-1)") == {
        "op": "save"
    }
