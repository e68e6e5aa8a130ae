"""ONNX for the registry: scikit-learn models exported with skl2onnx, and the inputs the
``onnx`` framework accepts (a ``ModelProto``, its bytes, an ``.onnx`` path, or a fitted
scikit-learn model to export)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..errors import InvalidInputError

ONNX_FILE = "model.onnx"


def missing_onnx(what: str) -> InvalidInputError:
    return InvalidInputError(
        "framework",
        f"{what} needs the packages onnx, onnxruntime and skl2onnx, which are not installed.",
        hint="Install them with: pip install 'matih-jupyter[onnx]'.",
    )


def is_sklearn_model(model: Any) -> bool:
    try:
        from sklearn.base import BaseEstimator
    except ImportError:  # pragma: no cover - scikit-learn is a test dependency
        return False
    return isinstance(model, BaseEstimator)


def export_sklearn_to_onnx(model: Any) -> Any:
    """Export a fitted scikit-learn model to an ONNX ``ModelProto`` with skl2onnx.

    Classifiers return plain label and probability arrays (no ZipMap), so ONNX Runtime's
    outputs compare directly with ``predict`` and ``predict_proba``.

    Raises:
        InvalidInputError: skl2onnx is missing, or the model cannot be exported.
    """
    try:
        from skl2onnx import to_onnx
        from skl2onnx.common.data_types import FloatTensorType
    except ImportError:
        raise missing_onnx("Exporting to ONNX") from None
    n_features = getattr(model, "n_features_in_", None)
    if not isinstance(n_features, int):
        raise InvalidInputError(
            "model",
            "the scikit-learn model is not fitted (no n_features_in_).",
            hint="Fit it first.",
        )
    share_operator_table()
    options: dict[Any, Any] | None = None
    from sklearn.base import is_classifier

    if is_classifier(model):
        options = {id(model): {"zipmap": False}}
    try:
        return to_onnx(
            model,
            initial_types=[("input", FloatTensorType([None, n_features]))],
            options=options,
            target_opset=None,
        )
    except Exception as exc:  # skl2onnx raises many types for unsupported estimators
        raise InvalidInputError(
            "model",
            f"{type(model).__name__} could not be exported to ONNX: {exc}",
            hint="Register it with framework='sklearn' (the ONNX export is then skipped).",
        ) from None


def share_operator_table() -> bool:
    """Give every skl2onnx conversion of this process one table of ONNX's operator
    versions; answer whether it is shared.

    skl2onnx's converter container builds that table (every version of every operator
    ONNX defines) the first time a conversion looks an operator up, and a container
    lives for one conversion: most of the ~7 ms an export of a small model takes. The
    table depends only on the installed onnx, so it is built once and set on the
    container class, where each container's lookup finds it. If skl2onnx's container no
    longer has this shape nothing is changed, and exports are only slower.
    """
    from skl2onnx.common import _container

    cls = getattr(_container, "ModelComponentContainer", None)
    build = getattr(cls, "_build_op_version", None)
    if cls is None or build is None:
        return False
    if "_op_versions" not in vars(cls):
        probe = cls.__new__(cls)
        build(probe)
        table = getattr(probe, "_op_versions", None)
        if not isinstance(table, dict):
            return False
        cls._op_versions = table
    return True


def as_onnx(model: Any) -> Any:
    """``model`` as an ONNX ``ModelProto`` for the ``onnx`` framework."""
    try:
        import onnx
    except ImportError:
        raise missing_onnx("framework 'onnx'") from None
    if isinstance(model, onnx.ModelProto):
        return model
    if isinstance(model, bytes | bytearray):
        return onnx.load_model_from_string(bytes(model))
    if isinstance(model, str | Path) and str(model).endswith(".onnx") and Path(model).is_file():
        return onnx.load(str(model))
    if is_sklearn_model(model):
        return export_sklearn_to_onnx(model)
    raise InvalidInputError(
        "model",
        f"framework 'onnx' needs an onnx.ModelProto, the bytes or path of an .onnx file, or a "
        f"fitted scikit-learn model to export; got {type(model).__name__}.",
    )


def save_onnx(proto: Any, dest: Path) -> None:
    """Write ``dest/model.onnx``."""
    import onnx

    onnx.save_model(proto, str(dest / ONNX_FILE))


def write_onnx_export(model: Any, dest: Path) -> str | None:
    """Write ``dest/model.onnx`` for a scikit-learn model; return why not, if it cannot."""
    try:
        proto = export_sklearn_to_onnx(model)
    except InvalidInputError as exc:
        return exc.message
    (dest / ONNX_FILE).write_bytes(proto.SerializeToString())
    return None
