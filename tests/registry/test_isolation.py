"""Tenant isolation: a tenant never sees, loads, changes or deletes another tenant's
models, versions or aliases, whatever names it passes."""

from __future__ import annotations

import pytest

from matih_jupyter.core.errors import (
    ConflictError,
    InvalidInputError,
    MatihError,
    NotFoundError,
)

from .conftest import register, version_in

ATTACK_NAMES = ["%", "_", "%churn%", "c_urn", "beta.churn", "acme.churn", "churn'", "' OR '1'='1"]


@pytest.fixture
def two_tenants(registry):
    """Tenant beta has 'churn' in production with an alias; acme has 'fraud'."""
    v = version_in(registry, "production", tenant="beta", name="churn")
    registry.set_alias("beta", "churn", "champion", v)
    register(registry, "acme", "fraud")
    return registry


def _none_as_missing(model):
    if model is None:
        raise NotFoundError("get_model answered None")
    return model


def _same_as_missing(call, tenant="acme"):
    """The call fails exactly as for a model that does not exist."""
    with pytest.raises(MatihError) as err:
        call()
    return err.value


def test_listing_is_exact(two_tenants):
    reg = two_tenants
    assert [m.model_id for m in reg.list_models("acme")] == ["fraud"]
    assert [m.model_id for m in reg.list_models("beta")] == ["churn"]
    assert reg.list_models("acme", stage="production") == []
    # A tenant whose id is a prefix of another's sees nothing of it.
    assert reg.list_models("be") == [] and reg.list_models("beta-x") == []
    for bad in ("%", "_", "b%", "beta'", "BETA", "beta OR 1=1"):
        with pytest.raises(InvalidInputError, match="tenant"):
            reg.list_models(bad)
    with pytest.raises(InvalidInputError, match="stage"):
        reg.list_models("acme", stage="production' OR '1'='1")


def test_attack_names_never_reach_other_tenants(two_tenants):
    # One store for every name: the setup costs more than the attacks.
    for name in ATTACK_NAMES:
        _attack(two_tenants, name)


def _attack(reg, name):
    calls = {
        "get_model": lambda: (
            reg.get_model("acme", name) or (_ for _ in ()).throw(NotFoundError("none"))
        ),
        "list_versions": lambda: reg.list_versions("acme", name),
        "history": lambda: reg.history("acme", name),
        "transition": lambda: reg.transition_stage("acme", name, "1", "archived"),
        "rollback": lambda: reg.rollback("acme", name),
        "delete": lambda: reg.delete_model("acme", name, force=True),
        "alias": lambda: reg.get_version_by_alias("acme", name, "champion"),
        "set_alias": lambda: reg.set_alias("acme", name, "mine", "1"),
        "load": lambda: reg.load_model("acme", name, version="1"),
        "promote": lambda: reg.promote_if_better("acme", name, "1", "auc", 0.0),
        "create_version": lambda: reg.create_version("acme", name, None, "sklearn", {}, {}),
    }
    for what, call in calls.items():
        with pytest.raises((NotFoundError, InvalidInputError)) as err:
            call()
        assert "beta" not in str(err.value) or name.startswith("beta"), what
    # beta's model is untouched.
    model = reg.get_model("beta", "churn")
    assert model.aliases == {"production": "1", "champion": "1"}
    assert reg.get_version("beta", "churn", "1").stage == "production"


def test_other_tenants_model_is_answered_like_a_missing_one(two_tenants):
    reg = two_tenants
    assert reg.get_model("acme", "churn") is None
    foreign = _same_as_missing(lambda: reg.history("acme", "churn"))
    missing = _same_as_missing(lambda: reg.history("acme", "nothing-here"))
    assert type(foreign) is type(missing) is NotFoundError
    assert str(foreign) == str(missing).replace("nothing-here", "churn")
    for call in (
        lambda: reg.transition_stage("acme", "churn", "1", "archived"),
        lambda: reg.delete_model("acme", "churn", force=True),
        lambda: reg.load_model("acme", "churn"),
        lambda: reg.get_version_by_alias("acme", "churn", "champion"),
        lambda: reg.delete_alias("acme", "churn", "champion"),
        lambda: reg.rollback("acme", "churn"),
    ):
        with pytest.raises(NotFoundError, match="Model 'churn' was not found for tenant 'acme'"):
            call()
    assert reg.get_model("beta", "churn").aliases["champion"] == "1"


def test_registering_same_name_creates_a_separate_model(two_tenants):
    reg = two_tenants
    md = register(reg, "acme", "churn")
    assert md.tenant_id == "acme" and md.versions == ["1"]
    assert reg.get_model("beta", "churn").current_version == "1"
    reg.transition_stage("acme", "churn", "1", "staging")
    assert reg.get_version("beta", "churn", "1").stage == "production"
    assert sorted(m.model_id for m in reg.list_models("acme")) == ["churn", "fraud"]


def test_other_tenants_runs_are_refused(two_tenants):
    reg = two_tenants
    beta_run = reg.get_model("beta", "churn").run_id
    with pytest.raises(NotFoundError):
        reg.log_training_metrics("acme", beta_run, 1, {"loss": 0.1})
    with pytest.raises(NotFoundError):
        reg.compare_runs("acme", [beta_run], ["auc"])
    with pytest.raises(NotFoundError):
        register(reg, "acme", "stolen", run_id=beta_run)
    assert reg.compare_runs("beta", [beta_run], ["auc"])[0]["metrics"] == {"auc": 0.8}


def test_unmanaged_mlflow_models_are_invisible(registry):
    """A model created in MLflow directly under a tenant-like name is not the tenant's."""
    client = registry.tracker.client
    client.create_registered_model("acme.raw")
    client.create_registered_model("acme.spoof", tags={"matih.tenant_id": "acme"})
    assert registry.list_models("acme") == []
    assert registry.get_model("acme", "raw") is None
    assert registry.get_model("acme", "spoof") is None
    with pytest.raises(ConflictError, match="not manage"):
        register(registry, "acme", "raw")
    # The concurrency tickets never show as models either.
    register(registry, "acme", "real")
    assert [m.model_id for m in registry.list_models("acme")] == ["real"]
