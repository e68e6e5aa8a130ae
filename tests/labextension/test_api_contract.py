"""The TypeScript client mirrors the OpenAPI file: same routes, same fields.

`labextension/src/api.ts` documents each call with its route (``/** GET /whoami */``) and
declares one interface per schema. Checking both against ``openapi.yaml`` catches a route or
a field renamed on one side only, without a browser.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
API_TS = (ROOT / "labextension" / "src" / "api.ts").read_text()
OPENAPI = yaml.safe_load((ROOT / "matih_jupyter" / "server" / "openapi.yaml").read_text())

#: TypeScript interface -> OpenAPI schema it mirrors.
MIRRORS = {
    "IWhoAmI": "WhoAmI",
    "IExperiment": "Experiment",
    "IRun": "Run",
    "IMetricPoint": "MetricPoint",
    "ICompareResult": "Comparison",
    "IModel": "ModelMetadata",
    "IModelVersion": "ModelVersionInfo",
    "ITransition": "TransitionRecord",
    "ISweepSummary": "SweepSummary",
    "IChanges": "Changes",
}


def _ts_routes() -> set[tuple[str, str]]:
    found = re.findall(r"/\*\* (GET|POST|PUT|DELETE) (/[\w/{}]+) \*/", API_TS)
    return {(m, p) for m, p in found}


def _ts_fields(interface: str) -> set[str]:
    m = re.search(rf"export interface {interface} \{{(.*?)\n\}}", API_TS, re.S)
    assert m, f"interface {interface} not found in api.ts"
    # Top-level members only (two-space indent); nested object members are deeper.
    return set(re.findall(r"^  (\w+)\??:", m[1], re.M))


def _schema(name: str) -> dict:
    schema = OPENAPI["components"]["schemas"][name]
    if "allOf" in schema:
        merged: dict = {"properties": {}}
        for part in schema["allOf"]:
            part = _schema(part["$ref"].rsplit("/", 1)[1]) if "$ref" in part else part
            merged["properties"].update(part.get("properties", {}))
        return merged
    return schema


def test_every_client_route_is_in_the_openapi_file() -> None:
    routes = _ts_routes()
    assert len(routes) >= 12, routes
    spec = {(m.upper(), p) for p, ops in OPENAPI["paths"].items() for m in ops if m != "parameters"}
    missing = sorted(routes - spec)
    assert not missing, f"api.ts calls routes the OpenAPI file lacks: {missing}"


@pytest.mark.parametrize("interface", sorted(MIRRORS))
def test_client_types_mirror_the_openapi_schemas(interface: str) -> None:
    props = set(_schema(MIRRORS[interface]).get("properties", {}))
    assert props, f"schema {MIRRORS[interface]} has no properties"
    assert _ts_fields(interface) == props


def test_offered_moves_mirror_the_core_lifecycle() -> None:
    """The Models panel offers exactly the moves the core's lifecycle allows."""
    from matih_jupyter.core.registry import ALLOWED_TRANSITIONS, STAGES

    logic = (ROOT / "labextension" / "src" / "logic.ts").read_text()
    block = re.search(r"ALLOWED_TRANSITIONS: [^=]+= \{(.*?)\};", logic, re.S)
    assert block, "ALLOWED_TRANSITIONS not found in logic.ts"
    ts = {
        stage: tuple(re.findall(r"'(\w+)'", targets))
        for stage, targets in re.findall(r"(\w+): \[([^\]]*)\]", block[1])
    }
    assert ts == {k: tuple(v) for k, v in ALLOWED_TRANSITIONS.items()}
    stages = re.search(r"export const STAGES = \[([^\]]*)\]", logic)
    assert stages and tuple(re.findall(r"'(\w+)'", stages[1])) == tuple(STAGES)


def test_tenant_header_matches_the_openapi_file() -> None:
    header = OPENAPI["components"]["parameters"]["TenantHeader"]
    assert header["in"] == "header"
    assert f"export const TENANT_HEADER = '{header['name']}';" in API_TS


def test_runs_listing_query_mirrors_the_openapi_parameters() -> None:
    """Every query argument the client sends to the runs listing is one the API documents."""
    call = re.search(r"\n  listRuns\(.*?query: \{(.*?)\}", API_TS, re.S)
    assert call, "listRuns not found in api.ts"
    sent = set(re.findall(r"^\s+(\w+):", call[1], re.M))
    route = OPENAPI["paths"]["/experiments/{experiment_id}/runs"]["get"]
    documented = {p["name"] for p in route["parameters"] if "name" in p}
    assert {"search", "status", "page_token", "max_results"} <= sent
    assert sent <= documented, sorted(sent - documented)
