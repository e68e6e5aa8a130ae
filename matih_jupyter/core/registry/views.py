"""`ModelMetadata` and `ModelVersionInfo` built from MLflow's registered models and
versions, and the summary of a model's current version stored for listing.

A model's *current* version is its production version when it has one, else its newest
version. `ModelMetadata.production_version` names the production version separately,
so a result describing another version (a registration) still says what is in
production.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..tenancy import RESERVED_TAG_PREFIX, TAG_TENANT
from . import artifacts as art
from .snapshot import Snapshot, Version
from .tags import (
    TAG_CREATED_BY,
    TAG_CURRENT,
    TAG_FRAMEWORK,
    TAG_METRICS,
    TAG_MODEL_TYPE,
    TAG_PARAMS,
    TAG_STAGE,
    iso,
    loads,
)
from .types import ModelMetadata, ModelVersionInfo


def user_tags(tags: Mapping[str, str]) -> dict[str, str]:
    """The tags users set (not matih's or MLflow's own)."""
    return {
        k: v
        for k, v in tags.items()
        if not k.startswith(RESERVED_TAG_PREFIX) and not k.startswith("mlflow.")
    }


def artifact_uri(mv: Any) -> str:
    """Where a version's artifacts are: the folder holding its ``model/``."""
    source = str(mv.source or "")
    suffix = "/" + art.MODEL_DIR
    return source[: -len(suffix)] if source.endswith(suffix) else source


def version_info(snap: Snapshot, mv: Version) -> ModelVersionInfo:
    tags = mv.tags or {}
    return ModelVersionInfo(
        model_id=snap.name,
        version=str(mv.version),
        stage=tags.get(TAG_STAGE, "development"),
        aliases=sorted(a for a, v in snap.aliases.items() if v == str(mv.version)),
        run_id=mv.run_id,
        metrics=loads(tags.get(TAG_METRICS), {}),
        parameters=loads(tags.get(TAG_PARAMS), {}),
        framework=tags.get(TAG_FRAMEWORK, ""),
        created_at=iso(mv.creation_timestamp),
        created_by=tags.get(TAG_CREATED_BY, ""),
        artifact_uri=artifact_uri(mv),
        description=mv.description or "",
    )


def production_of(stages: Mapping[str, str]) -> str | None:
    """The version in production given every version's stage, if any."""
    return next((v for v, s in stages.items() if s == "production"), None)


def summary(
    snap: Snapshot, stages: Mapping[str, str], version: str | None = None
) -> dict[str, Any]:
    """The summary of ``version`` (default: the current version) with the stages
    ``stages``; stored as the model's ``matih.current`` tag for the current version."""
    if not snap.versions:
        return {}
    if version is None:
        version = production_of(stages) or max(snap.versions, key=int)
    mv = snap.versions[version]
    tags = mv.tags or {}
    return {
        "version": version,
        "stage": stages.get(version, "development"),
        "framework": tags.get(TAG_FRAMEWORK, ""),
        "metrics": loads(tags.get(TAG_METRICS), {}),
        "parameters": loads(tags.get(TAG_PARAMS), {}),
        "run_id": mv.run_id,
        "artifact_uri": artifact_uri(mv),
        "versions": sorted(snap.versions, key=int),
    }


def model_metadata(snap: Snapshot, version: str | None = None) -> ModelMetadata:
    """The model as read, describing ``version`` (default: the current version)."""
    stages = snap.stages()
    described = summary(snap, stages, version)
    return _build(snap.rm, snap.tags, snap.name, described, snap.aliases, production_of(stages))


def listed_metadata(rm: Any, name: str) -> ModelMetadata:
    """A model found by a search, from its stored summary alone (no read of versions)."""
    stored = loads((rm.tags or {}).get(TAG_CURRENT), {})
    aliases = {str(k): str(v) for k, v in (rm.aliases or {}).items()}
    production = str(stored["version"]) if stored.get("stage") == "production" else None
    return _build(rm, rm.tags or {}, name, stored, aliases, production)


def _build(
    rm: Any,
    tags: Mapping[str, str],
    name: str,
    described: Mapping[str, Any],
    aliases: Mapping[str, str],
    production: str | None,
) -> ModelMetadata:
    """The model ``rm`` with the tags ``tags`` (a change's result has newer tags than the
    ``rm`` read before it)."""
    return ModelMetadata(
        model_id=name,
        tenant_id=tags.get(TAG_TENANT, ""),
        name=name,
        description=rm.description or "",
        model_type=tags.get(TAG_MODEL_TYPE, ""),
        framework=str(described.get("framework") or tags.get(TAG_FRAMEWORK, "")),
        current_version=str(described.get("version", "")),
        production_version=production,
        versions=[str(v) for v in described.get("versions", [])],
        stage=str(described.get("stage") or tags.get(TAG_STAGE, "development")),
        metrics=dict(described.get("metrics") or {}),
        parameters=dict(described.get("parameters") or {}),
        tags=user_tags(tags),
        created_at=iso(rm.creation_timestamp),
        updated_at=iso(rm.last_updated_timestamp or rm.creation_timestamp),
        created_by=tags.get(TAG_CREATED_BY, ""),
        artifact_uri=str(described.get("artifact_uri") or ""),
        run_id=described.get("run_id"),
        aliases=dict(aliases),
    )
