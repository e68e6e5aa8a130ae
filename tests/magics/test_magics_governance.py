"""Governed promotion through the magics: the process registry's policy refuses a user
without the right and failed gates, files a request where production needs a second
person, and ``%matih_approve`` / ``%matih_reject`` decide it as the session's user."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from IPython.core.error import UsageError

TENANT = "acme-corp"
POLICY = {
    "tenants": {
        TENANT: {
            "stages": {
                "staging": {
                    "users": ["alice@acme.com", "carol"],
                    "metrics": [{"metric": "auc", "min": 0.75}],
                },
                "production": {"users": ["alice@acme.com", "carol"], "approval": True},
            }
        }
    }
}


@pytest.fixture
def governed(process_registry: Any) -> Iterator[Any]:
    process_registry.set_policy(POLICY)
    try:
        yield process_registry
    finally:
        process_registry.set_policy(None)


def register(registry: Any, auc: float = 0.8) -> str:
    from sklearn.datasets import make_classification
    from sklearn.linear_model import LogisticRegression

    x, y = make_classification(n_samples=60, n_features=4, random_state=0)
    model = LogisticRegression(max_iter=200).fit(x, y)
    md = registry.register_model(TENANT, "churn", model, "sklearn", {"auc": auc}, {})
    return md.current_version


def test_a_user_without_the_right_is_refused_by_the_magic(shell, governed):
    v = register(governed)
    shell.run_line_magic("matih_tenant", "--user mallory")
    history = governed.history(TENANT, "churn")
    with pytest.raises(UsageError) as refused:
        shell.run_line_magic("matih_promote", f"churn {v} staging")
    assert "User 'mallory' may not move versions of 'churn' into staging" in str(refused.value)
    assert refused.value.__cause__ is None
    assert governed.history(TENANT, "churn") == history
    assert governed.get_version(TENANT, "churn", v).stage == "development"


def test_a_failed_gate_is_refused_by_the_magic(shell, governed):
    v = register(governed, auc=0.7)
    with pytest.raises(UsageError, match=r"gate 'auc >= 0\.75' failed"):
        shell.run_line_magic("matih_promote", f"churn {v} staging")
    assert governed.get_version(TENANT, "churn", v).stage == "development"


def test_request_then_approve_as_a_second_user(shell, governed, capsys):
    v = register(governed)
    shell.run_line_magic("matih_promote", f"churn {v} staging")
    capsys.readouterr()
    shell.run_line_magic("matih_promote", f"churn {v} production --reason 'shadow run ok'")
    out = capsys.readouterr().out
    assert "needs approval by a second person" in out
    (request,) = governed.requests(TENANT, "churn")
    assert f"%matih_approve churn {request.id}" in out
    assert governed.get_version(TENANT, "churn", v).stage == "staging"

    table = shell.run_line_magic("matih_requests", "churn")
    assert list(table["id"]) == [request.id]
    assert table.iloc[0]["requested_by"] == "alice@acme.com"
    assert table.iloc[0]["reason"] == "shadow run ok"

    with pytest.raises(UsageError, match="cannot approve it"):
        shell.run_line_magic("matih_approve", f"churn {request.id}")
    shell.run_line_magic("matih_tenant", "--user carol")
    shell.run_line_magic("matih_approve", f"churn {request.id} --reason reviewed")
    assert "approved by carol" in capsys.readouterr().out
    assert governed.get_version(TENANT, "churn", v).stage == "production"
    assert governed.history(TENANT, "churn")[-1].approved_by == "carol"
    assert shell.run_line_magic("matih_requests", "churn").empty
    assert list(shell.run_line_magic("matih_requests", "churn --all")["status"]) == ["approved"]


def test_reject_and_unknown_requests(shell, governed, capsys):
    v = register(governed)
    governed.transition_stage(TENANT, "churn", v, "staging", user_id="carol")
    request = governed.request_transition(TENANT, "churn", v, "production", user_id="carol")
    shell.run_line_magic("matih_tenant", "--user mallory")
    with pytest.raises(UsageError, match="may not decide"):
        shell.run_line_magic("matih_reject", f"churn {request.id}")
    shell.run_line_magic("matih_tenant", "--user alice@acme.com")
    shell.run_line_magic("matih_reject", f"churn {request.id} --reason 'wait for A/B'")
    assert governed.requests(TENANT, "churn", None)[0].status == "rejected"
    with pytest.raises(UsageError, match="Approval request 'ffffffffffff' was not found"):
        shell.run_line_magic("matih_approve", "churn ffffffffffff")
