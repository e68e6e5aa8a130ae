"""A new SQLite store, created as soon as its tracker is, and announced once in matih's words.

MLflow creates its tables on the first call that reaches a new database and logs each step
("Creating initial MLflow database tables...", "Updating database tables") at INFO through
its own stderr handler: in a notebook that is a stderr box in whatever cell happened to touch
the store first. A SQLite file is the one kind of store matih itself brings into being (the
embedded default, or a ``sqlite:///`` URI that names a new file), so matih creates it at
once, with MLflow's step-by-step log held back, after one line of its own on the
``matih_jupyter`` logger: "matih: creating a new tracking store at sqlite:///...". Other
databases are provisioned by whoever runs them and are left to MLflow.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ..config import StoreConfig, redact_uri

#: matih's own logger: what it tells people that is not a result (INFO and up).
logger = logging.getLogger("matih_jupyter")

_MLFLOW_DB_LOGGER = "mlflow.store.db.utils"
_SQLITE = "sqlite:///"


@contextmanager
def created_quietly(store: StoreConfig) -> Iterator[bool]:
    """The block that builds the client of ``store``; it gets True when the store is a
    SQLite file that does not exist yet (or is empty) and must be reached in the block.
    Then matih says once that it is creating it, and MLflow's log of doing so is held back."""
    path = _sqlite_path(store.tracking_uri)
    if path is None or (path.exists() and path.stat().st_size > 0):
        yield False
        return
    _announce(f"creating a new tracking store at {redact_uri(store.tracking_uri)}")
    with _quiet(_MLFLOW_DB_LOGGER):
        yield True


def _sqlite_path(uri: str) -> Path | None:
    if not uri.startswith(_SQLITE):
        return None
    path = uri[len(_SQLITE) :].split("?", 1)[0]
    return None if path in ("", ":memory:") else Path(path)


def _announce(message: str) -> None:
    if not logger.handlers and logger.level == logging.NOTSET:
        # Nobody configured matih's logger: show its INFO lines in the notebook, once each,
        # as "matih: ..." (like MLflow's own logger, and not again through the root's).
        handler = _CurrentStderr()
        handler.setFormatter(logging.Formatter("matih: %(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False
    logger.info(message)


@contextmanager
def _quiet(name: str) -> Iterator[None]:
    """Log records under WARNING from logger ``name`` are dropped for the block."""
    quieted = logging.getLogger(name)
    level = quieted.level
    quieted.setLevel(logging.WARNING)
    try:
        yield
    finally:
        quieted.setLevel(level)


class _CurrentStderr(logging.Handler):
    """Writes to ``sys.stderr`` as it is when a record is emitted: a kernel replaces it
    (each cell's output goes to the cell that runs)."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            sys.stderr.write(self.format(record) + "\n")
        except Exception:
            self.handleError(record)
