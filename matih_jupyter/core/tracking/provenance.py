"""Provenance tags for every run: code version, notebook, interpreter and packages.

Computed once per process and working directory (a ``git`` call costs milliseconds),
so starting a run stays cheap.
"""

from __future__ import annotations

import functools
import os
import platform
import socket
import subprocess
import sys
import time
from importlib import metadata

TAG_GIT_COMMIT = "matih.git.commit"
TAG_GIT_DIRTY = "matih.git.dirty"
TAG_GIT_BRANCH = "matih.git.branch"
TAG_NOTEBOOK = "matih.notebook_path"
TAG_PYTHON = "matih.python_version"
TAG_HOST = "matih.host"
TAG_PID = "matih.pid"
# MLflow's own tags, so the MLflow UI shows the same facts.
MLFLOW_GIT_COMMIT = "mlflow.source.git.commit"
MLFLOW_SOURCE_NAME = "mlflow.source.name"
MLFLOW_SOURCE_TYPE = "mlflow.source.type"
MLFLOW_USER = "mlflow.user"

PACKAGES = ("mlflow", "matih-jupyter", "numpy", "pandas", "scikit-learn", "torch", "onnx")

#: Environment variables that name the notebook a kernel runs (Jupyter Server >= 2 sets
#: JPY_SESSION_NAME; MATIH_NOTEBOOK_PATH lets any launcher say it).
NOTEBOOK_ENV = ("MATIH_NOTEBOOK_PATH", "JPY_SESSION_NAME")


def _git(*args: str, cwd: str) -> str | None:
    try:
        out = subprocess.run(
            ["git", *args],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() if out.returncode == 0 else None


_GIT_CACHE: dict[str, tuple[float, dict[str, str]]] = {}
#: Seconds a git answer is reused: runs started in a burst share one ``git`` call, while a
#: commit or an edit made between runs still shows.
GIT_CACHE_SECONDS = 10.0


def git_info(cwd: str) -> dict[str, str]:
    """Commit, branch and dirty flag of the repository holding ``cwd``, if any."""
    now = time.monotonic()
    cached = _GIT_CACHE.get(cwd)
    if cached and now - cached[0] < GIT_CACHE_SECONDS:
        return cached[1]
    tags = _read_git(cwd)
    _GIT_CACHE[cwd] = (now, tags)
    return tags


def _read_git(cwd: str) -> dict[str, str]:
    commit = _git("rev-parse", "HEAD", cwd=cwd)
    if not commit:
        return {}
    status = _git("status", "--porcelain", "--untracked-files=no", cwd=cwd)
    tags = {
        TAG_GIT_COMMIT: commit,
        MLFLOW_GIT_COMMIT: commit,
        TAG_GIT_DIRTY: "true" if status else "false",
    }
    branch = _git("rev-parse", "--abbrev-ref", "HEAD", cwd=cwd)
    if branch:
        tags[TAG_GIT_BRANCH] = branch
    return tags


@functools.lru_cache(maxsize=1)
def environment_info() -> dict[str, str]:
    """Python, host and key package versions."""
    tags = {
        TAG_PYTHON: platform.python_version(),
        TAG_HOST: socket.gethostname(),
    }
    for name in PACKAGES:
        try:
            tags[f"matih.version.{name}"] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return tags


def notebook_path() -> str | None:
    """The notebook this kernel runs, when a launcher said so."""
    for var in NOTEBOOK_ENV:
        value = os.environ.get(var)
        if value:
            return value
    return None


def provenance_tags(notebook: str | None = None) -> dict[str, str]:
    """Every provenance tag for a run started now in this process."""
    tags = dict(environment_info())
    tags[TAG_PID] = str(os.getpid())
    tags.update(git_info(os.getcwd()))
    nb = notebook or notebook_path()
    if nb:
        tags[TAG_NOTEBOOK] = nb
        tags[MLFLOW_SOURCE_NAME] = nb
        tags[MLFLOW_SOURCE_TYPE] = "NOTEBOOK"
    elif sys.argv and sys.argv[0]:
        tags[MLFLOW_SOURCE_NAME] = os.path.basename(sys.argv[0])
        tags[MLFLOW_SOURCE_TYPE] = "LOCAL"
    return tags
