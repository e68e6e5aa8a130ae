"""Experiments and runs over REST, on a real Jupyter server and MLflow store."""

from __future__ import annotations

import uuid

import pytest

from .conftest import Api

pytestmark = pytest.mark.timeout(120)


async def _experiment(api: Api, name: str = "churn-prediction-v2", **kw) -> dict:
    r = await api("POST", "experiments", {"name": name}, **kw)
    assert r.status == 201, r
    return r.json


async def _run(api: Api, experiment_id: str, name: str = "xgboost-baseline", **kw) -> dict:
    r = await api("POST", "experiments/runs", {"experiment_id": experiment_id, "name": name}, **kw)
    assert r.status == 201, r
    return r.json


async def test_quick_start_creates_an_experiment_then_a_run(api: Api, store_dir) -> None:
    """The two calls a client starts with: an experiment of the tenant, then a run in it."""
    r = await api(
        "POST",
        "experiments",
        {
            "name": "churn-prediction-v2",
            "description": "Customer churn prediction with gradient boosting",
            "tags": {"team": "data-science", "domain": "retention"},
        },
        tenant="acme-corp",
    )
    assert r.status == 201, r
    exp = r.json
    assert exp["name"] == "churn-prediction-v2"
    assert exp["full_name"] == "acme-corp/churn-prediction-v2"
    assert exp["tenant_id"] == "acme-corp"
    assert exp["description"] == "Customer churn prediction with gradient boosting"
    assert exp["tags"]["team"] == "data-science" and exp["tags"]["domain"] == "retention"
    assert exp["lifecycle_stage"] == "active"
    assert exp["tags"]["matih.user_id"] == "alice"  # the authenticated user
    # The server chose where artifacts go: under its configured root, in the tenant's folder.
    assert exp["artifact_location"].startswith((store_dir / "artifacts" / "acme-corp").as_uri())

    r = await api(
        "POST",
        "experiments/runs",
        {"experiment_id": exp["id"], "name": "xgboost-baseline", "tags": {"model_type": "xgboost"}},
        tenant="acme-corp",
    )
    assert r.status == 201, r
    run = r.json
    assert run["experiment_id"] == exp["id"]
    assert run["name"] == "xgboost-baseline"
    assert run["status"] == "running"
    assert run["tenant_id"] == "acme-corp"
    assert run["user_id"] == "alice"  # the authenticated user, not the server's OS user
    assert run["tags"]["model_type"] == "xgboost"
    assert run["tags"]["matih.tenant_id"] == "acme-corp"


async def test_experiment_lifecycle(api: Api) -> None:
    exp = await _experiment(api, "lifecycle")
    other = await _experiment(api, "second")

    r = await api("GET", "experiments")
    assert r.status == 200
    assert [e["name"] for e in r.json["experiments"]] == ["second", "lifecycle"]

    r = await api("GET", f"experiments/{exp['id']}")
    assert r.status == 200 and r.json["id"] == exp["id"] and r.json["name"] == "lifecycle"

    r = await api("POST", "experiments", {"name": "lifecycle"})
    assert r.status == 409, r
    assert r.json["error"] == "conflict"

    r = await api("DELETE", f"experiments/{exp['id']}")
    assert r.status == 200 and r.json["lifecycle_stage"] == "deleted"
    r = await api("GET", "experiments")
    assert [e["id"] for e in r.json["experiments"]] == [other["id"]]
    r = await api("GET", "experiments", params={"include_archived": "true"})
    assert {e["id"] for e in r.json["experiments"]} == {exp["id"], other["id"]}

    # An archived experiment takes no new runs: a conflict, not a silent success.
    r = await api("POST", "experiments/runs", {"experiment_id": exp["id"]})
    assert r.status == 409, r

    r = await api("POST", f"experiments/{exp['id']}/restore")
    assert r.status == 200 and r.json["lifecycle_stage"] == "active"
    await _run(api, exp["id"])


