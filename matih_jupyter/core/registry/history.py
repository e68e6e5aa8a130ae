"""A model's history: the transition records of its committed epochs, each with the
after-commit failures recorded beside its epoch."""

from __future__ import annotations

from collections.abc import Mapping

from .ops import stored_records
from .tags import TAG_TX, epoch_of, hooks_key, loads
from .types import TransitionRecord


def history(tags: Mapping[str, str]) -> list[TransitionRecord]:
    """Every record of the committed epochs in a model's tags, oldest first. An epoch
    claimed but not committed yet shows nothing."""
    out: list[TransitionRecord] = []
    committed = epoch_of(tags)
    for key in sorted(k for k in tags if k.startswith(TAG_TX)):
        epoch = int(key[len(TAG_TX) :])
        if epoch > committed:
            continue
        failures = loads(tags.get(hooks_key(epoch)), [])
        for record in stored_records(tags[key]):
            record.hook_failures = list(failures)
            out.append(record)
    return out
