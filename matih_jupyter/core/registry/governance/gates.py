"""The gates of a stage rule, checked against one version: metric thresholds on the
version's run, a margin over the production version (the champion), required tags and
required logged dataset inputs. Every gate is checked, so a refusal lists them all."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from ..tags import TAG_METRICS, loads
from .policy import MetricGate, StageRule

#: ``metric(version, key)``: the version's value (as registered, else its run's), or None.
MetricOf = Callable[[str, str], float | None]


@dataclass(frozen=True)
class GateResult:
    """One gate's outcome: what it checks, where the policy says so, what was found and,
    when it failed, how to satisfy it."""

    gate: str
    where: str
    passed: bool
    detail: str
    fix: str = ""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def line(self) -> str:
        return f"{'pass' if self.passed else 'FAIL'}: {self.gate} ({self.detail})"


def registered_metric(version_tags: dict[str, str], run: Any, key: str) -> float | None:
    """A version's metric: as given at registration, else the last value in its run."""
    value = loads(version_tags.get(TAG_METRICS), {}).get(key)
    if value is None and run is not None:
        value = run.data.metrics.get(key)
    return None if value is None else float(value)


def _metric(
    gate: MetricGate, version: str, champion: str | None, metric_of: MetricOf
) -> GateResult:
    value = metric_of(version, gate.metric)
    name, where = gate.describe(), gate.where
    if value is None:
        return GateResult(
            name, where, False, f"version {version} has no metric '{gate.metric}'",
            f"log '{gate.metric}' to the version's run (or register it with that metric).",
        )  # fmt: skip
    if gate.champion_delta is None:
        bound = gate.min if gate.min is not None else gate.max
        ok = value >= bound if gate.min is not None else value <= bound  # type: ignore[operator]
        return GateResult(
            name, where, ok, f"{gate.metric} is {value:g}",
            "" if ok else f"register a version whose {gate.metric} is "
            f"{'at least' if gate.min is not None else 'at most'} {bound:g}.",
        )  # fmt: skip
    return _against_champion(gate, value, champion, metric_of)


def _against_champion(
    gate: MetricGate, value: float, champion: str | None, metric_of: MetricOf
) -> GateResult:
    name, where, delta = gate.describe(), gate.where, float(gate.champion_delta or 0.0)
    if champion is None:
        return GateResult(name, where, True, f"no version in production; {gate.metric} {value:g}")
    champ = metric_of(champion, gate.metric)
    if champ is None:
        return GateResult(name, where, True, f"the champion v{champion} has no '{gate.metric}'")
    need = champ + delta if gate.higher_is_better else champ - delta
    ok = value >= need if gate.higher_is_better else value <= need
    return GateResult(
        name, where, ok, f"{gate.metric} {value:g} vs champion v{champion} {champ:g}",
        "" if ok else f"a version with {gate.metric} {'>=' if gate.higher_is_better else '<='} "
        f"{need:g} passes.",
    )  # fmt: skip


def _tags(rule: StageRule, version_tags: dict[str, str], run: Any) -> list[GateResult]:
    run_tags = run.data.tags if run is not None else {}
    out = []
    for key in rule.require_tags:
        value = version_tags.get(key) or run_tags.get(key)
        found = f"{key} = {value}" if value else f"no tag '{key}' on the version or its run"
        fix = "" if value else f"set tag '{key}' on the run (run.set_tag) or the version."
        out.append(GateResult(f"tag '{key}' is set", rule.where, bool(value), found, fix))
    return out


def _inputs(rule: StageRule, run: Any) -> list[GateResult]:
    if not rule.require_inputs:
        return []
    logged = dataset_inputs(run)
    names = {d["name"] for d in logged}
    wanted = rule.require_inputs if isinstance(rule.require_inputs, tuple) else ()
    missing = [n for n in wanted if n not in names]
    ok = bool(logged) and not missing
    detail = f"logged: {', '.join(sorted(names)) or 'none'}"
    fix = (
        ""
        if ok
        else (f"log the dataset(s) {', '.join(missing) or '(any)'} to the run (mlflow.log_input).")
    )
    need = f"inputs {', '.join(wanted)} logged" if wanted else "a dataset input is logged"
    return [GateResult(need, rule.where, ok, detail, fix)]


def dataset_inputs(run: Any) -> list[dict[str, Any]]:
    """The datasets logged as the run's inputs: name, digest, source type and context."""
    found = getattr(getattr(run, "inputs", None), "dataset_inputs", None) or []
    out = []
    for item in found:
        ds = item.dataset
        context = next((t.value for t in item.tags or [] if t.key == "mlflow.data.context"), None)
        out.append(
            {"name": ds.name, "digest": ds.digest, "source_type": ds.source_type,
             "context": context}
        )  # fmt: skip
    return out


def check(
    rule: StageRule,
    version: str,
    version_tags: dict[str, str],
    run: Any,
    champion: str | None,
    metric_of: MetricOf,
    *,
    relative: bool = True,
) -> list[GateResult]:
    """Every gate of ``rule`` for ``version``; champion-relative gates only if
    ``relative`` (a rollback restores the earlier champion whatever the current one has)."""
    metrics = [g for g in rule.metrics if relative or g.champion_delta is None]
    results = [_metric(g, version, champion, metric_of) for g in metrics]
    return results + _tags(rule, version_tags, run) + _inputs(rule, run)


__all__ = ["GateResult", "MetricOf", "check", "dataset_inputs", "registered_metric"]
