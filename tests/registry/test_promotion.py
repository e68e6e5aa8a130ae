"""Champion-challenger promotion, run comparison and training metrics."""

from __future__ import annotations

import pytest

from matih_jupyter.core.errors import ConflictError, InvalidInputError, NotFoundError
from matih_jupyter.core.registry import champion

from .conftest import register, version_in


def test_promote_if_better_promotes(registry):
    champion = version_in(registry, "production")  # auc 0.8
    challenger = register(registry, auc=0.85).versions[-1]
    decision = registry.promote_if_better("acme", "churn", challenger, "auc", 0.01, user_id="dana")
    assert decision.promoted is True
    assert decision.champion_version == champion and decision.challenger_version == challenger
    assert decision.challenger_value == 0.85 and decision.champion_value == 0.8
    assert decision.delta == pytest.approx(0.05)
    assert "beats" in decision.reason
    model = registry.get_model("acme", "churn")
    assert model.aliases["production"] == challenger
    assert registry.get_version("acme", "churn", champion).stage == "archived"
    # Development -> staging -> production, both moves recorded with the decision.
    moves = [(r.version, r.from_stage, r.to_stage) for r in registry.history("acme", "churn")]
    assert moves[-3:] == [
        (challenger, "development", "staging"),
        (challenger, "staging", "production"),
        (champion, "production", "archived"),
    ]
    assert "champion-challenger" in registry.history("acme", "churn")[-2].reason
    assert {r.user_id for r in registry.history("acme", "churn")[-3:]} == {"dana"}


def test_promote_if_better_declines(registry):
    champion = version_in(registry, "production")  # auc 0.8
    challenger = register(registry, auc=0.805).versions[-1]
    before = registry.history("acme", "churn")
    decision = registry.promote_if_better("acme", "churn", challenger, "auc", 0.01)
    assert decision.promoted is False
    assert decision.delta == pytest.approx(0.005)
    assert "not more than min_delta" in decision.reason
    assert registry.history("acme", "churn") == before
    assert registry.get_model("acme", "churn").aliases["production"] == champion


def test_lower_is_better(registry):
    registry.register_model("acme", "reg", _model(), "sklearn", {"rmse": 3.0}, {})
    registry.transition_stage("acme", "reg", "1", "staging")
    registry.transition_stage("acme", "reg", "1", "production")
    registry.register_model("acme", "reg", _model(), "sklearn", {"rmse": 2.0}, {})
    registry.transition_stage("acme", "reg", "2", "staging")
    worse = registry.promote_if_better("acme", "reg", "2", "rmse", 0.5, higher_is_better=True)
    assert worse.promoted is False and worse.delta == -1.0
    better = registry.promote_if_better("acme", "reg", "2", "rmse", 0.5, higher_is_better=False)
    assert better.promoted is True and better.delta == 1.0


def _model():
    from .conftest import fitted

    return fitted()


def test_no_champion_promotes(registry):
    v = register(registry).versions[-1]
    decision = registry.promote_if_better("acme", "churn", v, "auc", 0.0)
    assert decision.promoted and decision.champion_version is None
    assert "no version in production" in decision.reason


def test_promote_if_better_edge_cases(registry):
    v = version_in(registry, "production")
    same = registry.promote_if_better("acme", "churn", v, "auc", 0.0)
    assert not same.promoted and "already the production version" in same.reason
    with pytest.raises(InvalidInputError, match="no metric 'f1'") as err:
        registry.promote_if_better("acme", "churn", v, "f1", 0.0)
    assert "auc" in str(err.value)
    with pytest.raises(InvalidInputError, match="min_delta"):
        registry.promote_if_better("acme", "churn", v, "auc", float("nan"))
    with pytest.raises(NotFoundError):
        registry.promote_if_better("acme", "churn", "7", "auc", 0.0)


def test_compare_runs_and_training_metrics(registry):
    a = register(registry, auc=0.8)
    b = register(registry, auc=0.9)
    run_a, run_b = a.run_id, registry.get_version("acme", "churn", "2").run_id
    for step, loss in enumerate([0.7, 0.4]):
        registry.log_training_metrics("acme", run_a, step, {"loss": loss})
    rows = registry.compare_runs("acme", [run_a, run_b], ["auc", "loss"])
    assert rows == [
        {"run_id": run_a, "parameters": {"C": "1.0"}, "metrics": {"auc": 0.8, "loss": 0.4}},
        {"run_id": run_b, "parameters": {"C": "1.0"}, "metrics": {"auc": 0.9, "loss": None}},
    ]
    history = registry.tracker.get_metric_history(run_a, "loss", tenant_id="acme")
    assert [(p.step, p.value) for p in history] == [(0, 0.7), (1, 0.4)]
    assert b.current_version == "2"
    with pytest.raises(InvalidInputError, match="step"):
        registry.log_training_metrics("acme", run_a, "one", {"loss": 1.0})
    with pytest.raises(InvalidInputError, match="number"):
        registry.log_training_metrics("acme", run_a, 2, {"loss": "low"})
    with pytest.raises(NotFoundError):
        registry.compare_runs("acme", ["0" * 32], ["auc"])


def test_champion_changed_during_decision_conflicts(registry, monkeypatch):
    version_in(registry, "production")
    challenger = register(registry, auc=0.95).versions[-1]
    rival = version_in(registry, "staging")
    real = champion.metric_of
    fired = []

    def metric_then_rival_wins(client, snap, version, metric):
        # Another user promotes a rival while this decision is being made.
        if not fired:
            fired.append(True)
            registry.transition_stage("acme", "churn", rival, "production")
        return real(client, snap, version, metric)

    monkeypatch.setattr(champion, "metric_of", metric_then_rival_wins)
    with pytest.raises(ConflictError, match="changed while deciding"):
        registry.promote_if_better("acme", "churn", challenger, "auc", 0.0)
    assert registry.get_model("acme", "churn").aliases["production"] == rival
