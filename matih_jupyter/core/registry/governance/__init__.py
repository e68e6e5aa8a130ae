"""Governed promotion: a per-tenant policy of who may move versions into each stage, the
gates a version must pass, second-person approval, and an immutable record of every move.

* `policy`, `policy_file`, `source`: the policy as data, read and validated from TOML,
  and where a registry finds it;
* `identity`: the groups of the acting user;
* `gates`: checking a rule's gates against one version;
* `enforce`: the policy applied inside the epoch of every stage change;
* `requests`: approval requests, stored on the model;
* `record`: the write-once record of each move;
* `api`: `GovernanceMixin`, the registry's methods for all of this;
* `errors`: what a refused or pending move raises.
"""

from .errors import ApprovalRequiredError, GateFailedError, NotPermittedError, PolicyError
from .identity import ENV_GROUPS, acting_in_groups
from .policy import MetricGate, Policy, StageRule, TenantPolicy
from .policy_file import load_policy, parse_policy
from .requests import ApprovalRequest
from .source import ENV_POLICY, POLICY_FILE

__all__ = [
    "ENV_GROUPS",
    "ENV_POLICY",
    "POLICY_FILE",
    "ApprovalRequest",
    "ApprovalRequiredError",
    "GateFailedError",
    "MetricGate",
    "NotPermittedError",
    "Policy",
    "PolicyError",
    "StageRule",
    "TenantPolicy",
    "acting_in_groups",
    "load_policy",
    "parse_policy",
]
