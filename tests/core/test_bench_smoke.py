"""The logging benchmark runs end to end (tiny size) so it cannot rot; it asserts shape and
correctness, never timings. It runs in a subprocess: MLflow's fluent API (path a) sets
process-global state."""

from __future__ import annotations

from pathlib import Path

import pytest
from bench_harness import run_bench


@pytest.mark.slow
def test_bench_logging_runs(tmp_path: Path) -> None:
    line = run_bench("bench_logging.py", "--steps", "10", "--store", str(tmp_path))
    assert line["points"] == 30
    for name in (
        "a_mlflow_log_metric",
        "b_mlflow_async",
        "c_client_log_batch",
        "d_matih_active_run",
    ):
        assert line[name]["caller_us_per_point"] > 0
        assert line[name]["durable_points_per_s"] > 0
    assert line["a_mlflow_log_metric"]["caller_ratio_to_a"] == 1.0


@pytest.mark.slow
def test_bench_sweep_runs(tmp_path: Path) -> None:
    pytest.importorskip("optuna_integration")
    args = ["--trials", "5", "--repeats", "1", "--store", str(tmp_path)]
    line = run_bench("bench_sweep.py", *args)
    assert line["benchmark"] == "sweep"
    assert (line["trials"], line["repeats"]) == (5, 1)
    assert set(line["s_per_trial"]) == {"none", "callback", "matih"}
    assert all(v > 0 for v in line["s_per_trial"].values())
    assert set(line["overhead_ms_per_trial"]) == {"matih", "callback"}
    assert all(isinstance(v, float) for v in line["overhead_ms_per_trial"].values())
    assert set(line["ratio_to_none"]) == {"callback", "matih"}
    assert all(v > 0 for v in line["ratio_to_none"].values())
    ratio = line["matih_over_callback_overhead"]
    assert isinstance(ratio, float) and ratio > 0
    assert line["target"] == "<= 1.2"
    assert line["records"]["matih"]["nested_runs"] is True
    assert set(line["records"]) == {"none", "callback", "matih"}


@pytest.mark.slow
def test_bench_compare_runs(tmp_path: Path) -> None:
    line = run_bench("bench_compare.py", "--runs", "3", "--repeats", "1", "--store", str(tmp_path))
    assert (line["benchmark"], line["runs"], line["repeats"]) == ("compare", 3, 1)
    paths = {"search_runs", "compare", "magic", "widget", "rest"}
    assert set(line["median_s"]) == paths and all(v > 0 for v in line["median_s"].values())
    assert set(line["ratio_to_search_runs"]) == paths - {"search_runs"}
    assert all(v > 0 for v in line["ratio_to_search_runs"].values())


@pytest.mark.slow
def test_bench_growth_runs(tmp_path: Path) -> None:
    args = ["--points", "300,600", "--runs", "3,6", "--store", str(tmp_path)]
    line = run_bench("bench_growth.py", *args)
    assert (line["benchmark"], line["store"]) == ("growth", "sqlite")
    assert set(line["points"]) == {"300", "600"} and set(line["runs"]) == {"3", "6"}
    for row in line["points"].values():
        for side in ("matih", "plain"):
            assert row[side]["durable_us_per_point"] > 0 and row[side]["peak_mb"] >= 0
        assert row["ratio_durable"] > 0
    for row in line["runs"].values():
        assert set(row["ratio"]) == {"create", "list", "compare"}
        assert all(v > 0 for v in row["ratio"].values())
    assert set(line["growth"]) == {"matih", "plain"}
    assert line["growth"]["matih"]["durable_us_per_point"] > 0


@pytest.mark.slow
def test_bench_rest_runs() -> None:
    line = run_bench("bench_rest.py", "--requests", "30", "--runs", "2", "--repeats", "1")
    assert (line["benchmark"], line["requests"], line["repeats"]) == ("rest", 30, 1)
    for side in ("rest_reads_ms", "plain_reads_ms"):
        assert line[side]["p50"] > 0 and line[side]["p95"] >= line[side]["p50"]
    assert set(line["ratio_rest_to_plain"]) == {"p50", "p95"}
