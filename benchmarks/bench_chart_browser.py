"""The live chart in a browser: how soon a logged point is drawn, how long a frame of
300,000 points takes, how fast a long finished run opens (Debian's Chromium via Playwright).

The widget's built ES module (``matih_jupyter/widgets/static/chart_widget.js``) runs on a
page served from a temporary directory, given a model object with anywidget's interface
(as ``tests/browser/chart_page`` does). No kernel: the chart's messages are forwarded to
the page from this process with ``page.evaluate`` (buffers as base64), where Jupyter would
carry them over ZeroMQ and a websocket.

  (a) latency  A LiveMetricsPlot follows a real run of this process (SQLite store) while a
               thread logs 3 metrics every STEP_MS. The chart's ``send`` queues its
               messages; the main thread forwards them (Playwright's sync API belongs to
               one thread). At each frame that drew new points the page takes
               ``Date.now()`` minus the newest point's ``log_metric`` time (same machine
               clock), when the last panel's uPlot draw hook ran. Printed also: the same
               for the oldest point new in that frame (it waited for the run's writer,
               which sends every 0.1 s, and for the chart's thread, every 0.1 s). The
               first frame includes the chart's start (one MLflow read, the panels' setup).
  (b) frame    3 curves of 100,000 points, then REDRAWS times one new point per curve:
               ``chart.lastDrawMs`` (the chart's figure: setData to uPlot's draw hook) and
               the whole frame (the chart's draw() to the last panel's draw hook: the 3
               panels, their data columns and drawing).
  (c) opening  A finished run's MetricChart with 3 curves of OPEN_POINTS points each
               (default 1,000,000, 3e6 in all): a view opens in the page and asks with
               ``ready``; the kernel's answer (every curve downsampled to the view's width,
               ``chart._handle_custom_msg``) is forwarded. Time from the view's ``ready``
               to its first drawn frame: kernel downsampling + transfer + draw. For
               comparison, reading one metric's history back from MLflow
               (``tracker.get_metric_history``) for MLFLOW_POINTS points of a real run
               (default 100,000, not 1e6: storing 1e6 points in SQLite takes minutes, and
               reading them back about ten times the 1e5 figure).

Printed as one JSON line: medians (and p95 for latency) over REPEATS rounds, with the
issue's targets beside them (not asserted): (a) median <= 250 ms, (b) median <= 16 ms,
(c) median <= 1 s.

Usage: python benchmarks/bench_chart_browser.py [--seconds 10] [--step-ms 10]
       [--redraws 30] [--open-points 1000000] [--mlflow-points 100000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import json
import math
import os
import queue
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

METRICS = ("loss", "accuracy", "lr")
# The browser tiers' launch settings (Debian's Chromium, flags for a closed network).
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from lab_harness import CHROMIUM, CHROMIUM_ARGS, widget_page  # noqa: E402

TARGETS = {"latency_ms": 250.0, "frame_ms": 16.0, "open_ms": 1000.0}
VIEW_WIDTH = 900

# The widget as anywidget loads it, with a model object of anywidget's interface, plus the
# measuring: each frame (the chart's draw()) is timed to the last panel's draw hook (where
# `chart.draws` is counted), and remembers the newest and oldest point that arrived for it.
PAGE = """<!doctype html>
<html>
<head>
  <meta charset="utf-8" />
  <link rel="stylesheet" href="chart_widget.css" />
  <style> body { --jp-ui-font-color1: #222; --jp-border-color2: #ddd; margin: 16px; } </style>
</head>
<body data-jp-theme-name="JupyterLab Light">
<script type="module">
import widget from './chart_widget.js';
import { PageModel } from './page_model.js';

let view = null;

function closeFrame(v) {
  const f = v.current;
  if (f && f.doneAt !== null) {
    v.frames.push({
      start: f.start, doneAt: f.doneAt, frameMs: f.doneAt - f.start, drawMs: f.drawMs,
      newestMs: f.arrived ? f.doneDate - f.arrived.newest : null,
      oldestMs: f.arrived ? f.doneDate - f.arrived.oldest : null,
    });
    v.current = null;
  }
}

function instrument(v) {
  const chart = v.chart;
  const draw = chart.draw.bind(chart);
  chart.draw = () => {
    closeFrame(v);
    v.current = { start: performance.now(), arrived: v.pending, doneAt: null, drawMs: [] };
    v.pending = null;
    draw();
  };
  let draws = chart.draws;
  let last = chart.lastDrawMs;
  Object.defineProperty(chart, 'draws', {
    get: () => draws,
    set: n => {
      draws = n;
      if (v.current) { v.current.doneAt = performance.now(); v.current.doneDate = Date.now(); }
    },
  });
  Object.defineProperty(chart, 'lastDrawMs', {
    get: () => last,
    set: ms => { last = ms; if (v.current) { v.current.drawMs.push(ms); } },
  });
}

window.openView = width => {
  if (view) { view.cleanup(); view.host.remove(); }
  const host = document.createElement('div');
  host.style.width = `${width}px`;
  document.body.append(host);
  const model = new PageModel({
    view: 'live', metrics: [], x: 'step', smoothing: 0, log_scale: false,
    arrangement: 'panels', goals: {}, height: 200, status: '', error: '',
  });
  const t0 = performance.now();
  const cleanup = widget.render({ model, el: host });
  view = { host, model, cleanup, t0, chart: host.matihChart, frames: [], current: null,
           pending: null };
  instrument(view);
  return { sent: model.sent };
};

function decode(text) {
  const bin = atob(text);
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) { bytes[i] = bin.charCodeAt(i); }
  return new DataView(bytes.buffer);
}

