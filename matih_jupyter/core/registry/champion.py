"""Champion / challenger: promote a version (the challenger) to production only if it
beats the production version (the champion) on a metric by more than a margin.

A metric's value is the one given at registration, else the last value in the version's
run. The decision is committed only if the champion is still the one compared against.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable
from typing import Any

from ..backend.error_map import translate_errors
from ..errors import InvalidInputError
from ..tenancy import validate_key
from .snapshot import Snapshot, version_in
from .tags import TAG_METRICS, loads
from .types import PromotionDecision

#: ``move(version, stage, reason, expected_production)``: one checked stage change.
Move = Callable[[str, str, str, str | None], Any]


def metric_of(client: Any, snap: Snapshot, version: str, metric: str) -> float | None:
    """``metric`` of ``version``: as registered, else from its run; ``None`` if neither."""
    mv = snap.versions[version]
    value = loads((mv.tags or {}).get(TAG_METRICS), {}).get(metric)
    if value is None and mv.run_id:
        with translate_errors(f"reading run {mv.run_id}"):
            value = client.get_run(mv.run_id).data.metrics.get(metric)
    return None if value is None else float(value)


def _check_min_delta(min_delta: Any) -> float:
    if (
        isinstance(min_delta, bool)
        or not isinstance(min_delta, numbers.Real)
        or not math.isfinite(min_delta)
    ):
        raise InvalidInputError("min_delta", f"{min_delta!r} is not a finite number.")
    return float(min_delta)


def _challenger_value(client: Any, snap: Snapshot, version: str, metric: str) -> float:
    value = metric_of(client, snap, version, metric)
    if value is None:
        known = sorted(loads((snap.versions[version].tags or {}).get(TAG_METRICS), {}))
        raise InvalidInputError(
            "metric",
            f"version {version} of '{snap.name}' has no metric {metric!r}.",
            hint=f"Its metrics: {', '.join(known) or 'none'}.",
        )
    return value


def _against_champion(
    client: Any,
    snap: Snapshot,
    decision: PromotionDecision,
    challenger: float,
    min_delta: float,
    higher: bool,
) -> str | None:
    """Compare with the champion; the promotion's reason if the challenger wins, else
    ``None`` with ``decision.reason`` saying why not."""
    champion, metric = str(decision.champion_version), decision.metric
    champ = decision.champion_value = metric_of(client, snap, champion, metric)
    if champ is None:
        decision.reason = f"the champion (version {champion}) has no metric {metric!r}."
        return None
    delta = decision.delta = challenger - champ if higher else champ - challenger
    direction = "higher" if higher else "lower"
    if not delta > min_delta:
        decision.reason = (
            f"{metric} {challenger:g} vs champion {champ:g}: improvement "
            f"{delta:g} ({direction} is better) is not more than min_delta {min_delta:g}."
        )
        return None
    return (
        f"champion-challenger: {metric} {challenger:g} beats version {champion}'s "
        f"{champ:g} by {delta:g} (> {min_delta:g}, {direction} is better)"
    )


def decide(
    client: Any,
    snap: Snapshot,
    version: Any,
    metric: str,
    min_delta: Any,
    higher_is_better: bool,
) -> tuple[PromotionDecision, str | None]:
    """The decision, and the reason to record if the challenger is to be promoted."""
    validate_key(metric, "metric")
    margin = _check_min_delta(min_delta)
    v = version_in(snap, version)
    value = _challenger_value(client, snap, v, metric)
    decision = PromotionDecision(
        promoted=False, reason="", metric=metric, challenger_version=v,
        champion_version=snap.production(), challenger_value=value,
    )  # fmt: skip
    if decision.champion_version == v:
        decision.reason = f"version {v} is already the production version."
        return decision, None
    if snap.stage(v) == "archived":
        decision.reason = f"version {v} is archived; move it to development first."
        return decision, None
    if decision.champion_version is None:
        return decision, f"champion-challenger: no version in production; {metric} {value:g}"
    return decision, _against_champion(client, snap, decision, value, margin, higher_is_better)


def promote_if_better(
    client: Any,
    snap: Snapshot,
    version: Any,
    metric: str,
    min_delta: Any,
    higher_is_better: bool,
    move: Move,
) -> PromotionDecision:
    """Decide, and promote when the challenger wins: a challenger in development goes
    through staging first, and both moves expect the champion compared against."""
    decision, why = decide(client, snap, version, metric, min_delta, higher_is_better)
    if why is None:
        return decision
    v, champion = decision.challenger_version, decision.champion_version
    if snap.stage(v) == "development":
        move(v, "staging", why, champion)
    move(v, "production", why, champion)
    decision.promoted = True
    decision.reason = why
    return decision
