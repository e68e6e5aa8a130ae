"""Every private MLflow API matih relies on, each behind one named accessor.

MLflow offers no public way to do these few things, so they are reached here and nowhere
else. `PINNED` lists each one with a check; the test suite runs every check, so an MLflow
upgrade that removes or renames one fails with a message naming it, before users see it.
"""

from __future__ import annotations

import contextlib
import functools
import math
import threading
from collections.abc import Callable, Collection, Iterator
from typing import Any


def registry_client(client: Any) -> Any:
    """The registry client inside an `MlflowClient`: the same writes without the extra
    read of the prompt check `MlflowClient` adds before each one."""
    return client._get_registry_client()


class SqlRegistry:
    """MLflow's SQL registry store with the private helpers its own writes use: several
    writes in one transaction have no public API (each public write commits alone)."""

    def __init__(self, store: Any) -> None:
        from mlflow.store.model_registry.dbmodels import models

        self._store = store
        #: MLflow's rows: ``SqlRegisteredModel``, ``SqlModelVersion`` and their tags
        #: (``SqlRegisteredModelTag``, ``SqlModelVersionTag``), ``SqlRegisteredModelAlias``.
        self.rows = models

    def transaction(self) -> contextlib.AbstractContextManager[Any]:
        """A write session, committed when the block ends (rolled back on an error)."""
        return self._store.ManagedSessionMaker(read_only=False)

    def reading(self) -> contextlib.AbstractContextManager[Any]:
        """A read session."""
        return self._store.ManagedSessionMaker()

    def query(self, session: Any, row: Any) -> Any:
        """A query of ``row`` in the active workspace, as MLflow's own reads make it."""
        return self._store._get_query(session, row)

    def model(self, session: Any, name: str) -> Any:
        """The registered model's row (MLflow's not-found error if none)."""
        return self._store._get_registered_model(session, name)

    def rename_model(self, session: Any, old: str, new: str, now_ms: int) -> bool:
        """Rename registered model ``old`` to ``new`` with one UPDATE; whether a row was
        renamed. Its tags, versions and aliases follow by the schema's ON UPDATE CASCADE
        (MLflow's sessions turn SQLite's foreign keys on), as in MLflow's own rename. A
        taken ``new`` raises the database's integrity error."""
        rows = self.rows.SqlRegisteredModel
        renamed = (
            self.query(session, rows)
            .filter(rows.name == old)
            .update({rows.name: new, rows.last_updated_time: now_ms}, synchronize_session=False)
        )
        return bool(renamed == 1)

    def version(self, session: Any, name: str, version: Any) -> Any:
        """The model version's row (MLflow's not-found error if none)."""
        return self._store._get_sql_model_version(session, name, version)

    def model_tags(self, session: Any, name: str, keys: Collection[str]) -> list[Any]:
        """The model's tag rows with these keys (those that exist)."""
        rows = self.rows.SqlRegisteredModelTag
        query = self.query(session, rows)
        return list(query.filter(rows.name == name, rows.key.in_(list(keys))).all())

    def versions(self, session: Any, name: str, numbers: Collection[int]) -> list[Any]:
        """The rows of these versions of the model (those that exist)."""
        rows = self.rows.SqlModelVersion
        query = self.query(session, rows)
        return list(query.filter(rows.name == name, rows.version.in_(list(numbers))).all())

    def version_tags(
        self, session: Any, name: str, numbers: Collection[int], keys: Collection[str]
    ) -> list[Any]:
        """The tag rows with these keys of these versions of the model (those that exist)."""
        rows = self.rows.SqlModelVersionTag
        query = self.query(session, rows).filter(rows.name == name)
        return list(query.filter(rows.version.in_(list(numbers)), rows.key.in_(list(keys))).all())

    def alias(self, session: Any, name: str, alias: str) -> Any:
        """The alias's row, or None."""
        return self._store._get_registered_model_alias(session, name, alias)

    # MLflow's checks of names and values, as its own writes run them first.

    @staticmethod
    def check_model_tag(key: str, value: str) -> None:
        from mlflow.utils import validation

        validation._validate_registered_model_tag(key, value)

    @staticmethod
    def check_version_tag(key: str, value: str) -> None:
        from mlflow.utils import validation

        validation._validate_model_version_tag(key, value)

    @staticmethod
    def check_alias(alias: str) -> None:
        from mlflow.utils import validation

        validation._validate_model_alias_name(alias)
        validation._validate_model_alias_name_reserved(alias)

    @staticmethod
    def version_number(version: Any) -> int:
        from mlflow.utils import validation

        return int(validation._validate_model_version(version))

    def model_tag(self, session: Any, name: str, key: str) -> Any:
        """The model tag's row, or None, locked until the transaction ends where the
        database locks rows (SQLite serialises writers instead)."""
        rows = self.rows.SqlRegisteredModelTag
        query = self.query(session, rows)
        return query.filter(rows.name == name, rows.key == key).with_for_update().one_or_none()


