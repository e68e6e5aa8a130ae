"""A registered model read as plain values: its tags and aliases, and its versions with
theirs.

On MLflow's SQL store the values are read as columns: MLflow's entities cost most of a
read there (every tag an ORM object, and ``get_registered_model`` loads every version of
the model to find the latest of each stage, which matih never uses). On a tracking server
the same values come from ``get_registered_model`` and a paged ``search_model_versions``.
Both read what MLflow's own reads would: the active workspace's model, never deleted
versions.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass, replace
from typing import Any

from mlflow.entities.model_registry.model_version_stages import STAGE_DELETED_INTERNAL

from ..errors import NotFoundError
from ..tenancy import quote_filter_value
from . import internals
from .error_map import translate_errors
from .paging import all_pages


@dataclass(frozen=True)
class VersionRead:
    """A model version as read."""

    name: str
    version: str
    run_id: str | None
    source: str | None
    description: str | None
    creation_timestamp: int | None
    tags: dict[str, str]


@dataclass(frozen=True)
class ModelRead:
    """A registered model as read (its versions are read with it by
    `read_model_and_versions`)."""

    name: str
    description: str | None
    creation_timestamp: int | None
    last_updated_timestamp: int | None
    tags: dict[str, str]
    aliases: dict[str, str]


def read_model_and_versions(client: Any, name: str) -> tuple[ModelRead | None, list[VersionRead]]:
    """The registered model named exactly ``name`` (or ``None``) and its versions (none for
    a missing model), the model read first: on the SQL store, in one session."""
    sql = internals.sql_registry(client)
    if sql is None:
        model = _api_model(client, name)
        return model, [] if model is None else _api_versions(client, name)
    with sql.reading() as session:
        model = _sql_model_in(sql, session, name)
        return model, [] if model is None else _sql_versions_in(sql, session, name)


def version_read(mv: Any) -> VersionRead:
    """MLflow's model version ``mv`` as read."""
    return VersionRead(
        name=mv.name,
        version=str(mv.version),
        run_id=mv.run_id,
        source=mv.source,
        description=mv.description,
        creation_timestamp=mv.creation_timestamp,
        tags=dict(mv.tags or {}),
    )


def read_model(client: Any, name: str, keys: Collection[str] | None = None) -> ModelRead | None:
    """The registered model named exactly ``name``, or ``None``; with ``keys``, only those
    of its tags (its columns and aliases whole): on the SQL store, far less than a whole
    read of a model with many tags."""
    sql = internals.sql_registry(client)
    if sql is not None:
        with sql.reading() as session:
            return _sql_model_in(sql, session, name, keys)
    model = _api_model(client, name)
    if model is None or keys is None:
        return model
    return replace(model, tags={k: v for k, v in model.tags.items() if k in keys})


def _api_model(client: Any, name: str) -> ModelRead | None:
    try:
        with translate_errors(f"reading model '{name}'", not_found="missing"):
            rm = client.get_registered_model(name)
    except NotFoundError:
        return None
    return ModelRead(
        name=rm.name,
        description=rm.description,
        creation_timestamp=rm.creation_timestamp,
        last_updated_timestamp=rm.last_updated_timestamp,
        tags=dict(rm.tags or {}),
        aliases={str(k): str(v) for k, v in (rm.aliases or {}).items()},
    )


def _api_versions(client: Any, name: str) -> list[VersionRead]:
    pages = all_pages(
        client.search_model_versions,
        filter_string=f"name = {quote_filter_value(name)}",
        max_results=10000,
    )
    return [version_read(mv) for mv in pages if mv.name == name]


def _sql_model_in(
    sql: internals.SqlRegistry, session: Any, name: str, keys: Collection[str] | None = None
) -> ModelRead | None:
    """The model ``name`` with its tags (only ``keys``, when given)."""
    model, tag, alias = (
        sql.rows.SqlRegisteredModel,
        sql.rows.SqlRegisteredModelTag,
        sql.rows.SqlRegisteredModelAlias,
    )
    joined = (tag.workspace == model.workspace) & (tag.name == model.name)
    if keys is not None:
        joined &= tag.key.in_(list(keys))
    # The model's columns with each of its tags: one query, the columns repeated per tag.
    found = (
        sql.query(session, model)
        .filter(model.name == name)
        .outerjoin(tag, joined)
        .with_entities(
            model.name,
            model.description,
            model.creation_time,
            model.last_updated_time,
            tag.key,
            tag.value,
        )
        .all()
    )
    if not found:
        return None
    aliases = (
        sql.query(session, alias)
        .filter(alias.name == name)
        .with_entities(alias.alias, alias.version)
    )
    first = found[0]
    return ModelRead(
        name=str(first[0]),
        description=first[1],
        creation_timestamp=first[2],
        last_updated_timestamp=first[3],
        tags={str(row[4]): str(row[5]) for row in found if row[4] is not None},
        aliases={str(a): str(v) for a, v in aliases.all()},
    )


def _sql_versions_in(sql: internals.SqlRegistry, session: Any, name: str) -> list[VersionRead]:
    version, tag = sql.rows.SqlModelVersion, sql.rows.SqlModelVersionTag
    # Each version's columns with each of its tags: one query.
    found = (
        sql.query(session, version)
        .filter(version.name == name, version.current_stage != STAGE_DELETED_INTERNAL)
        .outerjoin(
            tag,
            (tag.workspace == version.workspace)
            & (tag.name == version.name)
            & (tag.version == version.version),
        )
        .with_entities(
            version.version,
            version.run_id,
            version.source,
            version.description,
            version.creation_time,
            tag.key,
            tag.value,
        )
        .all()
    )
    columns: dict[int, tuple[Any, ...]] = {}
    tags: dict[int, dict[str, str]] = defaultdict(dict)
    for number, run_id, source, description, created, key, value in found:
        columns.setdefault(number, (run_id, source, description, created))
        if key is not None:
            tags[number][str(key)] = str(value)
    return [
        VersionRead(
            name=name,
            version=str(number),
            run_id=run_id,
            source=source,
            description=description,
            creation_timestamp=created,
            tags=tags.get(number, {}),
        )
        for number, (run_id, source, description, created) in columns.items()
    ]


__all__ = [
    "ModelRead",
    "VersionRead",
    "read_model",
    "read_model_and_versions",
    "version_read",
]
