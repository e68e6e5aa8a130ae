"""Bad input gets a clear error naming what was wrong, before anything changes."""

from __future__ import annotations

import pytest

from matih_jupyter import InvalidInputError, ModelMetadata, ModelRegistry
from matih_jupyter.core.errors import ConflictError, NotFoundError

from .conftest import fitted, register, version_in


def test_exports_are_lazy_and_typed(registry):
    assert isinstance(registry, ModelRegistry)
    assert ModelMetadata.model_fields.keys() >= {
        "model_id", "tenant_id", "name", "description", "model_type", "framework",
        "current_version", "versions", "stage", "metrics", "parameters", "tags",
        "created_at", "updated_at", "created_by", "artifact_uri", "run_id", "aliases",
    }  # fmt: skip
    assert repr(registry).startswith("<ModelRegistry") and "sqlite" in repr(registry)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"tenant_id": "ACME"}, "tenant_id"),
        ({"tenant_id": "a%"}, "tenant_id"),
        ({"name": "a/b"}, "model_id"),
        ({"name": "x'y"}, "model_id"),
        ({"name": "%"}, "model_id"),
        ({"name": ""}, "model_id"),
        ({"framework": "tensorflow"}, "framework"),
        ({"framework": None}, "framework"),
        ({"metrics": {"auc": "high"}}, "metric value"),
        ({"metrics": ["auc"]}, "metrics"),
        ({"metrics": {"bad key!": 1.0}}, "metric key"),
        ({"parameters": {"p": "x" * 7000}}, "param value"),
        ({"tags": {"matih.tenant_id": "beta"}}, "tag key"),
        ({"model": "not a model"}, "model"),
        ({"model_type": "x" * 500}, "model_type"),
    ],
)
def test_bad_registration(registry, kwargs, field):
    args = {
        "tenant_id": "acme", "name": "churn", "model": fitted(), "framework": "sklearn",
        "metrics": {"auc": 0.8}, "parameters": {"C": 1.0}, "tags": None,
    }  # fmt: skip
    extra = {k: kwargs.pop(k) for k in list(kwargs) if k == "model_type"}
    args.update(kwargs)
    with pytest.raises(InvalidInputError) as err:
        registry.register_model(**args, **extra)
    assert err.value.field == field
    assert err.value.http_status == 400
    assert registry.list_models("acme") == []


def test_tensorflow_error_names_supported_frameworks(registry):
    with pytest.raises(InvalidInputError, match="sklearn, onnx, pytorch"):
        registry.register_model("acme", "m", fitted(), "tensorflow", {}, {})


def test_bad_versions_stages_aliases(registry):
    version_in(registry, "staging")
    for bad in ("abc", "0", "-1", "1.0", True, None, "99", "1 OR 1=1"):
        with pytest.raises(NotFoundError, match="Version"):
            registry.transition_stage("acme", "churn", bad, "production")
    with pytest.raises(InvalidInputError, match="target_stage"):
        registry.transition_stage("acme", "churn", "1", "Production'--")
    with pytest.raises(InvalidInputError, match="reason"):
        registry.transition_stage("acme", "churn", "1", "production", reason="x" * 2000)
    for alias in ("", "1abc", "v2", "latest", "a b", "a'b", "%"):
        with pytest.raises(InvalidInputError, match="alias"):
            registry.set_alias("acme", "churn", alias, "1")
    for reserved in ("production", "staging", "Production"):
        with pytest.raises(InvalidInputError, match="lifecycle"):
            registry.set_alias("acme", "churn", reserved, "1")
    with pytest.raises(NotFoundError, match="Alias 'gone'"):
        registry.delete_alias("acme", "churn", "gone")
    with pytest.raises(InvalidInputError, match="stage"):
        registry.list_models("acme", stage="live")
    with pytest.raises(InvalidInputError, match="framework"):
        registry.list_models("acme", framework="keras")
    # Nothing of the above changed the model.
    assert registry.get_model("acme", "churn").aliases == {"staging": "1"}


def test_user_aliases(registry):
    version_in(registry, "production")
    register(registry)
    info = registry.set_alias("acme", "churn", "champion", "1")
    assert info.aliases == ["champion", "production"]
    registry.set_alias("acme", "churn", "champion", 2)
    assert registry.get_version_by_alias("acme", "churn", "champion").version == "2"
    assert registry.get_version_by_alias("acme", "churn", "production").version == "1"
    registry.delete_alias("acme", "churn", "champion")
    with pytest.raises(NotFoundError):
        registry.get_version_by_alias("acme", "churn", "champion")


def test_delete_model(registry):
    version_in(registry, "production")
    with pytest.raises(ConflictError, match="in production"):
        registry.delete_model("acme", "churn")
    assert registry.get_model("acme", "churn") is not None
    registry.delete_model("acme", "churn", force=True)
    assert registry.get_model("acme", "churn") is None
    assert registry.list_models("acme") == []
    # No concurrency ticket is left behind, and the name can be used again from scratch.
    assert registry.tracker.client.search_registered_models() == []
    md = register(registry)
    assert md.versions == ["1"] and [r.epoch for r in registry.history("acme", "churn")] == [1]
    with pytest.raises(NotFoundError):
        registry.delete_model("acme", "missing")


def test_create_version_needs_existing_model(registry):
    with pytest.raises(NotFoundError, match="Model 'churn' was not found"):
        registry.create_version("acme", "churn", fitted(), "sklearn", {"auc": 1.0}, {})
    register(registry)
    md = registry.create_version("acme", "churn", fitted(), "sklearn", {"auc": 0.9}, {"C": 1.0})
    assert md.versions == ["1", "2"] and md.current_version == "2" and md.metrics == {"auc": 0.9}
    listed = registry.list_models("acme", framework="sklearn")
    assert [(m.model_id, m.current_version, m.versions) for m in listed] == [
        ("churn", "2", ["1", "2"])
    ]
