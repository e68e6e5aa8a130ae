"""The MLflow client of one store, bound to explicit URIs (never MLflow's process-global
tracking URI, which a server serving many tenants must not share)."""

from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from mlflow.entities import ViewType
from mlflow.tracking import MlflowClient

from ..config import StoreConfig
from . import internals
from .new_store import created_quietly

__all__ = [
    "MlflowClient",
    "ViewType",
    "make_client",
    "registry_writer",
    "root_artifacts",
    "run_status",
    "upload_to_run",
]


def make_client(store: StoreConfig) -> MlflowClient:
    """A client bound to this store's URIs, independent of MLflow's global settings."""
    if store.is_remote:
        # Bound how long a dead server can hold a notebook: MLflow's defaults retry for
        # minutes. Users who set these explicitly keep their values.
        os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "2")
        os.environ.setdefault("MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR", "1")
        os.environ.setdefault("MLFLOW_HTTP_REQUEST_TIMEOUT", "10")
    # MLflow draws a progress bar per artifact download once tqdm is installed: a widget
    # in the user's cell for every model load. Users who set it explicitly keep theirs.
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    with created_quietly(store) as new:
        client = MlflowClient(tracking_uri=store.tracking_uri, registry_uri=store.registry_uri)
        if new:
            # Created here, not in whichever later call happens to reach it first.
            client.search_experiments(max_results=1)
    return client


def registry_writer(client: MlflowClient) -> Any:
    """The client for registry writes that must not pay an extra read each (the epoch
    protocol writes many tags per change)."""
    return internals.registry_client(client)


def root_artifacts(client: MlflowClient, artifact_uri: str) -> list[Any]:
    """The files directly under a run's artifact root, given that root: what
    ``client.list_artifacts(run_id)`` answers without reading the whole run again to find
    it (a caller who has just read the run has it)."""
    return list(_repository(client, artifact_uri).list_artifacts(None))


def run_status(client: MlflowClient, run_id: str) -> str | None:
    """The run's status (``None``: no such run), without reading its params, metrics and
    tags where the store allows (a write that only needs to know the run is still
    running)."""
    return internals.run_status(client, run_id)


def read_run(client: MlflowClient, run_id: str) -> Any | None:
    """The run with its tags, params and latest metrics, as ``get_run`` reads it but for
    its inputs and outputs; ``None``: no such run (on a store that says so without an
    error)."""
    return internals.read_run(client, run_id)


def upload_to_run(
    client: MlflowClient, artifact_uri: str, local: Path, artifact_path: str | None = None
) -> None:
    """Upload the file or folder ``local`` under ``artifact_path`` of the run whose
    artifact root is ``artifact_uri``: what ``client.log_artifact(s)(run_id, ...)`` does,
    without reading the run to find its root (the caller has it)."""
    repo = _repository(client, artifact_uri)
    if local.is_dir():
        repo.log_artifacts(str(local), artifact_path)
    else:
        repo.log_artifact(str(local), artifact_path)


def move_to_run(
    client: MlflowClient, artifact_uri: str, local: Path, artifact_path: str | None = None
) -> None:
    """Put the folder ``local`` at ``artifact_path`` of the run whose artifact root is
    ``artifact_uri`` (``None``: the root itself). When that root is a local folder on the
    same file system and nothing is at ``artifact_path`` yet, the folder is moved there
    (its files are written once, not written and copied); otherwise it is uploaded as by
    `upload_to_run` and left for the caller to remove."""
    target = _local_target(artifact_uri, artifact_path)
    if target is not None and not target.exists():
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            os.rename(local, target)
            return
        except OSError:
            pass  # another file system, or a race on the target: copy as MLflow does
    upload_to_run(client, artifact_uri, local, artifact_path)


def _local_target(artifact_uri: str, artifact_path: str | None) -> Path | None:
    """Where ``artifact_path`` of a run lives when its artifact root is a local folder."""
    parts = [p for p in (artifact_path or "").split("/") if p]
    if urlparse(artifact_uri).scheme not in ("", "file") or {".", ".."} & set(parts):
        return None
    from mlflow.utils.file_utils import local_file_uri_to_path

    return Path(local_file_uri_to_path(artifact_uri)).joinpath(*parts)


def _repository(client: MlflowClient, artifact_uri: str) -> Any:
    return _repository_at(artifact_uri, client.tracking_uri)


@functools.lru_cache(maxsize=256)
def _repository_at(artifact_uri: str, tracking_uri: str) -> Any:
    """The artifact repository of one run's root, kept for the run's next upload or
    listing as MLflow keeps its own (a registration uploads to a run twice)."""
    from mlflow.store.artifact.artifact_repository_registry import get_artifact_repository

    return get_artifact_repository(artifact_uri, tracking_uri=tracking_uri)
