"""The framework-free core, and its public API: import from here (or from `matih_jupyter`).

Nothing in the core imports IPython, ipywidgets, anywidget, tornado or jupyter_server, and
only `core.backend` imports MLflow. The layout, one job per module:

* `backend/`: the seam to MLflow (client, error map, conversions, workspaces, flavors);
* `tracking/`: experiments, runs, the active run and its writer, recovery, provenance;
* `registry/`: the model registry, its stage lifecycle and promotion protocol;
* `tracking.process_tracker`, `registry.process_registry`: the one tracker and the one
  registry of the process, shared by every adapter;
* `values`, `tenancy`, `config`, `errors`, `models`, `comparison`: rules and types that
  every way in shares.

Names are resolved lazily, so importing a light module such as ``matih_jupyter.core.errors``
(or ``%load_ext matih_jupyter``) does not import MLflow.
"""

from __future__ import annotations

import importlib
from typing import Any

#: The public API (also importable from `matih_jupyter`): name -> the module that defines it.
EXPORTS = {
    "ActiveRun": "matih_jupyter.core.tracking.active_run",
    "ExperimentConfig": "matih_jupyter.core.tracking.run_config",
    "RunConfig": "matih_jupyter.core.tracking.run_config",
    "ExperimentTracker": "matih_jupyter.core.tracking.tracker",
    "get_experiment_tracker": "matih_jupyter.core.tracking.process_tracker",
    "get_model_registry": "matih_jupyter.core.registry.process_registry",
    "ExperimentCreate": "matih_jupyter.core.models",
    "ExperimentResponse": "matih_jupyter.core.models",
    "RunResponse": "matih_jupyter.core.models",
    "MetricPoint": "matih_jupyter.core.models",
    "MatihError": "matih_jupyter.core.errors",
    "InvalidInputError": "matih_jupyter.core.errors",
    "NotFoundError": "matih_jupyter.core.errors",
    "ConflictError": "matih_jupyter.core.errors",
    "LifecycleError": "matih_jupyter.core.errors",
    "BackendUnavailableError": "matih_jupyter.core.errors",
    "LoggingError": "matih_jupyter.core.errors",
    "AccessDeniedError": "matih_jupyter.core.errors",
    "ModelRegistry": "matih_jupyter.core.registry",
    "ModelMetadata": "matih_jupyter.core.registry",
    "ModelVersionInfo": "matih_jupyter.core.registry",
    "TransitionRecord": "matih_jupyter.core.registry",
    "PromotionDecision": "matih_jupyter.core.registry",
    "HookVetoError": "matih_jupyter.core.registry",
    "HookFailureWarning": "matih_jupyter.core.registry",
    "Policy": "matih_jupyter.core.registry.governance",
    "PolicyError": "matih_jupyter.core.registry.governance",
    "NotPermittedError": "matih_jupyter.core.registry.governance",
    "GateFailedError": "matih_jupyter.core.registry.governance",
    "ApprovalRequiredError": "matih_jupyter.core.registry.governance",
    "ApprovalRequest": "matih_jupyter.core.registry.governance",
    "load_policy": "matih_jupyter.core.registry.governance",
    "STAGES": "matih_jupyter.core.registry",
    "ALLOWED_TRANSITIONS": "matih_jupyter.core.registry",
    "allowed_transitions": "matih_jupyter.core.registry",
}

#: What the adapters (magics, widgets, server) use besides the public API: the rules and
#: helpers they share with the core.
HELPERS = {
    "AutologScope": "matih_jupyter.core.tracking.autolog",
    "use_tracker": "matih_jupyter.core.tracking.process_tracker",
    "END_STATUSES": "matih_jupyter.core.values",
    "SweepTag": "matih_jupyter.core.tracking.sweep.tags",
    "end_status": "matih_jupyter.core.values",
    "metric_value": "matih_jupyter.core.values",
    "metric_values": "matih_jupyter.core.values",
    "step_value": "matih_jupyter.core.values",
    "validate_stage": "matih_jupyter.core.registry.types",
    "acting_in_groups": "matih_jupyter.core.registry.governance",
    "comparison_rows": "matih_jupyter.core.comparison",
    "comparison_table": "matih_jupyter.core.comparison",
    "StoreConfig": "matih_jupyter.core.config",
    "default_tenant": "matih_jupyter.core.config",
    "default_user": "matih_jupyter.core.config",
    "validate_tenant_id": "matih_jupyter.core.tenancy",
    "validate_name": "matih_jupyter.core.tenancy",
    "validate_key": "matih_jupyter.core.tenancy",
}

__all__ = sorted([*EXPORTS, *HELPERS])


def __getattr__(name: str) -> Any:
    module = EXPORTS.get(name) or HELPERS.get(name)
    if module is None:
        raise AttributeError(f"module 'matih_jupyter.core' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *EXPORTS, *HELPERS])
