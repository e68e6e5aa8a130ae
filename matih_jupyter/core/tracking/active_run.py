"""A run being logged: buffered metrics, params and tags, artifacts, and its end."""

from __future__ import annotations

import contextlib
import functools
import os
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from ..backend import convert
from ..backend.error_map import translate_errors
from ..errors import (
    BackendUnavailableError,
    ConflictError,
    InvalidInputError,
    LoggingError,
    MatihError,
)
from ..isolation import isolated
from ..tenancy import MAX_TAG_VALUE_LENGTH, validate_key, validate_param, validate_user_tag
from ..values import end_status, metric_value, new_params, now_ms, step_value
from . import artifact_paths as paths
from .buffer import BatchWriter, MetricItem
from .metric_tap import MetricTap
from .run_tags import TAG_END_REASON, TAG_ERROR_MESSAGE, TAG_ERROR_TYPE, TAG_HEARTBEAT
from .spool import Spool
from .system_metrics import SystemMetricsSampler

if TYPE_CHECKING:
    from .tracker import ExperimentTracker


def _run_scoped(fn: Callable[..., Any]) -> Callable[..., Any]:
    """For ActiveRun methods that call MLflow on the caller's thread: in their own context,
    bound to the run's tenant (its MLflow workspace, when the server has them)."""

    def bound(self: ActiveRun, *args: Any, **kwargs: Any) -> Any:
        self._tracker.workspaces.bind(self.tenant_id)
        return fn(self, *args, **kwargs)

    return isolated(functools.wraps(fn)(bound))


class ActiveRun:
    """A run being logged. Every logging method returns the run, so calls chain.

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
        self._created = run
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
    def created_run(self) -> Any:
        """The MLflow run as it was created: its info and the tags it started with."""
        return self._created

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

    def metric_tap(self) -> MetricTap:
        """A tap on this run's metric points as they are logged, before MLflow stores
        them: what a live chart follows, so it keeps the training loop's pace. Open it
        with `MetricTap.open` and close it when done."""
        return MetricTap(self._writer)

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
            value = metric_value(key, value)
        if step is None:
            step = 0
        elif type(step) is not int:
            step = step_value(step)
        self._writer.put_metric((key, value, timestamp or time.time_ns() // 1_000_000, step))
        return self

    def log_metrics(self, metrics: Mapping[str, Any], step: int | None = None) -> ActiveRun:
        """Log several metrics at one step. All are validated before any is queued."""
        self._check_open()
        ts = now_ms()
        step = 0 if step is None else step_value(step)
        items = []
        for key, value in metrics.items():
            if key not in self._keys:
                validate_key(key, "metric key")
                self._keys.add(key)
            items.append((key, metric_value(key, value), ts, step))
        self._writer.put_metrics(items)
        return self

    def log_param(self, key: str, value: Any) -> ActiveRun:
        """Log a param. Params are write-once: another value for the same key is a
        `ConflictError`; the same value again is accepted."""
        return self.log_params({key: value})

    def log_params(self, params: Mapping[str, Any]) -> ActiveRun:
        """Log several params (values are stored as strings)."""
        self._check_open()
        texts: dict[str, str] = {}
        for key, value in params.items():
            k, text = validate_param(key, value)
            new_params(texts, {k: text})  # the same key twice in one call
            texts[k] = text
        new = new_params(self._params, texts)
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
        artifact_path = paths.artifact_dir(artifact_path)
        with translate_errors(f"uploading {path.name!r} to run {self.run_id}"):
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
        with translate_errors(f"uploading {path.name!r} to run {self.run_id}"):
            self._client.log_artifacts(self.run_id, str(path), paths.artifact_dir(artifact_path))
        return self

    @_run_scoped
    def log_dict(self, dictionary: Mapping[str, Any], artifact_file: str) -> ActiveRun:
        """Store a dict as JSON (or YAML for ``.yaml``/``.yml``) in the run's artifacts."""
        self._check_open()
        with translate_errors(f"storing {artifact_file!r}"):
            self._client.log_dict(self.run_id, dict(dictionary), paths.artifact_file(artifact_file))
        return self

    @_run_scoped
    def log_text(self, text: str, artifact_file: str) -> ActiveRun:
        self._check_open()
        with translate_errors(f"storing {artifact_file!r}"):
            self._client.log_text(self.run_id, str(text), paths.artifact_file(artifact_file))
        return self

    @_run_scoped
    def log_figure(self, figure: Any, artifact_file: str) -> ActiveRun:
        """Store a matplotlib (or plotly) figure as an image artifact."""
        self._check_open()
        with translate_errors(f"storing figure {artifact_file!r}"):
            self._client.log_figure(self.run_id, figure, paths.artifact_file(artifact_file))
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
        status = end_status(status)
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
        end_time = now_ms()
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

    def detach(self, timeout: float | None = 60.0) -> None:
        """Stop logging to this run from this process, everything written, without ending
        it: another process goes on with it (a sweep shared by several kernels)."""
        if self._ended:
            return
        if self._sampler is not None:
            self._sampler.stop()
        self._writer.close(timeout)
        self._ended = True
        self._tracker._forget(self)

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
        m, p, t = convert.entities(metrics, params, tags)
        with translate_errors(f"logging to run {self.run_id}"):
            self._client.log_batch(self.run_id, metrics=m, params=p, tags=t, synchronous=True)

    def _terminate(self, status: str, end_time: int) -> None:
        self._tracker.workspaces.bind(self.tenant_id)
        with translate_errors(f"ending run {self.run_id}"):
            self._client.set_terminated(self.run_id, status=status, end_time=end_time)

    def _heartbeat(self) -> None:
        self._writer.tags.append((TAG_HEARTBEAT, str(now_ms())))
        self._writer.wake()
