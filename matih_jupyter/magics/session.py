"""Per-shell state of the magics: tenant, user, job, default experiment, open runs.

One `MagicSession` belongs to one IPython shell. It builds the tracker (and so imports
MLflow) only when a magic first needs it, so ``%load_ext matih_jupyter`` stays fast. The
core is imported inside methods for the same reason.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..core import ActiveRun, AutologScope, ExperimentTracker

#: The user-namespace variable VS Code sets to the notebook's path.
VSCODE_NOTEBOOK_VAR = "__vsc_ipynb_file__"

# Kept on the shell itself, so a session lives and dies with its shell.
_ATTR = "_matih_session"


def get_session(shell: Any = None) -> MagicSession:
    """The session of ``shell`` (default: the running IPython shell), created on first use.

    Widgets and user code use this to find the tenant and the open run of the notebook.
    """
    if shell is None:
        from IPython import get_ipython

        shell = get_ipython()
        if shell is None:
            raise RuntimeError("No IPython shell is running.")
    session = getattr(shell, _ATTR, None)
    if session is None:
        session = MagicSession(shell)
        setattr(shell, _ATTR, session)
    return session


def drop_session(shell: Any) -> MagicSession | None:
    """Forget the session of ``shell`` (when the extension is unloaded)."""
    session = getattr(shell, _ATTR, None)
    if session is not None:
        delattr(shell, _ATTR)
    return session


@dataclass
class OpenRun:
    """A run opened by a magic.

    Attributes:
        run: The core's `ActiveRun`.
        experiment: The experiment's short name.
        scope: ``"cell"`` for ``%%matih_run`` (ends with its cell) or ``"session"`` for
            ``%matih_run start`` (ends with ``%matih_run end``).
        variable: The user-namespace name the run is bound to.
        live: The live plot widget, when ``--live`` was given.
        autolog: The autologging scope, when ``--autolog`` was given.
    """

    run: ActiveRun
    experiment: str
    scope: str
    variable: str | None = None
    live: Any = None
    autolog: AutologScope | None = None
    extra: dict[str, Any] = field(default_factory=dict)


class MagicSession:
    """What the magics remember for one shell.

    The tenant and user default to ``MATIH_TENANT_ID`` / ``MATIH_USER_ID``; ``%matih_tenant``
    overrides them for this shell only.
    """

    def __init__(self, shell: Any) -> None:
        self.shell = shell
        self._tenant: str | None = None
        self._user: str | None = None
        self.job_id: str | None = os.environ.get("MATIH_JOB_ID") or None
        self.experiment: str | None = None
        self.runs: list[OpenRun] = []
        self._tracker: ExperimentTracker | None = None

    # -- who and where -----------------------------------------------------------------

    @property
    def tenant(self) -> str | None:
        """The tenant of this shell: set by ``%matih_tenant``, else ``MATIH_TENANT_ID``."""
        if self._tenant:
            return self._tenant
        value = os.environ.get("MATIH_TENANT_ID")
        if not value:
            return None
        from ..core.tenancy import validate_tenant_id

        return validate_tenant_id(value, "MATIH_TENANT_ID")

    def require_tenant(self) -> str:
        tenant = self.tenant
        if tenant is None:
            from ..core.errors import InvalidInputError

            raise InvalidInputError(
                "tenant",
                "no tenant is set for this notebook.",
                hint="Run %matih_tenant TENANT (for example %matih_tenant acme-corp) or set "
                "MATIH_TENANT_ID before starting the kernel.",
            )
        return tenant

    @property
    def user(self) -> str:
        """The user: set by ``%matih_tenant --user``, else ``MATIH_USER_ID``, else the OS
        user."""
        if self._user:
            return self._user
        from ..core.config import default_user

        return default_user()

    def set_identity(
        self, tenant: str | None = None, user: str | None = None, job: str | None = None
    ) -> None:
        """Switch tenant, user or job. Refused while a run is open: its tags would lie."""
        from ..core.errors import ConflictError, InvalidInputError
        from ..core.tenancy import validate_tenant_id

        if self.runs:
            names = ", ".join(f"{o.run.run_name} ({o.run.run_id})" for o in self.runs)
            raise ConflictError(
                f"A run is open ({names}); the tenant, user and job cannot change under it.",
                hint="End it first with %matih_run end.",
            )
        new_tenant = validate_tenant_id(tenant) if tenant is not None else None
        if user is not None and not user.strip():
            raise InvalidInputError("user", "is empty.", hint="Pass a user id, e.g. --user alice.")
        if job is not None and not job.strip():
            raise InvalidInputError("job", "is empty.", hint="Pass a job id, e.g. --job job-123.")
        if new_tenant is not None and new_tenant != self.tenant:
            # The default experiment belonged to the previous tenant.
            self.experiment = None
        if new_tenant is not None:
            self._tenant = new_tenant
        if user is not None:
            self._user = user.strip()
        if job is not None:
            self.job_id = job.strip()

    @property
    def tracker(self) -> ExperimentTracker:
        """The process tracker, configured from the environment; built on first use."""
        from ..core import get_experiment_tracker
        from ..core.config import StoreConfig

        tracker = self._tracker
        if tracker is None or (not self.runs and tracker.store != StoreConfig.resolve()):
            # Shared with user code that calls get_experiment_tracker(), so nested runs and
            # widgets see the same open runs. Rebuilt when the environment moved the store.
            tracker = get_experiment_tracker()
            if tracker.store != StoreConfig.resolve():
                tracker = get_experiment_tracker(refresh=True)
            self._tracker = tracker
        return tracker

    @property
    def tracker_if_built(self) -> ExperimentTracker | None:
        return self._tracker

    def notebook_path(self) -> str | None:
        """The notebook's path when the front end told the kernel (VS Code does through
        the user namespace; Jupyter through ``JPY_SESSION_NAME``, read by the core)."""
        value = self.shell.user_ns.get(VSCODE_NOTEBOOK_VAR)
        return str(value) if value else None

    def experiment_for(self, name: str | None) -> str:
        """The experiment a magic acts on: the one given, else the notebook default."""
        if name:
            from ..core.tenancy import validate_name

            return validate_name(name, "experiment name")
        if self.experiment:
            return self.experiment
        from ..core.errors import InvalidInputError

        raise InvalidInputError(
            "experiment",
            "no experiment given and no default set for this notebook.",
            hint="Name one (%%matih_run my-experiment) or set a default with "
            "%matih_experiment my-experiment.",
        )

    # -- runs --------------------------------------------------------------------------

    @property
    def current(self) -> OpenRun | None:
        """The innermost open run (a cell's run inside its cell)."""
        return self.runs[-1] if self.runs else None

    def log_target(self) -> ActiveRun | None:
        """The run ``%matih_log`` writes to: the innermost run open on this thread (a
        sweep's trial inside ``%%matih_sweep``), else the session's open run."""
        tracker = self.tracker_if_built
        active = tracker.active_run() if tracker is not None else None
        if active is not None:
            return active
        return self.current.run if self.current is not None else None

    def start_run(
        self,
        experiment: str | None,
        *,
        scope: str,
        name: str | None = None,
        tags: dict[str, str] | None = None,
        nested: bool = False,
        cell_source: str | None = None,
        autolog: bool = False,
        autolog_models: bool = True,
    ) -> OpenRun:
        """Open a run for the tenant; `OpenRun` is on the session's stack until `end_run`."""
        from ..core import RunConfig
        from ..core.errors import InvalidInputError

        tenant = self.require_tenant()
        parent = None
        if nested:
            if self.current is None:
                raise InvalidInputError(
                    "--nested",
                    "no run is open to nest under.",
                    hint="Open the parent first with %matih_run start [EXPERIMENT].",
                )
            parent = self.current.run.run_id
            # A child goes where its parent is unless told otherwise.
            experiment = experiment or self.current.experiment
        exp = self.experiment_for(experiment)
        config = RunConfig(
            run_name=name,
            tenant_id=tenant,
            user_id=self.user,
            job_id=self.job_id,
            tags=dict(tags or {}),
            parent_run_id=parent,
            notebook_path=self.notebook_path(),
        )
        run = self.tracker.start_run(exp, config)
        opened = OpenRun(run=run, experiment=exp, scope=scope)
        self.runs.append(opened)
        try:
            if cell_source is not None:
                # Stored first, so even a run whose kernel dies says what it ran.
                run.log_text(cell_source, "cell.py")
            if autolog:
                from ..core import AutologScope

                opened.autolog = AutologScope(
                    run,
                    job_id=self.job_id,
                    notebook_path=self.notebook_path(),
                    log_models=autolog_models,
                ).start()
        except BaseException as exc:
            self.end_run(opened, "FAILED", error=exc, reason="could not set up the run")
            raise
        return opened

    def end_run(
        self,
        opened: OpenRun,
        status: str = "FINISHED",
        *,
        error: BaseException | None = None,
        reason: str | None = None,
    ) -> None:
        """Stop autologging and the live plot, flush and end the run, forget it."""
        problems: list[BaseException] = []
        if opened.autolog is not None:
            try:
                opened.autolog.stop()
            except Exception as exc:  # the run must still end
                problems.append(exc)
        try:
            opened.run.end(status, error=error, reason=reason)
        except BaseException as exc:
            problems.append(exc)
        finally:
            if opened in self.runs:
                self.runs.remove(opened)
            if opened.live is not None:
                finish = getattr(opened.live, "finish", None)
                if callable(finish):
                    try:
                        finish()
                    except Exception as exc:
                        problems.append(exc)
        if problems:
            raise problems[0]

    def flush_all(self, timeout: float | None = 60.0) -> list[tuple[OpenRun, BaseException]]:
        """Write everything buffered by every open run; returns the failures."""
        failures = []
        for opened in list(self.runs):
            try:
                opened.run.flush(timeout)
            except Exception as exc:
                failures.append((opened, exc))
        return failures

    def close_all(self, status: str, reason: str) -> None:
        """End every open run (innermost first), reporting failures on stderr."""
        for opened in reversed(list(self.runs)):
            try:
                self.end_run(opened, status, reason=reason)
            except Exception as exc:
                print(f"matih: could not end run {opened.run.run_id}: {exc}", file=sys.stderr)
