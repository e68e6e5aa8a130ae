"""`backend.client.move_to_run`: a folder put into a run's artifacts is moved in place on a
local store (written once), and uploaded as MLflow uploads it whenever it cannot be."""

from __future__ import annotations

from pathlib import Path

from matih_jupyter.core.backend import client as mlc


def _folder(root: Path, text: str) -> Path:
    folder = root / "payload"
    (folder / "model").mkdir(parents=True)
    (folder / "model" / "MLmodel").write_text(text)
    (folder / "notes.txt").write_text("notes")
    return folder


def _listed(client, run_id: str, path: str) -> set[str]:
    return {f.path for f in client.list_artifacts(run_id, path)}


def _new_run(tracker, exp_name: str):
    return tracker.client.create_run(tracker.get_or_create_experiment(exp_name, "acme"))


def _mlmodel(client, run_id: str, folder: str) -> str:
    """The text of ``folder/model/MLmodel`` as MLflow hands it out."""
    return Path(client.download_artifacts(run_id, f"{folder}/model/MLmodel")).read_text()


def test_a_folder_is_moved_into_a_local_run(tracker, exp_name, tmp_path) -> None:
    client = tracker.client
    run = _new_run(tracker, exp_name)
    folder = _folder(tmp_path, "v1")
    mlc.move_to_run(client, run.info.artifact_uri, folder, "registered_models/m/abc")
    assert not folder.exists(), "moved, not copied"
    assert _listed(client, run.info.run_id, "registered_models/m/abc") == {
        "registered_models/m/abc/model",
        "registered_models/m/abc/notes.txt",
    }
    assert _mlmodel(client, run.info.run_id, "registered_models/m/abc") == "v1"


def test_an_existing_target_is_added_to_as_an_upload_would(tracker, exp_name, tmp_path) -> None:
    client = tracker.client
    run = _new_run(tracker, exp_name)
    uri = run.info.artifact_uri
    mlc.move_to_run(client, uri, _folder(tmp_path / "a", "first"), "out")
    second = _folder(tmp_path / "b", "second")
    (second / "more.txt").write_text("more")
    mlc.move_to_run(client, uri, second, "out")
    assert second.exists(), "copied: the caller removes it"
    assert _listed(client, run.info.run_id, "out") == {"out/model", "out/notes.txt", "out/more.txt"}
    assert _mlmodel(client, run.info.run_id, "out") == "second"


def test_a_run_root_and_paths_that_climb_out(tracker, exp_name, tmp_path) -> None:
    client = tracker.client
    run = _new_run(tracker, exp_name)
    uri = run.info.artifact_uri
    mlc.move_to_run(client, uri, _folder(tmp_path / "a", "root"), None)
    assert _listed(client, run.info.run_id, "") == {"model", "notes.txt"}
    # A path naming ".." is never resolved by hand: MLflow's own upload judges it.
    assert mlc._local_target(uri, "a/../../b") is None
    assert mlc._local_target("s3://bucket/run/artifacts", "x") is None
    assert mlc._local_target("mlflow-artifacts:/1/abc/artifacts", "x") is None
