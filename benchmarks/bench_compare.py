"""Comparing many runs: every matih view that compares runs beside ``mlflow.search_runs``.

Seeds RUNS finished runs (params and final metrics) in one experiment of a SQLite store,
then times, round after round, each path on the same runs:

  search_runs  plain MLflow: ``mlflow.search_runs(experiment_ids=[...])``, a DataFrame
  compare      ``tracker.compare_runs(tenant, ids)``: a DataFrame, every run tenant-checked
  magic        ``%matih_compare EXP --top RUNS --no-widget`` in an IPython shell
  widget       ``RunComparison(run_ids=ids, max_runs=RUNS)``: from the constructor's call
               until its state (table, dropdowns, the browser's runs chart) is set
  rest         ``GET /experiments/compare?run_ids=...`` on a real Jupyter server (HTTP
               and JSON included), unless ``--no-rest``

Printed last as one JSON line: the median seconds of each path over the rounds, and each
path's ratio to ``search_runs`` measured in the same process and round.

Usage: python benchmarks/bench_compare.py [--runs 1000] [--repeats 5] [--store DIR]
A ``--store`` already seeded with RUNS runs is reused (seeding 1,000 runs takes a minute).
"""

from __future__ import annotations

import argparse
import asyncio
import inspect
import json
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

TENANT = "acme-corp"  # bench_rest's server serves it
EXPERIMENT = "compare"
PARAMS = ("lr", "depth", "optimizer", "seed", "batch_size")
METRICS = ("loss", "val_loss", "auc", "f1")


def seed(tracker: Any, runs: int) -> tuple[str, list[str]]:
    """An experiment holding ``runs`` finished runs; reused when it holds them already."""
    from matih_jupyter import RunConfig

    exp_id = tracker.get_or_create_experiment(EXPERIMENT, TENANT)
    have = tracker.list_runs(TENANT, EXPERIMENT, max_results=max(runs, 1))
    if len(have) == runs:
        return exp_id, [r.id for r in have]
    rng = random.Random(5)
    for i in range(runs - len(have)):
        run = tracker.create_run(exp_id, RunConfig(tenant_id=TENANT, run_name=f"trial-{i}"))
        params = {
            "lr": 10 ** -rng.randint(1, 5),
            "depth": rng.randint(2, 12),
            "optimizer": rng.choice(["adam", "sgd"]),
            "seed": i,
            "batch_size": rng.choice([32, 64, 128]),
        }
        metrics = [{"key": k, "value": rng.random(), "step": 9} for k in METRICS]
        tracker.log_batch(run.id, metrics, params, tenant_id=TENANT)
        tracker.end_run(run.id, tenant_id=TENANT)
    return exp_id, [r.id for r in tracker.list_runs(TENANT, EXPERIMENT, max_results=runs)]


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def magic_shell(uri: str) -> Any:
    """An IPython shell with the extension loaded, on the benchmark's store and tenant."""
    os.environ["MLFLOW_TRACKING_URI"] = uri
    os.environ["MATIH_TENANT_ID"] = TENANT
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    shell.run_line_magic("load_ext", "matih_jupyter")
    return shell


class RestCompare:
    """A Jupyter server with the extension (bench_rest's) on the same store, asked to
    compare the runs over HTTP."""

    def __init__(self, tmp: Path, store: Path) -> None:
        from bench_rest import Client, _free_port, start_server, wait_ready

        tmp.mkdir(exist_ok=True)
        port = _free_port()
        self.proc = start_server(tmp, port, store)
        self.loop = asyncio.new_event_loop()

        async def opened() -> Client:  # its connections belong to the loop it opens in
            return Client(port)

        self.client = self.loop.run_until_complete(opened())
        self.loop.run_until_complete(wait_ready(self.client, self.proc, tmp))

    def compare(self, ids: list[str]) -> list[Any]:
        path = "experiments/compare?run_ids=" + ",".join(ids)
        status, payload, _ = self.loop.run_until_complete(self.client.call("GET", path, TENANT))
        assert status == 200, (status, payload)
        return payload["runs"]

    def close(self) -> None:
        self.loop.run_until_complete(self.client.close())
        self.proc.terminate()
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.loop.close()


def browser_open_times(root: Path, store: Path, n: int, repeats: int) -> list[float]:
    """Seconds from running a notebook cell ``RunComparison(EXPERIMENT, max_runs=n)`` in a
    real JupyterLab to its table's rows and every run in its scatter drawn in Chromium."""
    import nbformat

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    from lab_harness import chromium, jupyterlab, store_env

    env = {**store_env(store, TENANT), "MLFLOW_ARTIFACT_ROOT": (store / "artifacts").as_uri()}
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell("from matih_jupyter.widgets import RunComparison"),
        nbformat.v4.new_code_cell(f"RunComparison({EXPERIMENT!r}, max_runs={n})"),
    ]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    (root / "notebooks").mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, root / "notebooks" / "compare.ipynb")
    from matih_jupyter.widgets import RunComparison

    default_rows = inspect.signature(RunComparison).parameters["max_table_rows"].default
    rows = min(n, default_rows)
    times = []
    with jupyterlab(root, env, token="bench") as base, chromium() as browser:
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(f"{base}/lab/workspaces/bench/tree/compare.ipynb?token=bench&reset")
        cells = page.locator(".jp-NotebookPanel .jp-Notebook .jp-Cell")
        cells.first.wait_for(timeout=60_000)
        page.get_by_role("button", name=re.compile(r"\| Idle")).wait_for(timeout=60_000)
        _run(page, cells.nth(0))
        page.get_by_role("button", name=re.compile(r"\| Idle")).wait_for(timeout=60_000)
        out = cells.nth(1)
        for _ in range(repeats + 1):  # the first opening loads the widget code; not counted
            t0 = time.perf_counter()
            _run(page, out)
            out.locator(".matih-row").nth(rows - 1).wait_for(timeout=120_000)
            out.locator(f'.matih-runs-scatter canvas[data-points="{n}"]').wait_for()
            times.append(time.perf_counter() - t0)
            page.get_by_role("button", name=re.compile(r"\| Idle")).wait_for(timeout=60_000)
    return times[1:]


