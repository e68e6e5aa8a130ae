"""The rules for values that every way in (runs, REST batches, the registry, magics) obeys:
metric values and steps, write-once params, and the states a run can end in."""

from __future__ import annotations

import numbers
import time
from collections.abc import Mapping
from typing import Any

from .errors import ConflictError, InvalidInputError
from .tenancy import validate_key

#: The states a run can end in.
END_STATUSES = ("FINISHED", "FAILED", "KILLED")


def now_ms() -> int:
    """Wall time in epoch milliseconds, as MLflow stores it."""
    return time.time_ns() // 1_000_000


def metric_value(key: str, value: Any) -> float:
    """``value`` as a float, or `InvalidInputError`: metrics are real numbers (numpy
    scalars and 0-d arrays or tensors count, booleans and text do not)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        item = getattr(value, "item", None)
        if callable(item) and getattr(value, "ndim", 0) == 0:
            return metric_value(key, item())
        raise InvalidInputError(
            "metric value",
            f"{key!r} got {value!r} ({type(value).__name__}); metrics are real numbers.",
            hint="Log text with set_tag() or log_param(), or convert the value with float().",
        )
    return float(value)


def metric_values(metrics: Any, field: str = "metrics") -> dict[str, float]:
    """A mapping of metric name -> number, every key and value checked."""
    if metrics is None:
        return {}
    if not isinstance(metrics, Mapping):
        raise InvalidInputError(field, "expected a dict of name -> number.")
    out: dict[str, float] = {}
    for key, value in metrics.items():
        validate_key(key, "metric key")
        out[key] = metric_value(key, value)
    return out


def step_value(step: Any) -> int:
    """A metric's step: an integer (numpy integers count, booleans do not)."""
    if isinstance(step, bool) or not isinstance(step, numbers.Integral):
        raise InvalidInputError("step", f"{step!r} is not an integer.")
    return int(step)


def end_status(status: Any) -> str:
    """``status`` upper-cased, if it is a state a run can end in."""
    text = str(status).upper()
    if text not in END_STATUSES:
        raise InvalidInputError(
            "status", f"{status!r} is not an end state.", hint=f"Use one of {END_STATUSES}."
        )
    return text


def new_params(logged: Mapping[str, str], params: Mapping[str, str]) -> dict[str, str]:
    """The params of ``params`` not logged yet. Params are write-once: the same value
    again is accepted, another value for a logged key is a `ConflictError` naming it."""
    for key, text in params.items():
        old = logged.get(key)
        if old is not None and old != text:
            raise ConflictError(
                f"Param {key!r} was logged as {old!r}; it cannot change to {text!r}.",
                hint="Params are write-once: start a new run (or a nested one) to try "
                "another value.",
            )
    return {k: v for k, v in params.items() if k not in logged}