def sql_registry(client: Any) -> SqlRegistry | None:
    """The client's registry store when it is MLflow's SQL store, else None (a server, or
    a store without a registry, whose error MLflow raises at the first registry call)."""
    from mlflow.exceptions import MlflowException
    from mlflow.store.model_registry.sqlalchemy_store import SqlAlchemyStore

    try:
        store = registry_client(client).store
    except MlflowException:
        return None
    return SqlRegistry(store) if isinstance(store, SqlAlchemyStore) else None


def _sql_tracking_store(client: Any) -> Any | None:
    """The client's tracking store when it is MLflow's SQL store, else None."""
    from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore

    store = client._tracking_client.store
    return store if isinstance(store, SqlAlchemyStore) else None


def run_status(client: Any, run_id: str) -> str | None:
    """The run's status read as one column on MLflow's SQL tracking store (``None``: no
    such run), or, on another store, read with the whole run."""
    from mlflow.store.tracking.dbmodels.models import SqlRun

    store = _sql_tracking_store(client)
    if store is None:
        return str(client.get_run(run_id).info.status)
    with store.ManagedSessionMaker() as session:
        found = (
            store._get_query(session, SqlRun)
            .filter(SqlRun.run_uuid == run_id)
            .with_entities(SqlRun.status)
            .one_or_none()
        )
    return None if found is None else str(found[0])


def read_run(client: Any, run_id: str) -> Any | None:
    """The run as ``client.get_run`` reads it, but for its inputs and outputs (datasets,
    logged models), which an ownership check and the REST API's run never show; ``None``:
    no such run. On MLflow's SQL tracking store its columns are read in one session: MLflow's
    own read builds an ORM object per tag, param and metric and spends three more queries
    on inputs and outputs. On another store, ``get_run``."""
    store = _sql_tracking_store(client)
    if store is None:
        return client.get_run(run_id)
    from mlflow.store.tracking.dbmodels import models

    run = models.SqlRun
    with store.ManagedSessionMaker() as session:
        row = (
            store._get_query(session, run)
            .filter(run.run_uuid == run_id)
            .with_entities(*(getattr(run, c) for c in _RUN_COLUMNS))
            .one_or_none()
        )
        if row is None:
            return None
        children = [
            session.query(*(getattr(kind, c) for c in columns))
            .filter(kind.run_uuid == run_id)
            .all()
            for kind, columns in (
                (models.SqlTag, ("key", "value")),
                (models.SqlParam, ("key", "value")),
                (models.SqlLatestMetric, ("key", "value", "timestamp", "step", "is_nan")),
            )
        ]
    return _run_entity(row, *children)


#: The run's columns `read_run` reads, in `_run_entity`'s order.
_RUN_COLUMNS = (
    "run_uuid", "name", "experiment_id", "user_id", "status", "start_time", "end_time",
    "lifecycle_stage", "artifact_uri",
)  # fmt: skip


def _run_entity(row: Any, tags: list[Any], params: list[Any], metrics: list[Any]) -> Any:
    """MLflow's run entity from the columns `read_run` read, as MLflow builds it."""
    from mlflow.entities import Metric, Param, Run, RunData, RunInfo, RunTag

    run_id, name, experiment_id, user_id, status, start, end, stage, artifact_uri = row
    data = RunData(
        metrics=[Metric(k, math.nan if nan else v, ts, step) for k, v, ts, step, nan in metrics],
        params=[Param(k, v) for k, v in params],
        tags=[RunTag(k, v) for k, v in tags],
    )
    # A run created without a name has it only in its tag, as MLflow reads it.
    name = name or data.tags.get("mlflow.runName")
    info = RunInfo(
        run_id=run_id, run_name=name, experiment_id=str(experiment_id), user_id=user_id,
        status=status, start_time=start, end_time=end, lifecycle_stage=stage,
        artifact_uri=artifact_uri,
    )  # fmt: skip
    return Run(run_info=info, run_data=data)


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


_pins_trusted = threading.local()
_wrapping = threading.Lock()


