"""The model as this process's last change of it left it, per store: a next change of the
model starts from it instead of reading every version again, when a short read shows that
nothing changed since (`snapshot.peek_since`).

Held per store client (forgotten with it), for the models changed most recently.
"""

from __future__ import annotations

import threading
import weakref
from collections import OrderedDict
from typing import Any

from .snapshot import Snapshot

#: Models remembered per store; the least recently changed go first.
MODELS_KEPT = 256

_lock = threading.Lock()
_by_client: weakref.WeakKeyDictionary[Any, OrderedDict[str, Snapshot]] = weakref.WeakKeyDictionary()


def remember(client: Any, snap: Snapshot) -> None:
    """``snap`` is the model as a change this process committed just left it."""
    kept = snap.copy()
    with _lock:
        models = _by_client.setdefault(client, OrderedDict())
        models[snap.full] = kept
        models.move_to_end(snap.full)
        while len(models) > MODELS_KEPT:
            models.popitem(last=False)


def recall(client: Any, full: str) -> Snapshot | None:
    """A copy of the model ``full`` as this process's last change of it left it."""
    with _lock:
        models = _by_client.get(client)
        known = None if models is None else models.get(full)
    return None if known is None else known.copy()


def forget(client: Any, full: str) -> None:
    with _lock:
        models = _by_client.get(client)
        if models is not None:
            models.pop(full, None)


__all__ = ["MODELS_KEPT", "forget", "recall", "remember"]
