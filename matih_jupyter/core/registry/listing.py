"""A tenant's models found by one search on the model-level tags (each model's stored
summary of its current version), never reading their versions."""

from __future__ import annotations

from typing import Any

from ..backend.error_map import translate_errors
from ..backend.paging import all_pages
from ..tenancy import TAG_SHORT_NAME, TAG_TENANT, quote_filter_value
from . import artifacts as art
from .snapshot import owned
from .tags import TAG_FRAMEWORK, TAG_STAGE
from .types import ModelMetadata, validate_stage
from .views import listed_metadata


def _filter(tenant: str, stage: str | None, framework: Any) -> str:
    clauses = [f"tags.`{TAG_TENANT}` = {quote_filter_value(tenant)}"]
    if stage is not None:
        clauses.append(f"tags.`{TAG_STAGE}` = {quote_filter_value(stage)}")
    if framework is not None:
        fw = art.validate_framework(framework)
        clauses.append(f"tags.`{TAG_FRAMEWORK}` = {quote_filter_value(fw)}")
    return " AND ".join(clauses)


def list_models(
    client: Any, tenant: str, stage: Any = None, framework: Any = None
) -> list[ModelMetadata]:
    """The tenant's models, newest first, optionally only those whose current version is
    in ``stage`` or of ``framework``."""
    wanted = validate_stage(stage) if stage is not None else None
    with translate_errors(f"listing models of tenant '{tenant}'"):
        found = all_pages(
            client.search_registered_models,
            filter_string=_filter(tenant, wanted, framework),
            max_results=1000,
            order_by=["timestamp DESC"],
        )
    out = []
    for rm in found:
        tags = rm.tags or {}
        short = tags.get(TAG_SHORT_NAME, "")
        if not isinstance(short, str) or not owned(rm, tenant, short):
            continue
        if wanted is not None and tags.get(TAG_STAGE) != wanted:
            continue
        out.append(listed_metadata(rm, short))
    return out