def _skippable(check: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(check)
    def maybe(*args: Any, **kwargs: Any) -> Any:
        return None if getattr(_pins_trusted, "on", False) else check(*args, **kwargs)

    maybe.__matih_skippable__ = True  # type: ignore[attr-defined]
    return maybe


@contextlib.contextmanager
def requirement_check_skipped() -> Iterator[None]:
    """A block in which MLflow, saving a model on this thread, does not check the model's
    pip requirements against the installed packages: the caller's requirements are pins
    read from the installed packages, so the check (about 1 ms a package, reading each
    package's metadata again) cannot find a mismatch. Other threads still check: MLflow's
    function is wrapped once, and the wrapper calls it unless this thread is in a block."""
    from mlflow.utils import environment

    with _wrapping:
        current = environment.warn_dependency_requirement_mismatches
        if not getattr(current, "__matih_skippable__", False):
            environment.warn_dependency_requirement_mismatches = _skippable(current)
    _pins_trusted.on = True
    try:
        yield
    finally:
        _pins_trusted.on = False


def _has(module: str, *names: str) -> Callable[[], bool]:
    def check() -> bool:
        import importlib

        mod = importlib.import_module(module)
        return all(hasattr(mod, n) for n in names)

    return check


def _client_has_registry_client() -> bool:
    from mlflow.tracking import MlflowClient

    return callable(getattr(MlflowClient, "_get_registry_client", None))


def _sql_registry_helpers() -> bool:
    from mlflow.store.model_registry.sqlalchemy_store import SqlAlchemyStore

    helpers = ("_get_registered_model", "_get_sql_model_version", "_get_registered_model_alias")
    return all(callable(getattr(SqlAlchemyStore, h, None)) for h in (*helpers, "_get_query")) and (
        "ManagedSessionMaker" in SqlAlchemyStore.__init__.__code__.co_names
    )


#: The columns of MLflow's registry rows that matih reads or writes, by row.
_SQL_REGISTRY_COLUMNS = {
    "SqlRegisteredModel": ("name", "description", "creation_time", "last_updated_time"),
    "SqlModelVersion": (
        "name", "version", "run_id", "source", "description", "creation_time", "current_stage",
    ),
    "SqlRegisteredModelTag": ("workspace", "name", "key", "value"),
    "SqlModelVersionTag": ("workspace", "name", "version", "key", "value"),
    "SqlRegisteredModelAlias": ("workspace", "name", "alias", "version"),
}  # fmt: skip


def _sql_tracking_status() -> bool:
    from mlflow.store.tracking.dbmodels.models import SqlRun
    from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore
    from mlflow.tracking._tracking_service.client import TrackingServiceClient

    return (
        all(hasattr(SqlRun, c) for c in ("run_uuid", "status"))
        and callable(getattr(SqlAlchemyStore, "_get_query", None))
        and "store" in dir(TrackingServiceClient)
        and "_tracking_client" in _client_init_names()
    )


#: The columns of MLflow's tracking rows that `read_run` reads, by row.
_SQL_TRACKING_COLUMNS = {
    "SqlRun": _RUN_COLUMNS,
    "SqlTag": ("run_uuid", "key", "value"),
    "SqlParam": ("run_uuid", "key", "value"),
    "SqlLatestMetric": ("run_uuid", "key", "value", "timestamp", "step", "is_nan"),
}


def _sql_tracking_rows() -> bool:
    from mlflow.store.tracking.dbmodels import models

    return _sql_tracking_status() and _has_columns(models, _SQL_TRACKING_COLUMNS)


def _client_init_names() -> tuple[str, ...]:
    from mlflow.tracking import MlflowClient

    return MlflowClient.__init__.__code__.co_names


def _sql_registry_rows() -> bool:
    from mlflow.store.model_registry.dbmodels import models

    return _has_columns(models, _SQL_REGISTRY_COLUMNS)


def _has_columns(models: Any, columns: dict[str, tuple[str, ...]]) -> bool:
    """Whether each row class of ``models`` named in ``columns`` has those columns."""
    return all(
        all(hasattr(getattr(models, row, None), column) for column in names)
        for row, names in columns.items()
    )


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
        "sql_registry (SqlRegistry)",
        "mlflow.store.model_registry.sqlalchemy_store.SqlAlchemyStore (ManagedSessionMaker, "
        "_get_registered_model, _get_sql_model_version, _get_registered_model_alias, _get_query)",
        _sql_registry_helpers,
    ),
    (
        "sql_registry: rows",
        "mlflow.store.model_registry.dbmodels.models (SqlRegisteredModel, SqlModelVersion, "
        "SqlRegisteredModelTag, SqlModelVersionTag, SqlRegisteredModelAlias)",
        _sql_registry_rows,
    ),
    (
        "sql_registry: checks",
        "mlflow.utils.validation (_validate_registered_model_tag, _validate_model_version_tag, "
        "_validate_model_alias_name, _validate_model_alias_name_reserved, _validate_model_version)",
        _has(
            "mlflow.utils.validation",
            "_validate_registered_model_tag",
            "_validate_model_version_tag",
            "_validate_model_alias_name",
            "_validate_model_alias_name_reserved",
            "_validate_model_version",
        ),
    ),
    (
        "run_status",
        "mlflow.tracking.MlflowClient._tracking_client.store, and on the SQL store "
        "SqlAlchemyStore._get_query and mlflow.store.tracking.dbmodels.models.SqlRun "
        "(run_uuid, status)",
        _sql_tracking_status,
    ),
    (
        "read_run",
        "on the SQL store SqlAlchemyStore.ManagedSessionMaker and _get_query, and "
        "mlflow.store.tracking.dbmodels.models (SqlRun, SqlTag, SqlParam, SqlLatestMetric)",
        _sql_tracking_rows,
    ),
    (
        "requirement_check_skipped",
        "mlflow.utils.environment.warn_dependency_requirement_mismatches (called by the "
        "flavors' save_model through _process_pip_requirements)",
        _has("mlflow.utils.environment", "warn_dependency_requirement_mismatches"),
    ),
    (
        "wrap_sklearn_training_metrics",
        "mlflow.sklearn.utils._get_metrics_value_dict",
        _has("mlflow.sklearn.utils", "_get_metrics_value_dict"),
    ),
]
