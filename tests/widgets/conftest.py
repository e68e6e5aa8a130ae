"""Widget tests run without a kernel: widgets are constructed against real MLflow on the
temporary store and driven through their traits and callbacks."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from hook_harness import added_hooks_removed

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


@pytest.fixture
def process_registry(tracker: Any, matih_env: dict[str, str]) -> Iterator[Any]:
    """The process registry (what a widget given no registry uses), on the test's tracker;
    afterwards the hooks a test added are removed and the process tracker is put back."""
    from matih_jupyter.core import get_experiment_tracker, get_model_registry, use_tracker

    previous = get_experiment_tracker()
    use_tracker(tracker)
    try:
        with added_hooks_removed(get_model_registry()) as registry:
            yield registry
    finally:
        use_tracker(previous)
