"""Fixtures for the magics: a fresh real IPython shell per test, with the extension loaded,
pointed at the test's own MLflow store."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from IPython.core.interactiveshell import InteractiveShell


@pytest.fixture
def shell(matih_env: dict[str, str]) -> Iterator[InteractiveShell]:
    InteractiveShell.clear_instance()
    sh = InteractiveShell.instance()
    sh.run_line_magic("load_ext", "matih_jupyter")
    try:
        yield sh
    finally:
        sh.run_line_magic("unload_ext", "matih_jupyter")
        InteractiveShell.clear_instance()
