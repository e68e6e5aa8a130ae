"""Where a sweep's Optuna study lives: in the same store as the runs, so a sweep resumes
from any kernel that reaches the store, and several kernels can run one sweep."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from ...config import redact_uri
from ...errors import InvalidInputError

#: An Optuna storage URL (RDB), used when the tracking store is not a local SQLite file.
ENV_SWEEP_STORAGE = "MATIH_SWEEP_STORAGE"
_STUDY_FILE = "optuna.db"
_CREATE_ATTEMPTS = 5


def storage_url(tracking_uri: str, storage: str | None = None) -> str:
    """The Optuna storage URL for a tracker: ``storage``, else ``MATIH_SWEEP_STORAGE``,
    else an SQLite file next to the MLflow SQLite database."""
    url = storage or os.environ.get(ENV_SWEEP_STORAGE)
    if url:
        return url
    if tracking_uri.startswith("sqlite:///"):
        db = Path(tracking_uri.removeprefix("sqlite:///"))
        return f"sqlite:///{db.parent / _STUDY_FILE}"
    raise InvalidInputError(
        "storage",
        f"no study storage for the tracking store at {redact_uri(tracking_uri)}.",
        hint=(
            f"Pass storage='postgresql://...' or set {ENV_SWEEP_STORAGE} to a database every "
            "kernel of the sweep can reach (for example the tracking server's PostgreSQL)."
        ),
    )


def open_storage(url: str) -> Any:
    """Optuna's RDB storage on ``url``. SQLite waits for a lock rather than failing, so
    several processes can share one file."""
    import optuna
    from sqlalchemy.exc import DBAPIError

    kwargs: dict[str, Any] = {}
    if url.startswith("sqlite:"):
        kwargs = {"connect_args": {"timeout": 60}}
    for attempt in range(1, _CREATE_ATTEMPTS):
        try:
            return optuna.storages.RDBStorage(url, engine_kwargs=kwargs)
        except DBAPIError:
            # Kernels starting one sweep on a new database race to create its tables
            # (PostgreSQL refuses the second CREATE); once one did, opening succeeds.
            time.sleep(0.2 * attempt)
    return optuna.storages.RDBStorage(url, engine_kwargs=kwargs)
