"""Deleting a model: refused while a version is in production (unless forced); the model,
its versions and its concurrency tickets go, its runs and artifacts stay for provenance."""

from __future__ import annotations

from ..backend.error_map import translate_errors
from ..errors import ConflictError
from . import last_change
from .claim import Epochs
from .snapshot import Snapshot, not_found


def delete_model(epochs: Epochs, snap: Snapshot, force: bool) -> None:
    prod = snap.holders("production")
    if prod and not force:
        raise ConflictError(
            f"Model '{snap.name}' has version {prod[0]} in production.",
            hint="Archive it first, or pass force=True.",
        )
    with translate_errors(
        f"deleting model '{snap.name}'", not_found=not_found(snap.name, snap.tenant).message
    ):
        epochs.client.delete_registered_model(snap.full)
    last_change.forget(epochs.client, snap.full)
    epochs.delete_tickets(snap.full)
