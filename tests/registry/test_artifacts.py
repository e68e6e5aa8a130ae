"""What a registered version stores beside its model (flavor, ONNX export, pinned
requirements, model card, metric history) and loading it back."""

from __future__ import annotations

import json

import numpy as np
import pytest

from matih_jupyter.core.errors import ConflictError, InvalidInputError, NotFoundError

from .conftest import features, fitted, register, version_in


def _download(registry, run_id, path, tmp_path):
    return registry.tracker.download_artifacts(run_id, path, tmp_path, tenant_id="acme")


def test_artifacts_of_a_version(registry, tmp_path):
    md = registry.register_model(
        "acme", "churn", fitted(), "sklearn", {"auc": 0.91, "f1": 0.8},
        {"C": 1.0, "penalty": "l2"}, {"team": "risk"},
        description="Churn classifier", model_type="classification", user_id="alice",
    )  # fmt: skip
    files = {a["path"] for a in registry.tracker.list_artifacts(md.run_id, tenant_id="acme")}
    assert {"model", "model.onnx", "requirements.txt", "model_card.md", "metrics"} <= files
    flavor = {a["path"] for a in registry.tracker.list_artifacts(md.run_id, "model", "acme")}
    assert "model/MLmodel" in flavor
    assert md.artifact_uri.endswith("/artifacts")
    assert md.framework == "sklearn" and md.model_type == "classification"
    assert md.metrics == {"auc": 0.91, "f1": 0.8} and md.parameters == {"C": 1.0, "penalty": "l2"}
    assert md.tags == {"team": "risk"} and md.created_by == "alice"

    reqs = _download(registry, md.run_id, "requirements.txt", tmp_path).read_text()
    pins = [line for line in reqs.splitlines() if line and not line.startswith("#")]
    assert any(p.startswith("scikit-learn==") for p in pins)
    assert any(p.startswith("mlflow==") for p in pins)
    assert any(p.startswith("onnxruntime==") for p in pins)
    assert all("==" in p for p in pins)

    history = json.loads(
        _download(registry, md.run_id, "metrics/history.json", tmp_path).read_text()
    )
    assert history["auc"][0]["value"] == 0.91 and history["f1"][0]["step"] == 0
    # Exactly what MLflow stored for the run, though the file is written without reading
    # the run back.
    client = registry.tracker.client
    stored = {
        key: [
            {"step": p.step, "value": p.value, "timestamp": p.timestamp}
            for p in client.get_metric_history(md.run_id, key)
        ]
        for key in client.get_run(md.run_id).data.metrics
    }
    assert history == stored

    card = _download(registry, md.run_id, "model_card.md", tmp_path).read_text()
    assert card.startswith("# Model card: churn v1")
    assert "Churn classifier" in card and "classification" in card
    assert "| auc | 0.91 |" in card and "| penalty | l2 |" in card
    assert md.run_id in card and "acme.churn" in card and "scikit-learn" in card
    assert "| 1 | (registered) | development | alice |" in card


def test_model_card_follows_stage_history(registry, tmp_path):
    md = register(registry)
    registry.transition_stage("acme", "churn", "1", "staging", reason="validated", user_id="bob")
    card = _download(registry, md.run_id, "model_card.md", tmp_path).read_text()
    assert "| 1 | development | staging | bob |" in card and "validated" in card


def test_onnx_export_predicts_like_sklearn(registry, tmp_path):
    import onnxruntime as ort

    md = register(registry)
    path = _download(registry, md.run_id, "model.onnx", tmp_path)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    x = features().astype(np.float32)
    labels, probabilities = session.run(None, {session.get_inputs()[0].name: x})
    model = fitted()
    np.testing.assert_array_equal(labels, model.predict(x))
    np.testing.assert_allclose(probabilities, model.predict_proba(x), atol=1e-5)


def test_onnx_exports_share_one_operator_table(monkeypatch):
    """The table skl2onnx would build for each conversion is built once, equal to a
    fresh one; with it shared, a conversion no longer reads ONNX's schemas and still
    predicts like the model."""
    import onnxruntime as ort
    from skl2onnx.common import _container

    from matih_jupyter.core.registry.onnx_export import export_sklearn_to_onnx, share_operator_table

    assert share_operator_table(), "skl2onnx's container changed: see share_operator_table"
    fresh = _container.ModelComponentContainer.__new__(_container.ModelComponentContainer)
    fresh._build_op_version()
    assert fresh._op_versions == _container.ModelComponentContainer._op_versions

    def rebuilt() -> None:
        raise AssertionError("the operator table was rebuilt for a conversion")

    monkeypatch.setattr(_container, "get_all_schemas_with_history", rebuilt)
    proto = export_sklearn_to_onnx(fitted())
    session = ort.InferenceSession(proto.SerializeToString(), providers=["CPUExecutionProvider"])
    x = features().astype(np.float32)
    np.testing.assert_array_equal(session.run(None, {"input": x})[0], fitted().predict(x))


