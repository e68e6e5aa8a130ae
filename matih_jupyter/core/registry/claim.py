"""The epoch protocol: every stage change of a model is one epoch ``e -> e+1``, committed
with a compare-and-set so concurrent changes never interleave.

A caller reads the model (its ``matih.epoch`` tag first, then its versions), plans the
change on that read, and claims the epoch by renaming the model's ticket (a hidden
registered model ``<model>~epoch~<e>``) to ``...~epoch~<e+1>``. The backend renames
atomically, so exactly one caller wins each epoch; every other caller whose read is now
stale gets `ConflictError` (a promotion is never retried silently, so nobody archives a
production version it did not see). The winner stores its records and operations in the
tag ``matih.tx.<e+1>``, applies the operations and sets ``matih.epoch``. On MLflow's SQL
store the rename and those writes are one transaction, made only if ``matih.epoch`` still
reads ``e`` inside it (`backend.registry_batch`), so a change is never seen half-applied
there and costs one commit.

If the winner dies half-way, the next caller whose claim fails after ``lease_seconds``
repairs the epoch: it re-applies the recorded operations (they are idempotent) or, when
nothing was recorded, closes the epoch as aborted.
"""

from __future__ import annotations

import contextlib
import random
import time
from collections.abc import Callable
from typing import Any

from ..backend import client as mlc
from ..backend import registry_batch
from ..backend.error_map import translate_errors
from ..errors import ConflictError
from ..tenancy import quote_filter_value
from . import last_change, snapshot
from .hooks import HookSet
from .lifecycle import Plan
from .ops import EpochRecord, Op, SetModelTag, applied, apply_all
from .retry import retrying
from .snapshot import Snapshot
from .tags import TAG_EPOCH, TAG_LOCK_OF, TICKET_SEP, epoch_of, tx_key

DEFAULT_LEASE_SECONDS = 30.0


def ticket(full: str, epoch: int) -> str:
    """The name of the ticket of model ``full`` at ``epoch``."""
    return f"{full}{TICKET_SEP}{epoch}"


def conflict(snap: Snapshot) -> ConflictError:
    return ConflictError(
        f"Model '{snap.name}' was changed by someone else while this change was being "
        "made; nothing was changed by this call.",
        hint="Read the model again and retry if the change still makes sense.",
    )