async def test_run_logging_history_params_and_end(api: Api) -> None:
    exp = await _experiment(api)
    run = await _run(api, exp["id"])
    rid = run["id"]

    batch = [{"key": "loss", "value": 1.0 / (s + 1), "step": s} for s in range(5)]
    batch += [{"key": "train/acc", "value": 0.5 + s / 10, "step": s} for s in range(3)]
    r = await api("POST", f"runs/{rid}/metrics", {"metrics": batch})
    assert r.status == 200 and r.json == {"run_id": rid, "logged": 8}, r

    r = await api("GET", f"runs/{rid}/metrics/loss")
    assert r.status == 200, r
    assert [(p["step"], p["value"]) for p in r.json["history"]] == [
        (s, 1.0 / (s + 1)) for s in range(5)
    ]
    # Metric keys may hold '/': the route takes the rest of the path as the key.
    r = await api("GET", f"runs/{rid}/metrics/train/acc")
    assert r.status == 200, r
    assert r.json["key"] == "train/acc" and [p["step"] for p in r.json["history"]] == [0, 1, 2]

    r = await api(
        "POST", f"runs/{rid}/params", {"params": {"max_depth": 6, "eta": 0.1, "obj": "bin"}}
    )
    assert r.status == 200 and r.json["logged"] == 3, r
    # Same value again is fine; another value is a conflict naming the param.
    r = await api("POST", f"runs/{rid}/params", {"params": {"max_depth": 6}})
    assert r.status == 200, r
    r = await api("POST", f"runs/{rid}/params", {"params": {"max_depth": 7}})
    assert r.status == 409, r
    assert "max_depth" in r.json["message"] and r.json["error"] == "conflict"

    r = await api("GET", f"runs/{rid}")
    assert r.status == 200
    assert r.json["params"] == {"max_depth": "6", "eta": "0.1", "obj": "bin"}
    assert r.json["metrics"]["loss"] == pytest.approx(0.2)
    assert r.json["metrics"]["train/acc"] == pytest.approx(0.7)

    r = await api("POST", f"runs/{rid}/end", {"status": "failed"})
    assert r.status == 200, r
    assert r.json["status"] == "failed" and r.json["end_time"] is not None

    r = await api("POST", f"runs/{rid}/metrics", {"metrics": [{"key": "loss", "value": 0.0}]})
    assert r.status == 409, r
    assert "ended" in r.json["message"]

    # No body ends as FINISHED.
    run2 = await _run(api, exp["id"], "second")
    r = await api("POST", f"runs/{run2['id']}/end")
    assert r.status == 200 and r.json["status"] == "finished", r


async def test_list_runs_filter_order_and_paging(api: Api) -> None:
    exp = await _experiment(api)
    ids = {}
    for i, auc in enumerate([0.71, 0.93, 0.85]):
        run = await _run(api, exp["id"], f"run-{i}")
        ids[auc] = run["id"]
        r = await api(
            "POST", f"runs/{run['id']}/metrics", {"metrics": [{"key": "auc", "value": auc}]}
        )
        assert r.status == 200
        r = await api("POST", f"runs/{run['id']}/params", {"params": {"depth": i + 3}})
        assert r.status == 200

    path = f"experiments/{exp['id']}/runs"
    r = await api("GET", path, params={"order_by": "metrics.auc DESC"})
    assert r.status == 200, r
    assert [x["id"] for x in r.json["runs"]] == [ids[0.93], ids[0.85], ids[0.71]]
    assert r.json["next_page_token"] is None

    r = await api("GET", path, params={"filter": "metrics.auc > 0.8", "order_by": "metrics.auc"})
    assert [x["id"] for x in r.json["runs"]] == [ids[0.85], ids[0.93]]
    r = await api("GET", path, params={"filter": "params.depth = '3'"})
    assert [x["id"] for x in r.json["runs"]] == [ids[0.71]]

    seen = []
    token = None
    while True:
        params = {"max_results": "1", "order_by": "metrics.auc DESC"}
        if token:
            params["page_token"] = token
        r = await api("GET", path, params=params)
        assert r.status == 200 and len(r.json["runs"]) <= 1
        seen += [x["id"] for x in r.json["runs"]]
        token = r.json["next_page_token"]
        if not token:
            break
    assert seen == [ids[0.93], ids[0.85], ids[0.71]]

    r = await api("GET", path, params={"filter": "metrics.auc >>> 1"})
    assert r.status == 400 and r.json["field"] == "filter_string", r


async def test_compare_runs(api: Api) -> None:
    exp = await _experiment(api)
    a = await _run(api, exp["id"], "a")
    b = await _run(api, exp["id"], "b")
    for run, auc, lr in ((a, 0.8, "0.1"), (b, 0.9, "0.01")):
        metrics = [{"key": "auc", "value": auc}, {"key": "loss", "value": 1 - auc}]
        await api("POST", f"runs/{run['id']}/metrics", {"metrics": metrics})
        await api("POST", f"runs/{run['id']}/params", {"params": {"lr": lr}})

    r = await api(
        "GET",
        "experiments/compare",
        params={"run_ids": f"{a['id']},{b['id']}", "metrics": "auc,f1"},
    )
    assert r.status == 200, r
    assert r.json["metrics"] == ["auc", "f1"]
    rows = {row["run_id"]: row for row in r.json["runs"]}
    # The core's comparison row, the same for every view that compares runs.
    assert set(rows[a["id"]]) == {
        "run_id", "run_name", "status", "start_time", "duration_seconds", "parameters", "metrics"
    }  # fmt: skip
    assert rows[a["id"]]["run_name"] == "a" and rows[a["id"]]["status"] == "running"
    assert rows[a["id"]]["parameters"] == {"lr": "0.1"}
    assert rows[a["id"]]["metrics"] == {"auc": pytest.approx(0.8), "f1": None}
    assert rows[b["id"]]["metrics"]["auc"] == pytest.approx(0.9)

    r = await api("GET", "experiments/compare", params={"run_ids": a["id"]})
    assert r.json["metrics"] == ["auc", "loss"]