// A kernel message: note its newest and oldest wall time for the frame that draws it.
function emitPoints(content, buffers) {
  content.series.forEach((s, i) => {
    const dv = buffers[3 * i + 2];
    const times = new Float64Array(dv.buffer, dv.byteOffset, dv.byteLength / 8);
    for (const t of times) {
      const p = (view.pending ??= { newest: -Infinity, oldest: Infinity });
      p.newest = Math.max(p.newest, t);
      p.oldest = Math.min(p.oldest, t);
    }
  });
  view.model.emit('msg:custom', content, buffers);
}

window.deliver = (content, buffers) => emitPoints(content, buffers.map(decode));

// Points made in the page (the frame benchmark): n per curve from step `first`.
window.pushGenerated = (metrics, first, n) => {
  const series = [], buffers = [];
  metrics.forEach((m, k) => {
    const steps = new Float64Array(n), values = new Float64Array(n), times = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const s = first + i;
      steps[i] = s; values[i] = k + (s % 97) / 97; times[i] = 1767225600000 + 100 * s;
    }
    series.push({ run: 'run-a', run_label: 'run-a', metric: m, n, replace: false });
    buffers.push(...[steps, values, times].map(a => new DataView(a.buffer)));
  });
  emitPoints({ type: 'points', series }, buffers);
};

// Resolves once the frames scheduled so far are drawn (two animation frames later).
window.settle = () => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));

window.frames = () => {
  closeFrame(view);
  return { t0: view.t0, frames: view.frames, points: Number(view.chart.root.dataset.points ?? 0) };
};
window.ready = true;
</script>
</body>
</html>
"""


@contextlib.contextmanager
def serve_page() -> Iterator[str]:
    """The built widget module and the page, served from a temporary directory."""
    with (
        tempfile.TemporaryDirectory(prefix="bench-chart-") as tmp,
        widget_page(Path(tmp), PAGE) as url,
    ):
        yield url


def open_page(browser: Any, url: str, errors: list[str]) -> Any:
    page = browser.new_page(viewport={"width": 1000, "height": 900})
    page.set_default_timeout(60_000)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(url)
    page.wait_for_function("window.ready === true")
    return page


def forward(page: Any, content: dict, buffers: list[Any]) -> None:
    b64 = [base64.b64encode(bytes(b)).decode("ascii") for b in buffers]
    page.evaluate("([c, b]) => window.deliver(c, b)", [content, b64])


def _pct(values: list[float], q: float) -> float:
    """The ``q`` quantile by nearest rank."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


