"""The tenant-scoped model registry (seeds 002, 003 and 004) on MLflow's model registry.

Registered models are named ``<tenant>.<name>`` (guide section 2). The stage of a version
lives in its ``matih.stage`` tag, and the aliases ``staging`` and ``production`` point at
the current holders; MLflow's deprecated stage API is never called.

Every change of stages is one *epoch* of the model, committed with a compare-and-set so
that concurrent changes never interleave (see `ModelRegistry` for the protocol). Each
epoch stores its transition records and the exact tag and alias writes it makes, so
`ModelRegistry.history` can show who moved what, when and why, and a change interrupted
half-way (a killed process) is finished by the next caller instead of being left
half-applied.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import math
import numbers
import random
import re
import tempfile
import threading
import time
import uuid
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..backend import client as mlc
from ..backend import convert
from ..backend.error_map import translate_errors
from ..backend.paging import all_pages
from ..config import default_user
from ..errors import (
    BackendUnavailableError,
    ConflictError,
    InvalidInputError,
    LifecycleError,
    MatihError,
    NotFoundError,
)
from ..isolation import isolated_methods
from ..tenancy import (
    RESERVED_TAG_PREFIX,
    TAG_SHORT_NAME,
    TAG_TENANT,
    model_full_name,
    quote_filter_value,
    validate_key,
    validate_name,
    validate_param,
    validate_user_tag,
)
from . import artifacts as art
from .hooks import (
    DEFAULT_HOOK_STAGES,
    DEFAULT_WEBHOOK_TIMEOUT,
    HookCallable,
    HookFailureWarning,
    HookSet,
)
from .types import (
    ALLOWED_TRANSITIONS,
    ModelMetadata,
    ModelVersionInfo,
    PromotionDecision,
    TransitionRecord,
    validate_stage,
)

if TYPE_CHECKING:
    from ..tracking.tracker import ExperimentTracker

TAG_STAGE = "matih.stage"
TAG_FRAMEWORK = "matih.framework"
TAG_MODEL_TYPE = "matih.model_type"
TAG_CREATED_BY = "matih.created_by"
TAG_METRICS = "matih.metrics"
TAG_PARAMS = "matih.params"
TAG_ARTIFACT_PATH = "matih.artifact_path"
TAG_ONNX = "matih.onnx"
TAG_EPOCH = "matih.epoch"
TAG_TX = "matih.tx."
TAG_HOOKS = "matih.hooks."
TAG_CURRENT = "matih.current"
TAG_LINEAGE = "matih.production_lineage"
TAG_LOCK_OF = "matih.lock_of"

#: Aliases the lifecycle owns; users move them with `ModelRegistry.transition_stage`.
STAGE_ALIASES = ("production", "staging")
_ALIAS_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_\-]{0,63}$")
_VERSION_RE = re.compile(r"^[1-9][0-9]{0,9}$")
#: Separator of a model's lock ticket; user names cannot contain it.
_TICKET_SEP = "~epoch~"
DEFAULT_LEASE_SECONDS = 30.0
_REGISTER_RETRIES = 40
_MODEL_TYPE_MAX = 100


def _now_iso() -> str:
    return dt.datetime.now(dt.UTC).isoformat()


def _iso(ms: int | None) -> str:
    return convert.iso(ms) or ""


def _dumps(value: Any) -> str:
    return art.dumps(value)


def _loads(text: str | None, default: Any) -> Any:
    if not text:
        return default
    try:
        return json.loads(text)
    except ValueError:
        return default


@dataclass
class _Snapshot:
    """One consistent-enough read of a model; the claim decides whether it still holds."""

    full: str
    name: str
    rm: Any
    tags: dict[str, str]
    versions: dict[str, Any]
    epoch: int
    aliases: dict[str, str] = field(default_factory=dict)

    def stage(self, version: str) -> str:
        return str(self.versions[version].tags.get(TAG_STAGE, "development"))

    def holders(self, stage: str) -> list[str]:
        return sorted((v for v in self.versions if self.stage(v) == stage), key=int)

    def lineage(self) -> list[str]:
        return [str(v) for v in _loads(self.tags.get(TAG_LINEAGE), [])]


@dataclass
class _Plan:
    """What one epoch does: its records, its writes, and what hooks are told."""

    records: list[TransitionRecord]
    ops: list[list[str]]
    payloads: list[dict[str, Any]]
    changed_versions: list[str]


@isolated_methods
class ModelRegistry:
    """Tenant-scoped model registry with a governed stage lifecycle (seeds 002-004).

    Every method takes the tenant explicitly and answers another tenant's models,
    versions and aliases exactly like missing ones (`NotFoundError`).

    **Lifecycle.** ``development -> staging -> production -> archived``, and any stage
    back to ``development`` (see `ALLOWED_TRANSITIONS`). Promoting a version to production
    archives the version that held production. The aliases ``staging`` and
    ``production`` follow the holders.

    **Concurrency.** Each stage change is an epoch ``e -> e+1`` of the model. A caller
    reads the model (its ``matih.epoch`` tag first, then its versions), validates the
    change against that read, and then claims the epoch by renaming the model's ticket
    (a hidden registered model ``<model>~epoch~<e>``) to ``...~epoch~<e+1>``. The backend
    renames atomically, so exactly one caller wins each epoch; every other caller whose
    read is now stale gets `ConflictError` (promotions are never retried silently, so
    nobody archives a production version it did not see). The winner writes its records
    and ops into the tag ``matih.tx.<e+1>``, applies the ops and sets ``matih.epoch``. If
    the winner dies half-way, the next caller after ``lease_seconds`` re-applies the
    recorded ops (they are idempotent) or, without a record, closes the epoch as aborted.

    **Hooks.** `add_hook` and `add_webhook` register callables and URLs called with a
    JSON payload when a version enters a stage (default staging and production).
    ``before=True`` hooks are gates that can veto (nothing changes); after hooks are
    notifications whose failures are warned about and recorded in the history.

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
        self._local = threading.local()

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
    def _writer(self) -> Any:
        """MLflow's registry client under `MlflowClient`: the same calls without the
        prompt check `MlflowClient` adds to each write (one extra read per write)."""
        return mlc.registry_writer(self._client)

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

    def _not_found(self, name: Any, tenant: str) -> NotFoundError:
        return NotFoundError(f"Model '{name}' was not found for tenant '{tenant}'.")

    def _full(self, tenant_id: Any, model_id: Any) -> tuple[str, str, str]:
        tenant = self.tracker.bind_tenant(tenant_id)
        name = validate_name(model_id, "model_id")
        return tenant, name, model_full_name(tenant, name)

    def _owned(self, rm: Any, tenant: str, name: str) -> bool:
        tags = rm.tags or {}
        return (
            rm.name == f"{tenant}.{name}"
            and tags.get(TAG_TENANT) == tenant
            and tags.get(TAG_SHORT_NAME) == name
        )

    def _registered(self, full: str) -> Any:
        """The registered model named exactly ``full``, or ``None``."""
        try:
            with translate_errors(f"reading model '{full}'", not_found="missing"):
                return self._client.get_registered_model(full)
        except NotFoundError:
            return None

    def _versions(self, full: str) -> dict[str, Any]:
        with translate_errors(f"listing versions of '{full}'"):
            pages = all_pages(
                self._client.search_model_versions,
                filter_string=f"name = {quote_filter_value(full)}",
                max_results=10000,
            )
        return {str(mv.version): mv for mv in pages if mv.name == full}

    def _read(self, tenant: str, name: str, full: str) -> _Snapshot:
        rm = self._registered(full)
        if rm is None or not self._owned(rm, tenant, name):
            raise self._not_found(name, tenant)
        tags = dict(rm.tags or {})
        versions = {
            v: mv for v, mv in self._versions(full).items() if mv.tags.get(TAG_TENANT) == tenant
        }
        return _Snapshot(
            full=full,
            name=name,
            rm=rm,
            tags=tags,
            versions=versions,
            epoch=int(tags.get(TAG_EPOCH, "0") or 0),
            aliases={str(k): str(v) for k, v in (rm.aliases or {}).items()},
        )

    def get_model(self, tenant_id: str, model_id: str) -> ModelMetadata | None:
        """The tenant's model, or ``None`` if it has none by that name."""
        tenant, name, full = self._full(tenant_id, model_id)
        try:
            snap = self._read(tenant, name, full)
        except NotFoundError:
            return None
        return self._metadata(snap)

    def _require(self, tenant_id: str, model_id: str) -> _Snapshot:
        tenant, name, full = self._full(tenant_id, model_id)
        return self._read(tenant, name, full)

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
        clauses = [f"tags.`{TAG_TENANT}` = {quote_filter_value(tenant)}"]
        if stage is not None:
            clauses.append(f"tags.`{TAG_STAGE}` = {quote_filter_value(validate_stage(stage))}")
        if framework is not None:
            fw = art.validate_framework(framework)
            clauses.append(f"tags.`{TAG_FRAMEWORK}` = {quote_filter_value(fw)}")
        with translate_errors(f"listing models of tenant '{tenant}'"):
            found = all_pages(
                self._client.search_registered_models,
                filter_string=" AND ".join(clauses),
                max_results=1000,
                order_by=["timestamp DESC"],
            )
        out = []
        for rm in found:
            tags = rm.tags or {}
            short = tags.get(TAG_SHORT_NAME, "")
            if not isinstance(short, str) or not self._owned(rm, tenant, short):
                continue
            if stage is not None and tags.get(TAG_STAGE) != validate_stage(stage):
                continue
            out.append(self._summary_metadata(rm, tenant, short))
        return out

    def list_versions(self, tenant_id: str, model_id: str) -> list[ModelVersionInfo]:
        """Every version of the tenant's model, newest first."""
        snap = self._require(tenant_id, model_id)
        return [
            self._version_info(snap, snap.versions[v])
            for v in sorted(snap.versions, key=int, reverse=True)
        ]

    def get_version(self, tenant_id: str, model_id: str, version: Any) -> ModelVersionInfo:
        """One version of the tenant's model."""
        snap = self._require(tenant_id, model_id)
        return self._version_info(snap, snap.versions[self._version(snap, version)])

    def _version(self, snap: _Snapshot, version: Any) -> str:
        text = str(version).strip() if isinstance(version, str | int) else ""
        if isinstance(version, bool) or not _VERSION_RE.match(text) or text not in snap.versions:
            raise NotFoundError(
                f"Version {version!r} of model '{snap.name}' was not found.",
                hint=f"Versions: {', '.join(sorted(snap.versions, key=int)) or 'none'}.",
            )
        return text

    @staticmethod
    def _user_tags(tags: Mapping[str, str]) -> dict[str, str]:
        return {
            k: v
            for k, v in tags.items()
            if not k.startswith(RESERVED_TAG_PREFIX) and not k.startswith("mlflow.")
        }

    def _version_info(self, snap: _Snapshot, mv: Any) -> ModelVersionInfo:
        tags = mv.tags or {}
        return ModelVersionInfo(
            model_id=snap.name,
            version=str(mv.version),
            stage=tags.get(TAG_STAGE, "development"),
            aliases=sorted(a for a, v in snap.aliases.items() if v == str(mv.version)),
            run_id=mv.run_id,
            metrics=_loads(tags.get(TAG_METRICS), {}),
            parameters=_loads(tags.get(TAG_PARAMS), {}),
            framework=tags.get(TAG_FRAMEWORK, ""),
            created_at=_iso(mv.creation_timestamp),
            created_by=tags.get(TAG_CREATED_BY, ""),
            artifact_uri=self._artifact_uri(mv),
            description=mv.description or "",
        )

    @staticmethod
    def _artifact_uri(mv: Any) -> str:
        source = str(mv.source or "")
        suffix = "/" + art.MODEL_DIR
        return source[: -len(suffix)] if source.endswith(suffix) else source

    def _summary(
        self, snap: _Snapshot, stages: Mapping[str, str], version: str | None = None
    ) -> dict[str, Any]:
        """The summary of ``version`` (default: the current version: the production
        version, else the newest), with the stages after a change."""
        if not snap.versions:
            return {}
        prod = [v for v, s in stages.items() if s == "production"]
        current = version or (prod[0] if prod else max(snap.versions, key=int))
        mv = snap.versions[current]
        tags = mv.tags or {}
        return {
            "version": current,
            "stage": stages.get(current, "development"),
            "framework": tags.get(TAG_FRAMEWORK, ""),
            "metrics": _loads(tags.get(TAG_METRICS), {}),
            "parameters": _loads(tags.get(TAG_PARAMS), {}),
            "run_id": mv.run_id,
            "artifact_uri": self._artifact_uri(mv),
            "versions": sorted(snap.versions, key=int),
        }

    def _metadata(self, snap: _Snapshot, version: str | None = None) -> ModelMetadata:
        """The model as read, describing ``version`` (default: the current version)."""
        stages = {v: snap.stage(v) for v in snap.versions}
        summary = self._summary(snap, stages, version)
        prod = [v for v, s in stages.items() if s == "production"]
        return self._build(snap.rm, snap.name, summary, snap.aliases, prod[0] if prod else None)

    def _summary_metadata(self, rm: Any, tenant: str, name: str) -> ModelMetadata:
        summary = _loads((rm.tags or {}).get(TAG_CURRENT), {})
        aliases = {str(k): str(v) for k, v in (rm.aliases or {}).items()}
        production = str(summary["version"]) if summary.get("stage") == "production" else None
        return self._build(rm, name, summary, aliases, production)

    def _build(
        self,
        rm: Any,
        name: str,
        summary: Mapping[str, Any],
        aliases: Mapping[str, str],
        production: str | None,
    ) -> ModelMetadata:
        tags = rm.tags or {}
        return ModelMetadata(
            model_id=name,
            tenant_id=tags.get(TAG_TENANT, ""),
            name=name,
            description=rm.description or "",
            model_type=tags.get(TAG_MODEL_TYPE, ""),
            framework=str(summary.get("framework") or tags.get(TAG_FRAMEWORK, "")),
            current_version=str(summary.get("version", "")),
            production_version=production,
            versions=[str(v) for v in summary.get("versions", [])],
            stage=str(summary.get("stage") or tags.get(TAG_STAGE, "development")),
            metrics=dict(summary.get("metrics") or {}),
            parameters=dict(summary.get("parameters") or {}),
            tags=self._user_tags(tags),
            created_at=_iso(rm.creation_timestamp),
            updated_at=_iso(rm.last_updated_timestamp or rm.creation_timestamp),
            created_by=tags.get(TAG_CREATED_BY, ""),
            artifact_uri=str(summary.get("artifact_uri") or ""),
            run_id=summary.get("run_id"),
            aliases=dict(aliases),
        )

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
        """Register a model, or a new version of the tenant's model ``name`` (seed 002).

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
            parameters: Hyperparameters (JSON-able values; logged as run params).
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
        return self._register(
            tenant, short, full, model, framework, metrics, parameters, tags,
            description=description, model_type=model_type, run_id=run_id, user_id=user_id,
            must_exist=False,
        )  # fmt: skip

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
        return self._register(
            tenant, short, full, model, framework, metrics, parameters, tags,
            description="", model_type=None, run_id=run_id, user_id=user_id, must_exist=True,
        )  # fmt: skip

    @staticmethod
    def _clean_metrics(metrics: Any) -> dict[str, float]:
        if metrics is None:
            return {}
        if not isinstance(metrics, Mapping):
            raise InvalidInputError("metrics", "expected a dict of name -> number.")
        out = {}
        for key, value in metrics.items():
            validate_key(key, "metric key")
            if isinstance(value, bool) or not isinstance(value, numbers.Real):
                item = getattr(value, "item", None)
                if callable(item) and getattr(value, "ndim", 0) == 0:
                    value = item()
                if isinstance(value, bool) or not isinstance(value, numbers.Real):
                    raise InvalidInputError(
                        "metrics", f"{key!r} is {value!r}; metric values must be numbers."
                    )
            out[key] = float(value)
        return out

    @staticmethod
    def _clean_params(parameters: Any) -> tuple[dict[str, Any], dict[str, str]]:
        if parameters is None:
            return {}, {}
        if not isinstance(parameters, Mapping):
            raise InvalidInputError("parameters", "expected a dict of name -> value.")
        values: dict[str, Any] = {}
        texts: dict[str, str] = {}
        for key, value in parameters.items():
            k, text = validate_param(key, value)
            texts[k] = text
            try:
                json.dumps(value, allow_nan=False)
                values[k] = value
            except (TypeError, ValueError):
                values[k] = text
        return values, texts

    def _register(
        self,
        tenant: str,
        name: str,
        full: str,
        model: Any,
        framework: str,
        metrics: Mapping[str, Any],
        parameters: Mapping[str, Any],
        tags: Mapping[str, Any] | None,
        *,
        description: str,
        model_type: str | None,
        run_id: str | None,
        user_id: str | None,
        must_exist: bool,
    ) -> ModelMetadata:
        fw = art.validate_framework(framework)
        clean_metrics = self._clean_metrics(metrics)
        param_values, param_texts = self._clean_params(parameters)
        user_tags = dict(validate_user_tag(k, v) for k, v in (tags or {}).items())
        if not isinstance(description, str) or len(description) > 5000:
            raise InvalidInputError("description", "expected text of at most 5000 characters.")
        if model_type is not None and (
            not isinstance(model_type, str) or len(model_type) > _MODEL_TYPE_MAX
        ):
            raise InvalidInputError(
                "model_type", f"expected text of at most {_MODEL_TYPE_MAX} characters."
            )
        user = str(user_id or default_user())
        rm = self._registered(full)
        if rm is not None and not self._owned(rm, tenant, name):
            # A model MLflow holds under this name that matih did not create for this
            # tenant: never adopt it.
            raise ConflictError(
                f"The name '{name}' is taken in MLflow by a model matih does not manage "
                f"for tenant '{tenant}'.",
                hint="Choose another name.",
            )
        if rm is None and must_exist:
            raise self._not_found(name, tenant)

        with tempfile.TemporaryDirectory(prefix="matih-model-") as tmp:
            dest = Path(tmp)
            onnx_note, _ = art.save_model(model, fw, dest)
            art.write_requirements(dest, fw, onnx_note is None)
            with self._producing_run(
                tenant, name, run_id, user, description, param_texts, clean_metrics
            ) as (run, prefix):
                with translate_errors(f"uploading the model to run {run.info.run_id}"):
                    folder = prefix.rstrip("/") or None
                    self._client.log_artifacts(run.info.run_id, str(dest), folder)
                    history = art.metrics_history(
                        self._client,
                        run.info.run_id,
                        list(self._client.get_run(run.info.run_id).data.metrics),
                    )
                    self._client.log_dict(
                        run.info.run_id, history, f"{prefix}{art.METRICS_HISTORY_FILE}"
                    )
                rm = self._ensure_registered(
                    tenant, name, full, fw, model_type, user, description, user_tags
                )
                version_tags = {
                    **user_tags,
                    TAG_TENANT: tenant,
                    TAG_SHORT_NAME: name,
                    TAG_STAGE: "development",
                    TAG_FRAMEWORK: fw,
                    TAG_CREATED_BY: user,
                    TAG_METRICS: _dumps(clean_metrics),
                    TAG_PARAMS: _dumps(param_values),
                    TAG_ARTIFACT_PATH: prefix,
                    TAG_ONNX: "true" if onnx_note is None else onnx_note[:500],
                }
                if model_type:
                    version_tags[TAG_MODEL_TYPE] = model_type
                source = f"{run.info.artifact_uri.rstrip('/')}/{prefix}{art.MODEL_DIR}"
                with translate_errors(f"registering a version of '{full}'"):
                    mv = self._client.create_model_version(
                        full,
                        source,
                        run_id=run.info.run_id,
                        tags=version_tags,
                        description=description or None,
                    )
                version = str(mv.version)

                def plan(snap: _Snapshot) -> _Plan:
                    if version not in snap.versions:  # pragma: no cover - read after write
                        raise ConflictError(f"Version {version} of '{name}' is not visible yet.")
                    record = TransitionRecord(
                        version=version,
                        from_stage=None,
                        to_stage="development",
                        user_id=user,
                        timestamp=_now_iso(),
                        reason="registered",
                    )
                    stages = {v: snap.stage(v) for v in snap.versions}
                    ops = [["v", version, TAG_STAGE, "development"], *self._model_ops(snap, stages)]
                    ops = self._prune(snap, ops)
                    return _Plan([record], ops, [], [version])

                self._transact(tenant, name, full, plan, retries=_REGISTER_RETRIES)
                snap = self._read(tenant, name, full)
                self._write_card(tenant, snap, version)
        return self._metadata(snap, version)

    @contextlib.contextmanager
    def _producing_run(
        self,
        tenant: str,
        name: str,
        run_id: str | None,
        user: str,
        description: str,
        params: Mapping[str, str],
        metrics: Mapping[str, float],
    ) -> Iterator[tuple[Any, str]]:
        """The run a version is logged to: a new one (artifacts at its root), or the
        tenant's run ``run_id`` (artifacts under ``registered_models/<name>/<id>/``)."""
        from ..tracking.run_config import RunConfig

        if run_id is not None:
            existing = self.tracker.get_run(run_id, tenant, include_artifacts=False)
            clashes = {
                k: (existing.params[k], v)
                for k, v in params.items()
                if k in existing.params and existing.params[k] != v
            }
            if clashes:
                raise ConflictError(
                    f"Run {run_id} already has different values for params "
                    f"{', '.join(sorted(clashes))}.",
                    hint="Params are write-once; register from a new run.",
                )
            new_params = {k: v for k, v in params.items() if k not in existing.params}
            # The tracker's log_batch needs a RUNNING run; a finished training run may
            # still receive the model's final metrics, so write with the client.
            now = int(time.time() * 1000)
            m, p, t = convert.entities(
                [(k, v, now, 0) for k, v in metrics.items()], list(new_params.items()), []
            )
            for i in range(0, max(len(m), len(p), 1), 100):
                with translate_errors(f"logging to run {run_id}"):
                    self._client.log_batch(
                        run_id,
                        metrics=m[i : i + 100],
                        params=p[i : i + 100],
                        tags=t,
                        synchronous=True,
                    )
            with translate_errors(f"reading run {run_id}"):
                run = self._client.get_run(run_id)
            yield run, f"registered_models/{name.replace(' ', '_')}/{uuid.uuid4().hex[:12]}/"
            return
        cfg = RunConfig(
            run_name=f"register {name}",
            tenant_id=tenant,
            user_id=user,
            description=description or None,
        )
        active = self.tracker.start_run(f"models.{name}", cfg)
        try:
            active.log_params(params)
            active.log_metrics(metrics)
            active.flush()
            with translate_errors(f"reading run {active.run_id}"):
                run = self._client.get_run(active.run_id)
            yield run, ""
        except BaseException as exc:
            with contextlib.suppress(MatihError):
                active.end("KILLED" if isinstance(exc, KeyboardInterrupt) else "FAILED", error=exc)
            raise
        else:
            active.end("FINISHED")

    def _ensure_registered(
        self,
        tenant: str,
        name: str,
        full: str,
        framework: str,
        model_type: str | None,
        user: str,
        description: str,
        user_tags: Mapping[str, str],
    ) -> Any:
        rm = self._registered(full)
        if rm is not None:
            if not self._owned(rm, tenant, name):
                raise ConflictError(f"The name '{name}' is taken in MLflow by another model.")
            return rm
        tags = {
            **user_tags,
            TAG_TENANT: tenant,
            TAG_SHORT_NAME: name,
            TAG_FRAMEWORK: framework,
            TAG_CREATED_BY: user,
            TAG_STAGE: "development",
            TAG_EPOCH: "0",
        }
        if model_type:
            tags[TAG_MODEL_TYPE] = model_type
        try:
            with translate_errors(f"creating model '{full}'"):
                rm = self._client.create_registered_model(
                    full, tags=tags, description=description or None
                )
        except ConflictError:  # registered concurrently: use it if it is ours
            rm = self._registered(full)
            if rm is None or not self._owned(rm, tenant, name):
                raise
            return rm
        # Only the creator makes the first ticket, so there is never more than one.
        self._create_ticket(full, 0)
        return rm

    # -- the epoch protocol ------------------------------------------------------------

    @staticmethod
    def _ticket(full: str, epoch: int) -> str:
        return f"{full}{_TICKET_SEP}{epoch}"

    def _create_ticket(self, full: str, epoch: int) -> None:
        with (
            contextlib.suppress(ConflictError),
            translate_errors(f"creating the ticket of '{full}'"),
        ):
            self._client.create_registered_model(
                self._ticket(full, epoch),
                tags={TAG_LOCK_OF: full},
                description="matih: concurrency ticket of " + full + " (do not edit or delete)",
            )

    def _claim(self, snap: _Snapshot) -> None:
        """Win epoch ``snap.epoch + 1`` or raise `ConflictError`."""
        e = snap.epoch
        try:
            with translate_errors(f"claiming epoch {e + 1} of '{snap.full}'"):
                self._writer.rename_registered_model(
                    self._ticket(snap.full, e), self._ticket(snap.full, e + 1)
                )
        except MatihError:
            self._after_lost_claim(snap)
            raise self._conflict(snap) from None
        except Exception:  # the SQL store's stale-row error when another rename won
            self._after_lost_claim(snap)
            raise self._conflict(snap) from None
        # A ticket recreated after it went missing can lag behind: trust the claim only
        # if the model is still at the epoch we read.
        rm = self._registered(snap.full)
        if rm is None or int((rm.tags or {}).get(TAG_EPOCH, "0") or 0) != e:
            raise self._conflict(snap)

    @staticmethod
    def _conflict(snap: _Snapshot) -> ConflictError:
        return ConflictError(
            f"Model '{snap.name}' was changed by someone else while this change was being "
            "made; nothing was changed by this call.",
            hint="Read the model again and retry if the change still makes sense.",
        )

    def _after_lost_claim(self, snap: _Snapshot) -> None:
        """Repair what a lost claim can reveal: an epoch left unfinished by a dead writer,
        or a ticket that went missing."""
        rm = self._registered(snap.full)
        if rm is None:
            return
        epoch = int((rm.tags or {}).get(TAG_EPOCH, "0") or 0)
        if epoch != snap.epoch:
            return  # an ordinary lost race
        ahead = self._registered(self._ticket(snap.full, epoch + 1))
        if ahead is None:
            if self._registered(self._ticket(snap.full, epoch)) is None:
                self._create_ticket(snap.full, epoch)
            return
        age = time.time() - (ahead.last_updated_timestamp or 0) / 1000
        if age < self.lease_seconds:
            return  # in flight
        record = _loads((rm.tags or {}).get(self._tx_key(epoch + 1)), None)
        if record is None:
            record = {"aborted": True, "records": [], "ops": []}
            self._set_model_tag(snap.full, self._tx_key(epoch + 1), _dumps(record))
        self._apply(snap.full, record.get("ops", []))
        self._set_model_tag(snap.full, TAG_EPOCH, str(epoch + 1))

    @staticmethod
    def _tx_key(epoch: int) -> str:
        return f"{TAG_TX}{epoch:08d}"

    def _set_model_tag(self, full: str, key: str, value: str) -> None:
        self._retrying(f"tagging '{full}'", self._writer.set_registered_model_tag, full, key, value)

    def _retrying(
        self, what: str, call: Callable[..., Any], *args: Any, ignore_missing: bool = False
    ) -> Any:
        """Run a write, retrying while SQLite is busy with other processes' writes."""
        delay = 0.05
        for attempt in range(8):
            try:
                with translate_errors(what):
                    return call(*args)
            except NotFoundError:
                if ignore_missing:
                    return None
                raise
            except BackendUnavailableError:
                if attempt == 7:
                    raise
                time.sleep(delay * (1 + random.random()))
                delay = min(delay * 2, 1.0)
        return None  # pragma: no cover

    def _apply(self, full: str, ops: Sequence[Sequence[str]]) -> None:
        """Apply recorded writes. Each sets a key to a fixed value, so applying twice (a
        recovery racing the writer) ends in the same state."""
        client = self._writer
        for op in ops:
            kind = op[0]
            if kind == "v":
                _, version, key, value = op
                self._retrying(
                    f"tagging version {version} of '{full}'",
                    client.set_model_version_tag, full, version, key, value,
                )  # fmt: skip
            elif kind == "m":
                _, key, value = op
                self._set_model_tag(full, key, value)
            elif kind == "a":
                _, alias, version = op
                self._retrying(
                    f"pointing alias '{alias}' of '{full}'",
                    client.set_registered_model_alias, full, alias, version,
                )  # fmt: skip
            elif kind == "d":
                _, alias = op
                self._retrying(
                    f"removing alias '{alias}' of '{full}'",
                    client.delete_registered_model_alias, full, alias, ignore_missing=True,
                )  # fmt: skip

    def _transact(
        self,
        tenant: str,
        name: str,
        full: str,
        plan: Callable[[_Snapshot], _Plan],
        *,
        retries: int = 0,
    ) -> tuple[int, _Plan]:
        """Read, plan, gate, claim, record, apply, commit: one epoch of the model."""
        for attempt in range(retries + 1):
            snap = self._read(tenant, name, full)
            todo = plan(snap)
            self.hooks.run_before(tenant, todo.payloads)
            started = time.monotonic()
            try:
                self._claim(snap)
            except ConflictError:
                if attempt >= retries:
                    raise
                time.sleep(0.02 + random.random() * 0.1 * min(attempt + 1, 5))
                continue
            epoch = snap.epoch + 1
            if time.monotonic() - started > self.lease_seconds / 2:
                raise self._conflict(snap)  # too slow to be sure the lease still holds
            for record in todo.records:
                record.epoch = epoch
            tx = {
                "records": [r.model_dump() for r in todo.records],
                "ops": todo.ops,
            }
            self._set_model_tag(full, self._tx_key(epoch), _dumps(tx))
            self._apply(full, todo.ops)
            self._set_model_tag(full, TAG_EPOCH, str(epoch))
            return epoch, todo
        raise AssertionError("unreachable")  # pragma: no cover

    def _model_ops(self, snap: _Snapshot, stages: Mapping[str, str]) -> list[list[str]]:
        """Model-level tags for the state after a change (list_models reads only these)."""
        summary = self._summary(snap, stages)
        return [
            ["m", TAG_CURRENT, _dumps(summary)],
            ["m", TAG_STAGE, str(summary.get("stage", "development"))],
            ["m", TAG_FRAMEWORK, str(summary.get("framework", ""))],
        ]

    @staticmethod
    def _prune(snap: _Snapshot, ops: list[list[str]]) -> list[list[str]]:
        """Drop writes that would not change anything (each write costs a commit)."""
        out = []
        for op in ops:
            kind = op[0]
            if kind == "v" and snap.versions[op[1]].tags.get(op[2]) == op[3]:
                continue
            if kind == "m" and snap.tags.get(op[1]) == op[2]:
                continue
            if kind == "a" and snap.aliases.get(op[1]) == op[2]:
                continue
            if kind == "d" and op[1] not in snap.aliases:
                continue
            out.append(op)
        return out

    # -- transitions -------------------------------------------------------------------

    def _refuse(self, snap: _Snapshot, version: str, current: str, target: str) -> LifecycleError:
        allowed = ALLOWED_TRANSITIONS[current]
        what = "is already in" if current == target else "cannot move from"
        tail = "" if current == target else f" {current} to {target}"
        return LifecycleError(
            f"Version {version} of model '{snap.name}' {what}"
            + (f" {current}" if current == target else tail)
            + ".",
            hint=f"From {current} it may move to: {', '.join(allowed)}.",
        )

    def _payload(
        self,
        tenant: str,
        snap: _Snapshot,
        version: str,
        src: str | None,
        dst: str,
        user: str,
        reason: str | None,
    ) -> dict[str, Any]:
        return {
            "event": "model_version.stage_changed",
            "tenant_id": tenant,
            "model_id": snap.name,
            "model_name": snap.full,
            "version": version,
            "from_stage": src,
            "to_stage": dst,
            "user_id": user,
            "reason": reason,
            "timestamp": _now_iso(),
            "run_id": snap.versions[version].run_id if version in snap.versions else None,
        }

    def _stage_plan(
        self,
        tenant: str,
        snap: _Snapshot,
        moves: list[tuple[str, str, str | None]],
        user: str,
        lineage: list[str],
    ) -> _Plan:
        """Records, writes and hook payloads for ``moves`` ((version, to_stage, reason))."""
        stages = {v: snap.stage(v) for v in snap.versions}
        records, payloads, ops = [], [], []
        now = _now_iso()
        for version, target, reason in moves:
            src = stages[version]
            stages[version] = target
            records.append(
                TransitionRecord(
                    version=version,
                    from_stage=src,
                    to_stage=target,
                    user_id=user,
                    timestamp=now,
                    reason=reason,
                )
            )
            payloads.append(self._payload(tenant, snap, version, src, target, user, reason))
            ops.append(["v", version, TAG_STAGE, target])
        # Stage aliases follow the holders: production has one; staging points at the
        # version that entered it last (or the newest one still there).
        prod = [v for v, s in stages.items() if s == "production"]
        if len(prod) > 1:  # pragma: no cover - the plans below never produce this
            raise ConflictError(f"Model '{snap.name}' would have {len(prod)} production versions.")
        ops.append(["a", "production", prod[0]] if prod else ["d", "production"])
        staging = [v for v, s in stages.items() if s == "staging"]
        entered = [v for v, t, _ in moves if t == "staging"]
        holder = snap.aliases.get("staging")
        if entered:
            ops.append(["a", "staging", entered[-1]])
        elif holder in staging:
            ops.append(["a", "staging", str(holder)])
        elif staging:
            ops.append(["a", "staging", max(staging, key=int)])
        else:
            ops.append(["d", "staging"])
        ops.append(["m", TAG_LINEAGE, _dumps(lineage[-100:])])
        ops.extend(self._model_ops(snap, stages))
        return _Plan(records, self._prune(snap, ops), payloads, [m[0] for m in moves])

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
        """Move one version to ``target_stage`` (seed 003's lifecycle).

        Allowed: development -> staging, staging -> production, production -> archived,
        and any other stage -> development. Promoting to production archives the version
        that held production (two records, one epoch).

        Args:
            expected_production: When not ``False``, the production version (or ``None``)
                the caller based its decision on; a different one is a `ConflictError`.

        Raises:
            LifecycleError: The move is not allowed; the message names the allowed moves.
            ConflictError: Another change of this model won a concurrent race, or a
                before-hook refused the move (`HookVetoError`).
            NotFoundError: No such model or version for this tenant.
        """
        tenant, name, full = self._full(tenant_id, model_id)
        target = validate_stage(target_stage, "target_stage")
        reason = self._reason(reason)
        user = str(user_id or default_user())

        def plan(snap: _Snapshot) -> _Plan:
            v = self._version(snap, version)
            current = snap.stage(v)
            if target not in ALLOWED_TRANSITIONS[current]:
                raise self._refuse(snap, v, current, target)
            prod = snap.holders("production")
            if (
                expected_production is not False
                and (prod[0] if prod else None) != expected_production
            ):
                raise ConflictError(
                    f"The production version of '{name}' changed while deciding "
                    f"(expected {expected_production}, found {prod[0] if prod else None}).",
                    hint="Decide again.",
                )
            lineage = snap.lineage()
            moves: list[tuple[str, str, str | None]] = []
            if target == "production":
                for old in prod:
                    moves.append((old, "archived", f"replaced in production by version {v}"))
                if not lineage or lineage[-1] != v:
                    lineage.append(v)
            elif current == "production" and lineage and lineage[-1] == v:
                lineage.pop()  # left production without a successor
            moves.append((v, target, reason))
            # Report the promoted version first: it is what the caller asked for.
            if target == "production":
                moves = moves[-1:] + moves[:-1]
            return self._stage_plan(tenant, snap, moves, user, lineage)

        epoch, todo = self._transact(tenant, name, full, plan)
        return self._after_commit(tenant, name, full, epoch, todo)

    @staticmethod
    def _reason(reason: Any) -> str | None:
        if reason is None:
            return None
        if not isinstance(reason, str) or len(reason) > 1000:
            raise InvalidInputError("reason", "expected text of at most 1000 characters.")
        return reason

    def rollback(
        self, tenant_id: str, model_id: str, reason: str | None = None, user_id: str | None = None
    ) -> ModelMetadata:
        """Put back the version that was in production before the current one.

        The registry keeps the production lineage: each promotion pushes the promoted
        version, and a version leaving production without a successor (rollback, or a
        move to archived/development) is popped. A rollback moves the current
        production version to ``development`` (seed 003's rollback move) and restores the
        version below it in the lineage to ``production``, whatever stage it is in now,
        in one epoch. Repeated rollbacks walk back further: with v1, v2, v3 promoted in
        turn, two rollbacks leave v1 in production and v3, v2 in development.

        Raises:
            LifecycleError: No version is in production, or none was before it.
        """
        tenant, name, full = self._full(tenant_id, model_id)
        reason = self._reason(reason)
        user = str(user_id or default_user())

        def plan(snap: _Snapshot) -> _Plan:
            prod = snap.holders("production")
            if not prod:
                raise LifecycleError(
                    f"Model '{name}' has no version in production to roll back.",
                    hint="Promote a version with transition_stage(..., 'production').",
                )
            current = prod[0]
            lineage = [v for v in snap.lineage() if v in snap.versions]
            while lineage and lineage[-1] == current:
                lineage.pop()
            # Consecutive duplicates cannot restore anything different.
            while lineage and lineage[-1] == current:  # pragma: no cover
                lineage.pop()
            if not lineage:
                raise LifecycleError(
                    f"Model '{name}' has no earlier production version to roll back to "
                    f"(version {current} is the first).",
                    hint="Move it out of production with transition_stage(..., 'archived').",
                )
            previous = lineage[-1]
            why = f"rollback: {reason}" if reason else "rollback"
            moves: list[tuple[str, str, str | None]] = [
                (current, "development", why),
                (previous, "production", f"{why} (restored version {previous})"),
            ]
            return self._stage_plan(tenant, snap, moves, user, lineage)

        epoch, todo = self._transact(tenant, name, full, plan)
        return self._after_commit(tenant, name, full, epoch, todo)

    def _after_commit(
        self, tenant: str, name: str, full: str, epoch: int, todo: _Plan
    ) -> ModelMetadata:
        """After-hooks, then the model cards of the versions that moved. Failures are
        reported (warning + history), never raised: the change is already committed."""
        failures = self.hooks.run_after(tenant, todo.payloads)
        snap = self._read(tenant, name, full)
        for version in dict.fromkeys(todo.changed_versions):
            try:
                self._write_card(tenant, snap, version)
            except MatihError as exc:  # pragma: no cover - artifact store trouble
                failures.append(f"model card of version {version}: {exc}")
        if failures:
            with contextlib.suppress(MatihError):
                self._set_model_tag(full, f"{TAG_HOOKS}{epoch:08d}", _dumps(failures))
            warnings.warn(
                HookFailureWarning(
                    f"The transition of model '{name}' is committed, but "
                    f"{len(failures)} after-hook(s) failed: " + "; ".join(failures)
                ),
                stacklevel=3,
            )
        return self._metadata(snap)

    def history(self, tenant_id: str, model_id: str) -> list[TransitionRecord]:
        """Every recorded stage change of the tenant's model, oldest first."""
        snap = self._require(tenant_id, model_id)
        return self._history(snap.tags)

    @staticmethod
    def _history(tags: Mapping[str, str]) -> list[TransitionRecord]:
        out: list[TransitionRecord] = []
        committed = int(tags.get(TAG_EPOCH, "0") or 0)
        for key in sorted(k for k in tags if k.startswith(TAG_TX)):
            epoch = int(key[len(TAG_TX) :])
            if epoch > committed:
                continue  # claimed, not yet committed
            tx = _loads(tags[key], {})
            failures = _loads(tags.get(f"{TAG_HOOKS}{epoch:08d}"), [])
            for raw in tx.get("records", []):
                record = TransitionRecord.model_validate(raw)
                record.hook_failures = list(failures)
                out.append(record)
        return out

    # -- model cards -------------------------------------------------------------------

    def _write_card(self, tenant: str, snap: _Snapshot, version: str) -> None:
        name, full = snap.name, snap.full
        mv = snap.versions.get(version)
        if mv is None or not mv.run_id:
            return
        with translate_errors(f"reading run {mv.run_id}"):
            run = self._client.get_run(mv.run_id)
        tags = mv.tags or {}
        onnx = tags.get(TAG_ONNX)
        card = art.model_card(
            tenant_id=tenant,
            name=name,
            full_name=full,
            version=version,
            framework=tags.get(TAG_FRAMEWORK, ""),
            model_type=tags.get(TAG_MODEL_TYPE, snap.tags.get(TAG_MODEL_TYPE, "")),
            description=mv.description or snap.rm.description or "",
            metrics=_loads(tags.get(TAG_METRICS), {}),
            parameters=_loads(tags.get(TAG_PARAMS), {}),
            run_id=mv.run_id,
            experiment_id=run.info.experiment_id,
            provenance=run.data.tags,
            created_by=tags.get(TAG_CREATED_BY, ""),
            created_at=_iso(mv.creation_timestamp),
            history=[r for r in self._history(snap.tags) if r.version == version],
            onnx_note=None if onnx == "true" else (onnx or "not recorded"),
        )
        prefix = tags.get(TAG_ARTIFACT_PATH, "")
        with translate_errors(f"storing the model card of version {version}"):
            self._client.log_text(mv.run_id, card, f"{prefix}{art.MODEL_CARD_FILE}")

    # -- aliases -----------------------------------------------------------------------

    def _alias(self, alias: Any, *, user: bool) -> str:
        if (
            not isinstance(alias, str)
            or not _ALIAS_RE.match(alias)
            or re.match(r"^[vV]\d+$", alias)
            or alias.lower() == "latest"
        ):
            raise InvalidInputError(
                "alias",
                f"{alias!r} is not an alias name.",
                hint="Use a letter then letters, digits, '_' or '-' (not 'latest' or 'v<n>').",
            )
        if user and alias.lower() in STAGE_ALIASES:
            raise InvalidInputError(
                "alias",
                f"'{alias}' follows the lifecycle and cannot be set by hand.",
                hint="Use transition_stage(...) to move a version to that stage.",
            )
        return alias

    def set_alias(
        self, tenant_id: str, model_id: str, alias: str, version: Any
    ) -> ModelVersionInfo:
        """Point a user alias (for example ``champion``) at a version of the tenant's model."""
        snap = self._require(tenant_id, model_id)
        alias = self._alias(alias, user=True)
        v = self._version(snap, version)
        self._retrying(
            f"setting alias '{alias}' of '{snap.name}'",
            self._client.set_registered_model_alias, snap.full, alias, v,
        )  # fmt: skip
        snap.aliases[alias] = v
        return self._version_info(snap, snap.versions[v])

    def delete_alias(self, tenant_id: str, model_id: str, alias: str) -> None:
        """Remove a user alias; `NotFoundError` if the model has no such alias."""
        snap = self._require(tenant_id, model_id)
        alias = self._alias(alias, user=True)
        if alias not in snap.aliases:
            raise self._alias_missing(snap, alias)
        self._retrying(
            f"removing alias '{alias}' of '{snap.name}'",
            self._client.delete_registered_model_alias, snap.full, alias, ignore_missing=True,
        )  # fmt: skip

    @staticmethod
    def _alias_missing(snap: _Snapshot, alias: str) -> NotFoundError:
        return NotFoundError(
            f"Alias '{alias}' of model '{snap.name}' was not found.",
            hint=f"Aliases: {', '.join(sorted(snap.aliases)) or 'none'}.",
        )

    def get_version_by_alias(self, tenant_id: str, model_id: str, alias: str) -> ModelVersionInfo:
        """The version an alias (``production``, ``staging`` or a user alias) points at."""
        snap = self._require(tenant_id, model_id)
        alias = self._alias(alias, user=False)
        version = snap.aliases.get(alias)
        if version is None or version not in snap.versions:
            raise self._alias_missing(snap, alias)
        return self._version_info(snap, snap.versions[version])

    # -- deletion ----------------------------------------------------------------------

    def delete_model(self, tenant_id: str, model_id: str, force: bool = False) -> None:
        """Delete the tenant's model and every version (their runs and artifacts stay,
        for provenance). Refused while a version is in production unless ``force``."""
        snap = self._require(tenant_id, model_id)
        prod = snap.holders("production")
        if prod and not force:
            raise ConflictError(
                f"Model '{snap.name}' has version {prod[0]} in production.",
                hint="Archive it first, or pass force=True.",
            )
        with translate_errors(
            f"deleting model '{snap.name}'",
            not_found=self._not_found(snap.name, self.tracker.bind_tenant(tenant_id)).message,
        ):
            self._client.delete_registered_model(snap.full)
        with translate_errors(f"deleting the tickets of '{snap.name}'"):
            tickets = self._client.search_registered_models(
                filter_string=f"tags.`{TAG_LOCK_OF}` = {quote_filter_value(snap.full)}",
                max_results=1000,
            )
        for ticket in tickets:
            if (
                ticket.name.startswith(snap.full + _TICKET_SEP)
                and (ticket.tags or {}).get(TAG_LOCK_OF) == snap.full
            ):
                self._retrying(
                    f"deleting ticket '{ticket.name}'",
                    self._client.delete_registered_model, ticket.name, ignore_missing=True,
                )  # fmt: skip

    # -- runs and metrics (seed 002's experiment tracking) ----------------------------

    def log_training_metrics(
        self, tenant_id: str, run_id: str, step: int, metrics: Mapping[str, Any]
    ) -> None:
        """Log ``metrics`` at ``step`` to the tenant's run (it may have ended)."""
        tenant = self.tracker.bind_tenant(tenant_id)
        if isinstance(step, bool) or not isinstance(step, numbers.Integral):
            raise InvalidInputError("step", f"{step!r} is not an integer.")
        clean = self._clean_metrics(metrics)
        self.tracker.get_run(run_id, tenant, include_artifacts=False)
        now = int(time.time() * 1000)
        m, _, _ = convert.entities([(k, v, now, int(step)) for k, v in clean.items()], [], [])
        for i in range(0, len(m), 1000):
            with translate_errors(f"logging to run {run_id}"):
                self._client.log_batch(run_id, metrics=m[i : i + 1000], synchronous=True)

    def compare_runs(
        self, tenant_id: str, run_ids: Sequence[str], metrics: Sequence[str]
    ) -> list[dict[str, Any]]:
        """Seed 002's comparison: ``[{"run_id", "parameters", "metrics": {m: value|None}}]``."""
        tenant = self.tracker.bind_tenant(tenant_id)
        if isinstance(run_ids, str) or isinstance(metrics, str):
            raise InvalidInputError("run_ids", "expected lists of run ids and metric names.")
        out = []
        for run_id in run_ids:
            run = self.tracker.get_run(run_id, tenant, include_artifacts=False)
            out.append(
                {
                    "run_id": run.id,
                    "parameters": dict(run.params),
                    "metrics": {m: run.metrics.get(m) for m in metrics},
                }
            )
        return out

    # -- champion / challenger ---------------------------------------------------------

    def _metric_of(self, snap: _Snapshot, version: str, metric: str) -> float | None:
        mv = snap.versions[version]
        value = _loads((mv.tags or {}).get(TAG_METRICS), {}).get(metric)
        if value is None and mv.run_id:
            with translate_errors(f"reading run {mv.run_id}"):
                value = self._client.get_run(mv.run_id).data.metrics.get(metric)
        return None if value is None else float(value)

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
        tenant = self.tracker.bind_tenant(tenant_id)
        validate_key(metric, "metric")
        if (
            isinstance(min_delta, bool)
            or not isinstance(min_delta, numbers.Real)
            or not math.isfinite(min_delta)
        ):
            raise InvalidInputError("min_delta", f"{min_delta!r} is not a finite number.")
        v = self._version(snap, version)
        challenger = self._metric_of(snap, v, metric)
        if challenger is None:
            known = sorted(_loads((snap.versions[v].tags or {}).get(TAG_METRICS), {}))
            raise InvalidInputError(
                "metric",
                f"version {v} of '{snap.name}' has no metric {metric!r}.",
                hint=f"Its metrics: {', '.join(known) or 'none'}.",
            )
        prod = snap.holders("production")
        champion = prod[0] if prod else None
        decision = PromotionDecision(
            promoted=False, reason="", metric=metric, challenger_version=v,
            champion_version=champion, challenger_value=challenger,
        )  # fmt: skip
        stage = snap.stage(v)
        if champion == v:
            decision.reason = f"version {v} is already the production version."
            return decision
        if stage == "archived":
            decision.reason = f"version {v} is archived; move it to development first."
            return decision
        if champion is not None:
            champ_value = self._metric_of(snap, champion, metric)
            decision.champion_value = champ_value
            if champ_value is None:
                decision.reason = f"the champion (version {champion}) has no metric {metric!r}."
                return decision
            delta = challenger - champ_value if higher_is_better else champ_value - challenger
            decision.delta = delta
            direction = "higher" if higher_is_better else "lower"
            if not delta > float(min_delta):
                decision.reason = (
                    f"{metric} {challenger:g} vs champion {champ_value:g}: improvement "
                    f"{delta:g} ({direction} is better) is not more than min_delta {min_delta:g}."
                )
                return decision
            why = (
                f"champion-challenger: {metric} {challenger:g} beats version {champion}'s "
                f"{champ_value:g} by {delta:g} (> {min_delta:g}, {direction} is better)"
            )
        else:
            why = f"champion-challenger: no version in production; {metric} {challenger:g}"
        if stage == "development":
            self.transition_stage(
                tenant, snap.name, v, "staging", why, user_id, expected_production=champion
            )
        self.transition_stage(
            tenant, snap.name, v, "production", why, user_id, expected_production=champion
        )
        decision.promoted = True
        decision.reason = why
        return decision

    # -- loading -----------------------------------------------------------------------

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
        given = [x for x in (stage, alias, version) if x is not None]
        if len(given) > 1:
            raise InvalidInputError(
                "stage/alias/version", "give at most one of stage, alias or version."
            )
        if version is not None:
            v = self._version(snap, version)
        elif alias is not None:
            v = self.get_version_by_alias(tenant_id, model_id, alias).version
        else:
            wanted = validate_stage(stage) if stage is not None else "production"
            holders = snap.holders(wanted)
            if not holders:
                raise NotFoundError(
                    f"Model '{snap.name}' has no version in {wanted}.",
                    hint="Pass version=... or another stage.",
                )
            held = snap.aliases.get(wanted)
            v = held if held is not None and held in holders else holders[-1]
        mv = snap.versions[v]
        framework = (mv.tags or {}).get(TAG_FRAMEWORK, "")
        prefix = (mv.tags or {}).get(TAG_ARTIFACT_PATH, "")
        with tempfile.TemporaryDirectory(prefix="matih-load-") as tmp:
            with translate_errors(
                f"downloading version {v} of '{snap.name}'",
                not_found=f"The artifacts of version {v} of '{snap.name}' are missing.",
            ):
                local = self._client.download_artifacts(mv.run_id, f"{prefix}{art.MODEL_DIR}", tmp)
            return art.load_model(framework, Path(local))


__all__ = ["STAGE_ALIASES", "ModelRegistry"]
