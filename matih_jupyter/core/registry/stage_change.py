"""A stage change from start to finish: one epoch of the model (`claim.Epochs.transact`),
then what follows its commit: after-hooks, then the model cards of the versions that moved.
Their failures are reported (a `HookFailureWarning`, and the epoch's
``matih.hooks.<epoch>`` tag shown in the history), never raised: the change is already
committed and cannot be undone by them."""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Callable

from ..errors import MatihError
from .cards import write_card
from .claim import Epochs
from .hooks import HookFailureWarning, HookSet
from .lifecycle import Plan
from .snapshot import Snapshot
from .tags import dumps, hooks_key
from .types import ModelMetadata
from .views import model_metadata


def change_stages(
    epochs: Epochs,
    hooks: HookSet,
    tenant: str,
    name: str,
    full: str,
    plan: Callable[[Snapshot], Plan],
) -> ModelMetadata:
    """Commit one epoch planned by ``plan``, then the after-commit work; return the model
    as the change left it."""
    todo, snap = epochs.transact(tenant, name, full, plan, hooks)
    after_commit(epochs, hooks, tenant, name, snap, todo)
    return model_metadata(snap)


def after_commit(
    epochs: Epochs, hooks: HookSet, tenant: str, name: str, snap: Snapshot, plan: Plan
) -> None:
    """Run the after-hooks and rewrite the moved versions' cards from ``snap``, the model
    as the change left it (one card per version moved)."""
    failures = hooks.run_after(tenant, plan.payloads)
    for version in dict.fromkeys(plan.changed_versions):
        try:
            write_card(epochs.client, tenant, snap, version, plan.runs.get(version))
        except MatihError as exc:  # pragma: no cover - artifact store trouble
            failures.append(f"model card of version {version}: {exc}")
    if failures:
        with contextlib.suppress(MatihError):
            epochs.set_model_tag(snap.full, hooks_key(snap.epoch), dumps(failures))
        warnings.warn(
            HookFailureWarning(
                f"The transition of model '{name}' is committed, but "
                f"{len(failures)} after-hook(s) failed: " + "; ".join(failures)
            ),
            stacklevel=5,  # the caller of the registry's public method
        )
