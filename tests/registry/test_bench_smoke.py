"""The registry benchmark runs end to end at a tiny size, so it cannot rot. It asserts
shape, never timings."""

from __future__ import annotations

import pytest
from bench_harness import run_bench


@pytest.mark.slow
def test_bench_registry_runs() -> None:
    line = run_bench("bench_registry.py", "--versions", "2", "--models", "5")
    assert line["benchmark"] == "registry"
    for part in ("register", "promote", "list"):
        assert line[part]["raw_s"] > 0 and line[part]["matih_s"] > 0
        assert line[part]["ratio"] > 0
