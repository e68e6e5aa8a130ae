"""The tenant-scoped experiment tracker (seeds 000 and 001).

`ExperimentTracker` wraps one `MlflowClient` bound to explicit URIs. Every method is
scoped to a tenant: experiments are ``<tenant>/<name>``, runs carry ``matih.*`` tags, and
every read re-checks that what MLflow returned belongs to the tenant, answering another
tenant's resources exactly like missing ones.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import math
import numbers
import os
import posixpath
import re
import socket
import sys
import threading
import time
import uuid
import weakref
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from pydantic import Field

from . import _mlflow as mf
from .buffer import BatchWriter, MetricItem, iter_batches
from .config import StoreConfig, default_tenant, default_user
from .errors import (
    BackendUnavailableError,
    ConflictError,
    InvalidInputError,
    LoggingError,
    MatihError,
    NotFoundError,
)
from .models import ExperimentCreate, ExperimentResponse, MetricPoint, RunResponse
from .provenance import TAG_HOST, TAG_PID, provenance_tags
from .spool import Spool, orphaned_spools
from .system_metrics import SystemMetricsSampler
from .tenancy import (
    MAX_TAG_VALUE_LENGTH,
    TAG_JOB,
    TAG_SHORT_NAME,
    TAG_TENANT,
    TAG_USER,
    experiment_full_name,
    quote_filter_value,
    split_experiment_name,
    validate_key,
    validate_param,
    validate_tenant_id,
    validate_user_tag,
)
from .workspaces import WorkspaceRouter, binds_caller, isolated, isolated_methods

if TYPE_CHECKING:
    import pandas as pd

TAG_HEARTBEAT = "matih.heartbeat"
TAG_END_REASON = "matih.end_reason"
TAG_ERROR_TYPE = "matih.error.type"
TAG_ERROR_MESSAGE = "matih.error.message"
TAG_PARENT = "mlflow.parentRunId"
TAG_RUN_NAME = "mlflow.runName"
TAG_NOTE = "mlflow.note.content"

END_STATUSES = ("FINISHED", "FAILED", "KILLED")
#: A run whose heartbeat is older than this many seconds counts as orphaned.
DEFAULT_STALE_AFTER = 120.0
HEARTBEAT_INTERVAL = 30.0
_RUN_ID_RE = re.compile(r"^[A-Za-z0-9_\-]{1,64}$")
_EXPERIMENT_ID_RE = re.compile(r"^[0-9A-Za-z_\-]{1,64}$")


class ExperimentConfig(ExperimentCreate):
    """An experiment to create for a tenant (seed 001 validation: name 1-255 characters,
    description at most 1000)."""

    tenant_id: str | None = Field(default=None)
    user_id: str | None = Field(default=None)
    job_id: str | None = Field(default=None)


@dataclass
class RunConfig:
    """How to start a run (seed 000).

    Attributes:
        run_name: Shown in MLflow; generated when omitted.
        tenant_id: The tenant; defaults to the tracker's (``MATIH_TENANT_ID``).
        user_id: Who runs it; defaults to ``MATIH_USER_ID`` or the OS user.
        job_id: The platform job this run belongs to, if any.
        tags: User tags (not in the reserved ``matih.`` namespace).
        description: Run description (MLflow note).
        parent_run_id: Make this a child of that run (same tenant only).
        nested: Make this a child of the innermost run open in this thread.
        log_system_metrics: Sample CPU, memory and GPU during the run.
        system_metrics_interval: Seconds between samples.
        notebook_path: The notebook that runs this, when the caller knows it.
    """

    run_name: str | None = None
    tenant_id: str | None = None
    user_id: str | None = None
    job_id: str | None = None
    tags: dict[str, Any] = field(default_factory=dict)
    description: str | None = None
    parent_run_id: str | None = None
    nested: bool = False
    log_system_metrics: bool = False
    system_metrics_interval: float = 10.0
    notebook_path: str | None = None


def _run_scoped(fn: Callable[..., Any]) -> Callable[..., Any]:
    """For ActiveRun methods that call MLflow on the caller's thread: in their own context,
    bound to the run's tenant (its MLflow workspace, when the server has them)."""

    def bound(self: ActiveRun, *args: Any, **kwargs: Any) -> Any:
        self._tracker.workspaces.bind(self.tenant_id)
        return fn(self, *args, **kwargs)

    return isolated(functools.wraps(fn)(bound))


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


