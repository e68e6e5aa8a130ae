"""``%load_ext matih_jupyter`` must stay cheap: it imports neither MLflow nor pandas (checked
in a fresh interpreter; the time itself is measured by benchmarks/bench_load_ext.py)."""

from __future__ import annotations

import json
import subprocess
import sys

CHECK = """
import json, sys
from IPython.core.interactiveshell import InteractiveShell
shell = InteractiveShell.instance()
shell.run_line_magic("load_ext", "matih_jupyter")
heavy = ("mlflow", "pandas", "ipywidgets", "matih_jupyter.core.tracking",
         "matih_jupyter.core.registry", "matih_jupyter.core.backend")
loaded = sorted(m for m in heavy if m in sys.modules)
magics = sorted(n for n in shell.magics_manager.lsmagic()["line"] if n.startswith("matih_"))
shell.run_line_magic("matih_run", "status")
print(json.dumps({"loaded": loaded, "magics": magics}))
"""


def test_load_ext_imports_no_mlflow_in_a_fresh_interpreter(matih_env):
    out = subprocess.run(
        [sys.executable, "-c", CHECK], capture_output=True, text=True, check=True, timeout=120
    )
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["loaded"] == []
    assert result["magics"] == [
        "matih_approve",
        "matih_compare",
        "matih_experiment",
        "matih_log",
        "matih_models",
        "matih_promote",
        "matih_reject",
        "matih_requests",
        "matih_run",
        "matih_runs",
        "matih_tenant",
    ]
    # a magic that needs no store (status with nothing open) stays light too
    assert "No run is open" in out.stdout
