"""Driving notebooks in the browser, shared by the browser tests: write a notebook, open it
in JupyterLab or Notebook 7, run a cell and wait for it, wait for a condition."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import nbformat
import pytest
from playwright.sync_api import expect

from .conftest import TOKEN

DONE = re.compile(r"\[\d+\]")
STARTED = re.compile(r"\[(\*|\d+)\]")
CELLS = ".jp-NotebookPanel .jp-Notebook .jp-Cell"


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:6]}"


def eventually(check: Callable[[], Any], timeout: float = 20.0, what: str = "condition") -> Any:
    """Poll ``check`` until it returns something true (returned), or fail naming ``what``."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(0.2)
    pytest.fail(f"timed out waiting for {what} (last: {last!r})")


def write_notebook(folder: Path, cells: list[str], prefix: str = "widgets") -> Path:
    """A notebook of code cells in ``folder/notebooks``, with the Python 3 kernel."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(src) for src in cells]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}  # fmt: skip
    path = folder / "notebooks" / (unique(prefix) + ".ipynb")
    nbformat.write(nb, path)
    return path


def open_in_lab(page: Any, base: str, name: str, *, idle: bool = True) -> None:
    """Open a notebook in JupyterLab (a fresh workspace) and, if ``idle``, wait for its
    kernel to be idle."""
    workspace = "ws-" + uuid.uuid4().hex[:8]
    page.goto(f"{base}/lab/workspaces/{workspace}/tree/{name}?token={TOKEN}&reset")
    page.wait_for_selector(CELLS, timeout=60_000)
    if idle:
        status = page.get_by_role("button", name=re.compile(r"\| Idle"))
        expect(status).to_be_visible(timeout=60_000)


def open_in_notebook7(page: Any, base: str, name: str) -> None:
    """Open a notebook in Notebook 7 and wait for its kernel to be idle."""
    page.goto(f"{base}/notebooks/{name}?token={TOKEN}")
    page.wait_for_selector(CELLS, timeout=60_000)
    idle = page.locator(".jp-Notebook-ExecutionIndicator[data-status=idle]")
    expect(idle).to_have_count(1, timeout=60_000)


def open_notebook(page: Any, lab: str, folder: Path, cells: list[str]) -> Path:
    """Write a notebook of code cells, open it in JupyterLab and wait for an idle kernel."""
    path = write_notebook(folder, cells)
    open_in_lab(page, lab, path.name)
    return path


def cell(page: Any, index: int) -> Any:
    return page.locator(CELLS).nth(index)


def run_cell(page: Any, index: int) -> Any:
    """Run one cell; a run right after opening is sometimes dropped, so retry until the
    prompt shows it started."""
    target = cell(page, index)
    prompt = target.locator(".jp-InputArea-prompt")
    for _ in range(5):
        target.locator(".jp-InputArea-editor").click()
        page.keyboard.press("Control+Enter")
        try:
            expect(prompt).to_have_text(STARTED, timeout=4_000)
            return target
        except AssertionError:
            continue
    pytest.fail(f"cell {index} never started")


def wait_done(target: Any, timeout: float = 60.0) -> None:
    expect(target.locator(".jp-InputArea-prompt")).to_have_text(DONE, timeout=timeout * 1000)