# -- (a) latency ------------------------------------------------------------------------------


def bench_latency(page: Any, tracker: Any, seconds: float, step_ms: float) -> dict[str, Any]:
    from matih_jupyter import RunConfig
    from matih_jupyter.widgets import LiveMetricsPlot

    run = tracker.start_run("bench-chart", RunConfig(run_name="latency"))
    plot = LiveMetricsPlot(run, tracker=tracker, start=False)
    outbox: queue.SimpleQueue = queue.SimpleQueue()
    plot.chart.send = lambda content, buffers=None: outbox.put((content, list(buffers or [])))
    opened = page.evaluate("w => window.openView(w)", VIEW_WIDTH)
    for msg in opened["sent"]:  # the view's `ready`, answered as the kernel would
        plot.chart._handle_custom_msg(msg, [])
    plot.start()
    stop = threading.Event()
    steps = [0]

    def train() -> None:
        due = time.perf_counter()
        while not stop.is_set():
            step = steps[0]
            run.log_metric("loss", 1.0 / (step + 1), step=step)
            run.log_metric("accuracy", step / (step + 10), step=step)
            run.log_metric("lr", 0.1 * 0.999**step, step=step)
            steps[0] += 1
            due += step_ms / 1000
            time.sleep(max(0.0, due - time.perf_counter()))

    trainer = threading.Thread(target=train, name="bench-train", daemon=True)
    trainer.start()
    deadline = time.perf_counter() + seconds
    messages = 0
    while time.perf_counter() < deadline:
        try:
            content, buffers = outbox.get(timeout=0.02)
        except queue.Empty:
            continue
        forward(page, content, buffers)
        messages += 1
    page.evaluate("() => window.settle()")
    # The frames while the run trained: the run's end is not measured (this thread ends it
    # and the plot draws its final PNG before the last message would be forwarded).
    frames = page.evaluate("() => window.frames()")["frames"]
    stop.set()
    trainer.join()
    run.end()
    plot.finish()
    newest = [f["newestMs"] for f in frames if f["newestMs"] is not None]
    oldest = [f["oldestMs"] for f in frames if f["oldestMs"] is not None]
    return {
        "newest": newest,
        "oldest": oldest,
        "messages": messages,
        "points_logged": 3 * steps[0],
        "points_sent": plot.chart.points_sent,
        "plot_cpu_share_pct": 100 * plot.busy_seconds / seconds,
    }


# -- (b) frame time ----------------------------------------------------------------------------


def bench_frames(page: Any, points: int, redraws: int) -> dict[str, Any]:
    page.evaluate("w => window.openView(w)", VIEW_WIDTH)
    page.evaluate("([m, n]) => window.pushGenerated(m, 0, n)", [list(METRICS), points])
    page.evaluate("() => window.settle()")
    for i in range(redraws):  # a live chart's frame: one new point per curve
        page.evaluate("([m, s]) => window.pushGenerated(m, s, 1)", [list(METRICS), points + i])
        page.evaluate("() => window.settle()")
    shown = page.evaluate("() => window.frames()")
    first, rest = shown["frames"][0], shown["frames"][1:]
    return {
        "first_frame_ms": first["frameMs"],
        "frame_ms": [f["frameMs"] for f in rest],
        "last_draw_ms": [f["drawMs"][-1] for f in rest if f["drawMs"]],
        "panel_draw_ms": [ms for f in rest for ms in f["drawMs"]],
        "points_shown": shown["points"],
    }


# -- (c) opening a finished run -------------------------------------------------------------


