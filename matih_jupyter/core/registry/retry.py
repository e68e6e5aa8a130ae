"""A registry write, retried while the store is busy with other processes' writes (SQLite
answers "database is locked" under concurrent writers)."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import Any

from ..backend.error_map import translate_errors
from ..errors import BackendUnavailableError, NotFoundError

_ATTEMPTS = 8


def retrying(what: str, call: Callable[..., Any], *args: Any, ignore_missing: bool = False) -> Any:
    """``call(*args)`` with MLflow's errors translated; a busy store is retried with
    jittered backoff (up to 8 attempts), and with ``ignore_missing`` a missing target
    answers ``None`` instead of `NotFoundError`."""
    delay = 0.05
    for attempt in range(_ATTEMPTS):
        try:
            with translate_errors(what):
                return call(*args)
        except NotFoundError:
            if ignore_missing:
                return None
            raise
        except BackendUnavailableError:
            if attempt == _ATTEMPTS - 1:
                raise
            time.sleep(delay * (1 + random.random()))
            delay = min(delay * 2, 1.0)
    return None  # pragma: no cover
