"""The magics in a real IPython kernel driven by jupyter_client: an exception fails the run,
an interrupt kills it with every point kept, and a killed kernel leaves a run that a new
shell finds with ``%matih_runs --orphans`` and closes with ``--close-orphans``."""

from __future__ import annotations

import os
import queue
import sys
import time
from collections.abc import Iterator
from typing import Any

import pytest

pytestmark = pytest.mark.slow

TENANT = "acme-corp"
NOTEBOOK = "/home/alice/work/train.ipynb"


class Kernel:
    """A kernel started for one test, with helpers to run cells and read their output."""

    def __init__(self, km: Any, kc: Any) -> None:
        self.km = km
        self.kc = kc

    def execute(self, code: str, timeout: float = 120) -> tuple[dict, str]:
        """Run a cell to completion; returns the reply content and everything printed."""
        out: list[str] = []

        def hook(msg: dict) -> None:
            kind, content = msg["msg_type"], msg["content"]
            if kind == "stream":
                out.append(content["text"])
            elif kind == "error":
                out.append("\n".join(content["traceback"]))
            elif kind in ("execute_result", "display_data"):
                out.append(content["data"].get("text/plain", ""))

        reply = self.kc.execute_interactive(code, output_hook=hook, timeout=timeout)
        return reply["content"], "".join(out)

    def value(self, expr: str) -> str:
        content, out = self.execute(f"print({expr})")
        assert content["status"] == "ok", out
        return out.strip()

    def wait_for_output(self, msg_id: str, needle: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                msg = self.kc.get_iopub_msg(timeout=1)
            except queue.Empty:
                continue
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            if msg["msg_type"] == "stream" and needle in msg["content"]["text"]:
                return
            if msg["msg_type"] == "error":
                raise AssertionError("\n".join(msg["content"]["traceback"]))
        raise AssertionError(f"{needle!r} was not printed within {timeout} s")

    def wait_for_reply(self, msg_id: str, timeout: float = 120) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            msg = self.kc.get_shell_msg(timeout=max(0.1, deadline - time.monotonic()))
            if msg["parent_header"].get("msg_id") == msg_id:
                return msg["content"]
        raise AssertionError("no execute_reply")


@pytest.fixture
def kernel(matih_env: dict[str, str], tmp_path: Any) -> Iterator[Kernel]:
    from jupyter_client.manager import start_new_kernel

    env = dict(os.environ)
    env["JPY_SESSION_NAME"] = NOTEBOOK
    km, kc = start_new_kernel(kernel_name="python3", env=env, cwd=str(tmp_path))
    k = Kernel(km, kc)
    try:
        # the native kernel of the interpreter running the tests, not some other install
        assert k.value("__import__('sys').executable") == sys.executable
        content, out = k.execute("%load_ext matih_jupyter")
        assert content["status"] == "ok", out
        yield k
    finally:
        kc.stop_channels()
        if km.is_alive():
            km.shutdown_kernel(now=True)


def test_exception_in_kernel_fails_the_run_and_shows_the_error(kernel, tracker, exp_name):
    content, out = kernel.execute(
        f"%%matih_run {exp_name} --name crash\n"
        "for i in range(20):\n"
        "    run.log_metric('loss', 1 / (i + 1), step=i)\n"
        "raise RuntimeError('diverged at step 20')\n"
    )
    assert content["status"] == "error"
    assert content["ename"] == "RuntimeError"
    assert "diverged at step 20" in out
    assert "ended as FAILED" in out
    (run,) = tracker.list_runs(TENANT, exp_name)
    assert run.status == "failed"
    assert run.tags["matih.error.type"] == "RuntimeError"
    assert run.tags["matih.error.message"] == "diverged at step 20"
    assert run.tags["matih.notebook_path"] == NOTEBOOK
    assert len(tracker.get_metric_history(run.id, "loss", TENANT)) == 20
    # the kernel is usable after the failure, and the next cell gets a new run
    content, out = kernel.execute(f"%%matih_run {exp_name}\nrun.log_metric('loss', 0.1)\n")
    assert content["status"] == "ok", out
    assert len(tracker.list_runs(TENANT, exp_name)) == 2


def test_interrupt_kills_the_run_and_keeps_every_point(kernel, tracker, exp_name):
    msg_id = kernel.kc.execute(
        f"%%matih_run {exp_name} --name interrupted\n"
        "import time\n"
        "logged = 0\n"
        "for i in range(10_000_000):\n"
        "    run.log_metric('x', i, step=i)\n"
        "    logged += 1\n"
        "    if i == 3000:\n"
        "        print('halfway', flush=True)\n"
        "    if i % 500 == 0:\n"
        "        time.sleep(0.01)\n"
    )
    kernel.wait_for_output(msg_id, "halfway")
    kernel.km.interrupt_kernel()
    reply = kernel.wait_for_reply(msg_id)
    assert reply["status"] == "error"
    assert reply["ename"] == "KeyboardInterrupt"
    logged = int(kernel.value("logged"))
    assert logged > 3000
    assert kernel.value("run.status") == "KILLED"
    (run,) = tracker.list_runs(TENANT, exp_name)
    assert run.status == "killed"
    assert run.tags["matih.error.type"] == "KeyboardInterrupt"
    steps = [p.step for p in tracker.get_metric_history(run.id, "x", TENANT)]
    # every point log_metric accepted is stored, in order, none twice; one more than
    # `logged` when the interrupt landed between log_metric and `logged += 1`
    assert steps == list(range(len(steps)))
    assert len(steps) in (logged, logged + 1)


def test_killed_kernel_leaves_an_orphan_that_a_new_shell_finds_and_closes(
    kernel, tracker, exp_name, shell, capsys
):
    content, out = kernel.execute(
        f"%matih_run start {exp_name} --name doomed\n"
        "for i in range(100):\n"
        "    run.log_metric('x', i, step=i)\n"
        "print(run.run_id)\n"
    )
    assert content["status"] == "ok", out
    run_id = out.strip().splitlines()[-1]
    # still RUNNING, alive in the kernel: not an orphan
    assert shell.run_line_magic("matih_runs", "--orphans").empty
    # the post_run_cell hook wrote the points before the kernel dies
    kernel.km.shutdown_kernel(now=True)
    assert not kernel.km.is_alive()
    assert tracker.get_run(run_id, TENANT).status == "running"

    orphans = shell.run_line_magic("matih_runs", f"{exp_name} --orphans")
    assert list(orphans["run_id"]) == [run_id]
    assert list(orphans["status"]) == ["running"]
    closed = shell.run_line_magic("matih_runs", "--close-orphans")
    assert list(closed["run_id"]) == [run_id]
    assert "Closed 1 orphaned run(s)" in capsys.readouterr().out
    run = tracker.get_run(run_id, TENANT)
    assert run.status == "killed"
    assert "orphaned" in run.tags["matih.end_reason"]
    assert len(tracker.get_metric_history(run_id, "x", TENANT)) == 100
    assert shell.run_line_magic("matih_runs", "--orphans").empty


def test_compare_in_a_kernel_shows_the_widget_and_returns_the_table(kernel, tracker, exp_name):
    for lr in (0.1, 0.01):
        content, out = kernel.execute(
            f"%%matih_run {exp_name}\nrun.log_params({{'lr': {lr}}}).log_metric('loss', {lr})\n"
        )
        assert content["status"] == "ok", out
    outputs: list[tuple[str, set[str]]] = []

    def hook(msg: dict) -> None:
        if msg["msg_type"] in ("execute_result", "display_data"):
            outputs.append((msg["msg_type"], set(msg["content"]["data"])))

    reply = kernel.kc.execute_interactive(
        f"%matih_compare {exp_name} --metrics loss", output_hook=hook, timeout=120
    )
    assert reply["content"]["status"] == "ok"
    kinds = [kind for kind, _ in outputs]
    assert kinds == ["display_data", "execute_result"]
    assert "application/vnd.jupyter.widget-view+json" in outputs[0][1]  # RunComparison
    assert "text/html" in outputs[1][1]  # the DataFrame a saved notebook keeps
    outputs.clear()
    reply = kernel.kc.execute_interactive(
        f"%matih_compare {exp_name} --no-widget", output_hook=hook, timeout=120
    )
    assert [kind for kind, _ in outputs] == ["execute_result"]
