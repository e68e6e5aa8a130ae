"""%matih_promote and %matih_models work on the process registry (`get_model_registry`), so
the hooks and webhooks added to it gate and hear the magics' promotions too."""

from __future__ import annotations

import pytest
from IPython.core.error import UsageError

TENANT = "acme-corp"


def register(registry, name="churn"):
    from sklearn.datasets import make_classification
    from sklearn.linear_model import LogisticRegression

    x, y = make_classification(n_samples=60, n_features=4, random_state=0)
    model = LogisticRegression(max_iter=200).fit(x, y)
    return registry.register_model(TENANT, name, model, "sklearn", {"auc": 0.8}, {"C": 1.0})


def test_the_magics_use_the_process_registry(shell, process_registry):
    magics = shell.magics_manager.registry["MatihMagics"]
    assert magics._registry() is process_registry
    register(process_registry)
    assert list(shell.run_line_magic("matih_models", "")["model_id"]) == ["churn"]


def test_a_before_hook_veto_stops_the_magic_and_changes_nothing(shell, process_registry):
    register(process_registry)
    seen = []

    def freeze(payload):
        seen.append(payload)
        raise RuntimeError("staging is frozen until the release review")

    process_registry.add_hook(freeze, stages=["staging"], before=True, name="release-freeze")
    history = process_registry.history(TENANT, "churn")
    with pytest.raises(UsageError) as refused:
        shell.run_line_magic("matih_promote", "churn 1 staging --reason 'beats baseline'")
    message = str(refused.value)
    assert "Hook 'release-freeze' refused moving version 1" in message
    assert "staging is frozen until the release review" in message
    assert "Nothing was changed" in message  # the core's hint, on its own line
    assert refused.value.__cause__ is None  # one line in the notebook, no traceback
    assert [(p["model_id"], p["version"], p["to_stage"]) for p in seen] == [
        ("churn", "1", "staging")
    ]
    assert seen[0]["user_id"] == "alice@acme.com" and seen[0]["reason"] == "beats baseline"
    assert process_registry.list_versions(TENANT, "churn")[0].stage == "development"
    assert process_registry.history(TENANT, "churn") == history


def test_a_webhook_hears_the_magics_promotion(shell, process_registry, webhook_receiver):
    register(process_registry)
    process_registry.add_webhook(webhook_receiver.url, stages=["staging"])
    shell.run_line_magic("matih_promote", "churn 1 staging --reason 'beats baseline'")
    assert process_registry.list_versions(TENANT, "churn")[0].stage == "staging"
    # After-hooks run once the move is committed, before the magic returns.
    assert len(webhook_receiver.received) == 1
    payload = webhook_receiver.received[0]
    assert (payload["tenant_id"], payload["model_id"], payload["version"]) == (
        TENANT,
        "churn",
        "1",
    )
    assert (payload["from_stage"], payload["to_stage"]) == ("development", "staging")
    assert payload["user_id"] == "alice@acme.com" and payload["reason"] == "beats baseline"
