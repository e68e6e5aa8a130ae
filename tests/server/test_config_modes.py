"""Tenant resolution modes and configuration checks."""

from __future__ import annotations

import pytest
from traitlets import TraitError

from matih_jupyter.server.app import MatihJupyter, MatihService, tenant_from_user_name

from .conftest import Api

pytestmark = pytest.mark.timeout(120)


@pytest.mark.parametrize(
    "matih_config",
    [
        {
            "tenant_from_user": True,
            "user_tenants": {"carol": ["globex"]},
            "allowed_tenants": ["shared"],
        }
    ],
    indirect=True,
)
async def test_tenant_from_the_authenticated_user_name(api: Api, matih_config: dict) -> None:
    r = await api("GET", "whoami", user="Dave.Smith")
    assert r.status == 200, r
    assert r.json["tenant_id"] == "dave-smith"
    assert r.json["allowed_tenants"] == ["dave-smith", "shared"]
    r = await api("POST", "experiments", {"name": "mine"}, user="Dave.Smith")
    assert r.status == 201 and r.json["full_name"] == "dave-smith/mine"
    # Alice cannot reach dave's tenant by naming it; the map still wins for carol.
    r = await api("GET", "experiments", user="alice", tenant="dave-smith")
    assert r.status == 404
    r = await api("GET", "whoami", user="carol")
    assert r.json["allowed_tenants"] == ["globex"]


@pytest.mark.parametrize(
    "matih_config", [{"tenant_id": None, "user_tenants": {"bob": ["globex"]}}], indirect=True
)
async def test_user_without_tenant_is_refused_with_a_clear_message(
    api: Api, matih_config: dict
) -> None:
    r = await api("GET", "whoami", user="bob")
    assert r.status == 200 and r.json["tenant_id"] == "globex"
    r = await api("GET", "experiments")
    assert r.status == 403, r
    assert "no tenant" in r.json["message"] and "MatihJupyter" in r.json["hint"]


def test_configuration_is_validated() -> None:
    with pytest.raises(TraitError, match="tenant id"):
        MatihJupyter(tenant_id="ACME")
    with pytest.raises(TraitError, match="tenant id"):
        MatihJupyter(user_tenants={"bob": ["globex", "a%"]})
    with pytest.raises(TraitError, match="lists no tenant"):
        MatihJupyter(user_tenants={"bob": []})
    with pytest.raises(TraitError, match="tenant id"):
        MatihJupyter(allowed_tenants=["_"])
    with pytest.raises(TraitError, match="positive"):
        MatihJupyter(backend_timeout=0)


def test_user_names_as_tenants() -> None:
    assert tenant_from_user_name("Dave.Smith") == "dave-smith"
    assert tenant_from_user_name("alice@acme.com") == "alice-acme-com"
    assert tenant_from_user_name("--x--y--") == "x-y"
    assert tenant_from_user_name("%") is None
    assert tenant_from_user_name("a") is None
    assert tenant_from_user_name("b" * 80) == "b" * 63


def test_resolution_order(tracking_uri: str) -> None:
    svc = MatihService(
        MatihJupyter(
            tenant_id="acme-corp",
            allowed_tenants=["shared"],
            user_tenants={"bob": ["globex"]},
            tracking_uri=tracking_uri,
        )
    )
    assert svc.allowed_tenants("alice") == ["acme-corp", "shared"]
    assert svc.allowed_tenants("bob") == ["globex"]
    assert svc.resolve_tenant("alice", None) == "acme-corp"
    assert svc.resolve_tenant("alice", "shared") == "shared"
