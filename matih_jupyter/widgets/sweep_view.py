"""`SweepView`: a sweep followed live in the notebook, drawn in the browser.

Four parts, each a chart the notebooks already know: the best value so far against the
trial number (each trial's own value beside it), parallel coordinates of the params
against the metric, the trials table (state, value, duration), and every trial's curves.
Clicking a row of the table, or a line of the parallel coordinates, shows only that
trial's curves. The parts are linked in the browser, so a click answers while the sweep
runs: the kernel is busy with the sweep then and hears of clicks only afterwards.

The sweep calls `on_trial` as each trial starts and ends (``tracker.sweep(...,
on_trial=view.on_trial)``). A trial's points come from its run's metric tap, the moment
the objective logs them, so nothing is read back from MLflow; a background thread sends
what is new at most every ``interval`` seconds. When the sweep ends the output becomes a
PNG of the progress curve and a text table of the trials, which a saved notebook shows
anywhere.
"""

from __future__ import annotations

import threading
import time
from types import SimpleNamespace
from typing import Any

import ipywidgets as w

from ._common import fmt, png_bundle, widget_bundle
from .chart_widget import MetricChart
from .runs_chart import RunsChart, default_axes, rank_params, runs_table
from .static_figure import curves_png
from .trials_table import TrialsTable, params_text, trial_row

#: Trials named in the final text table (best first; the rest are counted).
MAX_TRIALS_SHOWN = 10
_GOALS = {"minimize": "min", "maximize": "max"}


class _TrialFeed:
    """A running trial's metric points, from its run's tap."""

    def __init__(self, run: Any) -> None:
        self._tap = run.metric_tap()
        # Opened as the trial starts, before the objective logs: nothing stored to read.
        _, self._queued = self._tap.open(lambda: None)

    def take(self) -> list[tuple[str, float, int, int]]:
        queued, self._queued = self._queued, []
        return [*queued, *self._tap.take()]

    def close(self) -> None:
        self._tap.close()


