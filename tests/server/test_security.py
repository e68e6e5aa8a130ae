"""The REST API's security boundary: authentication on every route, XSRF for browser
sessions, tenant resolution that ignores what the client claims, and no existence oracle
across tenants."""

from __future__ import annotations

import asyncio
import re
import uuid
from pathlib import Path
from typing import Any

import pytest
import yaml
from jupyter_server.auth import Authorizer

from matih_jupyter.server.app import TENANT_NOT_FOUND
from matih_jupyter.server.approvals import APPROVAL_ROUTES
from matih_jupyter.server.handlers import ROUTES as CORE_ROUTES
from matih_jupyter.server.handlers import route_methods

from .conftest import Api

pytestmark = pytest.mark.timeout(120)

#: Every route table the extension registers.
ROUTES = CORE_ROUTES + APPROVAL_ROUTES
OPENAPI = Path(__file__).parents[2] / "matih_jupyter" / "server" / "openapi.yaml"


def _registered_routes(web_app: Any) -> dict[str, type]:
    """Every handler the running server registered under /matih/api/v1, by regex."""
    found: dict[str, type] = {}

    def walk(router: Any) -> None:
        for rule in getattr(router, "rules", []):
            target = rule.target
            if hasattr(target, "rules"):
                walk(target)
                continue
            pattern = getattr(rule.matcher, "regex", None)
            if pattern is not None and "/matih/api/v1/" in pattern.pattern:
                found[pattern.pattern] = target

    walk(web_app.default_router)
    walk(web_app.wildcard_router)
    return found


def _concrete(pattern: str) -> str:
    """A request path for a route regex: every named group filled with a plausible id."""
    path = re.sub(r"\(\?P<(\w+)>[^)]*\)", lambda m: f"x-{m[1]}", pattern).rstrip("$")
    return path.replace("\\", "")


async def test_every_registered_route_refuses_anonymous_calls(
    api: Api, jp_serverapp: Any, jp_fetch: Any, jp_base_url: str
) -> None:
    routes = _registered_routes(jp_serverapp.web_app)
    assert len(routes) == len(ROUTES) == 20 + 4
    assert set(routes.values()) == {handler for _, handler in ROUTES}
    checked = 0
    for pattern, handler in routes.items():
        path = _concrete(pattern)
        assert path.startswith(f"{jp_base_url}matih/api/v1/"), path
        for method in route_methods(handler):
            body = b"{}" if method in ("POST", "PUT", "PATCH") else None
            for auth in ("", "token not-a-valid-token"):
                response = await jp_fetch(
                    path.removeprefix(jp_base_url),
                    method=method,
                    body=body,
                    headers={"Authorization": auth, "X-Tenant-ID": "acme-corp"},
                    raise_error=False,
                    allow_nonstandard_methods=True,
                )
                assert response.code in (401, 403), (method, path, auth, response.code)
                assert b"acme-corp" not in (response.body or b"")
                checked += 1
    assert checked == 2 * sum(len(route_methods(h)) for _, h in ROUTES)


async def test_openapi_file_matches_the_route_table() -> None:
    spec = yaml.safe_load(OPENAPI.read_text())
    documented = {
        (path, method.upper())
        for path, item in spec["paths"].items()
        for method in item
        if method in ("get", "post", "put", "patch", "delete")
    }
    registered = {(template, m) for template, handler in ROUTES for m in route_methods(handler)}
    assert documented == registered
    # Every path parameter in a template is declared in the spec.
    for path, item in spec["paths"].items():
        declared = {
            p.get("name") or p["$ref"].rsplit("/", 1)[-1] for p in item.get("parameters", [])
        }
        names = {spec["components"]["parameters"].get(d, {}).get("name", d) for d in declared}
        assert set(re.findall(r"\{(\w+)\}", path)) <= names, path


