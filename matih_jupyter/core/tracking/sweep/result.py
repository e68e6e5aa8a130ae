"""What a sweep hands back: where its runs are, and its best trial."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .trial_run import TrialOutcome


@dataclass
class SweepResult:
    """A finished (or stopped) sweep.

    Attributes:
        name: The sweep's name in its experiment.
        parent_run_id: The sweep's run; each trial is a child run of it.
        best_run_id: The best complete trial's run, or None when no trial completed.
        best_value: Its value of the sweep's metric.
        best_params: Its params.
        best_trial: Its Optuna trial number.
        study: The Optuna study (the sweep's whole history, across resumes).
        trials: The trials this call ran, in the order they ended.
    """

    name: str
    tenant_id: str
    metric: str
    parent_run_id: str
    best_run_id: str | None
    best_value: float | None
    best_params: dict[str, Any]
    best_trial: int | None
    study: Any
    trials: list[TrialOutcome] = field(default_factory=list)

    def __repr__(self) -> str:
        best = (
            f"best trial {self.best_trial} {self.metric}={self.best_value:.6g}"
            if self.best_value is not None
            else "no complete trial"
        )
        return f"<SweepResult {self.name!r}: {len(self.trials)} trials run, {best}>"
