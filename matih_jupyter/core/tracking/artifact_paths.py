"""Paths inside a run's artifacts: relative, normalised, never escaping the run."""

from __future__ import annotations

import posixpath

from ..errors import InvalidInputError


def artifact_dir(artifact_path: str | None) -> str | None:
    """A folder inside the run's artifacts; None (or empty) is the root."""
    if artifact_path in (None, ""):
        return None
    return artifact_file(str(artifact_path), field_name="artifact_path")


def artifact_file(path: str, field_name: str = "artifact_file") -> str:
    """A file inside the run's artifacts, normalised; absolute paths and ``..`` are refused."""
    norm = posixpath.normpath(str(path))
    if not path or norm.startswith(("/", "..")) or norm != str(path).rstrip("/") or "\\" in path:
        raise InvalidInputError(
            field_name,
            f"{path!r} is not a relative path inside the run's artifacts.",
            hint="Use a relative path such as 'plots/loss.png'.",
        )
    return norm
