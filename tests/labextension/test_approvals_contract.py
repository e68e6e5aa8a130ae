"""The sidebar's approvals client (`labextension/src/approvals.ts`) mirrors the OpenAPI
file: every route it calls is documented, and its interfaces have the schemas' fields."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
APPROVALS_TS = (ROOT / "labextension" / "src" / "approvals.ts").read_text()
OPENAPI = yaml.safe_load((ROOT / "matih_jupyter" / "server" / "openapi.yaml").read_text())
MIRRORS = {"IApprovalRequest": "ApprovalRequest", "IGateResult": "GateResult"}


def test_every_approvals_route_the_client_calls_is_documented() -> None:
    calls = set(re.findall(r"/\*\* (GET|POST|PUT|DELETE) (/[\w/{}]+) \*/", APPROVALS_TS))
    assert len(calls) == 4, calls
    spec = {(m.upper(), p) for p, ops in OPENAPI["paths"].items() for m in ops if m != "parameters"}
    assert calls <= spec, sorted(calls - spec)


@pytest.mark.parametrize("interface", sorted(MIRRORS))
def test_approvals_types_mirror_the_openapi_schemas(interface: str) -> None:
    m = re.search(rf"export interface {interface} \{{(.*?)\n\}}", APPROVALS_TS, re.S)
    assert m, interface
    fields = set(re.findall(r"^  (\w+)\??:", m[1], re.M))
    assert fields == set(OPENAPI["components"]["schemas"][MIRRORS[interface]]["properties"])


def test_the_transition_fields_the_sidebar_reads_exist_in_the_core() -> None:
    from matih_jupyter.core import TransitionRecord

    m = re.search(r"export interface IGovernedTransition \{(.*?)\n\}", APPROVALS_TS, re.S)
    assert m
    assert set(re.findall(r"^  (\w+)\??:", m[1], re.M)) <= set(TransitionRecord.model_fields)
