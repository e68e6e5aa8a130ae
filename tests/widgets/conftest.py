"""Widget tests run without a kernel: widgets are constructed against real MLflow on the
temporary store and driven through their traits and callbacks."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

XSS = "<img src=x onerror=alert(1)>"
TENANT = "acme-corp"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def wait_for(predicate: Callable[[], bool], timeout: float = 15.0, what: str = "condition") -> None:
    """Poll until ``predicate()`` is true (background threads), or fail naming ``what``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    pytest.fail(f"timed out after {timeout}s waiting for {what}")
