"""MLflow's fluent API, pointed at one store for a while and then put back exactly.

Autologging works only through the fluent API, which reads process-wide state: the
tracking and registry URIs (mirrored into the environment for subprocesses) and the active
experiment. The rest of the core never touches that state; an autolog scope borrows it
here and restores every value, set or unset, when it closes.
"""

from __future__ import annotations

import os
from typing import Any

from . import internals

_ENV_VARS = ("MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI")


def save_state() -> dict[str, Any]:
    """What `restore_state` puts back: the fluent globals and their environment mirror."""
    return {**internals.fluent_globals(), "env": {n: os.environ.get(n) for n in _ENV_VARS}}


def restore_state(saved: dict[str, Any]) -> None:
    internals.set_fluent_globals(
        saved["tracking_uri"], saved["registry_uri"], saved["experiment_id"]
    )
    for name, value in saved["env"].items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


def autolog_into(tracking_uri: str, registry_uri: str, experiment_id: str, **options: Any) -> None:
    """Point the fluent API at a store and experiment, then turn autologging on with
    ``options`` (extra_tags, log_models, log_datasets, exclude_flavors)."""
    import mlflow

    mlflow.set_tracking_uri(tracking_uri)
    mlflow.set_registry_uri(registry_uri)
    current = internals.fluent_globals()
    internals.set_fluent_globals(current["tracking_uri"], current["registry_uri"], experiment_id)
    mlflow.autolog(silent=True, **options)


def autolog_off() -> None:
    """Turn autologging off and end the fluent runs a fit left open (an interrupted fit
    can leave its managed run on the fluent stack)."""
    import mlflow

    mlflow.autolog(disable=True, silent=True)
    while mlflow.active_run() is not None:
        mlflow.end_run("KILLED")