def test_onnx_framework(registry):
    import onnx
    import onnxruntime as ort

    from matih_jupyter.core.registry.onnx_export import export_sklearn_to_onnx

    md = registry.register_model("acme", "from-sklearn", fitted(), "onnx", {"auc": 0.8}, {})
    assert md.framework == "onnx"
    proto = registry.load_model("acme", "from-sklearn", version="1")
    assert isinstance(proto, onnx.ModelProto)
    session = ort.InferenceSession(proto.SerializeToString(), providers=["CPUExecutionProvider"])
    x = features().astype(np.float32)
    np.testing.assert_array_equal(session.run(None, {"input": x})[0], fitted().predict(x))
    # A ModelProto is registered as is.
    md = registry.register_model(
        "acme", "proto", export_sklearn_to_onnx(fitted()), "onnx", {"auc": 0.7}, {}
    )
    assert md.framework == "onnx"
    assert isinstance(registry.load_model("acme", "proto", version="1"), onnx.ModelProto)


def test_load_by_version_stage_and_alias(registry):
    from sklearn.linear_model import LogisticRegression

    x = features()
    v1 = version_in(registry, "production")
    other = fitted(0.01)
    registry.register_model("acme", "churn", other, "sklearn", {"auc": 0.7}, {"C": 0.01})
    registry.transition_stage("acme", "churn", "2", "staging")
    registry.set_alias("acme", "churn", "challenger", "2")

    by_default = registry.load_model("acme", "churn")
    assert isinstance(by_default, LogisticRegression)
    np.testing.assert_array_equal(by_default.coef_, fitted().coef_)
    assert registry.load_model("acme", "churn", stage="production").C == 1.0
    assert registry.load_model("acme", "churn", stage="staging").C == 0.01
    assert registry.load_model("acme", "churn", alias="challenger").C == 0.01
    assert registry.load_model("acme", "churn", alias="production").C == 1.0
    loaded = registry.load_model("acme", "churn", version=v1)
    np.testing.assert_array_equal(loaded.predict(x), fitted().predict(x))
    with pytest.raises(NotFoundError, match="no version in archived"):
        registry.load_model("acme", "churn", stage="archived")
    with pytest.raises(NotFoundError, match="Alias 'nope'"):
        registry.load_model("acme", "churn", alias="nope")
    with pytest.raises(NotFoundError, match="Version '9'"):
        registry.load_model("acme", "churn", version="9")
    with pytest.raises(InvalidInputError, match="at most one"):
        registry.load_model("acme", "churn", stage="production", version="1")


def test_register_into_existing_run(registry, tmp_path):
    tracker = registry.tracker
    with tracker.start_run("training", _cfg()) as run:
        for step, loss in enumerate([0.9, 0.5, 0.3]):
            run.log_metric("loss", loss, step=step)
        run.log_param("C", 1.0)
    md = registry.register_model(
        "acme", "churn", fitted(), "sklearn", {"auc": 0.8}, {"C": 1.0}, run_id=run.run_id
    )
    assert md.run_id == run.run_id
    assert md.artifact_uri.startswith(run.artifact_uri)
    version = registry.get_version("acme", "churn", "1")
    assert version.run_id == run.run_id
    loaded = registry.load_model("acme", "churn", version="1")
    np.testing.assert_array_equal(loaded.predict(features()), fitted().predict(features()))
    sub = md.artifact_uri[len(run.artifact_uri) :].strip("/")
    assert sub.startswith("registered_models/churn/")
    files = {a["path"] for a in tracker.list_artifacts(run.run_id, sub, "acme")}
    names = ("model", "model.onnx", "model_card.md", "requirements.txt", "metrics")
    assert {f"{sub}/{n}" for n in names} <= files
    # The run's whole loss curve is in the version's metric history.
    path = _download(registry, run.run_id, f"{sub}/metrics/history.json", tmp_path)
    history = json.loads(path.read_text())
    assert [p["value"] for p in history["loss"]] == [0.9, 0.5, 0.3]
    # A param already logged with another value is a conflict, not an overwrite.
    with pytest.raises(ConflictError, match=r"write-once|cannot change"):
        registry.register_model(
            "acme", "churn", fitted(), "sklearn", {}, {"C": 2.0}, run_id=run.run_id
        )


def _cfg():
    from matih_jupyter import RunConfig

    return RunConfig(tenant_id="acme")


def test_pytorch_when_installed(registry):
    torch = pytest.importorskip("torch")
    net = torch.nn.Linear(4, 1)
    md = registry.register_model("acme", "net", net, "pytorch", {"mse": 0.1}, {"lr": 0.01})
    assert md.framework == "pytorch"
    loaded = registry.load_model("acme", "net", version="1")
    x = torch.ones(2, 4)
    assert torch.allclose(loaded(x), net(x))


def test_pytorch_without_torch_is_a_clear_error(registry):
    import importlib.util

    if importlib.util.find_spec("torch") is not None:
        pytest.skip("torch is installed")
    with pytest.raises(InvalidInputError, match="torch") as err:
        registry.register_model("acme", "net", object(), "pytorch", {}, {})
    assert "sklearn" in str(err.value) and "onnx" in str(err.value)
    assert registry.get_model("acme", "net") is None
