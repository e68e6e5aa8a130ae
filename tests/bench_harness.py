"""Running a benchmark end to end at a tiny size, as the smoke tests do: in a subprocess
(MLflow's fluent API sets process-global state), on no store of the environment."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

BENCHMARKS = Path(__file__).parents[1] / "benchmarks"


def run_bench(script: str, *args: str) -> dict[str, Any]:
    """The JSON line ``benchmarks/<script>`` prints last."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "MATIH_"))}
    out = subprocess.run(
        [sys.executable, str(BENCHMARKS / script), *args],
        capture_output=True,
        text=True,
        timeout=240,
        env=env,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])
