"""The live chart outside the session that drew it: in Notebook 7, in a saved notebook
re-opened in JupyterLab, through ``jupyter nbconvert``, and what a saved notebook holds.

`%%matih_run EXP --live` shows a `MetricChart` widget; when the run ends the same output
(display id) carries the widget view, a PNG of the final curves and a text summary. These
tests write notebooks with nbformat, run them in a real server (JupyterLab or Notebook 7,
started by lab_harness) driven by Chromium, save them and read the saved files.
"""

from __future__ import annotations

import base64
import itertools
import json
import re
import subprocess
import sys
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nbformat
import pytest
from lab_harness import NO_NEWS, jupyterlab, keep_screenshot
from playwright.sync_api import expect

from .conftest import TENANT, TOKEN
from .notebook_driver import (
    cell,
    eventually,
    open_in_lab,
    open_in_notebook7,
    run_cell,
    unique,
    wait_done,
    write_notebook,
)

pytestmark = [pytest.mark.slow, pytest.mark.browser]

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
#: What JupyterLab's widget renderer writes when the output's widget model is gone.
MODEL_NOT_FOUND = "Error displaying widget: model not found"
#: Distinctive credentials for the kernel's environment; no saved byte may hold them.
SECRETS = {
    "MLFLOW_TRACKING_PASSWORD": "pw-" + uuid.uuid4().hex,
    "MLFLOW_TRACKING_TOKEN": "tok-" + uuid.uuid4().hex,
}
#: JupyterLab's widget manager saves widget state into the notebook with this setting.
SAVE_WIDGET_STATE = {"@jupyter-widgets/jupyterlab-manager/plugin": {"saveState": True}}


def live_cell(experiment: str, steps: int) -> str:
    """A `%%matih_run --live` cell logging ``steps`` points of one metric, 50 ms apart."""
    return (
        f"%%matih_run {experiment} --name live-nb --live\n"
        "import time\n"
        f"for step in range({steps}):\n"
        "    run.log_metric('loss', 1.0 / (step + 1), step=step)\n"
        "    time.sleep(0.05)\n"
    )


def run_live_cell(page: Any, index: int) -> Any:
    """Run the live cell; check the chart draws new points at least twice while the prompt
    shows the cell running, then that the final PNG takes its place."""
    running = run_cell(page, index)
    chart = running.locator(".matih-live-widget .matih-chart-root")
    expect(chart).to_be_visible(timeout=20_000)
    samples: list[tuple[str, int]] = []

    def sample() -> bool:
        # Prompt and draw count read together, in one round trip.
        prompt, draws = running.evaluate(
            """c => [c.querySelector('.jp-InputArea-prompt').textContent.trim(),
                     c.querySelector('.matih-chart-root')?.dataset.draws ?? '0']"""
        )
        samples.append((prompt, int(draws or 0)))
        running_draws = [d for p, d in samples if p == "[*]:"]
        return sum(b > a for a, b in itertools.pairwise(running_draws)) >= 2

    eventually(sample, timeout=30, what="the chart to draw new points twice while running")
    expect(running.locator(".matih-chart-panel")).to_have_count(1)
    wait_done(running)
    # The run ended: the chart became the final curves as a plain image.
    expect(running.locator(".matih-chart-root")).to_have_count(0, timeout=15_000)
    expect(running.locator(".jp-OutputArea-output img")).to_have_count(1)
    return running


def saved_outputs(path: Path, index: int) -> list[dict[str, Any]]:
    return json.loads(path.read_text())["cells"][index].get("outputs", [])


def save_and_read_png(page: Any, path: Path, index: int) -> str:
    """Save the notebook (Ctrl+S) and wait until the file holds the cell's final PNG."""
    page.keyboard.press("Control+s")

    def png() -> str | None:
        try:
            outputs = saved_outputs(path, index)
        except (json.JSONDecodeError, IndexError):  # read mid-write
            return None
        found = [o["data"]["image/png"] for o in outputs if "image/png" in o.get("data", {})]
        return found[0] if found else None

    data = eventually(png, what="the saved notebook to hold the final PNG")
    data = "".join(data) if isinstance(data, list) else data
    assert base64.b64decode(data).startswith(b"\x89PNG")
    return data.replace("\n", "")


