"""The tracker's runs: started with a writer (`ActiveRun`) or created bare for REST
clients, written in validated batches, ended, deleted and restored."""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from ..backend import convert
from ..backend.client import run_status
from ..backend.error_map import translate_errors
from ..config import default_user
from ..errors import ConflictError, InvalidInputError
from ..isolation import isolated_methods
from ..models import RunResponse
from ..tenancy import TAG_RUNS_REMOVED, TAG_USER, validate_key, validate_param, validate_user_tag
from ..values import end_status, metric_value, new_params, now_ms, step_value
from . import live_runs
from .active_run import ActiveRun
from .buffer import MetricItem, iter_batches
from .provenance import TAG_HOST, TAG_PID
from .run_config import RunConfig
from .run_tags import TAG_HEARTBEAT, run_tags

if TYPE_CHECKING:
    from .ownership import Ownership


@isolated_methods
class RunsMixin:
    """Run methods of `ExperimentTracker` that start, write and end runs."""

    _own: Ownership
    _client: Any
    _local: threading.local
    _tenant: Callable[[str | None], str]
    get_or_create_experiment: Callable[..., str]
    get_run: Callable[..., RunResponse]

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
            exp_id = str(self._own.experiment(experiment_id, tenant).experiment_id)
        else:
            if not experiment_name:
                raise InvalidInputError(
                    "experiment_name", "no experiment given.", hint="Pass experiment_name='...'."
                )
            exp_id = self.get_or_create_experiment(
                experiment_name, tenant, user_id=cfg.user_id, job_id=cfg.job_id
            )
        return self._open(exp_id, cfg, tenant)

    def _open(
        self,
        exp_id: str,
        cfg: RunConfig,
        tenant: str,
        system_tags: Mapping[str, str] | None = None,
    ) -> ActiveRun:
        """Start a run in an experiment already checked for ``tenant``, with matih's own
        ``system_tags`` (a sweep's trial) written with the run itself."""
        user = cfg.user_id or default_user()
        run = self._create(exp_id, cfg, tenant, user, with_process=True, system_tags=system_tags)
        interval = cfg.system_metrics_interval if cfg.log_system_metrics else None
        active = ActiveRun(self, run, tenant, user, system_metrics_interval=interval)  # type: ignore[arg-type]
        self._remember(active)
        return active

    def resume_run(self, run_id: str, tenant_id: str | None = None) -> ActiveRun:
        """Reopen the tenant's run for more logging from this process (a resumed sweep):
        it is RUNNING again, kept alive by this process's heartbeat."""
        tenant = self._tenant(tenant_id)
        self._own.run(run_id, tenant)
        if live_runs.find(run_id, self) is not None:
            raise ConflictError(f"Run {run_id} is already open in this process.")
        alive = {TAG_PID: str(os.getpid()), TAG_HOST: socket.gethostname()}
        alive[TAG_HEARTBEAT] = str(now_ms())
        with translate_errors(f"reopening run {run_id}"):
            self._client.update_run(run_id, status="RUNNING")
            for key, value in alive.items():
                self._client.set_tag(run_id, key, value)
            run = self._client.get_run(run_id)
        user = run.data.tags.get(TAG_USER) or default_user()
        active = ActiveRun(self, run, tenant, user)  # type: ignore[arg-type]
        self._remember(active)
        return active

    def create_run(self, experiment_id: str, run_config: RunConfig | None = None) -> RunResponse:
        """Create a run without opening a writer (the REST quick start). Log to it with
        `log_batch` and end it with `end_run`."""
        cfg = run_config or RunConfig()
        tenant = self._tenant(cfg.tenant_id)
        exp = self._own.experiment(experiment_id, tenant)
        if exp.lifecycle_stage != "active":
            raise ConflictError(
                f"Experiment '{experiment_id}' is archived.", hint="Restore it first."
            )
        user = cfg.user_id or default_user()
        run = self._create(exp.experiment_id, cfg, tenant, user, with_process=False)
        return convert.run_response(run)

    def _create(
        self,
        exp_id: str,
        cfg: RunConfig,
        tenant: str,
        user: str,
        *,
        with_process: bool,
        system_tags: Mapping[str, str] | None = None,
    ) -> Any:
        tags = run_tags(cfg, tenant, user, self._parent_id(cfg, tenant), with_process=with_process)
        tags.update(system_tags or {})
        with translate_errors(f"starting a run in experiment {exp_id}"):
            return self._client.create_run(
                exp_id, start_time=now_ms(), tags=tags, run_name=cfg.run_name or None
            )

    def _parent_id(self, cfg: RunConfig, tenant: str) -> str | None:
        if cfg.parent_run_id:
            live = live_runs.find(cfg.parent_run_id, self)
            if live is not None and live.tenant_id == tenant and not live.ended:
                return live.run_id  # open in this process for the tenant: nothing to read
            return str(self._own.run(cfg.parent_run_id, tenant).info.run_id)
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
        live_runs.add(run)

    def _forget(self, run: ActiveRun) -> None:
        stack = getattr(self._local, "stack", [])
        if run in stack:
            stack.remove(run)
        live_runs.discard(run)

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
        metric_items = _metric_items(metrics)
        texts = dict(validate_param(k, v) for k, v in (params or {}).items())
        tag_items = [validate_user_tag(k, v) for k, v in (tags or {}).items()]
        if texts:
            # Params are write-once: the ones already logged come with the whole run.
            run = self._own.run(run_id, tenant)
            status = run.info.status
            param_items = list(new_params(run.data.params, texts).items())
        else:
            self._own.check_run(run_id, tenant)
            with translate_errors(f"reading run {run_id}"):
                status = run_status(self._client, run_id)
            param_items = []
        if status != "RUNNING":
            raise ConflictError(f"Run {run_id} has ended ({status}).", hint="Start a new run.")
        for batch in iter_batches(metric_items, param_items, tag_items):
            em, ep, et = convert.entities(*batch)
            with translate_errors(f"logging to run {run_id}"):
                self._client.log_batch(run_id, metrics=em, params=ep, tags=et, synchronous=True)

    def end_run(
        self, run_id: str, status: str = "FINISHED", tenant_id: str | None = None
    ) -> RunResponse:
        """End the tenant's run by id. A run open in this process is flushed and ended."""
        tenant = self._tenant(tenant_id)
        status = end_status(status)
        live = live_runs.find(run_id, self)
        if live is not None and live.tenant_id == tenant and not live.ended:
            live.end(status)
        else:
            self._own.run(run_id, tenant)
            with translate_errors(f"ending run {run_id}"):
                self._client.set_terminated(run_id, status=status, end_time=now_ms())
        return self.get_run(run_id, tenant, include_artifacts=False)

    def delete_run(self, run_id: str, tenant_id: str | None = None) -> None:
        """Soft-delete the tenant's run (restorable with `restore_run`)."""
        run = self._own.run(run_id, self._tenant(tenant_id))
        with translate_errors(f"deleting run {run_id}"):
            self._client.delete_run(run_id)
            self._mark_runs_removed(run)

    def restore_run(self, run_id: str, tenant_id: str | None = None) -> None:
        run = self._own.run(run_id, self._tenant(tenant_id))
        with translate_errors(f"restoring run {run_id}"):
            self._client.restore_run(run_id)
            self._mark_runs_removed(run)

    def _mark_runs_removed(self, run: Any) -> None:
        """Note on the run's experiment that its set of runs changed: an old run deleted
        or restored is not among the runs a watcher (the sidebar) follows."""
        exp_id = run.info.experiment_id
        self._client.set_experiment_tag(exp_id, TAG_RUNS_REMOVED, str(now_ms()))


def _metric_items(metrics: Iterable[Mapping[str, Any]]) -> list[MetricItem]:
    """REST-style metric dicts as checked buffer tuples."""
    now = now_ms()
    items: list[MetricItem] = []
    for i, m in enumerate(metrics):
        try:
            key, value = m["key"], m["value"]
        except (KeyError, TypeError):
            raise InvalidInputError(f"metrics[{i}]", "needs 'key' and 'value'.") from None
        validate_key(key, f"metrics[{i}].key")
        step = m.get("step")
        step = 0 if step is None else step_value(step)
        items.append((key, metric_value(key, value), int(m.get("timestamp") or now), step))
    return items
