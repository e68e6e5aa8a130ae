"""Every private MLflow API matih relies on, each behind one named accessor.

MLflow offers no public way to do these few things, so they are reached here and nowhere
else. `PINNED` lists each one with a check; the test suite runs every check, so an MLflow
upgrade that removes or renames one fails with a message naming it, before users see it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any


def registry_client(client: Any) -> Any:
    """The registry client inside an `MlflowClient`: the same writes without the extra
    read of the prompt check `MlflowClient` adds before each one."""
    return client._get_registry_client()


def _tracking_utils() -> Any:
    from mlflow.tracking._tracking_service import utils

    return utils


def _registry_utils() -> Any:
    from mlflow.tracking._model_registry import utils

    return utils


def _fluent() -> Any:
    from mlflow.tracking import fluent

    return fluent


def fluent_globals() -> dict[str, Any]:
    """The raw values of the fluent API's process-wide tracking URI, registry URI and
    active experiment (unset ones are None), so they can be restored exactly."""
    return {
        "tracking_uri": _tracking_utils()._tracking_uri,
        "registry_uri": _registry_utils()._registry_uri,
        "experiment_id": _fluent()._active_experiment_id,
    }


def set_fluent_globals(tracking_uri: Any, registry_uri: Any, experiment_id: Any) -> None:
    """Write the three fluent globals back as they were (None means unset)."""
    _tracking_utils()._tracking_uri = tracking_uri
    _registry_utils()._registry_uri = registry_uri
    _fluent()._active_experiment_id = experiment_id


def request_workspace(name: str) -> contextlib.AbstractContextManager[str | None]:
    """A block whose MLflow requests (this thread or task) go to workspace ``name``; it
    sets only the context variable the REST client reads, never ``MLFLOW_WORKSPACE`` in
    the process environment."""
    from mlflow.utils.workspace_context import ServerWorkspaceContext

    return ServerWorkspaceContext(name)


def bind_request_workspace(name: str) -> None:
    """Send this context's MLflow requests to workspace ``name`` until bound again."""
    from mlflow.utils.workspace_context import set_server_request_workspace

    set_server_request_workspace(name)


def current_request_workspace() -> str | None:
    """The workspace this context's MLflow requests go to (None: the server's default)."""
    from mlflow.utils.workspace_context import get_request_workspace

    return get_request_workspace()


def wrap_sklearn_training_metrics(wrap: Callable[[Any], Any]) -> Callable[[], None]:
    """Replace the function MLflow's scikit-learn autologging computes a fit's training
    metrics with by ``wrap(original)``; return what puts the original back. A no-op when
    MLflow's scikit-learn flavour cannot be imported (no scikit-learn)."""
    try:
        from mlflow.sklearn import utils
    except ImportError:
        return lambda: None
    original = utils._get_metrics_value_dict
    utils._get_metrics_value_dict = wrap(original)

    def unwrap() -> None:
        utils._get_metrics_value_dict = original

    return unwrap


def _has(module: str, *names: str) -> Callable[[], bool]:
    def check() -> bool:
        import importlib

        mod = importlib.import_module(module)
        return all(hasattr(mod, n) for n in names)

    return check


def _client_has_registry_client() -> bool:
    from mlflow.tracking import MlflowClient

    return callable(getattr(MlflowClient, "_get_registry_client", None))


#: (what, where it lives, check) for each private API above.
PINNED: list[tuple[str, str, Callable[[], bool]]] = [
    (
        "registry_client",
        "mlflow.tracking.MlflowClient._get_registry_client",
        _client_has_registry_client,
    ),
    (
        "fluent_globals: tracking URI",
        "mlflow.tracking._tracking_service.utils._tracking_uri",
        _has("mlflow.tracking._tracking_service.utils", "_tracking_uri"),
    ),
    (
        "fluent_globals: registry URI",
        "mlflow.tracking._model_registry.utils._registry_uri",
        _has("mlflow.tracking._model_registry.utils", "_registry_uri"),
    ),
    (
        "fluent_globals: active experiment",
        "mlflow.tracking.fluent._active_experiment_id",
        _has("mlflow.tracking.fluent", "_active_experiment_id"),
    ),
    (
        "request_workspace / bind_request_workspace / current_request_workspace",
        "mlflow.utils.workspace_context (ServerWorkspaceContext, "
        "set_server_request_workspace, get_request_workspace)",
        _has(
            "mlflow.utils.workspace_context",
            "ServerWorkspaceContext",
            "set_server_request_workspace",
            "get_request_workspace",
        ),
    ),
    (
        "wrap_sklearn_training_metrics",
        "mlflow.sklearn.utils._get_metrics_value_dict",
        _has("mlflow.sklearn.utils", "_get_metrics_value_dict"),
    ),
]
