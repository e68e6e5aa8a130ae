"""What the registry stores in MLflow: the names of its tags on registered models and
versions, the aliases the lifecycle owns, the concurrency tickets, and the JSON text of
every structured tag value."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from typing import Any

from ..backend import convert

TAG_STAGE = "matih.stage"
TAG_FRAMEWORK = "matih.framework"
TAG_MODEL_TYPE = "matih.model_type"
TAG_CREATED_BY = "matih.created_by"
TAG_METRICS = "matih.metrics"
TAG_PARAMS = "matih.params"
TAG_ARTIFACT_PATH = "matih.artifact_path"
TAG_ONNX = "matih.onnx"
#: The last committed epoch of a model (a model changes stages one epoch at a time).
TAG_EPOCH = "matih.epoch"
#: Prefix of ``matih.tx.<epoch>``: what an epoch records (transitions) and writes (ops).
TAG_TX = "matih.tx."
#: Prefix of ``matih.hooks.<epoch>``: the after-commit failures of an epoch.
TAG_HOOKS = "matih.hooks."
#: The current version's summary, so listing models needs no read of their versions.
TAG_CURRENT = "matih.current"
#: Every version promoted to production, in order; rollback walks it back.
TAG_LINEAGE = "matih.production_lineage"
#: On a concurrency ticket: the model it guards.
TAG_LOCK_OF = "matih.lock_of"

#: Aliases the lifecycle owns; users move them with `ModelRegistry.transition_stage`.
STAGE_ALIASES = ("production", "staging")

#: Separator of a model's concurrency ticket name; model names cannot contain it.
TICKET_SEP = "~epoch~"


def dumps(value: Any) -> str:
    """Canonical JSON (sorted keys, no spaces): equal values store equal text, so a write
    of a value already stored can be recognised and skipped."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


def loads(text: str | None, default: Any) -> Any:
    """A stored JSON value, or ``default`` when the tag is missing or not JSON."""
    if not text:
        return default
    try:
        return json.loads(text)
    except ValueError:
        return default


def epoch_of(tags: Mapping[str, str]) -> int:
    """The last committed epoch recorded in a model's tags (0 before the first change)."""
    return int(tags.get(TAG_EPOCH, "0") or 0)


def tx_key(epoch: int) -> str:
    """The tag holding what epoch ``epoch`` records and writes."""
    return f"{TAG_TX}{epoch:08d}"


def hooks_key(epoch: int) -> str:
    """The tag holding the after-commit failures of epoch ``epoch``."""
    return f"{TAG_HOOKS}{epoch:08d}"


def now_iso() -> str:
    return dt.datetime.now(dt.UTC).isoformat()


def iso(ms: int | None) -> str:
    """Epoch milliseconds as ISO 8601 UTC, or ``""`` when unknown."""
    return convert.iso(ms) or ""