async def test_nan_metric_is_json_null(api: Api) -> None:
    """NaN is valid in MLflow but has no JSON spelling: the API answers null, and the
    body stays parseable by strict JSON parsers."""
    exp = await _experiment(api)
    run = await _run(api, exp["id"])
    r = await api(
        "POST", f"runs/{run['id']}/metrics", raw_body=b'{"metrics": [{"key": "x", "value": NaN}]}'
    )
    assert r.status == 200, r
    r = await api("GET", f"runs/{run['id']}")
    assert r.json["metrics"] == {"x": None}
    assert b"NaN" not in r.raw
    assert r.headers["Content-Type"].startswith("application/json")
    # Answers are read fresh every time: no entity tag is computed for them.
    assert "Etag" not in r.headers


async def test_whoami(api: Api, tracking_uri: str) -> None:
    r = await api("GET", "whoami")
    assert r.status == 200
    assert r.json == {
        "user": "alice",
        "tenant_id": "acme-corp",
        "allowed_tenants": ["acme-corp"],
        "store": f"MLflow at {tracking_uri}",
        "embedded_store": False,
    }
    r = await api("GET", "whoami", user="carol", tenant="globex")
    assert r.json["tenant_id"] == "globex"
    assert r.json["allowed_tenants"] == ["acme-corp", "globex"]
    r = await api("GET", "whoami", user="bob")
    assert r.json["tenant_id"] == "globex" and r.json["allowed_tenants"] == ["globex"]


# -- bad input: 400 naming the field ------------------------------------------------------

BAD_EXPERIMENTS = [
    ({}, "name"),
    ({"name": ""}, "name"),
    ({"name": "a/b"}, "experiment name"),
    ({"name": "100%"}, "experiment name"),
    ({"name": "x' OR '1'='1"}, "experiment name"),
    ({"name": "x", "description": "d" * 1001}, "description"),
    ({"name": "x", "tags": {"matih.tenant_id": "globex"}}, "tag key"),
    ({"name": "x", "tags": {"team": 5}}, "tags.team"),
    ({"name": "x", "colour": "blue"}, "colour"),
    ({"name": 7}, "name"),
]


@pytest.mark.parametrize(("body", "field"), BAD_EXPERIMENTS)
async def test_bad_experiment_body_names_the_field(api: Api, body: dict, field: str) -> None:
    r = await api("POST", "experiments", body)
    assert r.status == 400, r
    assert r.json["error"] == "invalid_input" and r.json["field"] == field, r
    assert r.json["message"]


async def test_bad_run_requests_name_the_field(api: Api) -> None:
    exp = await _experiment(api)
    run = await _run(api, exp["id"])
    rid = run["id"]
    cases = [
        ("POST", "experiments", None, b"{not json", "body"),
        ("POST", "experiments", None, b"[1, 2]", "body"),
        ("POST", "experiments/runs", {"name": "x"}, None, "experiment_id"),
        ("POST", "experiments/runs", {"experiment_id": 5}, None, "experiment_id"),
        (
            "POST",
            "experiments/runs",
            {"experiment_id": exp["id"], "tags": {"matih.user_id": "x"}},
            None,
            "tag key",
        ),
        ("POST", f"runs/{rid}/metrics", {"metrics": []}, None, "metrics"),
        (
            "POST",
            f"runs/{rid}/metrics",
            {"metrics": [{"key": "loss", "value": "high"}]},
            None,
            "metrics.0.value",
        ),
        (
            "POST",
            f"runs/{rid}/metrics",
            {"metrics": [{"key": "loss", "value": 1, "step": 1.5}]},
            None,
            "metrics.0.step",
        ),
        (
            "POST",
            f"runs/{rid}/metrics",
            {"metrics": [{"key": "../etc", "value": 1}]},
            None,
            "metrics[0].key",
        ),
        ("POST", f"runs/{rid}/metrics", {"metrics": [{"value": 1}]}, None, "metrics.0.key"),
        ("POST", f"runs/{rid}/params", {"params": {"big": "x" * 6001}}, None, "param value"),
        ("POST", f"runs/{rid}/params", {"params": {"bad key!": 1}}, None, "param key"),
        ("POST", f"runs/{rid}/params", {"params": {"nested": {"a": 1}}}, None, "params.nested"),
        ("POST", f"runs/{rid}/end", {"status": "DONE"}, None, "status"),
    ]
    for method, path, body, raw, field in cases:
        r = await api(method, path, body, raw_body=raw)
        assert r.status == 400, (path, body, r)
        assert r.json["field"] == field, (path, body, r)

    queries = [
        (f"experiments/{exp['id']}/runs", {"max_results": "0"}, "max_results"),
        (f"experiments/{exp['id']}/runs", {"max_results": "ten"}, "max_results"),
        ("experiments", {"include_archived": "maybe"}, "include_archived"),
        ("experiments/compare", {}, "run_ids"),
        ("experiments/compare", {"run_ids": ",".join(["a"] * 1001)}, "run_ids"),
        (f"runs/{rid}/metrics/bad key!", {}, "metric key"),
    ]
    for path, params, field in queries:
        r = await api("GET", path, params=params)
        assert r.status == 400, (path, params, r)
        assert r.json["field"] == field, (path, params, r)