def _run(page: Any, cell: Any) -> None:
    cell.locator(".jp-InputArea-editor").click()
    page.keyboard.press("Control+Enter")


def one_round(paths: dict[str, Callable[[], Any]], checks: dict[str, Callable[[Any], None]]):
    """Each path once, in a shuffled order (a shared machine's load hits all alike)."""
    order = list(paths)
    random.shuffle(order)
    seconds = {}
    for name in order:
        seconds[name], out = timed(paths[name])
        checks[name](out)
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--store", help="a folder holding the store (kept, reused)")
    parser.add_argument("--no-rest", action="store_true", help="skip the Jupyter server")
    parser.add_argument(
        "--browser", action="store_true", help="also time the widget opening in JupyterLab"
    )
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="matih-bench-compare-") as tmp_name:
        root = Path(args.store) if args.store else Path(tmp_name)
        store = root / "store"
        store.mkdir(parents=True, exist_ok=True)
        uri = f"sqlite:///{store / 'mlflow.db'}"
        os.environ.pop("MLFLOW_TRACKING_URI", None)
        import mlflow

        from matih_jupyter import ExperimentTracker
        from matih_jupyter.widgets import RunComparison

        tracker = ExperimentTracker(uri, (store / "artifacts").as_uri(), tenant_id=TENANT)
        seconds, (exp_id, ids) = timed(lambda: seed(tracker, args.runs))
        print(f"{len(ids)} runs ready in {seconds:.1f} s", file=sys.stderr)
        mlflow.set_tracking_uri(uri)
        shell = magic_shell(uri)
        n = len(ids)
        paths: dict[str, Callable[[], Any]] = {
            "search_runs": lambda: mlflow.search_runs(experiment_ids=[exp_id]),
            "compare": lambda: tracker.compare_runs(TENANT, ids),
            "magic": lambda: shell.run_line_magic(
                "matih_compare", f"{EXPERIMENT} --top {n} --no-widget"
            ),
            "widget": lambda: RunComparison(
                run_ids=ids, tracker=tracker, tenant_id=TENANT, max_runs=n
            ),
        }
        checks: dict[str, Callable[[Any], None]] = {
            "search_runs": lambda frame: _rows(frame, n),
            "compare": lambda frame: _rows(frame, n),
            "magic": lambda frame: _rows(frame, n),
            "widget": _widget_ready,
        }
        rest = None if args.no_rest else RestCompare(Path(tmp_name) / "server", store)
        if rest is not None:
            paths["rest"] = lambda: rest.compare(ids)
            checks["rest"] = lambda rows: _rows(rows, n)
        try:
            rounds = []
            for i in range(args.repeats + 1):  # the first round warms caches; not counted
                result = one_round(paths, checks)
                if i:
                    rounds.append(result)
        finally:
            if rest is not None:
                rest.close()
        line = report(n, args.repeats, rounds)
        if args.browser:
            opened = browser_open_times(Path(tmp_name) / "lab", store, n, args.repeats)
            line["widget_in_browser_s"] = round(statistics.median(opened), 3)
        print(json.dumps(line))


def _rows(table: Any, n: int) -> None:
    assert len(table) == n, (len(table), n)


def _widget_ready(widget: Any) -> None:
    """Every run listed and drawn; then closed, so rounds do not pile up widgets."""
    import ipywidgets

    _rows(widget.runs, len(widget.run_ids))
    _rows(widget.runs_chart.table["ids"], len(widget.run_ids))
    ipywidgets.Widget.close_all()


def report(n: int, repeats: int, rounds: list[dict[str, float]]) -> dict[str, Any]:
    figures = {name: statistics.median(r[name] for r in rounds) for name in rounds[0]}
    ratios = {
        name: statistics.median(r[name] / r["search_runs"] for r in rounds)
        for name in figures
        if name != "search_runs"
    }
    return {
        "benchmark": "compare",
        "runs": n,
        "repeats": repeats,
        "median_s": {k: round(v, 4) for k, v in figures.items()},
        "ratio_to_search_runs": {k: round(v, 3) for k, v in ratios.items()},
        "targets": {"compare": "<= 1.0", "magic": "<= 1.0", "rest": "<= 1.0", "widget_s": 1.5},
    }


if __name__ == "__main__":
    main()
