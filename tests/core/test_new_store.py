"""A new SQLite store is created with the tracker, announced once in matih's words, and
MLflow's log of creating its tables stays out of the user's output (a fresh process each:
logging configuration and MLflow's engine cache are per process)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

TWO_TRACKERS = """
from matih_jupyter import ExperimentTracker
first = ExperimentTracker()
second = ExperimentTracker()
print(first.list_experiments("acme-corp"), second.store.describe())
"""


def run_python(code: str, home: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "MATIH_"))}
    env["MATIH_HOME"] = str(home)
    return subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120
    )


def test_a_new_store_is_announced_once_without_mlflows_migration_log(tmp_path: Path) -> None:
    done = run_python(TWO_TRACKERS, tmp_path / "home")
    assert done.returncode == 0, done.stderr
    db = tmp_path / "home" / "mlflow.db"
    assert done.stderr.splitlines() == [f"matih: creating a new tracking store at sqlite:///{db}"]
    assert done.stdout.strip() == f"[] embedded store sqlite:///{db}"


def test_an_existing_store_is_opened_without_a_word(tmp_path: Path) -> None:
    assert run_python(TWO_TRACKERS, tmp_path / "home").returncode == 0
    again = run_python(TWO_TRACKERS, tmp_path / "home")
    assert again.returncode == 0, again.stderr
    assert again.stderr == ""


def test_a_configured_matih_logger_decides_where_the_line_goes(tmp_path: Path) -> None:
    silenced = "import logging\nlogging.getLogger('matih_jupyter').setLevel(logging.WARNING)\n"
    done = run_python(silenced + TWO_TRACKERS, tmp_path / "home")
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