def api(base: str, method: str, route: str) -> Any:
    request = urllib.request.Request(
        f"{base}{route}", method=method, headers={"Authorization": f"token {TOKEN}"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        body = response.read()
    return json.loads(body) if body else None


def shut_down_kernels(base: str, name: str) -> None:
    """Shut the notebook's kernel down: its widget models are gone with it."""
    for session in api(base, "GET", "/api/sessions"):
        if session["path"] == name:
            api(base, "DELETE", f"/api/sessions/{session['id']}")
    assert not [s for s in api(base, "GET", "/api/sessions") if s["path"] == name]


def nbconvert_html(path: Path, out_dir: Path) -> str:
    jupyter = Path(sys.executable).with_name("jupyter")
    subprocess.run(
        [str(jupyter), "nbconvert", "--to", "html", "--output-dir", str(out_dir), str(path)],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    return (out_dir / (path.stem + ".html")).read_text()


def live_output(target: Any) -> Any:
    return target.locator(".jp-OutputArea-output")


# -- servers --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def notebook7(
    tmp_path_factory: pytest.TempPathFactory, lab_store: dict[str, str], lab_tracker: Any
) -> Iterator[tuple[str, Path]]:
    """Notebook 7 (`jupyter notebook`) on the shared store; yields its URL and root."""
    root = tmp_path_factory.mktemp("notebook7")
    lab_tracker.list_experiments(TENANT)  # migrate the store before kernels touch it
    env = {**lab_store, "MPLBACKEND": "Agg"}
    with jupyterlab(root, env, token=TOKEN, app="notebook") as base:
        yield base, root


@pytest.fixture(scope="module")
def saved_live_notebook(
    browser: Any, lab: str, notebooks_dir: Path, lab_tracker: Any
) -> tuple[Path, str]:
    """A notebook whose live cell ran to the end in JupyterLab, saved, its kernel shut
    down; returns its path and the final PNG (base64) the saved output holds."""
    experiment = unique("saved-live")
    path = write_notebook(notebooks_dir, ["%load_ext matih_jupyter", live_cell(experiment, 40)])
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    try:
        page = context.new_page()
        page.set_default_timeout(30_000)
        open_in_lab(page, lab, path.name)
        wait_done(run_cell(page, 0))
        run_live_cell(page, 1)
        png = save_and_read_png(page, path, 1)
        keep_screenshot(page, "live-nb-saved")
    finally:
        context.close()
    shut_down_kernels(lab, path.name)
    runs = lab_tracker.list_runs(TENANT, experiment_name=experiment)
    assert [r.status for r in runs] == ["finished"]
    return path, png


# -- tests ----------------------------------------------------------------------------------


def test_notebook7_draws_the_live_chart_while_the_cell_runs(
    browser: Any, notebook7: tuple[str, Path], lab_tracker: Any
) -> None:
    base, root = notebook7
    experiment = unique("nb7-live")
    path = write_notebook(root, ["%load_ext matih_jupyter", live_cell(experiment, 80)])
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    try:
        page = context.new_page()
        page.set_default_timeout(30_000)
        open_in_notebook7(page, base, path.name)
        wait_done(run_cell(page, 0))
        run_live_cell(page, 1)
        keep_screenshot(page, "live-nb-notebook7-finished")
    finally:
        context.close()
    runs = lab_tracker.list_runs(TENANT, experiment_name=experiment)
    assert [r.status for r in runs] == ["finished"]
    assert len(lab_tracker.get_metric_history(runs[0].id, "loss", TENANT)) == 80


def test_saved_output_holds_the_png_and_a_summary(
    saved_live_notebook: tuple[Path, str],
) -> None:
    path, _ = saved_live_notebook
    (output,) = saved_outputs(path, 1)
    assert output["output_type"] == "display_data"
    assert set(output["data"]) == {"image/png", "text/plain"}
    assert "finished" in "".join(output["data"]["text/plain"])


def test_reopened_notebook_shows_the_final_png(
    page: Any, lab: str, saved_live_notebook: tuple[Path, str]
) -> None:
    """Re-opened in JupyterLab (trusted: JupyterLab signed it on save; its kernel gone),
    the output is the final curves, not a widget whose model no longer exists."""
    path, png = saved_live_notebook
    open_in_lab(page, lab, path.name, idle=False)
    image = live_output(cell(page, 1)).locator("img")
    expect(image).to_have_count(1, timeout=30_000)
    expect(image).to_have_attribute("src", f"data:image/png;base64,{png}")
    expect(cell(page, 1)).not_to_contain_text(MODEL_NOT_FOUND)
    keep_screenshot(page, "live-nb-reopened-trusted")


def test_reopened_untrusted_copy_shows_the_png(
    page: Any, lab: str, notebooks_dir: Path, saved_live_notebook: tuple[Path, str]
) -> None:
    """A copy whose signature no longer matches (as from GitHub or a colleague) is
    untrusted: JupyterLab skips the widget renderer (not safe) and shows the PNG."""
    path, png = saved_live_notebook
    copy = nbformat.read(path, as_version=4)
    copy.metadata["copied_from"] = path.name  # new content: the signature no longer holds
    copy_path = notebooks_dir / "notebooks" / (unique("live-nb-copy") + ".ipynb")
    nbformat.write(copy, copy_path)
    open_in_lab(page, lab, copy_path.name)  # its kernel up: the widget manager restored
    image = live_output(cell(page, 1)).locator("img")
    expect(image).to_have_count(1)
    expect(image).to_have_attribute("src", f"data:image/png;base64,{png}")
    expect(cell(page, 1)).not_to_contain_text("Error displaying widget")
    keep_screenshot(page, "live-nb-reopened-untrusted")


def test_nbconvert_html_shows_the_final_png(
    saved_live_notebook: tuple[Path, str], tmp_path: Path
) -> None:
    path, png = saved_live_notebook
    html = nbconvert_html(path, tmp_path)
    # No widget state saved: nbconvert skips the widget view and takes the PNG.
    assert re.search(rf'<img\b[^>]*\bsrc="data:image/png;base64,{re.escape(png)}"', html)
    assert WIDGET_VIEW not in html


# -- widget state saved, credentials in the kernel's environment ------------------------------


@pytest.fixture(scope="module")
def secret_notebook(
    tmp_path_factory: pytest.TempPathFactory,
    browser: Any,
    lab_store: dict[str, str],
    lab_tracker: Any,
) -> tuple[Path, str]:
    """A live run in a JupyterLab whose kernels see MLflow credentials and which saves
    widget state into notebooks; returns the saved notebook and the final PNG."""
    root = tmp_path_factory.mktemp("secret-lab")
    (root / "notebooks").mkdir()
    lab_tracker.list_experiments(TENANT)
    env = {**lab_store, **SECRETS, "MPLBACKEND": "Agg"}
    keys = sorted(SECRETS)
    check = f"import os\nprint('CREDENTIALS SET', all(os.environ.get(k) for k in {keys!r}))"
    path = write_notebook(
        root, ["%load_ext matih_jupyter", check, live_cell(unique("secret-live"), 30)]
    )
    with jupyterlab(root, env, token=TOKEN, settings={**NO_NEWS, **SAVE_WIDGET_STATE}) as base:
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        try:
            page = context.new_page()
            page.set_default_timeout(30_000)
            open_in_lab(page, base, path.name)
            wait_done(run_cell(page, 0))
            printed = run_cell(page, 1)
            wait_done(printed)
            expect(live_output(printed)).to_contain_text("CREDENTIALS SET True")
            run_live_cell(page, 2)
            png = save_and_read_png(page, path, 2)

            def state_saved() -> bool:
                metadata = json.loads(path.read_text())["metadata"]
                return bool(metadata.get("widgets", {}).get(WIDGET_STATE, {}).get("state"))

            eventually(state_saved, what="the widget state in the saved notebook")
            keep_screenshot(page, "live-nb-secrets")
        finally:
            context.close()
    return path, png


def test_saved_notebook_holds_no_credentials_or_tracking_uri(
    secret_notebook: tuple[Path, str], lab_store: dict[str, str]
) -> None:
    path, _ = secret_notebook
    text = path.read_text()
    saved = json.loads(text)
    state = saved["metadata"]["widgets"][WIDGET_STATE]["state"]
    charts = [m for m in state.values() if m["state"].get("_anywidget_id", "").endswith("Chart")]
    assert charts and "finished" in charts[0]["state"]["status"]  # the chart's state is here
    store = lab_store["MLFLOW_TRACKING_URI"].removeprefix("sqlite:///")
    forbidden = {
        **SECRETS,
        "tracking URI": lab_store["MLFLOW_TRACKING_URI"],
        "store path": store,
        "artifact root": lab_store["MLFLOW_ARTIFACT_ROOT"],
    }
    for what, value in forbidden.items():
        assert value not in text, f"the saved notebook holds the {what}"
        # Also JSON-escaped (a path or URI inside a JSON string).
        assert json.dumps(value)[1:-1] not in text, f"the saved notebook holds the {what}"


def test_nbconvert_with_saved_widget_state_still_shows_the_png(
    secret_notebook: tuple[Path, str], tmp_path: Path
) -> None:
    """With widget state saved too (JupyterLab's saveState setting), the live output is
    the PNG, so nbconvert's HTML shows the final curves without any widget JavaScript."""
    path, png = secret_notebook
    html = nbconvert_html(path, tmp_path)
    assert WIDGET_STATE in html
    assert re.search(rf'<img\b[^>]*\bsrc="data:image/png;base64,{re.escape(png)}"', html)
