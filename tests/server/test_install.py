"""The installed package enables the server extension by itself (jupyter-config/)."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest


@pytest.mark.timeout(120)
def test_jupyter_lists_the_extension_enabled_and_ok() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("JUPYTER_")}
    result = subprocess.run(
        [sys.executable, "-m", "jupyter", "server", "extension", "list"],
        capture_output=True,
        text=True,
        env=env,
        timeout=100,
        check=False,
    )
    out = re.sub(r"\x1b\[[0-9;]*m", "", result.stdout + result.stderr)
    assert result.returncode == 0, out
    assert re.search(r"matih_jupyter\s+enabled", out), out
    assert re.search(r"matih_jupyter [0-9.]+\s+OK", out), out
