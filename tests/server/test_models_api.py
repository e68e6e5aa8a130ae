"""Models over REST: registration, versions, stages, history, rollback,
aliases, deletion, and the same tenant boundary as experiments."""

from __future__ import annotations

import base64

import pytest

from .conftest import Api

pytestmark = pytest.mark.timeout(180)


@pytest.fixture(scope="module")
def onnx_b64() -> str:
    """A small fitted classifier exported to ONNX, base64 (what a REST client sends)."""
    pytest.importorskip("skl2onnx")
    import numpy as np
    from skl2onnx import to_onnx
    from sklearn.linear_model import LogisticRegression

    x = np.array([[0.0, 1.0], [1.0, 0.0], [0.2, 0.9], [0.9, 0.1]], dtype=np.float32)
    model = LogisticRegression().fit(x, [0, 1, 0, 1])
    return base64.b64encode(to_onnx(model, x[:1]).SerializeToString()).decode()


async def _register(api: Api, onnx_b64: str, name: str = "churn", **kw) -> dict:
    r = await api(
        "POST",
        "models",
        {
            "name": name,
            "onnx_model": onnx_b64,
            "metrics": {"auc": 0.81},
            "parameters": {"C": 1.0},
            "tags": {"team": "ds"},
            "description": "churn classifier",
            "model_type": "classification",
        },
        **kw,
    )
    assert r.status == 201, r
    return r.json


async def test_model_lifecycle_over_rest(api: Api, onnx_b64: str) -> None:
    m = await _register(api, onnx_b64)
    assert m["model_id"] == "churn" and m["tenant_id"] == "acme-corp"
    assert m["framework"] == "onnx" and m["stage"] == "development"
    assert m["current_version"] == "1" and m["metrics"] == {"auc": 0.81}
    assert m["created_by"] == "alice" and m["model_type"] == "classification"

    r = await api(
        "POST", "models/churn/versions", {"onnx_model": onnx_b64, "metrics": {"auc": 0.9}}
    )
    assert r.status == 201, r
    assert sorted(r.json["versions"]) == ["1", "2"]
    r = await api("GET", "models/churn/versions")
    assert [v["version"] for v in r.json["versions"]] == ["2", "1"]

    r = await api("GET", "models")
    assert [x["model_id"] for x in r.json["models"]] == ["churn"]
    r = await api("GET", "models", params={"framework": "onnx", "stage": "development"})
    assert [x["model_id"] for x in r.json["models"]] == ["churn"]
    r = await api("GET", "models", params={"stage": "production"})
    assert r.json["models"] == []

    # development -> staging -> production; a move the lifecycle forbids is a 409.
    for version, stage in (("1", "staging"), ("1", "production")):
        r = await api("PUT", "models/churn/stage", {"version": version, "stage": stage})
        assert r.status == 200, r
    assert r.json["stage"] == "production" and r.json["current_version"] == "1"
    r = await api("PUT", "models/churn/stage", {"version": 1, "stage": "staging"})
    assert r.status == 409 and r.json["error"] == "conflict", r
    assert "archived" in r.json["message"] + r.json.get("hint", "")
    r = await api("PUT", "models/churn/stage", {"version": "2", "stage": "production"})
    assert r.status == 409, r  # development cannot jump to production

    # Promoting version 2 archives version 1; rollback brings version 1 back.
    for stage in ("staging", "production"):
        r = await api(
            "PUT", "models/churn/stage", {"version": "2", "stage": stage, "reason": "better"}
        )
        assert r.status == 200, r
    assert r.json["current_version"] == "2"
    r = await api("GET", "models/churn/versions")
    stages = {v["version"]: v["stage"] for v in r.json["versions"]}
    assert stages == {"1": "archived", "2": "production"}

    r = await api("POST", "models/churn/rollback", {"reason": "regression"})
    assert r.status == 200, r
    assert r.json["current_version"] == "1" and r.json["stage"] == "production"

    r = await api("GET", "models/churn/history")
    assert r.status == 200
    moves = [(h["version"], h["from_stage"], h["to_stage"]) for h in r.json["history"]]
    assert moves[:2] == [("1", None, "development"), ("2", None, "development")]
    assert ("2", "staging", "production") in moves and ("1", "production", "archived") in moves
    assert moves[-1][2] == "production" and moves[-1][0] == "1"
    assert all(h["user_id"] == "alice" for h in r.json["history"])
    assert any("regression" in (h["reason"] or "") for h in r.json["history"]), r.json

    # User aliases.
    r = await api("PUT", "models/churn/aliases/champion", {"version": "2"})
    assert r.status == 200 and r.json["aliases"]["champion"] == "2", r
    r = await api("DELETE", "models/churn/aliases/champion")
    assert r.status == 200 and "champion" not in r.json["aliases"], r
    r = await api("DELETE", "models/churn/aliases/champion")
    assert r.status == 404, r

    # A model with a production version is only deleted on purpose.
    r = await api("DELETE", "models/churn")
    assert r.status == 409, r
    r = await api("DELETE", "models/churn", params={"force": "true"})
    assert r.status == 204 and r.raw == b"", r
    r = await api("GET", "models/churn")
    assert r.status == 404


