"""`make lab` on a headless or remote machine: PORT, TOKEN and NO_BROWSER=1 are honoured, and
the URL it prints, once the server answers, opens the quickstart notebook with the token."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from lab_harness import free_port

ROOT = Path(__file__).resolve().parents[2]
QUICKSTART = "notebooks/01_quickstart.ipynb"

pytestmark = pytest.mark.slow


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


# Straight to the server (no proxy from the environment), redirects reported, not followed.
DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirect())


def lines_of(proc: subprocess.Popen[str]) -> queue.Queue[str]:
    """The process's output, line by line, as it comes."""
    lines: queue.Queue[str] = queue.Queue()

    def pump() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.put(line)

    threading.Thread(target=pump, daemon=True).start()
    return lines


def wait_for_line(lines: queue.Queue[str], text: str, seen: list[str], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            seen.append(lines.get(timeout=0.5))
        except queue.Empty:
            continue
        if text in seen[-1]:
            return
    pytest.fail(f"`make lab` printed no {text!r} in {timeout:.0f} s:\n" + "".join(seen[-40:]))


@pytest.fixture
def lab_env(tmp_path: Path) -> dict[str, str]:
    """This environment without a store, a tenant or a TOKEN of its own; a short-lived
    MATIH_HOME and private Jupyter runtime and settings folders."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "MATIH_", "TOKEN"))}
    env.update(
        MATIH_HOME=str(tmp_path / "home"),
        JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"),
        JUPYTERLAB_SETTINGS_DIR=str(tmp_path / "settings"),
        JUPYTERLAB_WORKSPACES_DIR=str(tmp_path / "workspaces"),
    )
    return env


@pytest.fixture
def make_lab(lab_env: dict[str, str]) -> Iterator[tuple[int, str, list[str]]]:
    """`make lab PORT=<free> TOKEN=<t> NO_BROWSER=1`, running until the test ends, in its own
    process group (killed whole at the end); yields the port, the token and its output so far
    (up to the printed URL). The install step is taken as done (`-o`): this is about `lab`."""
    port, token = free_port(), uuid.uuid4().hex
    command = ["make", "--no-print-directory", "-o", ".venv/.installed", "lab"]
    command += [f"PORT={port}", f"TOKEN={token}", "NO_BROWSER=1"]
    proc = subprocess.Popen(
        command,
        cwd=ROOT,
        env=lab_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    seen: list[str] = []
    try:
        url = f"http://localhost:{port}/lab/tree/{QUICKSTART}?token={token}"
        wait_for_line(lines_of(proc), url, seen, timeout=90)
        yield port, token, seen
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def test_make_lab_prints_a_url_that_opens_the_quickstart_notebook(make_lab) -> None:
    port, token, seen = make_lab
    base = f"http://localhost:{port}"
    with DIRECT.open(f"{base}/lab/tree/{QUICKSTART}?token={token}", timeout=10) as page:
        assert page.status == 200
        # The page opens the notebook itself, not the Launcher.
        assert f'"treePath": "{QUICKSTART}"' in page.read().decode()
    with DIRECT.open(f"{base}/api/contents/{QUICKSTART}?token={token}", timeout=10) as nb:
        assert b'"type": "notebook"' in nb.read()  # served from the repository's root
    with pytest.raises(urllib.error.HTTPError) as refused:
        DIRECT.open(f"{base}/lab/tree/{QUICKSTART}", timeout=10)  # no token: to the login page
    assert refused.value.code == 302 and "/login" in refused.value.headers["Location"]
    with pytest.raises(urllib.error.HTTPError) as wrong:
        DIRECT.open(f"{base}/api/contents/{QUICKSTART}?token=not-{token}", timeout=10)
    assert wrong.value.code == 403
    assert not [line for line in seen if "web browser" in line.lower()]  # NO_BROWSER=1
    # The token never shows on a command line that `ps` lists (only make's, as typed).
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            args = cmdline.read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        assert token not in args or args.startswith("make "), args
