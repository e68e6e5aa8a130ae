"""The promotion policy as data: per tenant and stage, who may move a version into the
stage, which gates must pass, and whether a second person must approve.

A `Policy` is built whole by `policy_file.parse_policy` (from TOML) and never changed
afterwards, so a policy that fails validation leaves the one in force untouched.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

#: The tenant table that applies to tenants the policy does not name.
ANY_TENANT = "*"


@dataclass(frozen=True)
class MetricGate:
    """One metric check on the version's run. Exactly one bound is set: ``min`` (value >=
    min), ``max`` (value <= max) or ``champion_delta`` (value beats the production version's
    by at least the delta; lower-is-better when ``higher_is_better`` is false)."""

    metric: str
    min: float | None = None
    max: float | None = None
    champion_delta: float | None = None
    higher_is_better: bool = True
    where: str = ""

    def describe(self) -> str:
        if self.min is not None:
            return f"{self.metric} >= {self.min:g}"
        if self.max is not None:
            return f"{self.metric} <= {self.max:g}"
        sign = ">=" if self.higher_is_better else "<="
        op = "+" if self.higher_is_better else "-"
        return f"{self.metric} {sign} champion {op} {self.champion_delta:g}"


@dataclass(frozen=True)
class StageRule:
    """What a move into one stage needs. Empty ``users`` and ``groups`` let anyone move."""

    stage: str
    users: frozenset[str] = frozenset()
    groups: frozenset[str] = frozenset()
    approval: bool = False
    metrics: tuple[MetricGate, ...] = ()
    require_tags: tuple[str, ...] = ()
    require_inputs: bool | tuple[str, ...] = False
    where: str = ""

    @property
    def restricted(self) -> bool:
        return bool(self.users or self.groups)

    def allows(self, user: str, groups: Iterable[str]) -> bool:
        """Whether ``user`` (a member of ``groups``) may move versions into the stage."""
        return not self.restricted or user in self.users or bool(self.groups & set(groups))

    def who(self) -> str:
        """The users and groups allowed, for messages."""
        names = sorted(self.users) + [f"group {g}" for g in sorted(self.groups)]
        return ", ".join(names) or "anyone"

    @property
    def has_gates(self) -> bool:
        return bool(self.metrics or self.require_tags or self.require_inputs)


@dataclass(frozen=True)
class TenantPolicy:
    """One tenant's rules, by stage, and the groups the policy itself defines."""

    stages: Mapping[str, StageRule] = field(default_factory=dict)
    groups: Mapping[str, frozenset[str]] = field(default_factory=dict)

    def groups_of(self, user: str) -> set[str]:
        return {g for g, members in self.groups.items() if user in members}


@dataclass(frozen=True)
class Policy:
    """Every tenant's rules (``"*"``: tenants not named), and the file they came from."""

    tenants: Mapping[str, TenantPolicy] = field(default_factory=dict)
    source: str = "<policy>"

    def for_tenant(self, tenant: str) -> TenantPolicy | None:
        return self.tenants.get(tenant) or self.tenants.get(ANY_TENANT)

    def rule(self, tenant: str, stage: str) -> StageRule | None:
        """The rule for moves into ``stage`` in ``tenant``; ``None``: ungoverned."""
        found = self.for_tenant(tenant)
        return None if found is None else found.stages.get(stage)


__all__ = ["ANY_TENANT", "MetricGate", "Policy", "StageRule", "TenantPolicy"]