def long_chart(points: int) -> tuple[Any, list[tuple[dict, list[Any]]]]:
    """A MetricChart holding a finished run's curves (streamed while it ran)."""
    from matih_jupyter.widgets.chart_widget import MetricChart

    chart = MetricChart(view="live")
    sent: list[tuple[dict, list[Any]]] = []
    chart.send = lambda content, buffers=None: sent.append((content, list(buffers or [])))
    t0 = 1_767_225_600_000.0
    chunk = 10_000
    for k, metric in enumerate(METRICS):
        for first in range(0, points, chunk):
            steps = list(range(first, min(points, first + chunk)))
            values = [k + 1.0 / (s + 1) + (s % 97) / 9700 for s in steps]
            chart.append("run-a", "long run", metric, steps, values, [t0 + s for s in steps])
            chart.flush()  # sent while the run went on, not when the view opens
    sent.clear()
    return chart, sent


def bench_open(page: Any, chart: Any, sent: list) -> dict[str, float]:
    opened = page.evaluate("w => window.openView(w)", VIEW_WIDTH)
    ready = opened["sent"][0]
    k0 = time.perf_counter()
    chart._handle_custom_msg(ready, [])
    kernel_ms = 1000 * (time.perf_counter() - k0)
    content, buffers = sent.pop()
    forward(page, content, buffers)
    page.evaluate("() => window.settle()")
    shown = page.evaluate("() => window.frames()")
    first = shown["frames"][0]
    return {
        "open_ms": first["doneAt"] - shown["t0"],
        "kernel_ms": kernel_ms,
        "draw_ms": first["frameMs"],
        "points_in_message": sum(s["n"] for s in content["series"]),
        "bytes_in_message": sum(len(b) for b in buffers),
        "view_width": ready.get("width"),
    }


