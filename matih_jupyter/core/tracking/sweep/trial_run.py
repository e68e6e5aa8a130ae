"""One trial of a sweep as one child run: run the objective, tell Optuna how it ended,
log the trial's params and values, and end the run in the state that matches."""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ...errors import InvalidInputError
from ..run_config import RunConfig
from .tags import SweepTag

_log = logging.getLogger(__name__)

#: The trial's Optuna user attribute that names its run.
ATTR_RUN_ID = "matih.run_id"

# Optuna's trial states, as the run states they become.
RUN_STATUS = {"COMPLETE": "FINISHED", "PRUNED": "KILLED", "FAIL": "FAILED"}


class ObjectiveError(InvalidInputError):
    """The objective broke its contract (returned no number, never reported the metric):
    every trial would fail the same way, so the sweep stops."""


@dataclass
class TrialSpec:
    """What every trial of one sweep shares."""

    tracker: Any
    experiment_id: str
    parent_run_id: str
    tenant: str
    user: str | None
    sweep_name: str
    study_name: str
    metric: str
    objective: Callable[[Any], Any]
    #: Told of each trial as it starts (state RUNNING) and as it ends.
    on_trial: Callable[[TrialOutcome], None] | None = None


@dataclass
class TrialOutcome:
    number: int
    run_id: str
    state: str  # RUNNING (just started), COMPLETE, PRUNED or FAIL
    value: float | None
    params: dict[str, Any]
    #: Why the trial failed (``Type: message``), for a failed trial.
    error: str | None = None
    #: The model the objective returned beside its value (``return value, model``).
    model: Any = field(default=None, repr=False)
    #: When the trial started (seconds since the epoch), and how long it took once ended.
    started: float = 0.0
    duration: float | None = None
    #: The trial's `ActiveRun`, in the RUNNING event only: a live view taps its metrics.
    run: Any = field(default=None, repr=False)


def announce(spec: TrialSpec, outcome: TrialOutcome) -> None:
    """Tell ``spec.on_trial`` of a trial. A failing listener (a live view) is logged and
    left out: it must never cost the sweep a trial."""
    if spec.on_trial is None:
        return
    try:
        spec.on_trial(outcome)
    except Exception:
        _log.warning("the sweep's on_trial listener failed", exc_info=True)


def run_trial(spec: TrialSpec, study: Any, trial: Any) -> TrialOutcome:
    """Run one asked trial to its end. A failing objective fails the trial only (the
    sweep goes on); an interrupt ends it KILLED and is raised again."""
    # Written with the run itself: a trial whose process dies still says which it was.
    identity = {SweepTag.NAME: spec.sweep_name, SweepTag.STUDY: spec.study_name}
    identity[SweepTag.TRIAL] = str(trial.number)
    run = spec.tracker._open(
        spec.experiment_id, _child_config(spec, trial.number), spec.tenant, identity
    )
    trial.set_user_attr(ATTR_RUN_ID, run.run_id)
    started = time.time()
    announce(
        spec,
        TrialOutcome(trial.number, run.run_id, "RUNNING", None, {}, started=started, run=run),
    )
    outcome = _finish(spec, study, trial, run)
    outcome.started, outcome.duration = started, time.time() - started
    return outcome


def _finish(spec: TrialSpec, study: Any, trial: Any, run: Any) -> TrialOutcome:
    """Run the objective and close the trial as it went."""
    import optuna

    try:
        # The objective's own logging goes to this run: it is tracker.active_run().
        value, model = _value_and_model(spec, run, spec.objective(trial))
    except optuna.TrialPruned:
        return _close(spec, study, trial, run, "PRUNED")
    except (KeyboardInterrupt, SystemExit, ObjectiveError) as exc:
        _close(spec, study, trial, run, "FAIL", error=exc)
        raise
    except Exception as exc:
        return _close(spec, study, trial, run, "FAIL", error=exc)
    if math.isnan(value):
        return _close(spec, study, trial, run, "FAIL", error=ValueError("objective returned NaN"))
    outcome = _close(spec, study, trial, run, "COMPLETE", value=value)
    outcome.model = model
    return outcome


def _child_config(spec: TrialSpec, number: int) -> RunConfig:
    return RunConfig(
        run_name=f"{spec.sweep_name}-trial-{number}",
        tenant_id=spec.tenant,
        user_id=spec.user,
        parent_run_id=spec.parent_run_id,
    )


def _value_and_model(spec: TrialSpec, run: Any, returned: Any) -> tuple[float, Any]:
    """The trial's value, and the model when the objective returned ``value, model``."""
    if isinstance(returned, tuple) and len(returned) == 2:
        return _objective_value(spec, run, returned[0]), returned[1]
    return _objective_value(spec, run, returned), None


def _objective_value(spec: TrialSpec, run: Any, returned: Any) -> float:
    """The number the objective returned, or (returning None) the last value of the
    sweep's metric it logged to its run."""
    if returned is None:
        run.flush()
        logged = spec.tracker.get_run(run.run_id, spec.tenant, include_artifacts=False)
        if spec.metric not in logged.metrics:
            raise ObjectiveError(
                "metric",
                f"the objective returned nothing and never logged {spec.metric!r}.",
                hint=f"Return the trial's value, or log {spec.metric!r} to "
                "tracker.active_run() inside the objective.",
            )
        return float(logged.metrics[spec.metric])
    if isinstance(returned, bool) or not isinstance(returned, int | float):
        raise ObjectiveError(
            "objective",
            f"it returned {type(returned).__name__} {returned!r:.60}, not a number.",
            hint=f"Return the value of {spec.metric!r} as a float (or value, model).",
        )
    return float(returned)


def _close(
    spec: TrialSpec,
    study: Any,
    trial: Any,
    run: Any,
    state: str,
    *,
    value: float | None = None,
    error: BaseException | None = None,
) -> TrialOutcome:
    """Tell Optuna, then write what the trial produced to its run and end it."""
    import optuna

    frozen = study.tell(
        trial, value if state == "COMPLETE" else None, state=optuna.trial.TrialState[state]
    )
    steps = frozen.intermediate_values
    run.log_params(frozen.params)
    for step, reported in sorted(steps.items()):
        run.log_metric(spec.metric, reported, step=step)
    if value is not None:
        run.log_metric(spec.metric, value, step=max(steps, default=-1) + 1)
    run._system_tags({SweepTag.TRIAL_STATE: state})
    interrupted = isinstance(error, KeyboardInterrupt | SystemExit)
    status = "KILLED" if interrupted else RUN_STATUS[state]
    reason = "interrupted" if interrupted else None
    if state == "PRUNED":
        reason = f"pruned after step {max(steps, default=0)}"
    run.end(status, error=None if interrupted else error, reason=reason)
    why = f"{type(error).__name__}: {error}" if error is not None else None
    return TrialOutcome(frozen.number, run.run_id, state, value, dict(frozen.params), why)
