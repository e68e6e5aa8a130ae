"""The tracker's access to a run's artifacts: list, download and upload, for the run's
tenant only, inside the run's artifact folder only."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..backend.error_map import translate_errors
from ..errors import InvalidInputError
from ..isolation import isolated_methods
from . import artifact_paths as paths

if TYPE_CHECKING:
    from .ownership import Ownership


@isolated_methods
class RunArtifactsMixin:
    """Artifact methods of `ExperimentTracker`."""

    _own: Ownership
    _client: Any
    _tenant: Callable[[str | None], str]

    def _artifacts(self, run_id: str, path: str | None) -> list[Any]:
        with translate_errors(f"listing artifacts of run {run_id}"):
            return list(self._client.list_artifacts(run_id, path))

    def list_artifacts(
        self, run_id: str, path: str | None = None, tenant_id: str | None = None
    ) -> list[dict[str, Any]]:
        """The artifacts of the tenant's run under ``path``: path, is_dir, file_size."""
        tenant = self._tenant(tenant_id)
        self._own.run(run_id, tenant, flush=False)
        sub = paths.artifact_dir(path)
        return [
            {"path": f.path, "is_dir": f.is_dir, "file_size": f.file_size}
            for f in self._artifacts(run_id, sub)
        ]

    def download_artifacts(
        self, run_id: str, path: str, dst: str | os.PathLike, tenant_id: str | None = None
    ) -> Path:
        """Download an artifact file or folder of the tenant's run into ``dst``."""
        tenant = self._tenant(tenant_id)
        self._own.run(run_id, tenant, flush=False)
        Path(dst).mkdir(parents=True, exist_ok=True)
        with translate_errors(
            f"downloading {path!r}", not_found=f"Artifact {path!r} was not found in run {run_id}."
        ):
            return Path(
                self._client.download_artifacts(run_id, paths.artifact_file(path), str(dst))
            )

    def upload_artifacts(
        self,
        run_id: str,
        local_path: str | os.PathLike,
        artifact_path: str | None = None,
        tenant_id: str | None = None,
    ) -> None:
        """Upload a file or folder to the tenant's run."""
        tenant = self._tenant(tenant_id)
        self._own.run(run_id, tenant, flush=False)
        path = Path(local_path)
        if not path.exists():
            raise InvalidInputError("local_path", f"{str(path)!r} does not exist.")
        with translate_errors(f"uploading {path.name!r} to run {run_id}"):
            self._client.log_artifact(run_id, str(path), paths.artifact_dir(artifact_path))