async def test_method_not_allowed_is_json(api: Api) -> None:
    r = await api("PATCH", "experiments", {"name": "x"})
    assert r.status == 405 and r.json["error"] == "method_not_allowed", r


# -- the store is the server's: no client-chosen location -----------------------------------


async def test_client_cannot_choose_store_or_paths(api: Api, store_dir) -> None:
    cases = [
        ({"name": "x", "artifact_location": "file:///tmp/evil"}, "artifact_location"),
        ({"name": "x", "artifact_location": "s3://attacker/bucket"}, "artifact_location"),
        ({"name": "x", "tracking_uri": "http://evil.example:5000"}, "tracking_uri"),
        ({"name": "x", "registry_uri": "sqlite:////tmp/other.db"}, "registry_uri"),
    ]
    for body, field in cases:
        r = await api("POST", "experiments", body)
        assert r.status == 400, r
        assert r.json["field"] == field and "server" in r.json["message"], r
    r = await api("GET", "experiments", params={"tracking_uri": "sqlite:////tmp/other.db"})
    assert r.status == 400 and r.json["field"] == "tracking_uri", r

    exp = await _experiment(api)
    run = await _run(api, exp["id"])
    for body, field in (
        (
            {"name": "m", "run_id": run["id"], "framework": "sklearn", "model_uri": "file:///etc"},
            "model_uri",
        ),
        (
            {"name": "m", "run_id": run["id"], "framework": "sklearn", "artifact_path": "../../x"},
            "artifact_path",
        ),
        (
            {"name": "m", "run_id": run["id"], "framework": "sklearn", "local_path": "/etc/passwd"},
            "local_path",
        ),
    ):
        r = await api("POST", "models", body)
        assert r.status == 400 and r.json["field"] == field, r
    # artifact_location: null is the field's default and means "let the server choose".
    r = await api("POST", "experiments", {"name": "y", "artifact_location": None})
    assert r.status == 201
    assert r.json["artifact_location"].startswith((store_dir / "artifacts").as_uri())
    # Nothing was created anywhere the client named.
    r = await api("GET", "experiments")
    assert {e["name"] for e in r.json["experiments"]} == {"churn-prediction-v2", "y"}


async def test_unknown_ids_are_404(api: Api) -> None:
    missing = uuid.uuid4().hex
    for method, path, body in [
        ("GET", "experiments/424242", None),
        ("DELETE", "experiments/424242", None),
        ("POST", "experiments/424242/restore", None),
        ("GET", "experiments/424242/runs", None),
        ("POST", "experiments/runs", {"experiment_id": "424242"}),
        ("GET", f"runs/{missing}", None),
        ("POST", f"runs/{missing}/metrics", {"metrics": [{"key": "a", "value": 1}]}),
        ("POST", f"runs/{missing}/params", {"params": {"a": 1}}),
        ("POST", f"runs/{missing}/end", None),
        ("GET", f"runs/{missing}/metrics/loss", None),
        ("GET", "experiments/compare?run_ids=" + missing, None),
    ]:
        if "?" in path:
            path, _, query = path.partition("?")
            r = await api(method, path, body, params=dict([query.split("=")]))
        else:
            r = await api(method, path, body)
        assert r.status == 404, (method, path, r)
        assert r.json["error"] == "not_found" and "acme-corp" in r.json["message"], r