def bench_mlflow_read(tracker: Any, points: int, repeats: int) -> dict[str, Any]:
    from matih_jupyter import RunConfig

    run = tracker.start_run("bench-chart", RunConfig(run_name="long"))
    t0 = time.perf_counter()
    for step in range(points):
        run.log_metric("loss", 1.0 / (step + 1), step=step)
    run.end()
    log_s = time.perf_counter() - t0
    reads = []
    for _ in range(repeats):
        r0 = time.perf_counter()
        history = tracker.get_metric_history(run.run_id, "loss")
        reads.append(time.perf_counter() - r0)
    assert len(history) == points
    return {"points": points, "log_seconds": log_s, "read_seconds": reads}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="latency: logging time")
    parser.add_argument("--step-ms", type=float, default=10.0, help="latency: ms per step")
    parser.add_argument("--frame-points", type=int, default=100_000, help="per curve")
    parser.add_argument("--redraws", type=int, default=30)
    parser.add_argument("--open-points", type=int, default=1_000_000, help="per curve")
    parser.add_argument("--mlflow-points", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--store", type=Path, default=None)
    args = parser.parse_args(argv)

    from playwright.sync_api import sync_playwright

    from matih_jupyter import ExperimentTracker

    store = args.store or Path(tempfile.mkdtemp(prefix="bench-chart-"))
    store.mkdir(parents=True, exist_ok=True)
    tracker = ExperimentTracker(
        f"sqlite:///{store / 'mlflow.db'}", (store / "artifacts").as_uri(), tenant_id="bench"
    )
    tracker.get_or_create_experiment("bench-chart")  # migrations outside the clock
    b0 = time.perf_counter()
    chart, sent = long_chart(args.open_points)
    build_s = time.perf_counter() - b0
    errors: list[str] = []
    load_before = os.getloadavg()[0]
    lat: list[dict[str, Any]] = []
    frames: list[dict[str, Any]] = []
    opens: list[dict[str, float]] = []
    with serve_page() as url, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = open_page(browser, url, errors)
            bench_open(page, chart, sent)  # warm-up: the module's first run, numpy's paths
            for _ in range(args.repeats):  # interleaved, so drift in load hits all alike
                lat.append(bench_latency(page, tracker, args.seconds, args.step_ms))
                frames.append(bench_frames(page, args.frame_points, args.redraws))
                opens.extend(bench_open(page, chart, sent) for _ in range(3))
        finally:
            browser.close()
    mlflow_read = bench_mlflow_read(tracker, args.mlflow_points, args.repeats)

    def med(values: list[float]) -> float:
        return round(statistics.median(values), 2)

    newest = [v for r in lat for v in r["newest"]]
    oldest = [v for r in lat for v in r["oldest"]]
    last_draw = [v for r in frames for v in r["last_draw_ms"]]
    frame_ms = [v for r in frames for v in r["frame_ms"]]
    open_ms = [r["open_ms"] for r in opens]
    result = {
        "benchmark": "chart_browser",
        "browser": "Debian chromium (headless, Playwright)",
        "repeats": args.repeats,
        "cpus": os.cpu_count(),
        "load_average_1m": [round(load_before, 2), round(os.getloadavg()[0], 2)],
        "page_errors": errors,
        "a_latency_log_to_draw": {
            "median_ms": med(newest),
            "p95_ms": round(_pct(newest, 0.95), 2),
            "target_median_ms": f"<= {TARGETS['latency_ms']:g}",
            "meets_target": statistics.median(newest) <= TARGETS["latency_ms"],
            "oldest_new_point_median_ms": med(oldest),
            "oldest_new_point_p95_ms": round(_pct(oldest, 0.95), 2),
            "round_medians_ms": [med(r["newest"]) for r in lat],
            "frames_with_new_points": len(newest),
            "logged_per_s": round(3000 / args.step_ms),
            "messages_per_s": med([r["messages"] / args.seconds for r in lat]),
            "points_logged": [r["points_logged"] for r in lat],
            "points_sent": [r["points_sent"] for r in lat],
            "kernel_cpu_share_pct": med([r["plot_cpu_share_pct"] for r in lat]),
        },
        "b_frame_3_curves": {
            "points_per_curve": args.frame_points,
            "points_shown": frames[-1]["points_shown"],
            "last_draw_ms_median": med(last_draw),
            "target_median_ms": f"<= {TARGETS['frame_ms']:g}",
            "meets_target": statistics.median(last_draw) <= TARGETS["frame_ms"],
            "last_draw_ms_p95": round(_pct(last_draw, 0.95), 2),
            "whole_frame_ms_median": med(frame_ms),
            "whole_frame_ms_p95": round(_pct(frame_ms, 0.95), 2),
            "first_frame_ms_median": med([r["first_frame_ms"] for r in frames]),
            "redraws": len(frame_ms),
        },
        "c_open_finished_run": {
            "points_per_curve": args.open_points,
            "curves": len(METRICS),
            "ready_to_first_draw_ms_median": med(open_ms),
            "target_median_ms": f"<= {TARGETS['open_ms']:g}",
            "meets_target": statistics.median(open_ms) <= TARGETS["open_ms"],
            "ready_to_first_draw_ms_max": round(max(open_ms), 2),
            "kernel_downsample_ms_median": med([r["kernel_ms"] for r in opens]),
            "first_frame_draw_ms_median": med([r["draw_ms"] for r in opens]),
            "points_in_message": int(opens[-1]["points_in_message"]),
            "bytes_in_message": int(opens[-1]["bytes_in_message"]),
            "view_width_px": opens[-1]["view_width"],
            "openings": len(open_ms),
            "chart_build_seconds": round(build_s, 2),
        },
        "mlflow_get_metric_history": {
            "points": mlflow_read["points"],
            "note": f"one metric of {mlflow_read['points']} points, not 1e6 (see the docstring)",
            "read_seconds_median": round(statistics.median(mlflow_read["read_seconds"]), 3),
            "log_seconds": round(mlflow_read["log_seconds"], 2),
        },
    }
    print(json.dumps(result))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
