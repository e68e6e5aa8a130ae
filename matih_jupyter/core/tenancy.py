"""Tenancy rules: what a tenant id and a name may be, and how names are scoped.

These checks run before anything reaches MLflow. They are the first line of the tenant
boundary; every read also re-checks that what MLflow returned belongs to the tenant.
"""

from __future__ import annotations

import posixpath
import re
from typing import Any

from .errors import InvalidInputError

#: MLflow's workspace-name rule, 2-63 characters, so a tenant can always be a workspace.
TENANT_ID_RE = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
TENANT_ID_RULE = (
    "2-63 characters of lowercase letters, digits and '-', starting and ending with a "
    "letter or digit (for example 'acme-corp')"
)

#: Experiment and model short names: printable, no separators that would change scoping.
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 _.\-]*$")
NAME_RULE = (
    "letters, digits, spaces, '_', '.', '-', starting with a letter or digit "
    "(no '/', ':', '%', quotes)"
)

#: Metric, param and tag keys: MLflow's rule (it treats keys as file paths).
KEY_RE = re.compile(r"^[/\w.\- :]+$")
MAX_KEY_LENGTH = 250
MAX_PARAM_VALUE_LENGTH = 6000
MAX_TAG_VALUE_LENGTH = 8000
#: MLflow's SQL stores hold experiment names in a 256-character column.
MAX_EXPERIMENT_FULL_NAME = 256
MAX_MODEL_NAME = 255

#: Tag namespace reserved for matih; users cannot set or overwrite these.
RESERVED_TAG_PREFIX = "matih."
TAG_TENANT = "matih.tenant_id"
TAG_USER = "matih.user_id"
TAG_JOB = "matih.job_id"
TAG_SHORT_NAME = "matih.name"
#: On an experiment: when one of its runs was last deleted or restored (milliseconds), so
#: watchers see a change that leaves no trace among the runs they watch.
TAG_RUNS_REMOVED = "matih.runs_removed_at"


def validate_tenant_id(tenant_id: Any, field: str = "tenant_id") -> str:
    """Return ``tenant_id`` if it follows the tenant rule, else raise `InvalidInputError`."""
    if not isinstance(tenant_id, str):
        raise InvalidInputError(
            field, f"expected a string, got {type(tenant_id).__name__}.", hint=_tenant_hint()
        )
    if not (2 <= len(tenant_id) <= 63) or not TENANT_ID_RE.match(tenant_id):
        raise InvalidInputError(field, f"{tenant_id!r} is not a tenant id.", hint=_tenant_hint())
    return tenant_id


def _tenant_hint() -> str:
    return f"A tenant id is {TENANT_ID_RULE}."


def validate_name(name: Any, field: str = "name", max_length: int = 255) -> str:
    """Validate an experiment or model short name (the part after the tenant)."""
    if not isinstance(name, str):
        raise InvalidInputError(field, f"expected a string, got {type(name).__name__}.")
    if not (1 <= len(name) <= max_length):
        raise InvalidInputError(
            field, f"must be 1-{max_length} characters, got {len(name)}.", hint=f"Use {NAME_RULE}."
        )
    if not NAME_RE.match(name) or name != name.strip():
        raise InvalidInputError(
            field, f"{name!r} has characters that are not allowed.", hint=f"Use {NAME_RULE}."
        )
    return name


def experiment_full_name(tenant_id: str, name: str) -> str:
    """``<tenant>/<name>`` after validating both parts."""
    validate_tenant_id(tenant_id)
    validate_name(name, "experiment name")
    full = f"{tenant_id}/{name}"
    if len(full) > MAX_EXPERIMENT_FULL_NAME:
        raise InvalidInputError(
            "experiment name",
            f"'{full}' is {len(full)} characters with the tenant prefix; "
            f"the store holds at most {MAX_EXPERIMENT_FULL_NAME}.",
            hint="Choose a shorter name.",
        )
    return full


def split_experiment_name(full_name: str) -> tuple[str, str] | None:
    """Inverse of `experiment_full_name`; ``None`` if ``full_name`` is not tenant-scoped."""
    tenant, sep, short = full_name.partition("/")
    if not sep or not TENANT_ID_RE.match(tenant) or not short:
        return None
    return tenant, short


def model_full_name(tenant_id: str, name: str) -> str:
    """``<tenant>.<name>``: MLflow 3 model names cannot hold ``/`` (nor ``:``), so the
    tenant is joined with a dot."""
    validate_tenant_id(tenant_id)
    validate_name(name, "model name", max_length=MAX_MODEL_NAME - len(tenant_id) - 1)
    return f"{tenant_id}.{name}"


def validate_key(key: Any, kind: str = "metric key") -> str:
    """Validate a metric, param or tag key with MLflow's rules, before MLflow sees it."""
    if not isinstance(key, str) or not key:
        raise InvalidInputError(kind, f"{key!r} is not a non-empty string.")
    if len(key) > MAX_KEY_LENGTH:
        raise InvalidInputError(
            kind, f"{key[:40]!r}... is longer than {MAX_KEY_LENGTH} characters."
        )
    if not KEY_RE.match(key):
        raise InvalidInputError(
            kind,
            f"{key!r} has characters MLflow refuses.",
            hint="Keys may hold letters, digits, '_', '-', '.', ' ', ':' and '/'.",
        )
    norm = posixpath.normpath(key)
    if norm != key or norm == "." or norm.startswith("..") or norm.startswith("/"):
        raise InvalidInputError(
            kind,
            f"{key!r} would be read as the path {norm!r}.",
            hint="Avoid leading '/', '//', '.' and '..' segments.",
        )
    return key


def validate_user_tag(key: Any, value: Any) -> tuple[str, str]:
    """Validate a user-supplied tag; ``matih.*`` keys are reserved."""
    validate_key(key, "tag key")
    if key.startswith(RESERVED_TAG_PREFIX):
        raise InvalidInputError(
            "tag key",
            f"{key!r} is in the reserved 'matih.' namespace.",
            hint="Tenant, user, job and provenance tags are set by matih; choose another key.",
        )
    text = str(value)
    if len(text) > MAX_TAG_VALUE_LENGTH:
        raise InvalidInputError(
            "tag value",
            f"the value of {key!r} is {len(text)} characters; MLflow keeps at most "
            f"{MAX_TAG_VALUE_LENGTH}.",
            hint="Log long text as an artifact with run.log_text().",
        )
    return key, text


def validate_param(key: Any, value: Any) -> tuple[str, str]:
    """Validate a param; values are stored as strings and must not be truncated."""
    validate_key(key, "param key")
    text = str(value)
    if len(text) > MAX_PARAM_VALUE_LENGTH:
        raise InvalidInputError(
            "param value",
            f"the value of {key!r} is {len(text)} characters; MLflow would truncate it "
            f"to {MAX_PARAM_VALUE_LENGTH}.",
            hint="Log long values as an artifact with run.log_text() or run.log_dict().",
        )
    return key, text


def quote_filter_value(value: str) -> str:
    """Quote a validated value for an MLflow filter string (exact match, never LIKE)."""
    if "'" in value or "\\" in value:
        raise InvalidInputError("filter value", f"{value!r} cannot be quoted safely.")
    return f"'{value}'"
