"""MLflow's fluent API, pointed at one store for a while and then put back exactly.

Autologging works only through the fluent API, which reads process-wide state: the
tracking and registry URIs (mirrored into the environment for subprocesses) and the active
experiment. The rest of the core never touches that state; an autolog scope borrows it
here and restores every value, set or unset, when it closes.
"""

from __future__ import annotations

import functools
import os
import warnings
from collections.abc import Callable
from typing import Any

from . import internals

_ENV_VARS = ("MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI")
# MLflow's scikit-learn autologging still passes `y_pred=` to `log_loss`, which
# scikit-learn 1.9 renamed: the FutureWarning is MLflow's to fix, not the user's.
_MLFLOW_Y_PRED_WARNING = r"`y_pred` was renamed to `y_proba`"


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


def autolog_into(
    tracking_uri: str, registry_uri: str, experiment_id: str, **options: Any
) -> Callable[[], None]:
    """Point the fluent API at a store and experiment, then turn autologging on with
    ``options`` (extra_tags, log_models, log_datasets, exclude_flavors). Returns what
    `autolog_off` needs to undo the warning filter set here."""
    import mlflow

    mlflow.set_tracking_uri(tracking_uri)
    mlflow.set_registry_uri(registry_uri)
    current = internals.fluent_globals()
    internals.set_fluent_globals(current["tracking_uri"], current["registry_uri"], experiment_id)
    mlflow.autolog(silent=True, **options)
    return internals.wrap_sklearn_training_metrics(_without_y_pred_warning)


def autolog_off(unwrap: Callable[[], None] | None = None) -> None:
    """Turn autologging off and end the fluent runs a fit left open (an interrupted fit
    can leave its managed run on the fluent stack); ``unwrap`` is what `autolog_into`
    returned."""
    import mlflow

    try:
        mlflow.autolog(disable=True, silent=True)
        while mlflow.active_run() is not None:
            mlflow.end_run("KILLED")
    finally:
        if unwrap is not None:
            unwrap()


def _without_y_pred_warning(compute: Callable[..., Any]) -> Callable[..., Any]:
    """``compute`` (MLflow's training metrics of one fit) with scikit-learn's `y_pred`
    FutureWarning ignored while it runs, and only then: the user's own calls still warn."""

    @functools.wraps(compute)
    def quiet(*args: Any, **kwargs: Any) -> Any:
        with warnings.catch_warnings():
            warnings.filterwarnings(
                "ignore", message=_MLFLOW_Y_PRED_WARNING, category=FutureWarning
            )
            return compute(*args, **kwargs)

    return quiet
