"""Reading a promotion policy from TOML, validated whole before any of it is used.

The file (``$MATIH_HOME/policy.toml`` on the embedded store, or the path the server or the
caller names)::

    [tenants.acme-corp.groups]          # groups the policy defines itself
    ml-leads = ["carol", "dave"]

    [tenants.acme-corp.stages.staging]
    users = ["alice", "bob"]            # who may move a version into staging
    groups = ["ml-leads"]               # ... or a member of one of these groups
    require_tags = ["validation_run_id"]
    require_inputs = true               # or the dataset names that must be logged

    [[tenants.acme-corp.stages.staging.metrics]]
    metric = "val_auc"
    min = 0.8                           # or max = ..., or champion_delta = ...

    [tenants.acme-corp.stages.production]
    groups = ["ml-leads"]
    approval = true                     # a second allowed person approves

``[tenants."*"]`` applies to tenants the file does not name. Any unknown stage, key or
malformed value is a `PolicyError` naming the file, the table and the key.
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from ...errors import MatihError
from ...tenancy import validate_key, validate_tenant_id
from ..types import STAGES
from .errors import PolicyError
from .policy import ANY_TENANT, MetricGate, Policy, StageRule, TenantPolicy

_TOP_KEYS = ("tenants",)
_TENANT_KEYS = ("stages", "groups")
_STAGE_KEYS = ("users", "groups", "approval", "metrics", "require_tags", "require_inputs")
_GATE_KEYS = ("metric", "min", "max", "champion_delta", "higher_is_better")
_BOUNDS = ("min", "max", "champion_delta")


class _At:
    """Where in the file a value is, to name it in errors."""

    def __init__(self, source: str, table: str) -> None:
        self.source, self.table = source, table

    def error(self, key: str | None, message: str) -> PolicyError:
        return PolicyError(self.source, self.table, key, message)

    def sub(self, name: str) -> _At:
        return _At(self.source, f"{self.table}.{name}" if self.table else name)

    def table_of(self, value: Any, known: tuple[str, ...], key: str | None = None) -> dict:
        if not isinstance(value, dict):
            raise self.error(key, f"expected a table, got {type(value).__name__}.")
        unknown = sorted(set(value) - set(known))
        if unknown:
            raise self.error(unknown[0], f"unknown key (known: {', '.join(known)}).")
        return value

    def names(self, value: Any, key: str) -> tuple[str, ...]:
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise self.error(key, 'expected a list of names, e.g. ["alice", "bob"].')
        return tuple(value)

    def flag(self, value: Any, key: str) -> bool:
        if not isinstance(value, bool):
            raise self.error(key, f"expected true or false, got {value!r}.")
        return value

    def number(self, value: Any, key: str) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.error(key, f"expected a number, got {value!r}.")
        if not math.isfinite(value):
            raise self.error(key, f"expected a finite number, got {value!r}.")
        return float(value)


def _checked(at: _At, key: str, check: Callable[[Any, str], str], value: Any) -> str:
    try:
        return check(value, key)
    except MatihError as exc:
        raise at.error(key, exc.message) from None


def _gate(at: _At, raw: Any) -> MetricGate:
    table = at.table_of(raw, _GATE_KEYS)
    if "metric" not in table:
        raise at.error("metric", 'is required (the metric to check, e.g. metric = "val_auc").')
    metric = _checked(at, "metric", validate_key, table["metric"])
    bounds = [b for b in _BOUNDS if b in table]
    if len(bounds) != 1:
        raise at.error(
            bounds[1] if len(bounds) > 1 else None,
            f"give exactly one of {', '.join(_BOUNDS)} for metric '{metric}'.",
        )
    values = {b: at.number(table[b], b) for b in bounds}
    if values.get("champion_delta", 0.0) < 0:
        raise at.error("champion_delta", "must not be negative.")
    higher = at.flag(table.get("higher_is_better", True), "higher_is_better")
    return MetricGate(metric, **values, higher_is_better=higher, where=f"[{at.table}]")


def _inputs(at: _At, value: Any) -> bool | tuple[str, ...]:
    if isinstance(value, bool):
        return value
    return at.names(value, "require_inputs")


def _stage(at: _At, stage: str, raw: Any) -> StageRule:
    if stage not in STAGES:
        raise at.error(None, f"unknown stage '{stage}' (stages: {', '.join(STAGES)}).")
    table = at.table_of(raw, _STAGE_KEYS)
    gates = table.get("metrics", [])
    if not isinstance(gates, list):
        raise at.error("metrics", "expected an array of tables ([[...metrics]]).")
    return StageRule(
        stage=stage,
        users=frozenset(at.names(table.get("users", []), "users")),
        groups=frozenset(at.names(table.get("groups", []), "groups")),
        approval=at.flag(table.get("approval", False), "approval"),
        metrics=tuple(_gate(at.sub(f"metrics[{i}]"), g) for i, g in enumerate(gates)),
        require_tags=tuple(
            _checked(at, "require_tags", validate_key, t)
            for t in at.names(table.get("require_tags", []), "require_tags")
        ),
        require_inputs=_inputs(at, table.get("require_inputs", False)),
        where=f"[{at.table}]",
    )


def _tenant(at: _At, raw: Any) -> TenantPolicy:
    table = at.table_of(raw, _TENANT_KEYS)
    stages, groups = at.sub("stages"), at.sub("groups")
    return TenantPolicy(
        stages={s: _stage(stages.sub(s), s, r) for s, r in _mapping(stages, table).items()},
        groups={g: frozenset(groups.names(m, g)) for g, m in _mapping(groups, table).items()},
    )


def _mapping(at: _At, parent: Mapping[str, Any]) -> dict[str, Any]:
    """The sub-table ``at`` names in ``parent`` (empty when absent)."""
    key = at.table.rsplit(".", 1)[-1]
    raw = parent.get(key, {})
    if not isinstance(raw, dict):
        raise at.error(None, f"expected a table, got {type(raw).__name__}.")
    return raw


def _tenant_id(at: _At, tenant: str) -> str:
    return tenant if tenant == ANY_TENANT else _checked(at, "tenants", validate_tenant_id, tenant)


def parse_policy(data: Mapping[str, Any], source: str = "<policy>") -> Policy:
    """A `Policy` from the parsed TOML (or an equal dict); `PolicyError` at the first
    problem, naming ``source``, the table and the key."""
    root = _At(source, "")
    table = root.table_of(dict(data), _TOP_KEYS)
    tenants = root.sub("tenants")
    raw = _mapping(tenants, table)
    return Policy(
        tenants={_tenant_id(tenants, t): _tenant(tenants.sub(t), r) for t, r in raw.items()},
        source=source,
    )


def load_policy(path: str | Path) -> Policy:
    """The policy in the TOML file ``path``; `PolicyError` naming the file when it cannot
    be read, is not TOML, or holds anything the policy does not know."""
    where = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise PolicyError(where, "", None, f"cannot be read ({exc.strerror or exc}).") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PolicyError(where, "", None, f"is not valid TOML ({exc}).") from None
    return parse_policy(data, where)


__all__ = ["load_policy", "parse_policy"]
