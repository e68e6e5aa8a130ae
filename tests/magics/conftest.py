"""Fixtures for the magics: a fresh real IPython shell per test, with the extension loaded,
pointed at the test's own MLflow store; the process registry the magics promote with; a
real HTTP server that receives webhooks."""

from __future__ import annotations

import atexit
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hook_harness import added_hooks_removed
from IPython.core.interactiveshell import InteractiveShell
from traitlets.config import Config


@pytest.fixture
def shell(
    matih_env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[InteractiveShell]:
    # A private IPython directory and an in-memory history: tests never touch ~/.ipython.
    monkeypatch.setenv("IPYTHONDIR", str(tmp_path / "ipython"))
    config = Config()
    config.HistoryManager.hist_file = ":memory:"
    InteractiveShell.clear_instance()
    sh = InteractiveShell.instance(config=config)
    sh.run_line_magic("load_ext", "matih_jupyter")
    try:
        yield sh
    finally:
        sh.run_line_magic("unload_ext", "matih_jupyter")
        # IPython registers an exit hook per shell that resets it (a full garbage
        # collection each); run the cheap part now instead of once per test at exit.
        atexit.unregister(sh.atexit_operations)
        if sh.history_manager is not None:
            sh.history_manager.end_session()
            sh.history_manager.close()
        InteractiveShell.clear_instance()


@pytest.fixture
def process_registry(shell: InteractiveShell) -> Iterator[Any]:
    """The process registry (what ``%matih_promote`` uses), on the test's store; hooks a
    test adds to it are removed afterwards."""
    from matih_jupyter.core import get_model_registry
    from matih_jupyter.magics import get_session

    _ = get_session(shell).tracker  # moves the process tracker to the test's store
    with added_hooks_removed(get_model_registry()) as registry:
        yield registry
