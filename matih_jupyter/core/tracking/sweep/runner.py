"""A sweep: an Optuna study whose trials run as child runs of one parent run.

The study is stored beside the runs, named for the tenant, the experiment and the
sweep, so running the same sweep again continues it: finished trials stay, trials a
dead process left RUNNING are closed, and the sweep goes on until it has ``n_trials``.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from ...errors import InvalidInputError
from ...tenancy import validate_key
from ..run_config import RunConfig
from .result import SweepResult
from .storage import open_storage, storage_url
from .tags import SweepTag
from .trial_run import ATTR_RUN_ID, TrialOutcome, TrialSpec, announce, run_trial

DIRECTIONS = ("minimize", "maximize")
#: The study's user attribute that names the sweep's parent run.
ATTR_PARENT = "matih.parent_run_id"
#: Per study: the best trial's number and the model it returned, kept across calls in
#: this process, so a continued sweep can still register a best found earlier.
_BEST_MODELS: dict[str, tuple[int, Any]] = {}


def check_sweep_args(
    objective: Any, n_trials: int, direction: str, metric: str, sweep_name: str, n_jobs: int
) -> None:
    """Refuse bad arguments before anything is written."""
    if not callable(objective):
        raise InvalidInputError("objective", "it is not callable.", hint="Pass objective(trial).")
    if isinstance(n_trials, bool) or not isinstance(n_trials, int) or n_trials <= 0:
        raise InvalidInputError("n_trials", f"{n_trials!r} is not a positive whole number.")
    if direction not in DIRECTIONS:
        raise InvalidInputError(
            "direction", f"{direction!r} is not one of: {', '.join(DIRECTIONS)}."
        )
    validate_key(metric, "metric")
    validate_key(sweep_name, "sweep_name")
    if "/" in sweep_name:
        raise InvalidInputError(
            "sweep_name",
            f"{sweep_name!r} contains '/'.",
            hint="A sweep is named within its experiment; the tenant comes from run_config.",
        )
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, int) or n_jobs < 1:
        raise InvalidInputError("n_jobs", f"{n_jobs!r} is not a positive whole number.")


class SweepRunner:
    """Runs one sweep to ``n_trials`` trials (or ``timeout`` seconds, or an interrupt)."""

    def __init__(
        self,
        tracker: Any,
        objective: Callable[[Any], Any],
        *,
        experiment_name: str,
        run_config: RunConfig | None,
        n_trials: int,
        direction: str,
        metric: str,
        sampler: Any,
        pruner: Any,
        timeout: float | None,
        n_jobs: int,
        sweep_name: str,
        storage: str | None,
        on_trial: Callable[[TrialOutcome], None] | None = None,
    ) -> None:
        check_sweep_args(objective, n_trials, direction, metric, sweep_name, n_jobs)
        if timeout is not None and not timeout > 0:
            raise InvalidInputError("timeout", f"{timeout!r} is not a positive number of seconds.")
        self.tracker = tracker
        self.cfg = run_config or RunConfig()
        self.tenant = tracker.resolve_tenant(self.cfg.tenant_id)
        self.n_trials, self.timeout, self.n_jobs = n_trials, timeout, n_jobs
        self.direction, self.metric, self.name = direction, metric, sweep_name
        self._storage_url = storage_url(tracker.tracking_uri, storage)
        self._experiment_name = experiment_name
        self._objective = objective
        self._on_trial = on_trial
        self._optuna_args = {"sampler": sampler, "pruner": pruner}
        self._outcomes: list[TrialOutcome] = []
        #: The best complete trial known here: number, run id, value, params.
        self._best: tuple[int, str, float, dict[str, Any]] | None = None
        self._lock = threading.Lock()

    def run(self) -> SweepResult:
        import optuna

        # Optuna's own INFO lines (study created or loaded) would fill the notebook cell;
        # the sweep's runs say the same. Warnings still show.
        verbosity = optuna.logging.get_verbosity()
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        try:
            return self._run()
        finally:
            optuna.logging.set_verbosity(verbosity)

    def _run(self) -> SweepResult:
        exp_id = self.tracker.get_or_create_experiment(
            self._experiment_name, self.tenant, user_id=self.cfg.user_id, job_id=self.cfg.job_id
        )
        study_name = f"{self.tenant}/{exp_id}/{self.name}"
        study = self._study(study_name)
        parent = self._parent(study, exp_id, study_name)
        spec = TrialSpec(
            self.tracker, exp_id, parent.run_id, self.tenant, self.cfg.user_id, self.name,
            study_name, self.metric, self._objective, self._on_trial,
        )  # fmt: skip
        self._close_dead_trials(study)
        self._update_best(study, parent)  # a continued sweep starts from its best so far
        try:
            self._run_trials(spec, study, parent)
        except BaseException as exc:
            self._update_best(study, parent)
            interrupted = isinstance(exc, KeyboardInterrupt | SystemExit)
            parent.end(
                "KILLED" if interrupted else "FAILED",
                error=None if interrupted else exc,
                reason="interrupted" if interrupted else None,
            )
            raise
        self._update_best(study, parent)
        if _others_running(study):
            parent.detach()  # the last process to finish ends it
        else:
            parent.end("FINISHED")
        return self._result(study, parent.run_id)

    # -- the study and its parent run --------------------------------------------------

    def _study(self, study_name: str) -> Any:
        import optuna

        self._storage = open_storage(self._storage_url)
        study = optuna.create_study(
            storage=self._storage,
            study_name=study_name,
            direction=self.direction,  # type: ignore[arg-type]
            load_if_exists=True,
            **self._optuna_args,
        )
        if study.direction.name.lower() != self.direction:
            raise InvalidInputError(
                "direction",
                f"sweep {self.name!r} was started with direction "
                f"{study.direction.name.lower()!r}, not {self.direction!r}.",
                hint="Keep the direction, or give the new search another sweep_name.",
            )
        self._study_name = study_name
        study_id = self._storage.get_study_id_from_name(study_name)
        #: How many trials the study had, as far as this process knows.
        self._seen = int(self._storage.get_n_trials(study_id))
        return study

    def _parent(self, study: Any, exp_id: str, study_name: str) -> Any:
        """The sweep's run: reopened when the sweep ran before or runs in another process,
        else started by the one process that wins the election for it."""
        parent_id = study.user_attrs.get(ATTR_PARENT)
        if not parent_id and _elected(study, self._storage):
            return self._start_parent(study, exp_id, study_name)
        return self.tracker.resume_run(parent_id or _await_parent(study), self.tenant)

    def _start_parent(self, study: Any, exp_id: str, study_name: str) -> Any:
        cfg = RunConfig(
            run_name=self.name,
            tenant_id=self.tenant,
            user_id=self.cfg.user_id,
            job_id=self.cfg.job_id,
            tags=dict(self.cfg.tags),
            description=self.cfg.description,
            notebook_path=self.cfg.notebook_path,
        )
        parent = self.tracker.start_run(run_config=cfg, experiment_id=exp_id)
        parent._system_tags(
            {SweepTag.NAME: self.name, SweepTag.STUDY: study_name, SweepTag.ROLE: "parent"}
            | {SweepTag.METRIC: self.metric, SweepTag.DIRECTION: self.direction}
        )
        parent.flush()
        study.set_user_attr(ATTR_PARENT, parent.run_id)
        return parent

    def _close_dead_trials(self, study: Any) -> None:
        """Trials left RUNNING by a process that died: their runs end KILLED (the
        tracker's orphan rule: pid gone on this host, or heartbeat stale) and Optuna
        counts them failed, so they are neither lost nor run twice."""
        import optuna

        running = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.RUNNING,))
        if not running:
            return
        orphans = {r.id for r in self.tracker.find_orphan_runs(self.tenant, self._experiment_name)}
        for trial in running:
            run_id = trial.user_attrs.get(ATTR_RUN_ID)
            if run_id in orphans:
                self.tracker.close_orphan_run(run_id, self.tenant)
                study.tell(trial.number, state=optuna.trial.TrialState.FAIL)

    # -- trials ------------------------------------------------------------------------

    def _run_trials(self, spec: TrialSpec, study: Any, parent: Any) -> None:
        deadline = None if self.timeout is None else time.monotonic() + self.timeout

        def worker() -> None:
            while (trial := self._next_trial(study, deadline)) is not None:
                outcome = run_trial(spec, study, trial)
                with self._lock:
                    self._outcomes.append(outcome)
                    self._note_trial(parent, outcome)
                    self._keep_best_model(outcome)
                    announce(spec, outcome)

        if self.n_jobs == 1:
            worker()
            return
        with ThreadPoolExecutor(self.n_jobs, thread_name_prefix="matih-sweep") as pool:
            for future in [pool.submit(worker) for _ in range(self.n_jobs)]:
                future.result()

    def _keep_best_model(self, outcome: TrialOutcome) -> None:
        """Hold the best trial's model only: the others are let go as trials end."""
        model, outcome.model = outcome.model, None
        if self._best is not None and self._best[0] == outcome.number:
            _BEST_MODELS[self._study_name] = (outcome.number, model)

    def _next_trial(self, study: Any, deadline: float | None) -> Any:
        """The next trial to run, or None when the sweep has its trials (or its time).

        Trial numbers run through the whole study, other kernels' trials too, so the
        last one asked says how many trials there were then; counting them in the
        storage instead would read every trial of the study, for each trial. A kernel
        that missed others' latest trials starts at most one trial too many. Threads of
        this process ask one at a time, so together they never start too many."""
        if deadline is not None and time.monotonic() >= deadline:
            return None
        with self._lock:
            if self._seen >= self.n_trials:
                return None
            trial = study.ask()
            self._seen = max(self._seen, trial.number + 1)
            return trial

    def _note_trial(self, parent: Any, outcome: TrialOutcome) -> None:
        """A point per trial on the parent's best-so-far curve; its best-trial tags are
        written only when this trial is the new best."""
        value = outcome.value
        if outcome.state == "COMPLETE" and value is not None and self._improves(value):
            best = self._best = (outcome.number, outcome.run_id, value, outcome.params)
            parent._system_tags(_best_tags(*best))
        if self._best is not None:
            parent.log_metric(self.metric, self._best[2], step=outcome.number)

    def _improves(self, value: float) -> bool:
        if self._best is None:
            return True
        best = self._best[2]
        return value < best if self.direction == "minimize" else value > best

    def _update_best(self, study: Any, parent: Any) -> None:
        """The best trial of the whole study (other kernels' trials too) on the parent."""
        best = _best_trial(study)
        if best is not None:
            self._best = (
                best.number,
                best.user_attrs.get(ATTR_RUN_ID, ""),
                best.value,
                best.params,
            )
            parent._system_tags(_best_tags(*self._best))

    def _result(self, study: Any, parent_run_id: str) -> SweepResult:
        best = _best_trial(study)
        return SweepResult(
            name=self.name,
            tenant_id=self.tenant,
            metric=self.metric,
            parent_run_id=parent_run_id,
            best_run_id=best.user_attrs.get(ATTR_RUN_ID) if best else None,
            best_value=best.value if best else None,
            best_params=dict(best.params) if best else {},
            best_trial=best.number if best else None,
            study=study,
            trials=list(self._outcomes),
            best_model=_best_model(study.study_name, best),
        )


def _best_tags(number: int, run_id: str, value: float, params: dict[str, Any]) -> dict[str, str]:
    return {
        SweepTag.BEST_RUN: run_id,
        SweepTag.BEST_TRIAL: str(number),
        SweepTag.BEST_VALUE: repr(value),
        SweepTag.BEST_PARAMS: json.dumps(params, default=str)[:5000],
    }


def _elected(study: Any, storage: Any) -> bool:
    """Whether this process starts the sweep's run: the storage lets exactly one process
    create a study of a given name, so a marker study elects one among racing kernels."""
    import optuna

    try:
        optuna.create_study(storage=storage, study_name=f"{study.study_name}#parent")
    except optuna.exceptions.DuplicatedStudyError:
        return False
    return True


def _await_parent(study: Any, timeout: float = 60.0) -> str:
    """The parent run id the elected process records (it starts the run first)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        parent_id = study.user_attrs.get(ATTR_PARENT)  # read from the storage each time
        if parent_id:
            return str(parent_id)
        time.sleep(0.2)
    raise InvalidInputError(
        "sweep_name",
        f"sweep {study.study_name!r} has no run yet: the process that started it stopped "
        "before creating it.",
        hint="Give the sweep another sweep_name.",
    )


def _others_running(study: Any) -> bool:
    """Whether trials of another process still run (this one's have all ended)."""
    import optuna

    return bool(study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.RUNNING,)))


def _best_model(study_name: str, best: Any) -> Any:
    """The model the best trial returned, when it ran in this process."""
    number, model = _BEST_MODELS.get(study_name, (None, None))
    return model if best is not None and number == best.number else None


def _best_trial(study: Any) -> Any:
    """The best complete trial, or None (Optuna raises when there is none)."""
    try:
        return study.best_trial
    except ValueError:
        return None
