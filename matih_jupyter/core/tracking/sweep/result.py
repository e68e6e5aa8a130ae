"""What a sweep hands back: where its runs are, and its best trial."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ...errors import InvalidInputError, NotFoundError
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
        best_model: The model the best trial returned (``return value, model``), when
            that trial ran in this call.
        registry: Where `register_best` registers when given none (the notebook magic
            sets the process registry).
        on_registered: Called with the registered version (the magic shows the
            promotion widget).
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
    best_model: Any = field(default=None, repr=False)
    registry: Any = field(default=None, repr=False)
    on_registered: Callable[[Any], Any] | None = field(default=None, repr=False)

    def register_best(
        self,
        model_name: str,
        framework: str = "sklearn",
        *,
        registry: Any = None,
        description: str = "",
        tags: dict[str, Any] | None = None,
    ) -> Any:
        """Register the best trial's model as a new version of ``model_name``, logged to
        that trial's run with its params and metric; returns the version's metadata."""
        registry = registry or self.registry
        if registry is None:
            raise InvalidInputError(
                "registry", "no model registry to register in.",
                hint="Pass registry=ModelRegistry(tracker).",
            )  # fmt: skip
        if self.best_run_id is None:
            raise NotFoundError(
                f"Sweep {self.name!r} has no complete trial, so no best model.",
                hint="Run more trials, or read why they failed in their runs' tags.",
            )
        if self.best_model is None:
            raise NotFoundError(
                f"The best trial ({self.best_trial}) of sweep {self.name!r} left no model "
                "in this kernel.",
                hint="Return `value, model` from the objective (the model of the best "
                "trial is kept), or refit with best_params and call registry.register_model.",
            )
        version = registry.register_model(
            self.tenant_id, model_name, self.best_model, framework,
            {self.metric: self.best_value}, self.best_params, tags,
            description=description, run_id=self.best_run_id,
        )  # fmt: skip
        if self.on_registered is not None:
            self.on_registered(version)
        return version

    def __repr__(self) -> str:
        best = (
            f"best trial {self.best_trial} {self.metric}={self.best_value:.6g}"
            if self.best_value is not None
            else "no complete trial"
        )
        return f"<SweepResult {self.name!r}: {len(self.trials)} trials run, {best}>"
