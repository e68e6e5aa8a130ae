"""Fixtures for the registry tier: a `ModelRegistry` on the test's fresh SQLite store."""

from __future__ import annotations

import functools
from typing import Any

import pytest


@functools.lru_cache(maxsize=1)
def _data() -> tuple[Any, Any]:
    from sklearn.datasets import make_classification

    return make_classification(n_samples=120, n_features=4, random_state=0)


@functools.lru_cache(maxsize=4)
def fitted(c: float = 1.0) -> Any:
    """A small fitted classifier (cached: fitting is not what these tests measure)."""
    from sklearn.linear_model import LogisticRegression

    x, y = _data()
    return LogisticRegression(C=c, max_iter=200).fit(x, y)


def features() -> Any:
    return _data()[0]


@pytest.fixture
def registry(tracker):
    from matih_jupyter.core.registry import ModelRegistry

    return ModelRegistry(tracker)


def register(
    reg: Any, tenant: str = "acme", name: str = "churn", auc: float = 0.8, **kw: Any
) -> Any:
    """Register one version of a small classifier; returns its ModelMetadata."""
    return reg.register_model(
        tenant, name, fitted(), "sklearn", {"auc": auc}, {"C": 1.0}, kw.pop("tags", None),
        user_id=kw.pop("user_id", "alice"), **kw,
    )  # fmt: skip


def version_in(reg: Any, stage: str, tenant: str = "acme", name: str = "churn") -> str:
    """Register a version and walk it to ``stage`` through allowed moves."""
    v = register(reg, tenant, name).versions[-1]
    path = {
        "development": [],
        "staging": ["staging"],
        "production": ["staging", "production"],
        "archived": ["staging", "production", "archived"],
    }[stage]
    for step in path:
        reg.transition_stage(tenant, name, v, step, user_id="alice")
    return v
