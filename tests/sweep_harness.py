"""A sweep objective whose trials end in each state: what the REST and sidebar tests list."""

from __future__ import annotations

from typing import Any

import optuna


def mixed_objective(trial: Any) -> float:
    """Trial 1 fails, trial 2 is pruned, the others complete."""
    x = trial.suggest_float("x", -3.0, 3.0)
    if trial.number == 1:
        raise ValueError("diverged")
    if trial.number == 2:
        raise optuna.TrialPruned()
    return (x - 1) ** 2


def reporting_objective(trial: Any) -> float:
    """Three intermediate values per trial (its curve), then its value; trial 1 fails,
    trial 2 is pruned after its three steps."""
    x = trial.suggest_float("x", -3.0, 3.0)
    if trial.number == 1:
        raise ValueError("diverged")
    for step in range(3):
        trial.report((x - 1) ** 2 + 1.0 / (step + 1), step)
    if trial.number == 2:
        raise optuna.TrialPruned()
    return (x - 1) ** 2
