"""The REST API of the Jupyter server extension (pytest-jupyter's real server) configured
for the scale-out deployment: ``c.MatihJupyter.tracking_uri`` is the MLflow server."""

from __future__ import annotations

import json
from typing import Any

import pytest
from jupyter_server.auth import IdentityProvider, User
from traitlets import Dict
from traitlets.config import Config

pytestmark = pytest.mark.timeout(180)

TOKENS = {"alice-token": "alice", "bob-token": "bob"}


class TokenUsers(IdentityProvider):
    """A token per named user, as JupyterHub gives each request a user."""

    user_tokens = Dict(config=True)

    async def get_user_token(self, handler: Any) -> User | None:
        name = self.user_tokens.get(self.get_token(handler) or "")
        return User(username=name) if name else await super().get_user_token(handler)


@pytest.fixture
def other(tenant: str) -> str:
    return f"{tenant}-b"


@pytest.fixture
def jp_server_config(mlflow_server, tenant, other, server_env) -> Config:
    return Config(
        {
            "ServerApp": {
                "jpserver_extensions": {"matih_jupyter": True, "jupyter_server_terminals": False},
                "allow_unauthenticated_access": False,
                "identity_provider_class": TokenUsers,
            },
            "IdentityProvider": {"token": "server-token"},
            "TokenUsers": {"user_tokens": TOKENS},
            "MatihJupyter": {
                "tenant_id": tenant,
                "user_tenants": {"bob": [other]},
                "tracking_uri": mlflow_server.url,
                # In the test process: its heap stays unfrozen (tests/server/conftest.py).
                "freeze_startup_heap": False,
            },
        }
    )


@pytest.fixture
def api(jp_fetch):
    by_name = {v: k for k, v in TOKENS.items()}

    async def call(method, path, body=None, *, user="alice", tenant=None):
        headers = {"Authorization": f"token {by_name[user]}"}
        if tenant:
            headers["X-Tenant-ID"] = tenant
        kw: dict[str, Any] = {}
        if body is not None:
            kw["body"] = json.dumps(body)
            headers["Content-Type"] = "application/json"
        elif method in ("POST", "PUT"):
            kw["body"] = b""
        r = await jp_fetch(
            "matih/api/v1", path, method=method, headers=headers, raise_error=False,
            request_timeout=90, **kw,
        )  # fmt: skip
        assert b"Traceback" not in (r.body or b"")
        return r.code, (json.loads(r.body) if r.body else None)

    return call


async def test_experiment_run_metrics_over_rest_on_the_server(api, tracker, tenant, other):
    code, exp = await api("POST", "experiments", {"name": "rest-exp", "tags": {"team": "ds"}})
    assert code == 201, exp
    code, run = await api("POST", "experiments/runs", {"experiment_id": exp["id"], "name": "r"})
    assert code == 201, run
    points = [{"key": "loss", "value": 1 / (s + 1), "step": s} for s in range(1500)]
    code, body = await api("POST", f"runs/{run['id']}/metrics", {"metrics": points})
    assert code in (200, 201, 204), body
    code, hist = await api("GET", f"runs/{run['id']}/metrics/loss")
    assert code == 200
    items = hist if isinstance(hist, list) else hist.get("history") or hist.get("points")
    assert [p["step"] for p in items] == list(range(1500))
    code, _ = await api("POST", f"runs/{run['id']}/end", {"status": "finished"})
    assert code == 200
    # Stored on the server for this tenant, seen by the core.
    got = tracker.get_run(run["id"], tenant)
    assert got.status == "finished" and got.tenant_id == tenant

    # bob belongs to another tenant: alice's ids are missing for him, and naming alice's
    # tenant in the header is refused like a missing resource.
    assert (await api("GET", f"runs/{run['id']}", user="bob"))[0] == 404
    assert (await api("GET", f"experiments/{exp['id']}", user="bob"))[0] == 404
    code, _ = await api("GET", "experiments", user="bob", tenant=tenant)
    assert code in (403, 404)
    code, mine = await api("GET", "experiments", user="bob", tenant=other)
    assert code == 200
    listed = mine if isinstance(mine, list) else mine.get("experiments", [])
    assert listed == []


async def test_models_stage_and_rollback_over_rest(api, tracker, tenant):
    from sklearn.datasets import make_classification
    from sklearn.linear_model import LogisticRegression

    from matih_jupyter.core.registry import ModelRegistry

    x, y = make_classification(n_samples=60, n_features=4, random_state=2)
    reg = ModelRegistry(tracker)
    for c in (0.5, 1.0):
        reg.register_model(tenant, "churn", LogisticRegression(C=c).fit(x, y), "sklearn",
                           {"auc": c}, {}, None, user_id="alice")  # fmt: skip
    for version, stage in (("1", "staging"), ("1", "production"), ("2", "staging"),
                           ("2", "production")):  # fmt: skip
        code, body = await api(
            "PUT", "models/churn/stage", {"version": version, "stage": stage, "reason": "test"}
        )
        assert code == 200, body
    assert body["aliases"]["production"] == "2"
    code, body = await api("POST", "models/churn/rollback", {"reason": "regression"})
    assert code == 200, body
    assert body["aliases"]["production"] == "1"
    code, hist = await api("GET", "models/churn/history")
    assert code == 200, hist
    records = hist if isinstance(hist, list) else hist.get("history", [])
    assert [(r["version"], r["to_stage"]) for r in records][-1] == ("1", "production")
    assert (await api("GET", "models/churn", user="bob"))[0] == 404
    assert reg.get_model(tenant, "churn").aliases["production"] == "1"