class Epochs:
    """The epoch protocol on one store (``client``: its `MlflowClient`)."""

    def __init__(self, client: Any, lease_seconds: float = DEFAULT_LEASE_SECONDS) -> None:
        self.client = client
        self.lease_seconds = float(lease_seconds)
        #: Whether an epoch's writes are committed as one transaction (a SQL store).
        self.batched = registry_batch.batch_for(client) is not None

    @property
    def writer(self) -> Any:
        """MLflow's registry client under `MlflowClient`: the same calls without the
        prompt check `MlflowClient` adds to each write (one extra read per write)."""
        return mlc.registry_writer(self.client)

    def set_model_tag(self, full: str, key: str, value: str) -> None:
        SetModelTag(key, value).apply(self.writer, full)

    # -- tickets -----------------------------------------------------------------------

    def create_ticket(self, full: str, epoch: int) -> None:
        """Create the ticket of ``full`` at ``epoch`` (one that exists already is fine)."""
        with (
            contextlib.suppress(ConflictError),
            translate_errors(f"creating the ticket of '{full}'"),
        ):
            self.client.create_registered_model(
                ticket(full, epoch),
                tags={TAG_LOCK_OF: full},
                description="matih: concurrency ticket of " + full + " (do not edit or delete)",
            )

    def delete_tickets(self, full: str) -> None:
        """Delete every ticket of model ``full`` (after the model itself is deleted)."""
        with translate_errors(f"deleting the tickets of '{full}'"):
            found = self.client.search_registered_models(
                filter_string=f"tags.`{TAG_LOCK_OF}` = {quote_filter_value(full)}",
                max_results=1000,
            )
        for rm in found:
            if rm.name.startswith(full + TICKET_SEP) and (rm.tags or {}).get(TAG_LOCK_OF) == full:
                retrying(
                    f"deleting ticket '{rm.name}'",
                    self.client.delete_registered_model, rm.name, ignore_missing=True,
                )  # fmt: skip

    # -- claiming ----------------------------------------------------------------------

    def claim(self, snap: Snapshot) -> None:
        """Win epoch ``snap.epoch + 1`` or raise `ConflictError`."""
        e = snap.epoch
        try:
            with translate_errors(f"claiming epoch {e + 1} of '{snap.full}'"):
                self.writer.rename_registered_model(ticket(snap.full, e), ticket(snap.full, e + 1))
        except Exception:  # MatihError, or the SQL store's stale-row error: another rename won
            self.repair(snap)
            raise conflict(snap) from None
        # A ticket recreated after it went missing can lag behind: trust the claim only
        # if the model is still at the epoch we read (a batched commit checks that in its
        # own transaction).
        if not self.batched:
            rm = snapshot.registered(self.client, snap.full)
            if rm is None or epoch_of(rm.tags or {}) != e:
                raise conflict(snap)

    def repair(self, snap: Snapshot) -> None:
        """After a lost claim, repair what it can reveal: an epoch left unfinished by a dead
        writer (finished or aborted once its lease ran out), or a ticket gone missing."""
        rm = snapshot.registered(self.client, snap.full)
        if rm is None:
            return
        tags = rm.tags or {}
        epoch = epoch_of(tags)
        if epoch != snap.epoch:
            return  # an ordinary lost race
        ahead = snapshot.registered(self.client, ticket(snap.full, epoch + 1))
        if ahead is None:
            if snapshot.registered(self.client, ticket(snap.full, epoch)) is None:
                self.create_ticket(snap.full, epoch)
            return
        age = time.time() - (ahead.last_updated_timestamp or 0) / 1000
        if age < self.lease_seconds:
            return  # in flight
        record = EpochRecord.from_json(tags.get(tx_key(epoch + 1)))
        if record is None:
            record = EpochRecord(aborted=True)
            self.set_model_tag(snap.full, tx_key(epoch + 1), record.to_json())
        apply_all(self.writer, snap.full, record.ops)
        self.set_model_tag(snap.full, TAG_EPOCH, str(epoch + 1))

    # -- one epoch ---------------------------------------------------------------------

    def commit(self, snap: Snapshot, plan: Plan) -> Snapshot:
        """Record the claimed epoch's records and writes, apply the writes, and commit;
        return the model as this left it. Batched, the commit claims the epoch itself:
        the ticket's rename is one of its writes, and nothing is written unless the
        model is still at the epoch ``snap`` read and the rename succeeds (else
        `ConflictError`)."""
        epoch = snap.epoch + 1
        for record in plan.records:
            record.epoch = epoch
        stored = EpochRecord(records=tuple(plan.records), ops=tuple(plan.ops))
        writes: list[Op] = [
            SetModelTag(tx_key(epoch), stored.to_json()),
            *plan.ops,
            SetModelTag(TAG_EPOCH, str(epoch)),
        ]
        batch = registry_batch.batch_for(self.client) if self.batched else None
        if batch is None:
            apply_all(self.writer, snap.full, writes)
        else:
            apply_all(batch, snap.full, writes)
            read_at = {str(snap.epoch), *((None, "") if snap.epoch == 0 else ())}
            claim = (ticket(snap.full, snap.epoch), ticket(snap.full, epoch))
            what = f"committing epoch {epoch} of '{snap.full}'"
            if not retrying(what, batch.commit, snap.full, TAG_EPOCH, read_at, claim):
                self.repair(snap)
                raise conflict(snap)
        return applied(snap, writes)

    def transact(
        self,
        tenant: str,
        name: str,
        full: str,
        plan: Callable[[Snapshot], Plan],
        hooks: HookSet,
        *,
        retries: int = 0,
        first: Snapshot | None = None,
    ) -> tuple[Plan, Snapshot]:
        """Read, plan, gate (before-hooks), claim, record, apply, commit: one epoch of the
        model; returns the plan committed and the model as it left it. A lost claim is
        retried ``retries`` times on a fresh read. ``first``: the model as the caller
        knows it, to plan the first attempt on instead of reading it (the claim holds
        only if no epoch was committed since that read)."""
        for attempt in range(retries + 1):
            if attempt == 0 and first is not None:
                snap = first
            else:
                snap = snapshot.read(self.client, tenant, name, full)
            todo = plan(snap)
            hooks.run_before(tenant, todo.payloads)
            try:
                after = self._claim_and_commit(snap, todo)
            except ConflictError:
                if attempt >= retries:
                    raise
                time.sleep(0.02 + random.random() * 0.1 * min(attempt + 1, 5))
                continue
            last_change.remember(self.client, after)
            return todo, after
        raise AssertionError("unreachable")  # pragma: no cover

    def _claim_and_commit(self, snap: Snapshot, plan: Plan) -> Snapshot:
        """Claim the epoch and commit ``plan`` in it: batched, both are one transaction;
        else the claim comes first, and a commit slower than half the lease is refused."""
        if self.batched:
            return self.commit(snap, plan)
        started = time.monotonic()
        self.claim(snap)
        if time.monotonic() - started > self.lease_seconds / 2:
            raise conflict(snap)  # too slow to be sure the lease still holds
        return self.commit(snap, plan)


__all__ = ["DEFAULT_LEASE_SECONDS", "Epochs", "conflict", "ticket"]
