"""The tracker's experiments: ``<tenant>/<name>``, created on first use, archived and
restored, listed for one tenant only."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..backend import convert
from ..backend.bulk import gc_paused
from ..backend.error_map import translate_errors
from ..config import default_user
from ..errors import ConflictError
from ..isolation import isolated_methods
from ..models import ExperimentCreate, ExperimentResponse
from ..tenancy import TAG_JOB, TAG_SHORT_NAME, TAG_TENANT, TAG_USER, experiment_full_name
from .run_config import ExperimentConfig
from .run_tags import TAG_NOTE

if TYPE_CHECKING:
    from .ownership import Ownership


@isolated_methods
class ExperimentsMixin:
    """Experiment methods of `ExperimentTracker`."""

    _own: Ownership
    _client: Any
    default_artifact_root: str | None

    _tenant: Callable[[str | None], str]

    def get_or_create_experiment(
        self,
        name: str,
        tenant_id: str | None = None,
        *,
        user_id: str | None = None,
        job_id: str | None = None,
    ) -> str:
        """The id of the tenant's experiment ``name``, created on first use."""
        tenant = self._tenant(tenant_id)
        cached = self._own.experiment_ids.get((tenant, name))
        if cached:
            return cached
        full = experiment_full_name(tenant, name)
        exp = self._own.by_name(full)
        if exp is None:
            try:
                config = ExperimentConfig(
                    name=name, tenant_id=tenant, user_id=user_id, job_id=job_id
                )
                return self.create_experiment(config).id
            except ConflictError:  # another process created it first: use theirs
                exp = self._own.by_name(full)
                if exp is None:
                    raise
        self._own.check_owned(exp, tenant, f"Experiment '{name}'")
        if exp.lifecycle_stage != "active":
            raise ConflictError(
                f"Experiment '{name}' of tenant '{tenant}' is archived.",
                hint="Restore it with tracker.restore_experiment(...) or choose another name.",
            )
        self._own.remember(tenant, name, str(exp.experiment_id))
        return str(exp.experiment_id)

    def create_experiment(
        self, config: ExperimentConfig | ExperimentCreate, tenant_id: str | None = None
    ) -> ExperimentResponse:
        """Create the tenant's experiment; `ConflictError` if the name is taken."""
        if tenant_id is None:
            tenant_id = getattr(config, "tenant_id", None)
        tenant = self._tenant(tenant_id)
        full = experiment_full_name(tenant, config.name)
        tags = {
            **config.tags,
            TAG_TENANT: tenant,
            TAG_SHORT_NAME: config.name,
            TAG_USER: getattr(config, "user_id", None) or default_user(),
        }
        job = getattr(config, "job_id", None)
        if job:
            tags[TAG_JOB] = str(job)
        if config.description:
            tags[TAG_NOTE] = config.description
        location = config.artifact_location
        if not location and self.default_artifact_root:
            location = f"{self.default_artifact_root.rstrip('/')}/{tenant}/{uuid.uuid4().hex}"
        with translate_errors(f"creating experiment '{full}'"):
            exp_id = self._client.create_experiment(full, artifact_location=location, tags=tags)
        self._own.remember(tenant, config.name, exp_id)
        return self.get_experiment(exp_id, tenant)

    @gc_paused
    def get_experiment(
        self, experiment_id: str, tenant_id: str | None = None
    ) -> ExperimentResponse:
        """The tenant's experiment by id; `NotFoundError` for missing or foreign ids."""
        tenant = self._tenant(tenant_id)
        return convert.experiment_response(self._own.experiment(experiment_id, tenant))

    def get_experiment_by_name(self, name: str, tenant_id: str | None = None) -> ExperimentResponse:
        tenant = self._tenant(tenant_id)
        exp = self._own.by_name(experiment_full_name(tenant, name))
        self._own.check_owned(exp, tenant, f"Experiment '{name}'")
        return convert.experiment_response(exp)

    @gc_paused
    def list_experiments(
        self, tenant_id: str | None = None, include_archived: bool = False
    ) -> list[ExperimentResponse]:
        """The tenant's experiments, newest first."""
        tenant = self._tenant(tenant_id)
        found = self._own.tenant_experiments(tenant, include_archived)
        return [convert.experiment_response(e) for e in found]

    def archive_experiment(
        self, experiment_id: str, tenant_id: str | None = None
    ) -> ExperimentResponse:
        """Soft-delete the tenant's experiment (MLflow's deleted stage; restorable)."""
        tenant = self._tenant(tenant_id)
        exp = self._own.experiment(experiment_id, tenant)
        if exp.lifecycle_stage == "active":
            with translate_errors(f"archiving experiment '{exp.name}'"):
                self._client.delete_experiment(exp.experiment_id)
        self._own.forget(str(exp.experiment_id))
        return self.get_experiment(exp.experiment_id, tenant)

    def restore_experiment(
        self, experiment_id: str, tenant_id: str | None = None
    ) -> ExperimentResponse:
        tenant = self._tenant(tenant_id)
        exp = self._own.experiment(experiment_id, tenant)
        if exp.lifecycle_stage != "active":
            with translate_errors(f"restoring experiment '{exp.name}'"):
                self._client.restore_experiment(exp.experiment_id)
        return self.get_experiment(exp.experiment_id, tenant)
