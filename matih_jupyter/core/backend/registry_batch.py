"""Several registry writes of one model committed as one transaction, on MLflow's SQL store.

MLflow's client commits every tag and alias write alone, so a change of ten tags pays ten
commits. `RegistryBatch` offers the same write methods as MLflow's registry client, keeps
what they are asked to write (checked as MLflow checks it, when asked), and `commit` writes
it all in one transaction, only if a guard tag of the model still holds an expected value
(read in that transaction, so no other writer can change it before the commit).

On a tracking server there is no transaction to share: `batch_for` answers ``None`` and the
caller writes one call at a time.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection
from typing import Any

from . import internals


class _Rows:
    """The rows the writes of one transaction hang on: read together before the writes,
    one query per kind, instead of one (or two) per write."""

    def __init__(self, sql: internals.SqlRegistry, session: Any) -> None:
        self.sql, self.session = sql, session
        self._models: dict[str, Any] = {}
        self._versions: dict[tuple[str, int], Any] = {}
        self._model_tags: dict[tuple[str, str], Any] = {}
        self._version_tags: dict[tuple[str, int, str], Any] = {}
        self._workspaces: dict[str, str] = {}

    def model(self, name: str) -> Any:
        if name not in self._models:
            self._models[name] = self.sql.model(self.session, name)
        return self._models[name]

    def tag_read(self, name: str, row: Any) -> None:
        """A tag row of model ``name`` read in this transaction: the model exists, in the
        row's workspace, so neither needs another read."""
        self._model_tags[name, row.key] = row
        self._workspaces[name] = row.workspace

    def workspace(self, name: str) -> str:
        """The model's workspace (MLflow's not-found error if there is no model)."""
        if name not in self._workspaces:
            self._workspaces[name] = self.model(name).workspace
        return self._workspaces[name]

    def version(self, name: str, number: int) -> Any:
        if (name, number) not in self._versions:
            self._versions[name, number] = self.sql.version(self.session, name, number)
        return self._versions[name, number]

    def load(self, name: str, model_keys: set[str], version_keys: dict[int, set[str]]) -> None:
        """Read the model's tags and versions (and their tags) that the writes name."""
        session = self.session
        self.workspace(name)
        missing = {key for key in model_keys if (name, key) not in self._model_tags}
        if missing:
            for row in self.sql.model_tags(session, name, missing):
                self._model_tags[name, row.key] = row
        if version_keys:
            numbers = set(version_keys)
            for row in self.sql.versions(session, name, numbers):
                self._versions[name, int(row.version)] = row
            keys = set().union(*version_keys.values())
            for row in self.sql.version_tags(session, name, numbers, keys):
                self._version_tags[name, int(row.version), row.key] = row

    def put_model_tag(self, name: str, key: str, value: str) -> None:
        row = self._model_tags.get((name, key))
        if row is None:
            row = self.sql.rows.SqlRegisteredModelTag(
                workspace=self.workspace(name), name=name, key=key, value=value
            )
            self.session.add(row)
            self._model_tags[name, key] = row
        row.value = value

    def put_version_tag(self, name: str, number: int, key: str, value: str) -> None:
        row = self._version_tags.get((name, number, key))
        if row is None:
            workspace = self.version(name, number).workspace  # MLflow's error if none
            row = self.sql.rows.SqlModelVersionTag(
                workspace=workspace, name=name, version=number, key=key, value=value
            )
            self.session.add(row)
            self._version_tags[name, number, key] = row
        row.value = value


_Write = Callable[[_Rows], None]


class RegistryBatch:
    """Writes collected for one transaction (see the module's doc)."""

    def __init__(self, sql: internals.SqlRegistry) -> None:
        self._sql = sql
        self._writes: list[_Write] = []
        #: Per model: the tag keys written, and per version the version tag keys.
        self._model_keys: dict[str, set[str]] = {}
        self._version_keys: dict[str, dict[int, set[str]]] = {}

    def __len__(self) -> int:
        return len(self._writes)

    def _named(self, name: str) -> None:
        self._model_keys.setdefault(name, set())
        self._version_keys.setdefault(name, {})

    def set_registered_model_tag(self, name: str, key: str, value: str) -> None:
        value = str(value)
        self._sql.check_model_tag(key, value)
        self._named(name)
        self._model_keys[name].add(key)
        self._writes.append(lambda rows: rows.put_model_tag(name, key, value))

    def set_model_version_tag(self, name: str, version: str, key: str, value: str) -> None:
        value = str(value)
        number = self._sql.version_number(version)
        self._sql.check_version_tag(key, value)
        self._named(name)
        self._version_keys[name].setdefault(number, set()).add(key)
        self._writes.append(lambda rows: rows.put_version_tag(name, number, key, value))

    def set_registered_model_alias(self, name: str, alias: str, version: str) -> None:
        self._sql.check_alias(alias)
        number = self._sql.version_number(version)

        def write(rows: _Rows) -> None:
            row = rows.version(name, number)
            rows.session.merge(
                rows.sql.rows.SqlRegisteredModelAlias(
                    workspace=row.workspace, name=name, alias=alias, version=number
                )
            )

        self._writes.append(write)

    def delete_registered_model_alias(self, name: str, alias: str) -> None:
        """Remove ``alias``; one already gone is fine (as in `ops.DropAlias`)."""
        self._sql.check_alias(alias)

        def write(rows: _Rows) -> None:
            rows.workspace(name)
            found = rows.sql.alias(rows.session, name, alias)
            if found is not None:
                rows.session.delete(found)

        self._writes.append(write)

    def commit(
        self,
        name: str,
        key: str,
        expected: Collection[str | None],
        rename: tuple[str, str] | None = None,
    ) -> bool:
        """Write everything collected in one transaction if tag ``key`` of model ``name``
        holds one of ``expected`` (``None``: the tag is missing) and, with ``rename``
        ``(old, new)``, registered model ``old`` can be renamed ``new`` in the same
        transaction (``old`` exists, ``new`` does not); ``False`` when either does not
        hold, and nothing is written. MLflow's errors are raised as its own writes raise
        them (a missing model or version, a busy database); the transaction then rolls
        back whole."""
        sql = self._sql
        with sql.transaction() as session:
            rows = _Rows(sql, session)
            guard = sql.model_tag(session, name, key)
            if guard is None:
                rows.model(name)
            else:
                rows.tag_read(name, guard)
            if (guard.value if guard is not None else None) not in expected:
                return False
            if rename is not None and not _renamed(sql, session, *rename):
                return False
            for model in self._model_keys:
                rows.load(model, self._model_keys[model], self._version_keys[model])
            for write in self._writes:
                write(rows)
        return True


def _renamed(sql: internals.SqlRegistry, session: Any, old: str, new: str) -> bool:
    """Rename registered model ``old`` to ``new``, or answer ``False`` when ``old`` is gone
    or ``new`` is taken (the transaction is then rolled back, empty: the rename is its
    first write)."""
    from sqlalchemy.exc import IntegrityError

    try:
        if sql.rename_model(session, old, new, int(time.time() * 1000)):
            return True
    except IntegrityError:
        pass
    session.rollback()
    return False


def batch_for(client: Any) -> RegistryBatch | None:
    """A batch on the client's registry store, or ``None`` when it is not a SQL store."""
    sql = internals.sql_registry(client)
    return None if sql is None else RegistryBatch(sql)


__all__ = ["RegistryBatch", "batch_for"]