def _metric_value(key: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        # numpy scalars are numbers.Real; 0-d arrays and tensors expose item()
        item = getattr(value, "item", None)
        if callable(item) and getattr(value, "ndim", 0) == 0:
            return _metric_value(key, item())
        raise InvalidInputError(
            "metric value",
            f"{key!r} got {value!r} ({type(value).__name__}); metrics are real numbers.",
            hint="Log text with set_tag() or log_param(), or convert the value with float().",
        )
    return float(value)


class ActiveRun:
    """A run being logged (seed 000). Every logging method returns the run, so calls chain.

    Metrics, params and tags are buffered and written in batches by a background writer;
    `flush` and `end` wait for everything. Use it as a context manager, or call `end`.
    """

    def __init__(
        self,
        tracker: ExperimentTracker,
        run: Any,
        tenant_id: str,
        user_id: str,
        *,
        system_metrics_interval: float | None = None,
    ) -> None:
        self._tracker = tracker
        self._client = tracker._client
        self._info = run.info
        self.tenant_id = tenant_id
        self.user_id = user_id
        self._start = time.time()
        self._start_monotonic = time.monotonic()
        self._params: dict[str, str] = {}
        self._keys: set[str] = set()
        self._ended = False
        self.status = "RUNNING"
        run_id = run.info.run_id
        self._writer = BatchWriter(
            self._send,
            name=f"matih-writer-{run_id[:8]}",
            on_tick=self._heartbeat,
            tick_interval=tracker.heartbeat_interval,
            spool=Spool(run_id, tenant=tenant_id),
            terminate=self._terminate,
        )
        self._sampler = (
            SystemMetricsSampler(self.log_metrics, system_metrics_interval)
            if system_metrics_interval
            else None
        )

    # -- identity ----------------------------------------------------------------------

    @property
    def run_id(self) -> str:
        return str(self._info.run_id)

    @property
    def experiment_id(self) -> str:
        return str(self._info.experiment_id)

    @property
    def artifact_uri(self) -> str:
        return str(self._info.artifact_uri)

    @property
    def run_name(self) -> str:
        return str(self._info.run_name)

    @property
    def ended(self) -> bool:
        return self._ended

    @property
    def pending(self) -> int:
        """Items logged but not yet written to MLflow."""
        return self._writer.pending

    @property
    def backend_error(self) -> BaseException | None:
        """Set while the backend is unreachable and writes are being retried."""
        return self._writer.backend_error

    @property
    def sync_status(self) -> str:
        """Where the logged data is, in words: written, queued, or spooled locally because
        the backend is unreachable."""
        w = self._writer
        if w.spooled or w.backend_error is not None:
            where = f" saved in {w.spool.path}" if w.spool is not None and w.spooled else ""
            return (
                f"MLflow backend unreachable: {w.pending} items waiting{where}; they are "
                "sent when it answers again."
            )
        if w.queued:
            return f"{w.queued} items queued, being written."
        return "All logged data is written."

    @property
    def tracker(self) -> ExperimentTracker:
        """The tracker that started this run."""
        return self._tracker

    def add_listener(self, listener: Callable[[list[MetricItem]], None]) -> None:
        """Call ``listener(points)`` with every batch of metric points once MLflow stored
        it, as ``(key, value, timestamp_ms, step)`` tuples. It runs where the batch was
        sent: the writer's thread, or the caller's inside `flush` / `end`; never inside
        ``log_metric``, so a live view costs the training loop nothing. Exceptions it raises
        are ignored."""
        self._writer.listeners.append(listener)

    def remove_listener(self, listener: Callable[[list[MetricItem]], None]) -> None:
        with contextlib.suppress(ValueError):
            self._writer.listeners.remove(listener)

    def __repr__(self) -> str:
        state = self.status if self._ended else "RUNNING"
        return f"<ActiveRun {self.run_name!r} {self.run_id} tenant={self.tenant_id} {state}>"

    # -- logging (hot path: validate, append, return) ----------------------------------

    def _check_open(self) -> None:
        if self._ended:
            raise ConflictError(
                f"Run {self.run_id} has ended ({self.status}); nothing more can be logged.",
                hint="Start a new run.",
            )
        if self._writer.failed:
            self._writer.raise_failure()

    def log_metric(
        self, key: str, value: Any, step: int | None = None, timestamp: int | None = None
    ) -> ActiveRun:
        """Log one metric value (at ``step``, default 0)."""
        if self._ended or self._writer.failed:
            self._check_open()
        if key not in self._keys:
            validate_key(key, "metric key")
            self._keys.add(key)
        if type(value) is not float:
            value = _metric_value(key, value)
        if step is None:
            step = 0
        elif type(step) is not int:
            step = self._step(step)
        self._writer.metrics.append((key, value, timestamp or time.time_ns() // 1_000_000, step))
        if len(self._writer.metrics) >= 1000:
            self._writer.wake()
        return self

    @staticmethod
    def _step(step: Any) -> int:
        if isinstance(step, bool) or not isinstance(step, numbers.Integral):
            raise InvalidInputError("step", f"{step!r} is not an integer.")
        return int(step)

    def log_metrics(self, metrics: Mapping[str, Any], step: int | None = None) -> ActiveRun:
        """Log several metrics at one step. All are validated before any is queued."""
        self._check_open()
        ts = _now_ms()
        step = 0 if step is None else self._step(step)
        items = []
        for key, value in metrics.items():
            if key not in self._keys:
                validate_key(key, "metric key")
                self._keys.add(key)
            items.append((key, _metric_value(key, value), ts, step))
        self._writer.metrics.extend(items)
        if len(self._writer.metrics) >= 1000:
            self._writer.wake()
        return self

    def log_param(self, key: str, value: Any) -> ActiveRun:
        """Log a param. Params are write-once: another value for the same key is a
        `ConflictError`; the same value again is accepted."""
        return self.log_params({key: value})

    def log_params(self, params: Mapping[str, Any]) -> ActiveRun:
        """Log several params (values are stored as strings)."""
        self._check_open()
        new: dict[str, str] = {}
        for key, value in params.items():
            k, text = validate_param(key, value)
            old = self._params.get(k, new.get(k))
            if old is not None and old != text:
                raise ConflictError(
                    f"Param {k!r} was logged as {old!r}; it cannot change to {text!r}.",
                    hint="Params are write-once: start a new run (or a nested one) to try "
                    "another value.",
                )
            if old is None:
                new[k] = text
        self._params.update(new)
        self._writer.params.extend(new.items())
        return self

    def set_tag(self, key: str, value: Any) -> ActiveRun:
        """Set a tag (keys in the ``matih.`` namespace are reserved)."""
        return self.set_tags({key: value})

    def set_tags(self, tags: Mapping[str, Any]) -> ActiveRun:
        self._check_open()
        items = [validate_user_tag(k, v) for k, v in tags.items()]
        self._writer.tags.extend(items)
        return self

    def _system_tags(self, tags: Mapping[str, str]) -> None:
        """Queue tags in the reserved namespace (matih's own)."""
        self._writer.tags.extend((k, str(v)[:MAX_TAG_VALUE_LENGTH]) for k, v in tags.items())

    # -- artifacts (synchronous: files can be large and callers expect them stored) -----

    @_run_scoped
    def log_artifact(
        self, local_path: str | os.PathLike, artifact_path: str | None = None
    ) -> ActiveRun:
        """Upload a file, or a folder with everything in it."""
        self._check_open()
        path = Path(local_path)
        if not path.exists():
            raise InvalidInputError(
                "local_path", f"{str(path)!r} does not exist.", hint="Check the path."
            )
        artifact_path = _artifact_dir(artifact_path)
        with mf.translate_errors(f"uploading {path.name!r} to run {self.run_id}"):
            self._client.log_artifact(self.run_id, str(path), artifact_path)
        return self

    @_run_scoped
    def log_artifacts(
        self, local_dir: str | os.PathLike, artifact_path: str | None = None
    ) -> ActiveRun:
        """Upload the contents of a folder (not the folder itself)."""
        self._check_open()
        path = Path(local_dir)
        if not path.is_dir():
            raise InvalidInputError("local_dir", f"{str(path)!r} is not a folder.")
        with mf.translate_errors(f"uploading {path.name!r} to run {self.run_id}"):
            self._client.log_artifacts(self.run_id, str(path), _artifact_dir(artifact_path))
        return self

    @_run_scoped
    def log_dict(self, dictionary: Mapping[str, Any], artifact_file: str) -> ActiveRun:
        """Store a dict as JSON (or YAML for ``.yaml``/``.yml``) in the run's artifacts."""
        self._check_open()
        with mf.translate_errors(f"storing {artifact_file!r}"):
            self._client.log_dict(self.run_id, dict(dictionary), _artifact_file(artifact_file))
        return self

    @_run_scoped
    def log_text(self, text: str, artifact_file: str) -> ActiveRun:
        self._check_open()
        with mf.translate_errors(f"storing {artifact_file!r}"):
            self._client.log_text(self.run_id, str(text), _artifact_file(artifact_file))
        return self

    @_run_scoped
    def log_figure(self, figure: Any, artifact_file: str) -> ActiveRun:
        """Store a matplotlib (or plotly) figure as an image artifact."""
        self._check_open()
        with mf.translate_errors(f"storing figure {artifact_file!r}"):
            self._client.log_figure(self.run_id, figure, _artifact_file(artifact_file))
        return self

    # -- lifecycle ---------------------------------------------------------------------

    def get_elapsed_time(self) -> float:
        """Seconds since the run started."""
        return time.monotonic() - self._start_monotonic

    @_run_scoped
    def flush(self, timeout: float | None = 60.0) -> ActiveRun:
        """Wait until everything logged so far is written to MLflow."""
        self._writer.flush(timeout)
        return self

    @_run_scoped
    def end(
        self,
        status: str = "FINISHED",
        *,
        error: BaseException | None = None,
        reason: str | None = None,
        timeout: float | None = 60.0,
    ) -> ActiveRun:
        """Flush everything and end the run as FINISHED, FAILED or KILLED.

        Ending twice is harmless. If buffered data cannot be written, the run still ends
        and the `LoggingError` is raised afterwards.
        """
        status = str(status).upper()
        if status not in END_STATUSES:
            raise InvalidInputError(
                "status", f"{status!r} is not an end state.", hint=f"Use one of {END_STATUSES}."
            )
        if self._ended:
            return self
        if self._sampler is not None:
            self._sampler.stop()
        end_tags: dict[str, str] = {}
        if error is not None:
            end_tags[TAG_ERROR_TYPE] = type(error).__name__
            end_tags[TAG_ERROR_MESSAGE] = str(error)[:MAX_TAG_VALUE_LENGTH] or type(error).__name__
        if reason:
            end_tags[TAG_END_REASON] = reason
        self._system_tags(end_tags)
        failure: MatihError | None = None
        try:
            self._writer.flush(timeout)
        except LoggingError as exc:
            failure = exc
        self._ended = True
        self.status = status
        self._tracker._forget(self)
        end_time = _now_ms()
        if self._writer.spooled:
            # The backend is unreachable: the end goes to the spool behind the data, and
            # the writer thread ends the run in MLflow once the backend answers.
            self._writer.spool_end(status, end_time)
            raise failure or self._writer._unreachable()
        self._writer.stop()
        try:
            self._terminate(status, end_time)
        except BackendUnavailableError:
            self._writer.spool_end(status, end_time)
            raise self._writer._unreachable() from None
        if failure is not None:
            raise failure
        return self

    def __enter__(self) -> ActiveRun:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc is None:
            self.end("FINISHED")
            return
        status = "KILLED" if isinstance(exc, KeyboardInterrupt) else "FAILED"
        try:
            self.end(status, error=exc)
        except MatihError as end_error:
            exc.add_note(f"matih: while ending run {self.run_id}: {end_error}")

    # -- writer callbacks (writer thread) ----------------------------------------------

    def _send(self, metrics: list, params: list, tags: list) -> None:
        # The writer's thread (or a caller that acted for another tenant since) must send
        # to this run's workspace.
        self._tracker.workspaces.bind(self.tenant_id)
        m, p, t = mf.entities(metrics, params, tags)
        with mf.translate_errors(f"logging to run {self.run_id}"):
            self._client.log_batch(self.run_id, metrics=m, params=p, tags=t, synchronous=True)

    def _terminate(self, status: str, end_time: int) -> None:
        self._tracker.workspaces.bind(self.tenant_id)
        with mf.translate_errors(f"ending run {self.run_id}"):
            self._client.set_terminated(self.run_id, status=status, end_time=end_time)

    def _heartbeat(self) -> None:
        self._writer.tags.append((TAG_HEARTBEAT, str(_now_ms())))
        self._writer.wake()


def _artifact_dir(artifact_path: str | None) -> str | None:
    if artifact_path in (None, ""):
        return None
    return _artifact_file(str(artifact_path), field_name="artifact_path")


def _artifact_file(path: str, field_name: str = "artifact_file") -> str:
    norm = posixpath.normpath(str(path))
    if not path or norm.startswith(("/", "..")) or norm != str(path).rstrip("/") or "\\" in path:
        raise InvalidInputError(
            field_name,
            f"{path!r} is not a relative path inside the run's artifacts.",
            hint="Use a relative path such as 'plots/loss.png'.",
        )
    return norm


class RunList(list):
    """A page of runs; ``next_page_token`` is set when more runs match."""

    next_page_token: str | None = None


@isolated_methods
class ExperimentTracker:
    """Tenant-scoped experiment tracking on MLflow (seeds 000 and 001).

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
        self._client = mf.make_client(self.store)
        # Tenants map to MLflow workspaces when the server has them (detected on first use).
        self.workspaces = WorkspaceRouter(self.tracking_uri)
        self._experiment_ids: dict[tuple[str, str], str] = {}
        self._owner: dict[str, str] = {}
        self._local = threading.local()
        _register_tracker(self)
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

    # -- experiments -------------------------------------------------------------------

    def get_or_create_experiment(
        self,
        name: str,
        tenant_id: str | None = None,
        *,
        user_id: str | None = None,
        job_id: str | None = None,
    ) -> str:
        """The id of the tenant's experiment ``name``, created on first use (seed 001)."""
        tenant = self._tenant(tenant_id)
        full = experiment_full_name(tenant, name)
        cached = self._experiment_ids.get((tenant, name))
        if cached:
            return cached
        exp = self._by_name(full)
        if exp is None:
            try:
                config = ExperimentConfig(
                    name=name, tenant_id=tenant, user_id=user_id, job_id=job_id
                )
                return self.create_experiment(config).id
            except ConflictError:  # another process created it first: use theirs
                exp = self._by_name(full)
                if exp is None:
                    raise
        self._check_owned(exp, tenant, f"Experiment '{name}'")
        if exp.lifecycle_stage != "active":
            raise ConflictError(
                f"Experiment '{name}' of tenant '{tenant}' is archived.",
                hint="Restore it with tracker.restore_experiment(...) or choose another name.",
            )
        self._experiment_ids[(tenant, name)] = exp.experiment_id
        return str(exp.experiment_id)

    def _by_name(self, full: str) -> Any:
        with mf.translate_errors(f"looking up experiment '{full}'"):
            return self._client.get_experiment_by_name(full)

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
        with mf.translate_errors(f"creating experiment '{full}'"):
            exp_id = self._client.create_experiment(full, artifact_location=location, tags=tags)
        self._experiment_ids[(tenant, config.name)] = exp_id
        self._owner[exp_id] = tenant
        return self.get_experiment(exp_id, tenant)

    def get_experiment(
        self, experiment_id: str, tenant_id: str | None = None
    ) -> ExperimentResponse:
        """The tenant's experiment by id; `NotFoundError` for missing or foreign ids."""
        tenant = self._tenant(tenant_id)
        return mf.experiment_response(self._experiment(experiment_id, tenant))

    def get_experiment_by_name(self, name: str, tenant_id: str | None = None) -> ExperimentResponse:
        tenant = self._tenant(tenant_id)
        exp = self._by_name(experiment_full_name(tenant, name))
        self._check_owned(exp, tenant, f"Experiment '{name}'")
        return mf.experiment_response(exp)

    def _experiment(self, experiment_id: Any, tenant: str) -> Any:
        what = f"Experiment '{experiment_id}'"
        if not isinstance(experiment_id, str | int) or not _EXPERIMENT_ID_RE.match(
            str(experiment_id)
        ):
            raise self._not_found(what, tenant)
        with mf.translate_errors(
            f"reading {what}", not_found=self._not_found(what, tenant).message
        ):
            exp = self._client.get_experiment(str(experiment_id))
        self._check_owned(exp, tenant, what)
        return exp

    @staticmethod
    def _not_found(what: str, tenant: str) -> NotFoundError:
        return NotFoundError(f"{what} was not found for tenant '{tenant}'.")

    def _check_owned(self, exp: Any, tenant: str, what: str) -> None:
        if exp is None:
            raise self._not_found(what, tenant)
        split = split_experiment_name(exp.name)
        if not split or split[0] != tenant or (exp.tags or {}).get(TAG_TENANT) != tenant:
            raise self._not_found(what, tenant)
        self._owner[str(exp.experiment_id)] = tenant

    def list_experiments(
        self, tenant_id: str | None = None, include_archived: bool = False
    ) -> list[ExperimentResponse]:
        """The tenant's experiments, newest first."""
        tenant = self._tenant(tenant_id)
        return [
            mf.experiment_response(e) for e in self._tenant_experiments(tenant, include_archived)
        ]

    def _tenant_experiments(self, tenant: str, include_archived: bool = False) -> list[Any]:
        view = mf.ViewType.ALL if include_archived else mf.ViewType.ACTIVE_ONLY
        with mf.translate_errors(f"listing experiments of tenant '{tenant}'"):
            found = mf.all_pages(
                self._client.search_experiments,
                view_type=view,
                filter_string=f"tags.`{TAG_TENANT}` = {quote_filter_value(tenant)}",
                order_by=["creation_time DESC"],
                max_results=1000,
            )
        owned = []
        for exp in found:
            split = split_experiment_name(exp.name)
            if split and split[0] == tenant and exp.tags.get(TAG_TENANT) == tenant:
                self._owner[str(exp.experiment_id)] = tenant
                owned.append(exp)
        return owned

    def archive_experiment(
        self, experiment_id: str, tenant_id: str | None = None
    ) -> ExperimentResponse:
        """Soft-delete the tenant's experiment (MLflow's deleted stage; restorable)."""
        tenant = self._tenant(tenant_id)
        exp = self._experiment(experiment_id, tenant)
        if exp.lifecycle_stage == "active":
            with mf.translate_errors(f"archiving experiment '{exp.name}'"):
                self._client.delete_experiment(exp.experiment_id)
        self._experiment_ids = {
            k: v for k, v in self._experiment_ids.items() if v != exp.experiment_id
        }
        return self.get_experiment(exp.experiment_id, tenant)

    def restore_experiment(
        self, experiment_id: str, tenant_id: str | None = None
    ) -> ExperimentResponse:
        tenant = self._tenant(tenant_id)
        exp = self._experiment(experiment_id, tenant)
        if exp.lifecycle_stage != "active":
            with mf.translate_errors(f"restoring experiment '{exp.name}'"):
                self._client.restore_experiment(exp.experiment_id)
        return self.get_experiment(exp.experiment_id, tenant)

    # -- runs --------------------------------------------------------------------------

    def start_run(
        self,
        experiment_name: str | None = None,
        run_config: RunConfig | None = None,
        *,
        experiment_id: str | None = None,
    ) -> ActiveRun:
        """Start a run in the tenant's experiment (created on first use).

        Returns an `ActiveRun`; use it in a ``with`` block, or call ``run.end()``.
        """
        cfg = run_config or RunConfig()
        tenant = self._tenant(cfg.tenant_id)
        if experiment_id is not None:
            exp_id = str(self._experiment(experiment_id, tenant).experiment_id)
        else:
            if not experiment_name:
                raise InvalidInputError(
                    "experiment_name", "no experiment given.", hint="Pass experiment_name='...'."
                )
            exp_id = self.get_or_create_experiment(
                experiment_name, tenant, user_id=cfg.user_id, job_id=cfg.job_id
            )
        user = cfg.user_id or default_user()
        tags = self._run_tags(cfg, tenant, user)
        parent = self._parent_id(cfg, tenant)
        if parent:
            tags[TAG_PARENT] = parent
        with mf.translate_errors(f"starting a run in experiment {exp_id}"):
            run = self._client.create_run(
                exp_id, start_time=_now_ms(), tags=tags, run_name=cfg.run_name or None
            )
        active = ActiveRun(
            self,
            run,
            tenant,
            user,
            system_metrics_interval=cfg.system_metrics_interval if cfg.log_system_metrics else None,
        )
        self._remember(active)
        return active

    def _run_tags(self, cfg: RunConfig, tenant: str, user: str) -> dict[str, str]:
        tags = dict(validate_user_tag(k, v) for k, v in cfg.tags.items())
        tags.update(provenance_tags(cfg.notebook_path))
        tags.update(
            {
                TAG_TENANT: tenant,
                TAG_USER: user,
                "mlflow.user": user,
                TAG_HEARTBEAT: str(_now_ms()),
            }
        )
        if cfg.job_id:
            tags[TAG_JOB] = str(cfg.job_id)
        if cfg.description:
            tags[TAG_NOTE] = cfg.description
        return tags

    def _parent_id(self, cfg: RunConfig, tenant: str) -> str | None:
        if cfg.parent_run_id:
            return self._run(cfg.parent_run_id, tenant).info.run_id
        if cfg.nested:
            current = self.active_run()
            if current is None:
                raise InvalidInputError(
                    "nested", "no run is open to nest under.", hint="Start the parent run first."
                )
            if current.tenant_id != tenant:
                raise InvalidInputError("nested", "the open run belongs to another tenant.")
            return current.run_id
        return None

    def active_run(self) -> ActiveRun | None:
        """The innermost run started by this thread and not yet ended."""
        stack = getattr(self._local, "stack", [])
        return stack[-1] if stack else None

    def _remember(self, run: ActiveRun) -> None:
        if not hasattr(self._local, "stack"):
            self._local.stack = []
        self._local.stack.append(run)
        _LIVE_RUNS.add(run)

    def _forget(self, run: ActiveRun) -> None:
        stack = getattr(self._local, "stack", [])
        if run in stack:
            stack.remove(run)
        _LIVE_RUNS.discard(run)

    def _live(self, run_id: str) -> ActiveRun | None:
        for run in list(_LIVE_RUNS):
            if run.run_id == run_id and run._tracker is self:
                return run
        return None

    def _run(self, run_id: Any, tenant: str, *, flush: bool = True) -> Any:
        what = f"Run '{run_id}'"
        if not isinstance(run_id, str) or not _RUN_ID_RE.match(run_id):
            raise self._not_found(what, tenant)
        live = self._live(run_id)
        if flush and live is not None and live.tenant_id == tenant and not live.ended:
            live.flush()
        with mf.translate_errors(
            f"reading {what}", not_found=self._not_found(what, tenant).message
        ):
            run = self._client.get_run(run_id)
        if run.data.tags.get(TAG_TENANT) != tenant or not self._owns_experiment(
            run.info.experiment_id, tenant
        ):
            raise self._not_found(what, tenant)
        return run

    def _owns_experiment(self, experiment_id: str, tenant: str) -> bool:
        owner = self._owner.get(str(experiment_id))
        if owner is not None:
            return owner == tenant
        try:
            self._experiment(experiment_id, tenant)
        except NotFoundError:
            return False
        return True

    def get_run(
        self, run_id: str, tenant_id: str | None = None, *, include_artifacts: bool = True
    ) -> RunResponse:
        """The tenant's run; `NotFoundError` for missing or foreign ids. A run open in this
        process is flushed first, so the answer includes everything logged."""
        tenant = self._tenant(tenant_id)
        run = self._run(run_id, tenant)
        artifacts = None
        if include_artifacts:
            artifacts = [f.path for f in self._artifacts(run_id, None)]
        return mf.run_response(run, artifacts)

    def list_runs(
        self,
        tenant_id: str | None = None,
        experiment_name: str | None = None,
        filter_string: str | None = None,
        order_by: list[str] | None = None,
        max_results: int = 1000,
        *,
        page_token: str | None = None,
        experiment_ids: Iterable[str] | None = None,
        include_deleted: bool = False,
    ) -> RunList:
        """The tenant's runs, optionally in one experiment, filtered with MLflow's filter
        syntax (for example ``"metrics.val_auc > 0.85 and params.depth = '5'"``)."""
        tenant = self._tenant(tenant_id)
        if experiment_name is not None:
            ids = [self._experiment_id_by_name(experiment_name, tenant)]
        elif experiment_ids is not None:
            ids = [str(self._experiment(e, tenant).experiment_id) for e in experiment_ids]
        else:
            ids = [str(e.experiment_id) for e in self._tenant_experiments(tenant)]
        result = RunList()
        if not ids:
            return result
        if not isinstance(max_results, int) or not 1 <= max_results <= 50000:
            raise InvalidInputError("max_results", f"{max_results!r} is not in 1..50000.")
        clause = f"tags.`{TAG_TENANT}` = {quote_filter_value(tenant)}"
        user_filter = (filter_string or "").strip()
        combined = f"{user_filter} and {clause}" if user_filter else clause
        view = mf.ViewType.ALL if include_deleted else mf.ViewType.ACTIVE_ONLY
        try:
            with mf.translate_errors("searching runs"):
                page = self._client.search_runs(
                    ids,
                    filter_string=combined,
                    run_view_type=view,
                    max_results=max_results,
                    order_by=list(order_by or ["attributes.start_time DESC"]),
                    page_token=page_token,
                )
        except InvalidInputError as exc:
            raise InvalidInputError(
                "filter_string",
                f"{user_filter!r} is not a valid MLflow filter ({exc.message}).",
                hint="Example: metrics.loss < 0.5 and params.lr = '0.01' and "
                "attributes.status = 'FINISHED'.",
            ) from None
        for run in page:
            if run.data.tags.get(TAG_TENANT) == tenant and run.info.experiment_id in ids:
                result.append(mf.run_response(run))
        result.next_page_token = page.token
        return result

    def _experiment_id_by_name(self, name: str, tenant: str) -> str:
        cached = self._experiment_ids.get((tenant, name))
        if cached:
            return cached
        exp = self._by_name(experiment_full_name(tenant, name))
        self._check_owned(exp, tenant, f"Experiment '{name}'")
        return str(exp.experiment_id)

    def get_metric_history(
        self, run_id: str, key: str, tenant_id: str | None = None
    ) -> list[MetricPoint]:
        """Every logged point of one metric, by step."""
        tenant = self._tenant(tenant_id)
        validate_key(key, "metric key")
        self._run(run_id, tenant)
        with mf.translate_errors(f"reading metric {key!r}"):
            history = self._client.get_metric_history(run_id, key)
        return sorted(mf.metric_points(history), key=lambda p: (p.step, p.timestamp))

    def delete_run(self, run_id: str, tenant_id: str | None = None) -> None:
        """Soft-delete the tenant's run (restorable with `restore_run`)."""
        tenant = self._tenant(tenant_id)
        self._run(run_id, tenant)
        with mf.translate_errors(f"deleting run {run_id}"):
            self._client.delete_run(run_id)

    def restore_run(self, run_id: str, tenant_id: str | None = None) -> None:
        tenant = self._tenant(tenant_id)
        self._run(run_id, tenant)
        with mf.translate_errors(f"restoring run {run_id}"):
            self._client.restore_run(run_id)

    def create_run(self, experiment_id: str, run_config: RunConfig | None = None) -> RunResponse:
        """Create a run without opening a writer (the REST quick start). Log to it with
        `log_batch` and end it with `end_run`."""
        cfg = run_config or RunConfig()
        tenant = self._tenant(cfg.tenant_id)
        exp = self._experiment(experiment_id, tenant)
        if exp.lifecycle_stage != "active":
            raise ConflictError(
                f"Experiment '{experiment_id}' is archived.", hint="Restore it first."
            )
        user = cfg.user_id or default_user()
        tags = self._run_tags(cfg, tenant, user)
        tags.pop(TAG_HEARTBEAT, None)  # no process keeps this run alive
        for key in (TAG_PID, TAG_HOST):
            tags.pop(key, None)
        parent = self._parent_id(cfg, tenant)
        if parent:
            tags[TAG_PARENT] = parent
        with mf.translate_errors(f"starting a run in experiment {experiment_id}"):
            run = self._client.create_run(
                exp.experiment_id, start_time=_now_ms(), tags=tags, run_name=cfg.run_name or None
            )
        return mf.run_response(run)

    def log_batch(
        self,
        run_id: str,
        metrics: Iterable[Mapping[str, Any]] = (),
        params: Mapping[str, Any] | None = None,
        tags: Mapping[str, Any] | None = None,
        tenant_id: str | None = None,
    ) -> None:
        """Write metrics (``{"key", "value", "step"?, "timestamp"?}``), params and tags to
        the tenant's run now, validated, within MLflow's batch limits."""
        tenant = self._tenant(tenant_id)
        run = self._run(run_id, tenant)
        if run.info.status != "RUNNING":
            raise ConflictError(
                f"Run {run_id} has ended ({run.info.status}).", hint="Start a new run."
            )
        now = _now_ms()
        metric_items: list[MetricItem] = []
        for i, m in enumerate(metrics):
            try:
                key, value = m["key"], m["value"]
            except (KeyError, TypeError):
                raise InvalidInputError(f"metrics[{i}]", "needs 'key' and 'value'.") from None
            validate_key(key, f"metrics[{i}].key")
            step = m.get("step")
            step = 0 if step is None else ActiveRun._step(step)
            ts = int(m.get("timestamp") or now)
            metric_items.append((key, _metric_value(key, value), ts, step))
        param_items = [validate_param(k, v) for k, v in (params or {}).items()]
        existing = run.data.params
        for k, v in param_items:
            if k in existing and existing[k] != v:
                raise ConflictError(
                    f"Param {k!r} was logged as {existing[k]!r}; it cannot change to {v!r}.",
                    hint="Params are write-once.",
                )
        tag_items = [validate_user_tag(k, v) for k, v in (tags or {}).items()]
        for batch in iter_batches(metric_items, param_items, tag_items):
            em, ep, et = mf.entities(*batch)
            with mf.translate_errors(f"logging to run {run_id}"):
                self._client.log_batch(run_id, metrics=em, params=ep, tags=et, synchronous=True)

    def end_run(
        self, run_id: str, status: str = "FINISHED", tenant_id: str | None = None
    ) -> RunResponse:
        """End the tenant's run by id. A run open in this process is flushed and ended."""
        tenant = self._tenant(tenant_id)
        status = str(status).upper()
        if status not in END_STATUSES:
            raise InvalidInputError(
                "status", f"{status!r} is not an end state.", hint=f"Use one of {END_STATUSES}."
            )
        live = self._live(run_id)
        if live is not None and live.tenant_id == tenant and not live.ended:
            live.end(status)
        else:
            self._run(run_id, tenant)
            with mf.translate_errors(f"ending run {run_id}"):
                self._client.set_terminated(run_id, status=status, end_time=_now_ms())
        return self.get_run(run_id, tenant, include_artifacts=False)

    # -- comparison --------------------------------------------------------------------

    def compare_runs(
        self, tenant_id: str | None, run_ids: Iterable[str], metrics: Iterable[str] | None = None
    ) -> pd.DataFrame:
        """One row per run: id, name, status, start, duration, ``params.*``, ``metrics.*``."""
        import pandas as pd

        tenant = self._tenant(tenant_id)
        wanted = list(metrics) if metrics is not None else None
        rows = []
        for run_id in run_ids:
            r = mf.run_response(self._run(run_id, tenant))
            row: dict[str, Any] = {
                "run_id": r.id,
                "run_name": r.name,
                "status": r.status,
                "start_time": pd.Timestamp(r.start_time) if r.start_time else pd.NaT,
                "duration_seconds": r.duration_seconds,
            }
            row.update({f"params.{k}": v for k, v in sorted(r.params.items())})
            keys = wanted if wanted is not None else sorted(r.metrics)
            row.update({f"metrics.{k}": r.metrics.get(k, math.nan) for k in keys})
            rows.append(row)
        frame = pd.DataFrame(rows)
        if rows:
            fixed = ["run_id", "run_name", "status", "start_time", "duration_seconds"]
            params = sorted(c for c in frame.columns if c.startswith("params."))
            mets = (
                [f"metrics.{k}" for k in wanted]
                if wanted is not None
                else sorted(c for c in frame.columns if c.startswith("metrics."))
            )
            frame = frame[fixed + params + mets]
        return frame

    # -- artifacts ---------------------------------------------------------------------

    def _artifacts(self, run_id: str, path: str | None) -> list[Any]:
        with mf.translate_errors(f"listing artifacts of run {run_id}"):
            return list(self._client.list_artifacts(run_id, path))

    def list_artifacts(
        self, run_id: str, path: str | None = None, tenant_id: str | None = None
    ) -> list[dict[str, Any]]:
        """The artifacts of the tenant's run under ``path``: path, is_dir, file_size."""
        tenant = self._tenant(tenant_id)
        self._run(run_id, tenant, flush=False)
        sub = _artifact_dir(path)
        return [
            {"path": f.path, "is_dir": f.is_dir, "file_size": f.file_size}
            for f in self._artifacts(run_id, sub)
        ]

    def download_artifacts(
        self, run_id: str, path: str, dst: str | os.PathLike, tenant_id: str | None = None
    ) -> Path:
        """Download an artifact file or folder of the tenant's run into ``dst``."""
        tenant = self._tenant(tenant_id)
        self._run(run_id, tenant, flush=False)
        Path(dst).mkdir(parents=True, exist_ok=True)
        with mf.translate_errors(
            f"downloading {path!r}", not_found=f"Artifact {path!r} was not found in run {run_id}."
        ):
            return Path(self._client.download_artifacts(run_id, _artifact_file(path), str(dst)))

    def upload_artifacts(
        self,
        run_id: str,
        local_path: str | os.PathLike,
        artifact_path: str | None = None,
        tenant_id: str | None = None,
    ) -> None:
        """Upload a file or folder to the tenant's run (seed 001's ArtifactManager)."""
        tenant = self._tenant(tenant_id)
        self._run(run_id, tenant, flush=False)
        path = Path(local_path)
        if not path.exists():
            raise InvalidInputError("local_path", f"{str(path)!r} does not exist.")
        with mf.translate_errors(f"uploading {path.name!r} to run {run_id}"):
            self._client.log_artifact(run_id, str(path), _artifact_dir(artifact_path))

    # -- spooled data ------------------------------------------------------------------

    def replay_spools(self) -> dict[str, int]:
        """Send data that runs spooled while the backend was unreachable and whose process
        has ended, and end those runs as they asked. Spools another live process owns are
        left alone. Returns, per run id, how many items were sent; runs still unreachable
        are left for a later call."""
        sent: dict[str, int] = {}
        live = {r.run_id for r in _LIVE_RUNS}
        for run_id in orphaned_spools():
            if run_id in live:
                continue
            spool = Spool(run_id)
            if not spool.acquire():
                continue
            items = spool.items
            if spool.tenant:
                self.bind_tenant(spool.tenant)

            def send(m: list, p: list, t: list, run_id: str = run_id) -> None:
                em, ep, et = mf.entities(m, p, t)
                with mf.translate_errors(f"replaying spooled data of run {run_id}"):
                    self._client.log_batch(run_id, metrics=em, params=ep, tags=et)

            def terminate(status: str, end_time: int, run_id: str = run_id) -> None:
                with mf.translate_errors(f"ending run {run_id}"):
                    self._client.set_terminated(run_id, status=status, end_time=end_time)

            writer = BatchWriter(send, spool=spool, terminate=terminate, start=False)
            try:
                writer.flush(timeout=0)
                sent[run_id] = items
            except LoggingError:
                pass
            finally:
                spool.release()
        return sent

    # -- orphans -----------------------------------------------------------------------

    def find_orphan_runs(
        self,
        tenant_id: str | None = None,
        experiment_name: str | None = None,
        stale_after: float = DEFAULT_STALE_AFTER,
    ) -> list[RunResponse]:
        """Runs still RUNNING whose process is gone: its pid is dead on this host, or its
        heartbeat is older than ``stale_after`` seconds. Runs created without a process
        behind them (the REST quick start) never count."""
        runs = self.list_runs(
            tenant_id, experiment_name, filter_string="attributes.status = 'RUNNING'"
        )
        host = socket.gethostname()
        now = _now_ms()
        live_ids = {r.run_id for r in _LIVE_RUNS}
        orphans = []
        for run in runs:
            beat = run.tags.get(TAG_HEARTBEAT)
            if beat is None or run.id in live_ids:
                continue
            pid = run.tags.get(TAG_PID)
            if (
                run.tags.get(TAG_HOST) == host
                and pid
                and pid.isdigit()
                and not _alive(int(pid), run.start_time)
            ) or (beat.isdigit() and now - int(beat) > stale_after * 1000):
                orphans.append(run)
        return orphans

    def close_orphan_runs(
        self,
        tenant_id: str | None = None,
        experiment_name: str | None = None,
        stale_after: float = DEFAULT_STALE_AFTER,
    ) -> list[RunResponse]:
        """End every orphaned run as KILLED, tagging why; returns the runs closed."""
        tenant = self._tenant(tenant_id)
        closed = []
        for run in self.find_orphan_runs(tenant, experiment_name, stale_after):
            with mf.translate_errors(f"closing orphaned run {run.id}"):
                self._client.set_tag(
                    run.id, TAG_END_REASON, "orphaned: its process stopped without ending it"
                )
                self._client.set_terminated(run.id, status="KILLED", end_time=_now_ms())
            closed.append(run)
        return closed


def _alive(pid: int, run_start_iso: str) -> bool:
    """Whether process ``pid`` still runs and is older than the run (not a reused pid)."""
    import datetime as dt

    import psutil

    try:
        proc = psutil.Process(pid)
        created = proc.create_time()
    except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
        return False
    if proc.status() == psutil.STATUS_ZOMBIE:
        return False
    start = dt.datetime.fromisoformat(run_start_iso).timestamp() if run_start_iso else 0
    return created <= start + 1


def _sqlite_artifact_root(tracking_uri: str) -> str | None:
    """Artifacts next to a SQLite store (not MLflow's ``./mlruns`` in whatever folder)."""
    if tracking_uri.startswith("sqlite:///"):
        db = Path(tracking_uri[len("sqlite:///") :])
        return (db.parent / "artifacts").resolve().as_uri()
    return None


# -- process-wide state: live runs, exit handling, the singleton -------------------------

_LIVE_RUNS: weakref.WeakSet[ActiveRun] = weakref.WeakSet()
_TRACKERS: weakref.WeakSet[ExperimentTracker] = weakref.WeakSet()
_exit_error: BaseException | None = None
_hook_lock = threading.Lock()
_hooks_installed = False


def _register_tracker(tracker: ExperimentTracker) -> None:
    global _hooks_installed
    _TRACKERS.add(tracker)
    with _hook_lock:
        if _hooks_installed:
            return
        _hooks_installed = True
        previous = sys.excepthook

        def excepthook(
            tp: type[BaseException], value: BaseException, tb: TracebackType | None
        ) -> None:
            global _exit_error
            _exit_error = value
            previous(tp, value, tb)

        sys.excepthook = excepthook
        atexit.register(_end_live_runs_at_exit)


def _end_live_runs_at_exit() -> None:
    """At interpreter exit, write what is buffered and end open runs with a true status:
    FAILED with the exception that ended the program, KILLED for an interrupt, else
    FINISHED with the reason tagged."""
    error = _exit_error
    if error is None:
        status, reason = "FINISHED", "interpreter exit without end()"
    elif isinstance(error, KeyboardInterrupt):
        status, reason = "KILLED", "interrupted"
    else:
        status, reason = "FAILED", "uncaught exception"
    for run in list(_LIVE_RUNS):
        try:
            run.end(status, error=error, reason=reason, timeout=30)
        except Exception as exc:  # report, never raise at exit
            print(f"matih: could not end run {run.run_id} at exit: {exc}", file=sys.stderr)


_singleton: ExperimentTracker | None = None
_singleton_lock = threading.Lock()


def get_experiment_tracker(*, refresh: bool = False) -> ExperimentTracker:
    """The process-wide tracker, configured from the environment (seed 000).

    ``refresh=True`` builds it again, after the environment changed.
    """
    global _singleton
    with _singleton_lock:
        if _singleton is None or refresh:
            _singleton = ExperimentTracker()
        return _singleton
