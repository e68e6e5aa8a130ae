"""MLflow autologging for one matih run, in a notebook kernel (``%%matih_run --autolog``).

MLflow's autologging only works through its *fluent* API: the patched ``fit`` methods
create runs with ``mlflow.start_run()``, which reads the process-global tracking URI and
experiment. The rest of the core never touches that global state (a server serves many
tenants from one process); this module is the one exception, through the backend's
`fluent` seam, and only for a notebook kernel, where one user drives one process:

* while an `AutologScope` is open, MLflow's global tracking and registry URIs point at the
  tracker's store and its active experiment is the matih run's experiment;
* ``mlflow.autolog()`` is on, with ``extra_tags`` so every run it creates carries the
  tenant, user and job tags of the matih run and ``mlflow.parentRunId`` = the matih run:
  autologged fits show up as children of it, in the tenant's experiment;
* warnings MLflow's own autologging code causes (scikit-learn's ``y_pred`` rename) are
  ignored while that code runs, so the user's cell shows only its own warnings;
* when the scope closes, autologging is switched off, any fluent run the scope left open is
  ended, and the previous global URIs, experiment and environment variables are restored.

Only one scope can be open at a time (the state it changes is process-wide). Never use it
inside the Jupyter server, which serves many tenants from one process.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from types import TracebackType
from typing import TYPE_CHECKING, Any

from ..backend import fluent
from ..errors import ConflictError
from ..tenancy import TAG_JOB, TAG_TENANT, TAG_USER
from .provenance import provenance_tags

if TYPE_CHECKING:
    from .active_run import ActiveRun

#: Set on every run autologging creates inside a scope.
TAG_AUTOLOG_PARENT = "matih.autolog.parent_run_id"
_PARENT_TAG = "mlflow.parentRunId"

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
        self._unwrap: Callable[[], None] | None = None
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
        with _lock:
            if _open_scope is not None:
                raise ConflictError(
                    f"Autologging is already on for run {_open_scope.run.run_id}.",
                    hint="End that run first; autologging follows one run at a time.",
                )
            tracker = self.run.tracker
            self._saved = fluent.save_state()
            try:
                self._unwrap = fluent.autolog_into(
                    tracker.tracking_uri,
                    tracker.registry_uri,
                    self.run.experiment_id,
                    extra_tags=dict(self.tags),
                    **self._options,
                )
            except BaseException:
                fluent.restore_state(self._saved)
                self._saved = None
                raise
            _open_scope = self
            self.active = True
        return self

    def stop(self) -> None:
        """Turn autologging off, end fluent runs left open and restore MLflow's globals.
        Stopping twice is harmless."""
        global _open_scope
        with _lock:
            if not self.active:
                return
            try:
                fluent.autolog_off(self._unwrap)
            finally:
                self._unwrap = None
                if self._saved is not None:
                    fluent.restore_state(self._saved)
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
