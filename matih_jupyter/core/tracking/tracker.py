"""The tenant-scoped experiment tracker.

`ExperimentTracker` wraps one `MlflowClient` bound to explicit URIs. Every method is
scoped to a tenant: experiments are ``<tenant>/<name>``, runs carry ``matih.*`` tags, and
every read re-checks that what MLflow returned belongs to the tenant, answering another
tenant's resources exactly like missing ones. Its methods are grouped by job in the
mixins it is made of (experiments, starting and writing runs, reading runs, artifacts,
recovery); the tenant rules live in `Ownership`.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..backend import client as mlc
from ..backend.bulk import collector_paused
from ..backend.workspaces import WorkspaceRouter
from ..comparison import comparison_table
from ..config import StoreConfig, default_tenant
from ..errors import InvalidInputError
from ..isolation import binds_caller, isolated_methods
from ..tenancy import validate_tenant_id
from .experiments import ExperimentsMixin
from .ownership import Ownership
from .recovery import RecoveryMixin
from .run_artifacts import RunArtifactsMixin
from .run_queries import RunList, RunQueriesMixin
from .runs import RunsMixin
from .spool import orphaned_spools
from .sweep.api import SweepsMixin

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["ExperimentTracker", "RunList"]

HEARTBEAT_INTERVAL = 30.0


@isolated_methods
class ExperimentTracker(
    ExperimentsMixin, RunsMixin, RunQueriesMixin, RunArtifactsMixin, RecoveryMixin, SweepsMixin
):
    """Tenant-scoped experiment tracking on MLflow.

    Args:
        tracking_uri: MLflow tracking URI; else ``MLFLOW_TRACKING_URI``; else the embedded
            store ``sqlite:///$MATIH_HOME/mlflow.db``.
        default_artifact_root: Where experiments keep artifacts; else
            ``MLFLOW_ARTIFACT_ROOT``; else next to the embedded store.
        registry_uri: Model registry URI; else ``MLFLOW_REGISTRY_URI``; else the tracking URI.
        tenant_id: The tenant used when a call names none; else ``MATIH_TENANT_ID``.
    """

    heartbeat_interval = HEARTBEAT_INTERVAL

    def __init__(
        self,
        tracking_uri: str | None = None,
        default_artifact_root: str | None = None,
        registry_uri: str | None = None,
        *,
        tenant_id: str | None = None,
    ) -> None:
        self.store = StoreConfig.resolve(tracking_uri, default_artifact_root, registry_uri)
        self.tracking_uri = self.store.tracking_uri
        self.registry_uri = self.store.registry_uri
        self.default_artifact_root = self.store.artifact_root or _sqlite_artifact_root(
            self.tracking_uri
        )
        self.tenant_id = validate_tenant_id(tenant_id) if tenant_id else default_tenant()
        self._client = mlc.make_client(self.store)
        # Tenants map to MLflow workspaces when the server has them (detected on first use).
        self.workspaces = WorkspaceRouter(self.tracking_uri)
        self._own = Ownership(self._client, self)
        self._local = threading.local()
        if orphaned_spools():
            threading.Thread(target=self.replay_spools, name="matih-replay", daemon=True).start()

    def __repr__(self) -> str:
        return f"<ExperimentTracker {self.store.describe()} tenant={self.tenant_id}>"

    @property
    def client(self) -> Any:
        """The underlying `MlflowClient` (for the registry; not tenant-scoped)."""
        return self._client

    # -- tenants -----------------------------------------------------------------------

    def resolve_tenant(self, tenant_id: str | None = None) -> str:
        """The tenant a call with ``tenant_id`` acts for: that one (validated), else the
        tracker's default; `InvalidInputError` when there is none."""
        return self._tenant(tenant_id)

    def _tenant(self, tenant_id: str | None) -> str:
        tenant = self.tenant_id if tenant_id is None else tenant_id
        if tenant is None:
            raise InvalidInputError(
                "tenant_id",
                "no tenant given.",
                hint="Pass tenant_id=..., or set MATIH_TENANT_ID for the process.",
            )
        return self.bind_tenant(tenant)

    @binds_caller
    def bind_tenant(self, tenant_id: str) -> str:
        """Validate ``tenant_id`` and send this thread's next MLflow calls to its workspace
        (when the server has workspaces). Every tenant-scoped call does this first."""
        tenant = validate_tenant_id(tenant_id)
        self.workspaces.bind(tenant)
        return tenant

    # -- comparison --------------------------------------------------------------------

    def compare_runs(
        self, tenant_id: str | None, run_ids: Iterable[str], metrics: Iterable[str] | None = None
    ) -> pd.DataFrame:
        """One row per run: id, name, status, start, duration, ``params.*``, ``metrics.*``.
        The runs are read together (`get_runs`), not one by one."""
        tenant = self._tenant(tenant_id)
        with collector_paused():
            return comparison_table(self.get_runs(run_ids, tenant), metrics)


def _sqlite_artifact_root(tracking_uri: str) -> str | None:
    """Artifacts next to a SQLite store (not MLflow's ``./mlruns`` in whatever folder)."""
    if tracking_uri.startswith("sqlite:///"):
        db = Path(tracking_uri[len("sqlite:///") :])
        return (db.parent / "artifacts").resolve().as_uri()
    return None