async def test_browser_session_writes_need_the_xsrf_token(
    api: Api, jp_fetch: Any, jp_serverapp: Any
) -> None:
    """A login cookie alone (what a cross-site form would carry) cannot write; with the
    _xsrf cookie and header that Jupyter's front end sends, it can."""
    first = await jp_fetch(
        "matih/api/v1/whoami", params={"token": "alice-token"}, headers={"Authorization": ""}
    )
    assert first.code == 200
    cookies = [c.split(";", 1)[0] for c in first.headers.get_list("Set-Cookie")]
    login = [c for c in cookies if c.startswith("username-")]
    assert login, cookies
    cookie = login[0]

    # The cookie authenticates reads...
    r = await api("GET", "whoami", user="", headers={"Cookie": cookie})
    assert r.status == 200 and r.json["user"] == "alice"
    # ...but a write without the XSRF token is refused, and nothing is created.
    r = await api("POST", "experiments", {"name": "csrf"}, user="", headers={"Cookie": cookie})
    assert r.status == 403, r
    r = await api(
        "POST", "experiments", {"name": "csrf"}, user="", headers={"Cookie": f"{cookie}; _xsrf=abc"}
    )
    assert r.status == 403, r  # a cookie without the matching header is not enough
    r = await api("GET", "experiments")
    assert r.json["experiments"] == []

    xsrf = uuid.uuid4().hex
    # A page on another origin riding the browser's cookie is refused, even with a token
    # pair, and gets no CORS grant. (Token-authenticated calls may come cross-origin:
    # Jupyter's policy, since a token is never sent by the browser on its own.)
    evil = {"Origin": "http://evil.example"}
    r = await api("GET", "whoami", user="", headers={"Cookie": cookie, **evil})
    assert r.status in (403, 404) and "Access-Control-Allow-Origin" not in r.headers, r
    r = await api(
        "POST",
        "experiments",
        {"name": "csrf"},
        user="",
        headers={"Cookie": f"{cookie}; _xsrf={xsrf}", "X-XSRFToken": xsrf, **evil},
    )
    assert r.status in (403, 404), r

    r = await api(
        "POST",
        "experiments",
        {"name": "csrf"},
        user="",
        headers={"Cookie": f"{cookie}; _xsrf={xsrf}", "X-XSRFToken": xsrf},
    )
    assert r.status == 201, r


class ReadOnlyForCarol(Authorizer):
    """A deployment's authorizer: carol may read the matih API but not write to it."""

    def is_authorized(self, handler: Any, user: Any, action: str, resource: str) -> bool:
        return not (user.username == "carol" and resource == "matih" and action != "read")


@pytest.mark.parametrize(
    "server_app_config", [{"authorizer_class": ReadOnlyForCarol}], indirect=True
)
async def test_the_servers_authorizer_is_consulted(api: Api) -> None:
    r = await api("GET", "experiments", user="carol")
    assert r.status == 200, r
    r = await api("POST", "experiments", {"name": "x"}, user="carol")
    assert r.status == 403 and r.json["error"] == "forbidden", r
    r = await api("POST", "experiments", {"name": "x"}, user="alice")
    assert r.status == 201, r
    r = await api("GET", "experiments", user="carol")
    assert [e["name"] for e in r.json["experiments"]] == ["x"]


# -- tenants ---------------------------------------------------------------------------------


async def test_spoofed_tenant_header_is_refused_like_a_missing_resource(api: Api) -> None:
    r = await api("POST", "experiments", {"name": "secret"}, user="bob")
    assert r.status == 201 and r.json["tenant_id"] == "globex"
    globex_exp = r.json["id"]

    refused = []
    for user, header in [
        ("alice", "globex"),  # exists, not alice's
        ("alice", "no-such-tenant"),  # does not exist
        ("alice", "%"),  # a LIKE wildcard
        ("alice", "acme-corp' OR '1'='1"),
        ("alice", "ACME-CORP"),
        ("alice", "acme_corp"),
        ("bob", "acme-corp"),
    ]:
        for method, path, body in [
            ("GET", "experiments", None),
            ("GET", f"experiments/{globex_exp}", None),
            ("POST", "experiments", {"name": "planted"}),
            ("GET", "whoami", None),
        ]:
            r = await api(method, path, body, user=user, tenant=header)
            assert r.status == 404, (user, header, path, r)
            refused.append(r.raw)
    # One body for all of them: the answer reveals nothing about which tenants exist.
    assert len(set(refused)) == 1
    assert TENANT_NOT_FOUND.encode() in refused[0]
    # And nothing was planted anywhere.
    r = await api("GET", "experiments", user="bob")
    assert [e["name"] for e in r.json["experiments"]] == ["secret"]
    r = await api("GET", "experiments", user="alice")
    assert r.json["experiments"] == []

    # Carol is allowed both: the header selects, and selects only what she may use.
    r = await api("GET", f"experiments/{globex_exp}", user="carol", tenant="globex")
    assert r.status == 200 and r.json["name"] == "secret"
    r = await api("GET", f"experiments/{globex_exp}", user="carol")
    assert r.status == 404  # her default tenant is acme-corp