async def test_register_into_an_existing_run(api: Api, onnx_b64: str) -> None:
    exp = (await api("POST", "experiments", {"name": "train"})).json
    run = (await api("POST", "experiments/runs", {"experiment_id": exp["id"]})).json
    r = await api(
        "POST", "models", {"name": "from-run", "onnx_model": onnx_b64, "run_id": run["id"]}
    )
    assert r.status == 201, r
    assert r.json["run_id"] == run["id"]


async def test_bad_model_requests_name_the_field(api: Api, onnx_b64: str) -> None:
    await _register(api, onnx_b64)
    cases = [
        ("POST", "models", {"onnx_model": onnx_b64}, "name"),
        ("POST", "models", {"name": "a/b", "onnx_model": onnx_b64}, "model_id"),
        ("POST", "models", {"name": "x"}, "onnx_model"),
        ("POST", "models", {"name": "x", "onnx_model": "not base64!"}, "onnx_model"),
        (
            "POST",
            "models",
            {"name": "x", "onnx_model": base64.b64encode(b"junk").decode()},
            "onnx_model",
        ),
        (
            "POST",
            "models",
            {"name": "x", "framework": "sklearn", "onnx_model": onnx_b64},
            "framework",
        ),
        (
            "POST",
            "models",
            {"name": "x", "onnx_model": onnx_b64, "metrics": {"auc": "high"}},
            "metrics.auc",
        ),
        (
            "POST",
            "models",
            {"name": "x", "onnx_model": onnx_b64, "tags": {"matih.stage": "production"}},
            "tag key",
        ),
        ("PUT", "models/churn/stage", {"version": "1", "stage": "prod"}, "stage"),
        ("PUT", "models/churn/stage", {"stage": "staging"}, "version"),
        ("PUT", "models/churn/aliases/production", {"version": "1"}, "alias"),
        ("POST", "models/churn/rollback", {"reason": 5}, "reason"),
    ]
    for method, path, body, field in cases:
        r = await api(method, path, body)
        assert r.status == 400, (path, body, r)
        assert r.json["field"] == field, (path, body, r)
    r = await api("GET", "models", params={"stage": "prod"})
    assert r.status == 400 and r.json["field"] == "stage", r
    r = await api("PUT", "models/churn/stage", {"version": "9", "stage": "staging"})
    assert r.status == 404, r
    # The sklearn refusal says why and what to do instead.
    r = await api("POST", "models", {"name": "x", "framework": "sklearn", "onnx_model": onnx_b64})
    assert "notebook" in r.json["hint"]


async def test_other_tenants_models_answer_exactly_like_missing_ones(
    api: Api, onnx_b64: str
) -> None:
    await _register(api, onnx_b64, "secret")
    exp = (await api("POST", "experiments", {"name": "train"})).json
    run = (await api("POST", "experiments/runs", {"experiment_id": exp["id"]})).json

    cases = [
        ("GET", "models/{m}", None),
        ("DELETE", "models/{m}", None),
        ("GET", "models/{m}/versions", None),
        ("POST", "models/{m}/versions", {"onnx_model": onnx_b64}),
        ("PUT", "models/{m}/stage", {"version": "1", "stage": "staging"}),
        ("GET", "models/{m}/history", None),
        ("POST", "models/{m}/rollback", None),
        ("PUT", "models/{m}/aliases/champion", {"version": "1"}),
        ("DELETE", "models/{m}/aliases/champion", None),
    ]
    for method, template, body in cases:
        answers = []
        for name in ("secret", "nothing"):
            r = await api(method, template.format(m=name), body, user="bob")
            assert r.status == 404, (method, template, r)
            answers.append(r.raw.replace(f"'{name}'".encode(), b"'<m>'"))
        assert answers[0] == answers[1], (method, template, answers)

    r = await api("GET", "models", user="bob")
    assert r.json["models"] == []
    # Bob cannot log his model into alice's run either.
    r = await api(
        "POST",
        "models",
        {"name": "planted", "onnx_model": onnx_b64, "run_id": run["id"]},
        user="bob",
    )
    assert r.status == 404, r
    # Bob's model of the same name is his own and leaves alice's alone.
    await _register(api, onnx_b64, "secret", user="bob")
    r = await api("GET", "models/secret")
    assert r.json["tenant_id"] == "acme-corp" and r.json["versions"] == ["1"]
    r = await api("GET", "models/secret", user="bob")
    assert r.json["tenant_id"] == "globex"
