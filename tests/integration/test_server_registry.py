"""The model registry against the real server: versions and their artifacts in S3,
promotion, rollback and loading a model back from the bucket."""

from __future__ import annotations

import functools

import numpy as np
import pytest

from matih_jupyter.core.errors import LifecycleError, NotFoundError
from matih_jupyter.core.registry import ModelRegistry


@functools.lru_cache(maxsize=2)
def _fitted(c: float):
    from sklearn.datasets import make_classification
    from sklearn.linear_model import LogisticRegression

    x, y = make_classification(n_samples=120, n_features=4, random_state=0)
    return LogisticRegression(C=c, max_iter=200).fit(x, y), x


def _register(reg, tenant, c):
    model, _ = _fitted(c)
    return reg.register_model(tenant, "churn", model, "sklearn", {"auc": c}, {"C": c}, None,
                              user_id="alice")  # fmt: skip


def test_register_promote_rollback_and_load_from_s3(tracker, tenant, stack):
    reg = ModelRegistry(tracker)
    v1 = _register(reg, tenant, 0.5).versions[-1]
    v2 = _register(reg, tenant, 2.0).versions[-1]
    assert (v1, v2) == ("1", "2")
    for v in (v1, v2):
        reg.transition_stage(tenant, "churn", v, "staging", user_id="alice")
    reg.transition_stage(tenant, "churn", v1, "production", user_id="alice")
    model = reg.transition_stage(tenant, "churn", v2, "production", user_id="bob")
    assert model.current_version == v2 and model.aliases["production"] == v2
    stages = {v.version: v.stage for v in reg.list_versions(tenant, "churn")}
    assert stages == {v1: "archived", v2: "production"}
    with pytest.raises(LifecycleError):
        reg.transition_stage(tenant, "churn", v1, "production", user_id="alice")

    rolled = reg.rollback(tenant, "churn", reason="v2 regressed", user_id="carol")
    assert rolled.aliases["production"] == v1
    moves = [(r.version, r.to_stage) for r in reg.history(tenant, "churn")]
    assert moves[-1] == (v1, "production")

    # The production model is loaded from the bucket and predicts like the fitted one.
    loaded = reg.load_model(tenant, "churn", stage="production")
    fitted, x = _fitted(0.5)
    predict = loaded.predict
    np.testing.assert_array_equal(np.asarray(predict(x)), fitted.predict(x))
    info = {v.version: v for v in reg.list_versions(tenant, "churn")}
    keys = stack.s3.list_keys(stack.bucket, "mlflow/")
    run_keys = [k for k in keys if info[v1].run_id and f"/{info[v1].run_id}/" in k]
    model_keys = [k for k in keys if k.endswith("MLmodel")]
    assert run_keys or model_keys, "no model files in the bucket"
    assert any(k.endswith("MLmodel") for k in keys)


def test_other_tenant_cannot_see_or_promote(tracker, tenant):
    reg = ModelRegistry(tracker)
    v = _register(reg, tenant, 1.0).versions[-1]
    other = f"{tenant}-x"
    assert reg.get_model(other, "churn") is None
    assert reg.list_models(other) == []
    with pytest.raises(NotFoundError):
        reg.transition_stage(other, "churn", v, "staging", user_id="mallory")
    with pytest.raises(NotFoundError):
        reg.load_model(other, "churn", version=v)
