"""The writes of one epoch as typed operations, and the record an epoch stores.

Each operation sets one key to one fixed value (a version tag, a model tag, an alias) or
removes one alias, so applying it twice ends in the same state: a caller repairing an
epoch left unfinished may race the writer that left it, and both finish it the same way.
Each also says what it does to a read of the model (`applied`), so a change answers with
the model as it left it without reading it again.

An epoch's record is stored as JSON in the model's tag ``matih.tx.<epoch>``::

    {"ops": [["v", version, key, value], ["m", key, value],
             ["a", alias, version], ["d", alias]],
     "records": [<TransitionRecord>, ...]}

plus ``"aborted": true`` for an epoch closed without a record. `encode` and `decode` keep
exactly this shape, so records stored by earlier releases keep loading.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields, replace
from typing import Any, ClassVar

from .retry import retrying
from .snapshot import Snapshot
from .tags import dumps, epoch_of, loads
from .types import TransitionRecord


@dataclass(frozen=True)
class SetVersionTag:
    """Set tag ``key`` of ``version`` to ``value``."""

    code: ClassVar[str] = "v"
    version: str
    key: str
    value: str

    def holds_in(self, snap: Snapshot) -> bool:
        return snap.versions[self.version].tags.get(self.key) == self.value

    def apply_to(self, snap: Snapshot) -> None:
        mv = snap.versions[self.version]
        snap.versions[self.version] = replace(mv, tags={**mv.tags, self.key: self.value})

    def apply(self, writer: Any, full: str) -> None:
        retrying(
            f"tagging version {self.version} of '{full}'",
            writer.set_model_version_tag, full, self.version, self.key, self.value,
        )  # fmt: skip


@dataclass(frozen=True)
class SetModelTag:
    """Set tag ``key`` of the registered model to ``value``."""

    code: ClassVar[str] = "m"
    key: str
    value: str

    def holds_in(self, snap: Snapshot) -> bool:
        return snap.tags.get(self.key) == self.value

    def apply_to(self, snap: Snapshot) -> None:
        snap.tags[self.key] = self.value

    def apply(self, writer: Any, full: str) -> None:
        retrying(f"tagging '{full}'", writer.set_registered_model_tag, full, self.key, self.value)


@dataclass(frozen=True)
class PointAlias:
    """Point ``alias`` at ``version``."""

    code: ClassVar[str] = "a"
    alias: str
    version: str

    def holds_in(self, snap: Snapshot) -> bool:
        return snap.aliases.get(self.alias) == self.version

    def apply_to(self, snap: Snapshot) -> None:
        snap.aliases[self.alias] = self.version

    def apply(self, writer: Any, full: str) -> None:
        retrying(
            f"pointing alias '{self.alias}' of '{full}'",
            writer.set_registered_model_alias, full, self.alias, self.version,
        )  # fmt: skip


@dataclass(frozen=True)
class DropAlias:
    """Remove ``alias`` (already gone counts as done)."""

    code: ClassVar[str] = "d"
    alias: str

    def holds_in(self, snap: Snapshot) -> bool:
        return self.alias not in snap.aliases

    def apply_to(self, snap: Snapshot) -> None:
        snap.aliases.pop(self.alias, None)

    def apply(self, writer: Any, full: str) -> None:
        retrying(
            f"removing alias '{self.alias}' of '{full}'",
            writer.delete_registered_model_alias, full, self.alias, ignore_missing=True,
        )  # fmt: skip


Op = SetVersionTag | SetModelTag | PointAlias | DropAlias
_KINDS: dict[str, type[Op]] = {
    k.code: k for k in (SetVersionTag, SetModelTag, PointAlias, DropAlias)
}


def encode(op: Op) -> list[str]:
    """The stored form: the kind's code, then the fields in order."""
    return [op.code, *(str(getattr(op, f.name)) for f in fields(op))]


def decode(raw: Sequence[Any]) -> Op | None:
    """An operation from its stored form; ``None`` for a kind this release does not know
    (skipped, as before). A known kind with the wrong number of fields is a `ValueError`."""
    kind = _KINDS.get(str(raw[0])) if raw else None
    if kind is None:
        return None
    args = [str(x) for x in raw[1:]]
    if len(args) != len(fields(kind)):
        raise ValueError(f"stored operation {list(raw)!r} has the wrong number of fields")
    return kind(*args)


def prune(snap: Snapshot, ops: Iterable[Op]) -> list[Op]:
    """Drop writes that would not change anything (each write costs a commit)."""
    return [op for op in ops if not op.holds_in(snap)]


def apply_all(writer: Any, full: str, ops: Iterable[Op]) -> None:
    for op in ops:
        op.apply(writer, full)


def applied(snap: Snapshot, ops: Iterable[Op]) -> Snapshot:
    """The model as it reads once ``ops`` are written after the read ``snap`` (which is
    left as it was): what a change that wrote them returns, with no second read."""
    after = snap.copy()
    for op in ops:
        op.apply_to(after)
    after.epoch = epoch_of(after.tags)
    return after


@dataclass(frozen=True)
class EpochRecord:
    """What one epoch records (its transitions) and writes (its operations)."""

    records: tuple[TransitionRecord, ...] = ()
    ops: tuple[Op, ...] = ()
    aborted: bool = False

    def to_json(self) -> str:
        value: dict[str, Any] = {
            "records": [r.stored() for r in self.records],
            "ops": [encode(op) for op in self.ops],
        }
        if self.aborted:
            value["aborted"] = True
        return dumps(value)

    @classmethod
    def from_json(cls, text: str | None) -> EpochRecord | None:
        """The record stored as ``text``; ``None`` when there is none (or it is not JSON)."""
        value = loads(text, None)
        if not isinstance(value, dict):
            return None
        decoded = (decode(raw) for raw in value.get("ops", []))
        return cls(
            records=_records(value),
            ops=tuple(op for op in decoded if op is not None),
            aborted=bool(value.get("aborted", False)),
        )


def _records(value: dict[str, Any]) -> tuple[TransitionRecord, ...]:
    return tuple(TransitionRecord.model_validate(r) for r in value.get("records", []))


def stored_records(text: str | None) -> tuple[TransitionRecord, ...]:
    """Only the transition records of an epoch stored as ``text`` (the history reads
    every epoch's; decoding their operations too would cost time for nothing), as new
    objects the caller may change."""
    return tuple(
        r.model_copy(update={"gates": list(r.gates), "hook_failures": list(r.hook_failures)})
        for r in _decoded_records(text)
    )


@functools.lru_cache(maxsize=4096)
def _decoded_records(text: str | None) -> tuple[TransitionRecord, ...]:
    """An epoch's records are written once, so the same text always decodes alike: a
    model's history decodes each epoch once per process, not once per read."""
    value = loads(text, None)
    return _records(value) if isinstance(value, dict) else ()
