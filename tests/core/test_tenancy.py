"""Tenant ids, names and keys are validated before anything reaches MLflow."""

from __future__ import annotations

import pytest

from matih_jupyter.core.errors import InvalidInputError
from matih_jupyter.core.tenancy import (
    experiment_full_name,
    model_full_name,
    split_experiment_name,
    validate_key,
    validate_name,
    validate_param,
    validate_tenant_id,
    validate_user_tag,
)


@pytest.mark.parametrize("tenant", ["acme-corp", "ab", "a1", "x" * 63, "team-42-ml"])
def test_valid_tenant_ids(tenant: str) -> None:
    assert validate_tenant_id(tenant) == tenant


@pytest.mark.parametrize(
    "tenant",
    [
        "ACME",
        "acme/x",
        "a%",
        "a_b",
        "",
        "a",
        "x' OR '1'='1",
        "-acme",
        "acme-",
        "x" * 64,
        "%",
        None,
        7,
    ],
)
def test_invalid_tenant_ids_name_the_rule(tenant: object) -> None:
    with pytest.raises(InvalidInputError) as info:
        validate_tenant_id(tenant)
    assert info.value.field == "tenant_id"
    assert "lowercase letters, digits and '-'" in str(info.value)


def test_experiment_names_are_tenant_prefixed() -> None:
    assert experiment_full_name("acme-corp", "churn v2") == "acme-corp/churn v2"
    assert split_experiment_name("acme-corp/churn v2") == ("acme-corp", "churn v2")
    assert split_experiment_name("Default") is None


@pytest.mark.parametrize("name", ["", "a/b", "a:b", "50%", "it's", " lead", "x" * 256, "../x"])
def test_invalid_names(name: str) -> None:
    with pytest.raises(InvalidInputError):
        validate_name(name)


def test_full_name_length_is_checked_with_the_prefix() -> None:
    with pytest.raises(InvalidInputError, match="at most 256"):
        experiment_full_name("t" * 63, "n" * 200)


def test_model_names_use_a_dot() -> None:
    assert model_full_name("acme-corp", "churn-gbm") == "acme-corp.churn-gbm"


@pytest.mark.parametrize("key", ["loss", "val/auc", "a.b-c d:e", "x" * 250])
def test_valid_keys(key: str) -> None:
    assert validate_key(key) == key


@pytest.mark.parametrize("key", ["", "a\nb", "a$b", "/abs", "a//b", "../up", "a/./b", "x" * 251, 3])
def test_invalid_keys(key: object) -> None:
    with pytest.raises(InvalidInputError):
        validate_key(key)


def test_param_values_that_would_be_truncated_are_refused() -> None:
    assert validate_param("p", "x" * 6000) == ("p", "x" * 6000)
    with pytest.raises(InvalidInputError, match="truncate"):
        validate_param("p", "x" * 6001)


def test_reserved_tags_are_refused() -> None:
    with pytest.raises(InvalidInputError, match="reserved"):
        validate_user_tag("matih.tenant_id", "other")
    assert validate_user_tag("team", 7) == ("team", "7")
