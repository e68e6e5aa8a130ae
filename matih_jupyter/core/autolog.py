"""MLflow autologging for one matih run, in a notebook kernel (issue 4, ``--autolog``).

MLflow's autologging only works through its *fluent* API: the patched ``fit`` methods
create runs with ``mlflow.start_run()``, which reads the process-global tracking URI and
experiment. The rest of the core never touches that global state (guide section 1); this
module is the one, documented exception, and only for a notebook kernel, where one user
drives one process:

* while an `AutologScope` is open, MLflow's global tracking and registry URIs point at the
  tracker's store and its active experiment is the matih run's experiment;
* ``mlflow.autolog()`` is on, with ``extra_tags`` so every run it creates carries the
  tenant, user and job tags of the matih run and ``mlflow.parentRunId`` = the matih run:
  autologged fits show up as children of it, in the tenant's experiment;
* when the scope closes, autologging is switched off, any fluent run the scope left open is
  ended, and the previous global URIs, experiment and environment variables are restored.

Only one scope can be open at a time (the state it changes is process-wide). Never use it
inside the Jupyter server, which serves many tenants from one process.
"""

from __future__ import annotations

import os
import threading
from types import TracebackType
from typing import TYPE_CHECKING, Any

from .errors import ConflictError
from .provenance import provenance_tags
from .tenancy import TAG_JOB, TAG_TENANT, TAG_USER

if TYPE_CHECKING:
    from .tracker import ActiveRun

#: Set on every run autologging creates inside a scope.
TAG_AUTOLOG_PARENT = "matih.autolog.parent_run_id"
_PARENT_TAG = "mlflow.parentRunId"
_ENV_VARS = ("MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI")

_lock = threading.Lock()
_open_scope: AutologScope | None = None


def current_scope() -> AutologScope | None:
    """The autolog scope open in this process, if any."""
    return _open_scope


class AutologScope:
    """Autologging bound to one open matih run; use as a context manager or call
    `start` and `stop` (a run kept open across notebook cells).

    Args:
        run: The matih `ActiveRun` that autologged runs are nested under.
        job_id: The platform job, tagged on autologged runs too.
        notebook_path: Tagged as provenance when known.
        log_models: Passed to ``mlflow.autolog`` (model artifacts of each fit).
        log_datasets: Passed to ``mlflow.autolog`` (dataset inputs of each fit).
        exclude_flavors: Flavours not to autolog, e.g. ``["tensorflow"]``.
    """

    def __init__(
        self,
        run: ActiveRun,
        *,
        job_id: str | None = None,
        notebook_path: str | None = None,
        log_models: bool = True,
        log_datasets: bool = True,
        exclude_flavors: list[str] | None = None,
    ) -> None:
        self.run = run
        self.tags = self._tags(run, job_id, notebook_path)
        self._options: dict[str, Any] = {
            "log_models": log_models,
            "log_datasets": log_datasets,
            "exclude_flavors": exclude_flavors,
        }
        self._saved: dict[str, Any] | None = None
        self.active = False

    @staticmethod
    def _tags(run: ActiveRun, job_id: str | None, notebook_path: str | None) -> dict[str, str]:
        tags = provenance_tags(notebook_path)
        tags.update(
            {
                TAG_TENANT: run.tenant_id,
                TAG_USER: run.user_id,
                "mlflow.user": run.user_id,
                _PARENT_TAG: run.run_id,
                TAG_AUTOLOG_PARENT: run.run_id,
            }
        )
        if job_id:
            tags[TAG_JOB] = str(job_id)
        return tags

    def start(self) -> AutologScope:
        """Point MLflow's fluent API at the run's store and experiment and turn autologging
        on. `ConflictError` if another scope is open."""
        global _open_scope
        from ._mlflow import mlflow
        from .tracker import ExperimentTracker

        with _lock:
            if _open_scope is not None:
                raise ConflictError(
                    f"Autologging is already on for run {_open_scope.run.run_id}.",
                    hint="End that run first; autologging follows one run at a time.",
                )
            tracker: ExperimentTracker = self.run._tracker
            self._saved = _save_fluent_state()
            try:
                mlflow.set_tracking_uri(tracker.tracking_uri)
                mlflow.set_registry_uri(tracker.registry_uri)
                _fluent()._active_experiment_id = self.run.experiment_id
                mlflow.autolog(silent=True, extra_tags=dict(self.tags), **self._options)
            except BaseException:
                _restore_fluent_state(self._saved)
                self._saved = None
                raise
            _open_scope = self
            self.active = True
        return self

    def stop(self) -> None:
        """Turn autologging off, end fluent runs left open and restore MLflow's globals.
        Stopping twice is harmless."""
        global _open_scope
        from ._mlflow import mlflow

        with _lock:
            if not self.active:
                return
            try:
                mlflow.autolog(disable=True, silent=True)
                # A fit interrupted mid-way can leave its managed run on the fluent stack.
                while mlflow.active_run() is not None:
                    mlflow.end_run("KILLED")
            finally:
                if self._saved is not None:
                    _restore_fluent_state(self._saved)
                self._saved = None
                self.active = False
                if _open_scope is self:
                    _open_scope = None

    def __enter__(self) -> AutologScope:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def _fluent() -> Any:
    from mlflow.tracking import fluent

    return fluent


def _tracking_utils() -> Any:
    from mlflow.tracking._tracking_service import utils

    return utils


def _registry_utils() -> Any:
    from mlflow.tracking._model_registry import utils

    return utils


def _save_fluent_state() -> dict[str, Any]:
    # MLflow keeps these in module globals (and mirrors the tracking URI into the
    # environment for subprocesses); save the raw values so restoring is exact.
    return {
        "tracking_uri": getattr(_tracking_utils(), "_tracking_uri", None),
        "registry_uri": getattr(_registry_utils(), "_registry_uri", None),
        "experiment_id": getattr(_fluent(), "_active_experiment_id", None),
        "env": {name: os.environ.get(name) for name in _ENV_VARS},
    }


def _restore_fluent_state(saved: dict[str, Any]) -> None:
    _tracking_utils()._tracking_uri = saved["tracking_uri"]
    _registry_utils()._registry_uri = saved["registry_uri"]
    _fluent()._active_experiment_id = saved["experiment_id"]
    for name, value in saved["env"].items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
