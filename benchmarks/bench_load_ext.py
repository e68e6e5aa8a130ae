"""``%load_ext matih_jupyter`` beside ``import mlflow``, each in fresh interpreters.

Each repeat starts new Python processes (so nothing is cached in ``sys.modules``):

  (a) import mlflow                     what any MLflow-based extension pays at load
  (b) %load_ext matih_jupyter           in a fresh IPython InteractiveShell; then checks
                                        that neither mlflow nor pandas was imported
  (c) first %matih_run start + end      in the same shell right after (b): the first run
                                        pays for MLflow (import, store, experiment)

Printed as one JSON line with medians in seconds, the ratio (b)/(a), and whether (b)
stayed under the 0.3 s budget for `%load_ext`.

Usage: python benchmarks/bench_load_ext.py [--repeats 5] [--store DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

BUDGET_S = 0.3

_IMPORT_MLFLOW = """
import json, time
t0 = time.perf_counter()
import mlflow
print(json.dumps({"seconds": time.perf_counter() - t0}))
"""

_LOAD_EXT = """
import json, sys, time
from IPython.core.interactiveshell import InteractiveShell
shell = InteractiveShell.instance()
t0 = time.perf_counter()
shell.run_line_magic("load_ext", "matih_jupyter")
load = time.perf_counter() - t0
mlflow_after_load = "mlflow" in sys.modules
pandas_after_load = "pandas" in sys.modules
t0 = time.perf_counter()
shell.run_line_magic("matih_run", "start bench-load-ext")
shell.run_line_magic("matih_run", "end")
first_run = time.perf_counter() - t0
print(json.dumps({
    "load_ext": load,
    "mlflow_after_load": mlflow_after_load,
    "pandas_after_load": pandas_after_load,
    "first_run": first_run,
}))
"""


def _run(code: str, env: dict[str, str]) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=env,
        check=True,
        timeout=300,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--store", help="Folder for the SQLite store (default: a temp dir).")
    args = parser.parse_args()
    store = Path(args.store or tempfile.mkdtemp(prefix="matih-bench-load-"))
    store.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "MATIH_"))}
    env.update(
        {
            "MLFLOW_TRACKING_URI": f"sqlite:///{store / 'mlflow.db'}",
            "MLFLOW_ARTIFACT_ROOT": (store / "artifacts").as_uri(),
            "MATIH_TENANT_ID": "bench",
            "MATIH_USER_ID": "bench",
        }
    )
    # One untimed run creates and migrates the store, so (c) measures a run, not migrations.
    _run(_LOAD_EXT, env)
    mlflow_import, load_ext, first_run = [], [], []
    clean = True
    for _ in range(args.repeats):
        mlflow_import.append(_run(_IMPORT_MLFLOW, env)["seconds"])
        result = _run(_LOAD_EXT, env)
        load_ext.append(result["load_ext"])
        first_run.append(result["first_run"])
        clean = clean and not result["mlflow_after_load"] and not result["pandas_after_load"]
    a = statistics.median(mlflow_import)
    b = statistics.median(load_ext)
    c = statistics.median(first_run)
    print(
        json.dumps(
            {
                "repeats": args.repeats,
                "a_import_mlflow_s": round(a, 4),
                "b_load_ext_s": round(b, 4),
                "b_max_s": round(max(load_ext), 4),
                "c_first_run_s": round(c, 4),
                "load_ext_ratio_to_import_mlflow": round(b / a, 4),
                "mlflow_not_imported_by_load_ext": clean,
                "within_budget_0_3_s": max(load_ext) <= BUDGET_S,
            }
        )
    )


if __name__ == "__main__":
    main()
