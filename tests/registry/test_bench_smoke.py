"""The registry benchmark runs end to end at a tiny size, so it cannot rot. It asserts
shape, never timings."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).parents[2] / "benchmarks" / "bench_registry.py"


@pytest.mark.slow
def test_bench_registry_runs() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "MATIH_"))}
    out = subprocess.run(
        [sys.executable, str(BENCH), "--versions", "2", "--models", "5"],
        capture_output=True,
        text=True,
        timeout=240,
        env=env,
        check=True,
    )
    line = json.loads(out.stdout.strip().splitlines()[-1])
    assert line["benchmark"] == "registry"
    for part in ("register", "promote", "list"):
        assert line[part]["raw_s"] > 0 and line[part]["matih_s"] > 0
        assert line[part]["ratio"] > 0
