"""`ExperimentTracker.sweep`: the Python entry to sweeps."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ...isolation import isolated_methods
from ..run_config import RunConfig
from .result import SweepResult
from .trial_run import TrialOutcome


@isolated_methods
class SweepsMixin:
    """The sweep method of `ExperimentTracker`."""

    def sweep(
        self,
        objective: Callable[[Any], Any],
        experiment_name: str,
        run_config: RunConfig | None = None,
        *,
        n_trials: int,
        metric: str,
        direction: str = "minimize",
        sampler: Any = None,
        pruner: Any = None,
        timeout: float | None = None,
        n_jobs: int = 1,
        sweep_name: str = "sweep",
        storage: str | None = None,
        on_trial: Callable[[TrialOutcome], None] | None = None,
    ) -> SweepResult:
        """Search hyperparameters with Optuna, each trial a child run of the sweep's run.

        ``objective(trial)`` suggests params on the Optuna ``trial``, may report
        intermediate values (``trial.report(value, step)``, pruned by ``pruner``) and
        returns the value of ``metric`` (or returns None after logging ``metric`` to
        ``tracker.active_run()``, the trial's run). A trial that completes ends
        FINISHED, a pruned one KILLED (the reason tagged), a failing one FAILED (the
        error tagged; the sweep goes on). The sweep's run carries the best trial's run
        id, params and value, and a best-so-far curve of ``metric``.

        Running the same ``sweep_name`` in the same experiment again continues it up to
        ``n_trials`` trials in all. The study is stored beside the runs (``storage``,
        else ``MATIH_SWEEP_STORAGE``, else a file next to the SQLite store).

        ``on_trial(outcome)`` hears of each trial as it starts (state ``RUNNING``, with
        its run) and as it ends (its `TrialOutcome`): a live view of the sweep follows it.
        A listener that raises is logged and the sweep goes on.

        Needs the ``sweep`` extra (Optuna).
        """
        from .runner import SweepRunner

        return SweepRunner(
            self,
            objective,
            experiment_name=experiment_name,
            run_config=run_config,
            n_trials=n_trials,
            direction=direction,
            metric=metric,
            sampler=sampler,
            pruner=pruner,
            timeout=timeout,
            n_jobs=n_jobs,
            sweep_name=sweep_name,
            storage=storage,
            on_trial=on_trial,
        ).run()
