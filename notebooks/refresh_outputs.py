"""Re-execute the example notebooks in place on a fresh embedded store (their stored outputs
are what `make test-notebooks` compares against).

Run it after changing a notebook, or a message the notebooks print:

    .venv/bin/python notebooks/refresh_outputs.py            # every notebook, in order
    .venv/bin/python notebooks/refresh_outputs.py 03_compare_and_promote.ipynb

All notebooks share one fresh store, in the order nbval runs them. Widget state is not saved
(it holds PNGs of hundreds of kB); the outputs keep a text fallback. The store's temporary
folder is saved as `$MATIH_HOME` (the README's name for it), not as a path that no longer
exists (nbval_sanitize.cfg masks store paths on both sides).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

HERE = Path(__file__).resolve().parent
NOTEBOOKS = [
    "01_quickstart.ipynb",
    "02_magics_and_live_plots.ipynb",
    "03_compare_and_promote.ipynb",
    "04_tenants.ipynb",
    "05_reproduce_a_run.ipynb",
    "06_sweep.ipynb",
    "07_governed_promotion.ipynb",
]
# The same variables the Makefile unsets, so the outputs do not depend on who refreshes them.
UNSET = ("MLFLOW_", "MATIH_", "JPY_SESSION_NAME")


def refresh(path: Path, home: str) -> None:
    nb = nbformat.read(path, as_version=4)
    env = {k: v for k, v in os.environ.items() if not k.startswith(UNSET)}
    env["MATIH_HOME"] = home
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)  # the kernel inherits this process's environment
    started = time.monotonic()
    try:
        NotebookClient(
            nb,
            timeout=300,
            kernel_name="python3",
            resources={"metadata": {"path": str(HERE)}},
            coalesce_streams=True,  # one stream output per name, however the kernel flushed
        ).execute()
    finally:
        os.environ.clear()
        os.environ.update(saved)
    nb.metadata.pop("widgets", None)
    for cell in nb.cells:
        cell.metadata = {k: v for k, v in cell.metadata.items() if k == "tags"}
        for output in cell.get("outputs", []):
            _name_home(output, home)
    nbformat.write(nb, path)
    took = time.monotonic() - started
    print(f"{path.name}: {took:.1f} s, {path.stat().st_size / 1024:.0f} kB")


def _name_home(output: dict, home: str) -> None:
    """Text of ``output`` with the temporary store folder written as ``$MATIH_HOME``."""
    if "text" in output:
        output["text"] = output["text"].replace(home, "$MATIH_HOME")
    data = output.get("data", {})
    for kind in ("text/plain", "text/html"):
        if kind in data:
            data[kind] = data[kind].replace(home, "$MATIH_HOME")


def main(names: list[str]) -> None:
    names = [Path(n).name for n in names] or NOTEBOOKS
    with tempfile.TemporaryDirectory(prefix="matih-notebooks-") as home:
        if names[0] != NOTEBOOKS[0]:
            # Under nbval only the first notebook creates the store (and says so in its first
            # cell): create it before the others.
            env = {k: v for k, v in os.environ.items() if not k.startswith(UNSET)}
            env["MATIH_HOME"] = home
            code = "from matih_jupyter import ExperimentTracker; ExperimentTracker().client"
            code += ".search_experiments()"
            subprocess.run([sys.executable, "-c", code], env=env, check=True)
        for name in names:
            refresh(HERE / name, home)


if __name__ == "__main__":
    main(sys.argv[1:])
