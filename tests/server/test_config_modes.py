"""Tenant resolution modes, configuration checks, and the promotion hooks the
configuration installs."""

from __future__ import annotations

import pytest
from traitlets import TraitError

from matih_jupyter.server.app import MatihJupyter, MatihService, tenant_from_user_name
from matih_jupyter.server.hook_setup import ENTRY_POINT_GROUP, HookSetupError

from . import registry_gates
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


# -- promotion hooks from the configuration -------------------------------------------------

GATES = registry_gates.__name__


def test_hook_settings_are_validated() -> None:
    with pytest.raises(TraitError, match=r"registry_hooks\[1\] = 'mypkg.gates' is not an im"):
        MatihJupyter(registry_hooks=[f"{GATES}:install", "mypkg.gates"])
    with pytest.raises(TraitError, match=r"'package\.module:function'"):
        MatihJupyter(registry_hooks=["mypkg gates:install"])
    with pytest.raises(TraitError, match=r"webhooks\[0\] has unknown keys \['uri'\]"):
        MatihJupyter(webhooks=[{"uri": "https://ci.example.com/hook"}])
    with pytest.raises(TraitError, match=r"webhooks\[0\] has no url"):
        MatihJupyter(webhooks=[{"stages": ["production"]}])
    help_text = MatihJupyter.class_get_trait_help(MatihJupyter.registry_hooks)
    assert "package.module:function" in help_text and "matih_jupyter.registry_hooks" in help_text


@pytest.mark.parametrize(
    ("settings", "needles"),
    [
        (
            {"registry_hooks": ["no_such_package.gates:install"]},
            [
                "c.MatihJupyter.registry_hooks[0] = 'no_such_package.gates:install'",
                "could not be imported (ModuleNotFoundError",
                "Install the package that provides 'no_such_package.gates'",
            ],
        ),
        (
            {"registry_hooks": [f"{GATES}:missing"]},
            [f"module '{GATES}' has no 'missing'", "correct c.MatihJupyter.registry_hooks[0]"],
        ),
        (
            {"registry_hooks": [f"{GATES}:NOT_A_FUNCTION"]},
            ["'NOT_A_FUNCTION' is a int, not a function"],
        ),
        (
            {"registry_hooks": [f"{GATES}:install", f"{GATES}:install_broken"]},
            [
                f"{GATES}:install_broken failed while adding its hooks",
                "the gate service is misconfigured",
            ],
        ),
        (
            {"webhooks": [{"url": "ftp://ci.example.com/hook"}]},
            ["c.MatihJupyter.webhooks[0]: Invalid url", "http(s) URL"],
        ),
        (
            {"webhooks": [{"url": "https://ci.example.com/hook", "stages": ["prod"]}]},
            ["c.MatihJupyter.webhooks[0]: Invalid stages", "Use one of development"],
        ),
    ],
)
def test_a_hook_that_cannot_be_installed_is_a_clear_error_and_adds_nothing(
    tracking_uri: str, process_hooks, settings: dict, needles: list[str]
) -> None:
    service = MatihService(MatihJupyter(tracking_uri=tracking_uri, **settings))
    before = process_hooks.hooks.all()
    with pytest.raises(HookSetupError) as err:
        service.install_registry_hooks()
    text = str(err.value)
    for needle in needles:
        assert needle in text, text
    assert process_hooks.hooks.all() == before  # the install that worked was undone


def test_installed_packages_add_hooks_through_the_entry_point_group(
    tmp_path, monkeypatch, tracking_uri: str, process_hooks, webhook_receiver
) -> None:
    """A real distribution on sys.path declaring an entry point in the group."""
    dist = tmp_path / "acme_gates-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: acme-gates\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(f"[{ENTRY_POINT_GROUP}]\nfreeze = {GATES}:install\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    service = MatihService(
        MatihJupyter(
            tracking_uri=tracking_uri,
            webhooks=[{"url": webhook_receiver.url, "stages": "production", "before": True}],
        )
    )
    added = service.install_registry_hooks()
    assert [(h.name, h.before, h.stages) for h in added] == [
        ("release-freeze", True, ("production",)),
        (webhook_receiver.url, True, ("production",)),
    ]
    assert {h.id for h in added} <= {h.id for h in process_hooks.hooks.all()}

    (dist / "entry_points.txt").write_text(f"[{ENTRY_POINT_GROUP}]\nfreeze = {GATES}:nope\n")
    with pytest.raises(HookSetupError, match=r"entry point 'freeze' of acme-gates .*Fix or un"):
        MatihService(MatihJupyter(tracking_uri=tracking_uri)).install_registry_hooks()


def test_without_hooks_nothing_is_installed(tracking_uri: str) -> None:
    assert MatihService(MatihJupyter(tracking_uri=tracking_uri)).install_registry_hooks() == []


@pytest.mark.parametrize(
    "matih_config", [{"registry_hooks": ["no_such_package.gates:install"]}], indirect=True
)
async def test_the_api_is_not_served_without_its_configured_gates(
    api: Api, matih_config: dict
) -> None:
    r = await api("GET", "whoami")
    assert r.status == 404, r  # the extension did not load: no route at all