def _masked(raw: bytes, *ids: str) -> bytes:
    for i in ids:
        raw = raw.replace(f"'{i}'".encode(), b"'<id>'")
    return raw


async def test_other_tenants_ids_answer_exactly_like_missing_ones(api: Api) -> None:
    r = await api("POST", "experiments", {"name": "churn"})
    exp = r.json
    r = await api("POST", "experiments/runs", {"experiment_id": exp["id"], "name": "r1"})
    run = r.json
    await api("POST", f"runs/{run['id']}/metrics", {"metrics": [{"key": "auc", "value": 0.9}]})
    await api("POST", f"runs/{run['id']}/params", {"params": {"lr": "0.1"}})
    # Bob has an experiment of the same name in his own tenant.
    r = await api("POST", "experiments", {"name": "churn"}, user="bob")
    assert r.status == 201 and r.json["id"] != exp["id"]

    missing_exp, missing_run = "987654", uuid.uuid4().hex
    cases = [
        ("GET", "experiments/{e}", None),
        ("DELETE", "experiments/{e}", None),
        ("POST", "experiments/{e}/restore", None),
        ("GET", "experiments/{e}/runs", None),
        ("POST", "experiments/runs", {"experiment_id": "{e}"}),
        ("GET", "runs/{r}", None),
        ("POST", "runs/{r}/metrics", {"metrics": [{"key": "auc", "value": 0.1}]}),
        ("POST", "runs/{r}/params", {"params": {"lr": "0.5"}}),
        ("POST", "runs/{r}/end", {"status": "KILLED"}),
        ("GET", "runs/{r}/metrics/auc", None),
    ]
    for method, template, body_t in cases:
        answers = []
        for e, r_id in ((exp["id"], run["id"]), (missing_exp, missing_run)):
            path = template.format(e=e, r=r_id)
            body = None
            if body_t is not None:
                body = {k: (v.format(e=e) if isinstance(v, str) else v) for k, v in body_t.items()}
            resp = await api(method, path, body, user="bob")
            assert resp.status == 404, (method, path, resp)
            answers.append(_masked(resp.raw, e, r_id))
        assert answers[0] == answers[1], (method, template, answers)

    r = await api("GET", "experiments/compare", params={"run_ids": run["id"]}, user="bob")
    assert r.status == 404
    # Filters cannot widen the tenant: bob asking for acme-corp's tag finds nothing.
    r = await api("GET", "experiments", user="bob")
    bob_exp = r.json["experiments"][0]["id"]
    r = await api(
        "GET",
        f"experiments/{bob_exp}/runs",
        params={"filter": "tags.`matih.tenant_id` = 'acme-corp'"},
        user="bob",
    )
    assert r.status == 200 and r.json["runs"] == []

    # Alice's data is untouched by everything bob tried.
    r = await api("GET", f"runs/{run['id']}")
    assert r.json["status"] == "running"
    assert r.json["metrics"] == {"auc": 0.9} and r.json["params"] == {"lr": "0.1"}
    r = await api("GET", f"experiments/{exp['id']}")
    assert r.json["lifecycle_stage"] == "active"


async def test_concurrent_requests_of_two_tenants_never_cross(api: Api) -> None:
    """Interleaved requests run together on the worker pool; each answers for its own
    caller's tenant (no tenant state is shared between requests)."""
    seeded = {}
    for user in ("alice", "bob"):
        exp = (await api("POST", "experiments", {"name": "same-name"}, user=user)).json
        body = {"experiment_id": exp["id"]}
        run = (await api("POST", "experiments/runs", body, user=user)).json
        seeded[user] = (exp["tenant_id"], exp["id"], run["id"])

    calls = []
    for i in range(60):
        user = ("alice", "bob")[i % 2]
        tenant, exp_id, run_id = seeded[user]
        path = (f"runs/{run_id}", f"experiments/{exp_id}", "experiments")[i % 3]
        calls.append((user, tenant, path, api("GET", path, user=user)))
    replies = await asyncio.gather(*(c[3] for c in calls))
    for (user, tenant, path, _), r in zip(calls, replies, strict=True):
        assert r.status == 200, (user, path, r)
        items = r.json.get("experiments", [r.json])
        assert items and all(x["tenant_id"] == tenant for x in items), (user, path, r)
