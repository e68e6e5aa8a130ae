"""The tenant-scoped model registry on MLflow's model registry: `ModelRegistry`, whose
public methods delegate to the modules of this package, one job each.

Registered models are named ``<tenant>.<name>``. The stage of a version lives in its
``matih.stage`` tag, and the aliases ``staging`` and ``production`` point at the current
holders; MLflow's deprecated stage API is never called.

Every change of stages is one *epoch* of the model, committed with a compare-and-set so
that concurrent changes never interleave (`claim`). Each epoch stores its transition
records and the exact tag and alias writes it makes (`ops`), so `ModelRegistry.history`
can show who moved what, when and why, and a change interrupted half-way (a killed
process) is finished by the next caller instead of being left half-applied.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ..config import default_user
from ..errors import NotFoundError
from ..isolation import isolated_methods
from ..tenancy import model_full_name, validate_name
from . import aliases, champion, deletion, lifecycle, listing, loading, runs, snapshot
from .claim import DEFAULT_LEASE_SECONDS, Epochs
from .governance.api import GovernanceMixin
from .governance.enforce import Actor
from .history import history as stage_history
from .hooks import DEFAULT_HOOK_STAGES, DEFAULT_WEBHOOK_TIMEOUT, HookCallable, HookSet
from .registration import Registration, checked_inputs
from .snapshot import Snapshot
from .tags import STAGE_ALIASES
from .types import (
    ModelMetadata,
    ModelVersionInfo,
    PromotionDecision,
    TransitionRecord,
    validate_stage,
)
from .views import model_metadata, version_info

if TYPE_CHECKING:
    from ..tracking.tracker import ExperimentTracker


@isolated_methods
class ModelRegistry(GovernanceMixin):
    """Tenant-scoped model registry with a governed stage lifecycle.

    Every method takes the tenant explicitly and answers another tenant's models,
    versions and aliases exactly like missing ones (`NotFoundError`).

    **Lifecycle.** ``development -> staging -> production -> archived``, and any stage
    back to ``development`` (see `ALLOWED_TRANSITIONS`). Promoting a version to production
    archives the version that held production. The aliases ``staging`` and
    ``production`` follow the holders.

    **Concurrency.** Each stage change is an epoch ``e -> e+1`` of the model, claimed
    with an atomic rename of the model's ticket (see `claim`): exactly one caller wins
    each epoch, and every other caller whose read is now stale gets `ConflictError`
    (promotions are never retried silently, so nobody archives a production version it
    did not see). A change left half-done by a dead writer is finished (its recorded,
    idempotent writes re-applied) or aborted by the next caller after ``lease_seconds``.

    **Governance** (`GovernanceMixin`): a policy of who may move versions, gates and
    approvals, checked in every stage change; a record of each move.

    **Hooks.** `add_hook` and `add_webhook`: callables and URLs told when a version
    enters a stage. ``before=True`` hooks are gates that can veto (nothing changes); after
    hooks are notifications whose failures are warned about and recorded in the history.

    Args:
        tracker: The `ExperimentTracker` whose MLflow client and store are used
            (default: the process-wide tracker, followed when it is rebuilt).
        lease_seconds: How long a claimed epoch may stay unfinished before another caller
            finishes or aborts it.
    """

    def __init__(
        self,
        tracker: ExperimentTracker | None = None,
        *,
        lease_seconds: float = DEFAULT_LEASE_SECONDS,
    ) -> None:
        self._tracker = tracker
        self.lease_seconds = float(lease_seconds)
        self.hooks = HookSet()

    def __repr__(self) -> str:
        return f"<ModelRegistry {self.tracker.store.describe()}>"

    @property
    def tracker(self) -> ExperimentTracker:
        """The tracker given, else the process tracker (followed when it is rebuilt)."""
        if self._tracker is not None:
            return self._tracker
        from ..tracking.process_tracker import get_experiment_tracker

        return get_experiment_tracker()

    @tracker.setter
    def tracker(self, tracker: ExperimentTracker | None) -> None:
        self._tracker = tracker

    @property
    def _client(self) -> Any:
        return self.tracker.client

    @property
    def _epochs(self) -> Epochs:
        """The epoch protocol on the tracker's store (as it is now)."""
        return Epochs(self._client, self.lease_seconds)

    def _full(self, tenant_id: Any, model_id: Any) -> tuple[str, str, str]:
        """(the tenant, bound for this call; the model's name; its MLflow name)."""
        tenant = self.tracker.bind_tenant(tenant_id)
        name = validate_name(model_id, "model_id")
        return tenant, name, model_full_name(tenant, name)

    def _require(self, tenant_id: str, model_id: str) -> Snapshot:
        return snapshot.read(self._client, *self._full(tenant_id, model_id))

    # -- hooks -------------------------------------------------------------------------

    def add_hook(
        self,
        callback: HookCallable,
        *,
        stages: Iterable[str] = DEFAULT_HOOK_STAGES,
        before: bool = False,
        tenant_id: str | None = None,
        name: str | None = None,
    ) -> str:
        """Call ``callback(payload)`` when a version enters one of ``stages``.

        Args:
            callback: Gets a dict: event, tenant_id, model_id, model_name, version,
                from_stage, to_stage, user_id, reason, timestamp, run_id.
            stages: Stages whose entry triggers the hook (default staging, production).
            before: A gate run before the change: raising (or returning ``False``) refuses
                the transition and nothing changes. Otherwise the hook runs after the
                change is committed and a failure is warned about and recorded.
            tenant_id: Only for this tenant's models (default: every tenant).
            name: Shown in errors and in the history (default: the callable's name).

        Returns:
            The hook's id, for `remove_hook`.
        """
        return self.hooks.add(
            callback=callback, stages=stages, before=before, tenant_id=tenant_id, name=name
        )

    def add_webhook(
        self,
        url: str,
        *,
        stages: Iterable[str] = DEFAULT_HOOK_STAGES,
        before: bool = False,
        tenant_id: str | None = None,
        timeout: float = DEFAULT_WEBHOOK_TIMEOUT,
        headers: Mapping[str, str] | None = None,
    ) -> str:
        """POST the transition payload as JSON to ``url`` when a version enters a stage.

        A webhook fails when it does not answer 2xx within ``timeout`` seconds; the other
        arguments are as for `add_hook`.
        """
        return self.hooks.add(
            url=url, stages=stages, before=before, tenant_id=tenant_id, timeout=timeout,
            headers=headers,
        )  # fmt: skip

    def remove_hook(self, hook_id: str) -> bool:
        """Remove a hook or webhook; ``False`` if there was none with that id."""
        return self.hooks.remove(hook_id)

    # -- reading -----------------------------------------------------------------------

    def get_model(self, tenant_id: str, model_id: str) -> ModelMetadata | None:
        """The tenant's model, or ``None`` if it has none by that name."""
        tenant, name, full = self._full(tenant_id, model_id)
        try:
            return model_metadata(snapshot.read(self._client, tenant, name, full))
        except NotFoundError:
            return None

    def list_models(
        self, tenant_id: str, stage: str | None = None, framework: str | None = None
    ) -> list[ModelMetadata]:
        """The tenant's models, newest first.

        Args:
            stage: Only models whose current version (the production version, else the
                newest) is in this stage.
            framework: Only models whose current version is of this framework.
        """
        tenant = self.tracker.bind_tenant(tenant_id)
        return listing.list_models(self._client, tenant, stage, framework)

    def list_versions(self, tenant_id: str, model_id: str) -> list[ModelVersionInfo]:
        """Every version of the tenant's model, newest first."""
        snap = self._require(tenant_id, model_id)
        newest_first = sorted(snap.versions, key=int, reverse=True)
        return [version_info(snap, snap.versions[v]) for v in newest_first]

    def get_version(self, tenant_id: str, model_id: str, version: Any) -> ModelVersionInfo:
        """One version of the tenant's model."""
        snap = self._require(tenant_id, model_id)
        return version_info(snap, snap.versions[snapshot.version_in(snap, version)])

    # -- registration ------------------------------------------------------------------

    def register_model(
        self,
        tenant_id: str,
        name: str,
        model: Any,
        framework: str,
        metrics: Mapping[str, Any],
        parameters: Mapping[str, Any],
        tags: Mapping[str, Any] | None = None,
        *,
        description: str = "",
        model_type: str | None = None,
        run_id: str | None = None,
        user_id: str | None = None,
    ) -> ModelMetadata:
        """Register a model, or a new version of the tenant's model ``name``.

        The model is logged to a run in the tenant's experiment ``models.<name>`` (or to
        the tenant's run ``run_id``) with its params, metrics, MLflow flavor, ONNX export
        when possible, pinned ``requirements.txt``, ``model_card.md`` and metric history,
        then registered as ``<tenant>.<name>`` in stage ``development``.

        Args:
            tenant_id: The tenant.
            name: The model's short name (letters, digits, ' ', '_', '.', '-').
            model: A fitted scikit-learn estimator (``sklearn`` or ``onnx``), an ONNX
                ``ModelProto`` (``onnx``) or a ``torch.nn.Module`` (``pytorch``).
            framework: ``sklearn``, ``onnx`` or ``pytorch``.
            metrics: Final metrics of the model (numbers).
            parameters: Hyperparameters (JSON-able values; logged as run params; a run
                ``run_id`` already holding another value for one is a `ConflictError`).
            tags: User tags for the registered model and the version.
            description: Shown with the model and the version.
            model_type: For example classification, regression, clustering.
            run_id: Log into this existing run of the tenant instead of a new one.
            user_id: Who registers (default ``MATIH_USER_ID`` or the OS user).

        Returns:
            The model's metadata describing the version just registered:
            ``current_version`` is its number, ``stage`` is ``development``, and
            ``production_version`` is the version in production, if any.
        """
        tenant, short, full = self._full(tenant_id, name)
        inputs = checked_inputs(
            framework, metrics, parameters, tags, description, model_type, user_id
        )
        registration = Registration(self.tracker, self._epochs, self.hooks)
        return registration.register(
            tenant, short, full, model, inputs, run_id=run_id, must_exist=False
        )

    def create_version(
        self,
        tenant_id: str,
        model_id: str,
        model: Any,
        framework: str,
        metrics: Mapping[str, Any],
        parameters: Mapping[str, Any],
        tags: Mapping[str, Any] | None = None,
        *,
        run_id: str | None = None,
        user_id: str | None = None,
    ) -> ModelMetadata:
        """A new version of the tenant's existing model; `NotFoundError` if it has none.
        The result describes the new version, as for `register_model`."""
        tenant, short, full = self._full(tenant_id, model_id)
        inputs = checked_inputs(framework, metrics, parameters, tags, "", None, user_id)
        registration = Registration(self.tracker, self._epochs, self.hooks)
        return registration.register(
            tenant, short, full, model, inputs, run_id=run_id, must_exist=True
        )

    # -- transitions -------------------------------------------------------------------

    def transition_stage(
        self,
        tenant_id: str,
        model_id: str,
        version: Any,
        target_stage: str,
        reason: str | None = None,
        user_id: str | None = None,
        *,
        expected_production: str | bool | None = False,
    ) -> ModelMetadata:
        """Move one version to ``target_stage``.

        Allowed: development -> staging, staging -> production, production -> archived,
        and any other stage -> development. Promoting to production archives the version
        that held production (two records, one epoch).

        Args:
            expected_production: When not ``False``, the production version (or ``None``)
                the caller based its decision on; a different one is a `ConflictError`.

        Raises:
            LifecycleError: The move is not allowed; the message names the allowed moves.
            ConflictError: A concurrent change won, a before-hook or a policy gate refused
                the move, or it needs approval (`ApprovalRequiredError`, request filed).
            NotPermittedError: The policy does not let ``user_id`` move versions there.
            NotFoundError: No such model or version for this tenant.
        """
        tenant, name, full = self._full(tenant_id, model_id)
        target = validate_stage(target_stage, "target_stage")
        why, user = lifecycle.check_reason(reason), str(user_id or default_user())

        def plan(snap: Snapshot) -> lifecycle.Plan:
            return lifecycle.transition_plan(
                tenant, snap, version, target, why, user, expected_production
            )

        return self._governed_change(tenant, name, full, plan, Actor(user))

    def rollback(
        self, tenant_id: str, model_id: str, reason: str | None = None, user_id: str | None = None
    ) -> ModelMetadata:
        """Put back the version that was in production before the current one.

        The registry keeps the production lineage: each promotion pushes the promoted
        version, and a version leaving production without a successor (rollback, or a
        move to archived/development) is popped. A rollback moves the current
        production version to ``development`` (the lifecycle's move back from any stage)
        and restores the version below it in the lineage to ``production``, whatever
        stage it is in now, in one epoch. Repeated rollbacks walk back further: with v1,
        v2, v3 promoted in turn, two rollbacks leave v1 in production and v3, v2 in
        development.

        Raises:
            LifecycleError: No version is in production, or none was before it.
        """
        tenant, name, full = self._full(tenant_id, model_id)
        why, user = lifecycle.check_reason(reason), str(user_id or default_user())

        def plan(snap: Snapshot) -> lifecycle.Plan:
            return lifecycle.rollback_plan(tenant, snap, why, user)

        return self._governed_change(tenant, name, full, plan, Actor(user, "rollback", why))

    def history(self, tenant_id: str, model_id: str) -> list[TransitionRecord]:
        """Every recorded stage change of the tenant's model, oldest first."""
        return stage_history(self._require(tenant_id, model_id).tags)

    # -- aliases and deletion ----------------------------------------------------------

    def set_alias(
        self, tenant_id: str, model_id: str, alias: str, version: Any
    ) -> ModelVersionInfo:
        """Point a user alias (for example ``champion``) at a version of the tenant's model."""
        snap = self._require(tenant_id, model_id)
        v = aliases.set_alias(self._client, snap, alias, version)
        return version_info(snap, snap.versions[v])

    def delete_alias(self, tenant_id: str, model_id: str, alias: str) -> None:
        """Remove a user alias; `NotFoundError` if the model has no such alias."""
        aliases.delete_alias(self._client, self._require(tenant_id, model_id), alias)

    def get_version_by_alias(self, tenant_id: str, model_id: str, alias: str) -> ModelVersionInfo:
        """The version an alias (``production``, ``staging`` or a user alias) points at."""
        snap = self._require(tenant_id, model_id)
        return version_info(snap, snap.versions[aliases.version_by_alias(snap, alias)])

    def delete_model(self, tenant_id: str, model_id: str, force: bool = False) -> None:
        """Delete the tenant's model and every version (their runs and artifacts stay,
        for provenance). Refused while a version is in production unless ``force``."""
        deletion.delete_model(self._epochs, self._require(tenant_id, model_id), force)

    # -- runs, champion and challenger, loading ----------------------------------------

    def log_training_metrics(
        self, tenant_id: str, run_id: str, step: int, metrics: Mapping[str, Any]
    ) -> None:
        """Log ``metrics`` at ``step`` to the tenant's run (it may have ended)."""
        tenant = self.tracker.bind_tenant(tenant_id)
        runs.log_training_metrics(self.tracker, tenant, run_id, step, metrics)

    def compare_runs(
        self, tenant_id: str, run_ids: Sequence[str], metrics: Sequence[str]
    ) -> list[dict[str, Any]]:
        """The runs side by side: ``[{"run_id", "parameters", "metrics": {m: value|None}}]``
        (a metric a run lacks is ``None``)."""
        tenant = self.tracker.bind_tenant(tenant_id)
        return runs.compare_runs(self.tracker, tenant, run_ids, metrics)

    def promote_if_better(
        self,
        tenant_id: str,
        model_id: str,
        version: Any,
        metric: str,
        min_delta: float,
        higher_is_better: bool = True,
        *,
        user_id: str | None = None,
    ) -> PromotionDecision:
        """Promote ``version`` (the challenger) to production if it beats the current
        production version (the champion) on ``metric`` by more than ``min_delta``.

        A challenger in development goes through staging first (both moves recorded;
        if the second loses a race, the challenger stays in staging and `ConflictError`
        is raised). With no champion, the challenger is promoted. The decision is
        committed only if the champion is still the one compared against (else
        `ConflictError`). Values come from the metrics given at registration, else from
        the version's run.
        """
        snap = self._require(tenant_id, model_id)

        def move(v: str, stage: str, why: str, expected: str | None) -> None:
            self.transition_stage(
                snap.tenant, snap.name, v, stage, why, user_id, expected_production=expected
            )

        return champion.promote_if_better(
            self._client, snap, version, metric, min_delta, higher_is_better, move
        )

    def load_model(
        self,
        tenant_id: str,
        model_id: str,
        *,
        stage: str | None = None,
        alias: str | None = None,
        version: Any = None,
    ) -> Any:
        """Load a version of the tenant's model as a Python object.

        Give at most one of ``stage`` (the version holding it; for development and
        archived the newest such version), ``alias`` or ``version``; with none, the
        production version. ONNX models load as ``onnx.ModelProto``.
        """
        snap = self._require(tenant_id, model_id)
        v = loading.chosen_version(snap, stage, alias, version)
        return loading.load_version(self._client, snap, v)


__all__ = ["STAGE_ALIASES", "ModelRegistry"]