class SweepView:
    """A live view of one sweep: progress, parallel coordinates, trials, trial curves.

    Args:
        metric: The sweep's metric.
        direction: ``"minimize"`` or ``"maximize"`` (which way is best).
        sweep_name: Shown in the status line.
        n_trials: Trials the sweep runs in all, for the progress count (optional).
        interval: Seconds between messages to the browser.
        height: Height of each chart in pixels.
    """

    def __init__(
        self,
        metric: str,
        direction: str = "minimize",
        *,
        sweep_name: str = "sweep",
        n_trials: int | None = None,
        interval: float = 0.2,
        height: int = 200,
    ) -> None:
        goal = _GOALS.get(direction, "min")
        self.metric, self.goal, self.name, self.n_trials = metric, goal, sweep_name, n_trials
        self.interval = float(interval)
        self.progress = MetricChart(
            view="live", metrics=[metric], arrangement="overlay", goals={metric: goal},
            height=height, step_label="trial",
        )  # fmt: skip
        self.runs = RunsChart(height=height + 40)
        self.table = TrialsTable(metric=metric)
        self.curves = MetricChart(view="live", goals={metric: goal}, height=height)
        self.curves.status = "every trial's curves · click a trial (table or lines) to see its own"
        # In the browser: a click on a row or a line selects the trial everywhere at once.
        self._links = [
            w.jslink((self.table, "selected"), (self.runs, "selected")),
            w.jsdlink((self.table, "selected"), (self.curves, "runs")),
        ]
        self.box = w.VBox([self.progress, self.runs, self.table, self.curves])
        self.trials: dict[str, Any] = {}  # run id -> latest TrialOutcome
        self._feeds: dict[str, _TrialFeed] = {}
        self._best: Any = None
        self._dirty = False
        self._lock = threading.RLock()
        self._stop = threading.Event()
        self._handle: Any = None
        self.final_png: bytes | None = None
        self._thread = threading.Thread(target=self._loop, name="matih-sweep-view", daemon=True)
        self._show_status()
        self._thread.start()

    # -- fed by the sweep ----------------------------------------------------------------

    def on_trial(self, outcome: Any) -> None:
        """A trial started (``RUNNING``, with its run) or ended: thread-safe."""
        with self._lock:
            self.trials[outcome.run_id] = outcome
            if outcome.state == "RUNNING":
                if outcome.run is not None:
                    self._feeds[outcome.run_id] = _TrialFeed(outcome.run)
            else:
                self._ended(outcome)
            self._dirty = True

    def _ended(self, outcome: Any) -> None:
        feed = self._feeds.pop(outcome.run_id, None)
        if feed is not None:
            self._send_curve_points(outcome, feed.take())
            feed.close()
        if outcome.state == "COMPLETE" and outcome.value is not None and self._improves(outcome):
            self._best = outcome
        now_ms = time.time() * 1000.0
        n, metric = float(outcome.number), self.metric
        if outcome.value is not None:
            self.progress.append("trials", "each trial", metric, [n], [outcome.value], [now_ms])
        if self._best is not None:
            self.progress.append("best", "best so far", metric, [n], [self._best.value], [now_ms])

    def _improves(self, outcome: Any) -> bool:
        if self._best is None:
            return True
        better = outcome.value < self._best.value
        return better if self.goal == "min" else outcome.value > self._best.value

    # -- sending to the browser ----------------------------------------------------------

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            self._step()

    def _step(self) -> None:
        with self._lock:
            for run_id, feed in list(self._feeds.items()):
                self._send_curve_points(self.trials[run_id], feed.take())
            if self._dirty:
                self._dirty = False
                self._show_trials()
            self.progress.flush()
            self.curves.flush()

    def _send_curve_points(self, outcome: Any, items: list[tuple[str, float, int, int]]) -> None:
        by_key: dict[str, tuple[list[float], list[float], list[float]]] = {}
        for key, value, ts, step in items:
            steps, values, times = by_key.setdefault(key, ([], [], []))
            steps.append(float(step))
            values.append(float(value))
            times.append(float(ts))
        label = f"trial {outcome.number}"
        for key, columns in by_key.items():
            self.curves.append(outcome.run_id, label, key, *columns)

    def _show_trials(self) -> None:
        ordered = sorted(self.trials.values(), key=lambda o: o.number)
        now = time.time()
        self.table.rows = [trial_row(o, now) for o in ordered]
        self.table.best = self._best.run_id if self._best is not None else ""
        ended = [o for o in ordered if o.state != "RUNNING"]
        self._show_runs(ended)
        self._show_status()

    def _show_runs(self, ended: list[Any]) -> None:
        rows = [
            SimpleNamespace(
                id=o.run_id,
                name=f"trial {o.number}",
                params=o.params,
                metrics={} if o.value is None else {self.metric: o.value},
            )
            for o in ended
        ]
        params = rank_params(rows, sorted({p for r in rows for p in r.params}))
        self.runs.table = runs_table(rows, params, [self.metric], {self.metric: self.goal})
        self.runs.x_key = f"params.{params[0]}" if params else ""
        self.runs.y_key = f"metrics.{self.metric}"
        self.runs.axes = default_axes(rows, params, [self.metric], self.metric)

    def _show_status(self) -> None:
        ended = sum(o.state != "RUNNING" for o in self.trials.values())
        of = f"/{self.n_trials}" if self.n_trials else ""
        best = (
            f" · best {self.metric} {fmt(self._best.value)} (trial {self._best.number})"
            if self._best is not None
            else ""
        )
        self.progress.status = f"sweep {self.name} · {ended}{of} trials ended{best}"

    # -- output --------------------------------------------------------------------------

    def display(self) -> SweepView:
        """Show the view in the current cell's output; returns self."""
        from IPython.display import display

        self._handle = display(self.bundle(), raw=True, display_id=True)
        return self

    def _ipython_display_(self) -> None:
        self.display()

    def bundle(self) -> dict[str, Any]:
        """The view while the sweep runs; once finished, the PNG and text table."""
        if self.final_png is not None:
            return self.static_bundle()
        return widget_bundle(self.box, self.text())

    def static_bundle(self) -> dict[str, Any]:
        return png_bundle(self.final_png or self._png(), self.text())

    def finish(self) -> SweepView:
        """Stop following (the sweep ended or stopped): the output becomes the PNG and the
        text table, and the live charts close."""
        self._stop.set()
        if self._thread is not threading.current_thread():
            self._thread.join(10.0)
        with self._lock:
            self._step()
            for feed in self._feeds.values():
                feed.close()
            self._feeds.clear()
            self.final_png = self._png()
        if self._handle is not None:
            self._handle.update(self.bundle(), raw=True)
        for link in self._links:
            link.close()
        for widget in (self.box, self.progress, self.runs, self.table, self.curves):
            widget.close()
        return self

    def _png(self) -> bytes:
        history = {}
        for (run, _label, _metric), curve in self.progress.curves.items():
            name = "best so far" if run == "best" else "each trial"
            points = zip(curve.steps, curve.values, curve.times, strict=True)
            history[f"{self.metric} ({name})"] = [(int(s), int(t), v) for s, v, t in points]
        goals = dict.fromkeys(history, self.goal)
        return curves_png(history, goals=goals, step_label="trial", width=7.0, panel_height=2.2)

    def text(self) -> str:
        """The trials as text: best first, with state, value and params."""
        ended = [o for o in self.trials.values() if o.state != "RUNNING"]
        scored = sorted(
            (o for o in ended if o.value is not None),
            key=lambda o: o.value if self.goal == "min" else -o.value,
        )
        rest = sorted((o for o in ended if o.value is None), key=lambda o: o.number)
        shown = [*scored, *rest][:MAX_TRIALS_SHOWN]
        lines = [f"sweep {self.name}: {len(ended)} trials ended ({self.metric}, {self.goal})"]
        lines += [
            f"  trial {o.number:>3} {o.state.lower():<8} {fmt(o.value):>10}  "
            + params_text(o.params)
            for o in shown
        ]
        if len(ended) > len(shown):
            lines.append(f"  ... and {len(ended) - len(shown)} more")
        return "\n".join(lines)
