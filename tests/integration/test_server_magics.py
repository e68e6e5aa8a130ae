"""The magics in a real IPython shell whose environment points at the real server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from IPython.core.interactiveshell import InteractiveShell


@pytest.fixture
def shell(server_env: dict[str, str]) -> Iterator[InteractiveShell]:
    InteractiveShell.clear_instance()
    sh = InteractiveShell.instance()
    sh.run_line_magic("load_ext", "matih_jupyter")
    try:
        yield sh
    finally:
        sh.run_line_magic("unload_ext", "matih_jupyter")
        InteractiveShell.clear_instance()


def test_cell_run_logs_to_the_server(shell, tracker, tenant, stack, tmp_path):
    src = tmp_path / "notes.txt"
    src.write_text("hello")
    cell = (
        "%%matih_run magic-exp --name cell-run --tag team=fraud\n"
        "for step in range(50):\n"
        "    run.log_metric('loss', 1 / (step + 1), step=step)\n"
        "%matih_log acc=0.93\n"
        "run.log_params({'lr': 0.1})\n"
        f"run.log_artifact({str(src)!r})\n"
        "'done'"
    )
    result = shell.run_cell(cell)
    assert result.success, result.error_in_exec
    assert result.result == "done"
    (listed,) = tracker.list_runs(tenant, "magic-exp")
    run = tracker.get_run(listed.id)
    assert run.status == "finished" and run.name == "cell-run"
    assert run.tags["team"] == "fraud" and run.tags["matih.tenant_id"] == tenant
    assert run.params == {"lr": "0.1"} and run.metrics["acc"] == 0.93
    assert len(tracker.get_metric_history(run.id, "loss")) == 50
    assert any(
        k.endswith("/artifacts/notes.txt")
        for k in stack.s3.list_keys(stack.bucket, f"mlflow/{run.experiment_id}/{run.id}/")
    )


def test_failing_cell_marks_the_run_failed_on_the_server(shell, tracker, tenant):
    cell = "%%matih_run magic-fail\nrun.log_metric('x', 1.0)\nraise KeyError('boom')"
    result = shell.run_cell(cell)
    assert not result.success and isinstance(result.error_in_exec, KeyError)
    (listed,) = tracker.list_runs(tenant, "magic-fail")
    run = tracker.get_run(listed.id)
    assert run.status == "failed" and run.metrics["x"] == 1.0
