"""Registering a model: a new version of the tenant's model ``<tenant>.<name>`` (the model
is created on first registration), in stage ``development``.

The model is logged to its *producing run*: a new run in the tenant's experiment
``models.<name>`` (artifacts at the run's root), or the tenant's existing run ``run_id``
(artifacts under ``registered_models/<name>/<id>/``). Beside the model go its ONNX export
when possible, pinned ``requirements.txt``, the run's metric history and the model card.
The registration itself is recorded as one epoch of the model, like every stage change.
"""

from __future__ import annotations

import contextlib
import json
import tempfile
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..backend import convert
from ..backend.client import move_to_run
from ..backend.error_map import translate_errors
from ..backend.registry_read import VersionRead, version_read
from ..config import default_user
from ..errors import ConflictError, InvalidInputError, MatihError
from ..tenancy import TAG_SHORT_NAME, TAG_TENANT, validate_param, validate_user_tag
from ..tracking.run_config import RunConfig
from ..values import metric_values, new_params, now_ms
from . import artifacts as art
from . import last_change, snapshot
from .cards import write_card
from .claim import Epochs
from .hooks import HookSet
from .lifecycle import registration_plan
from .requirements import write_requirements
from .snapshot import Snapshot
from .tags import (
    TAG_ARTIFACT_PATH,
    TAG_CREATED_BY,
    TAG_EPOCH,
    TAG_FRAMEWORK,
    TAG_METRICS,
    TAG_MODEL_TYPE,
    TAG_ONNX,
    TAG_PARAMS,
    TAG_STAGE,
    dumps,
)
from .types import ModelMetadata
from .views import model_metadata

if TYPE_CHECKING:
    from ..tracking.tracker import ExperimentTracker

#: Registrations of one model retry a lost epoch claim (a registration refuses nothing,
#: so retrying it cannot act on a state its caller did not see).
_REGISTER_RETRIES = 40
_MODEL_TYPE_MAX = 100
_DESCRIPTION_MAX = 5000
_LOG_BATCH = 100


@dataclass(frozen=True)
class Inputs:
    """A registration's arguments, checked."""

    framework: str
    metrics: dict[str, float]
    param_values: dict[str, Any]
    param_texts: dict[str, str]
    user_tags: dict[str, str]
    description: str
    model_type: str | None
    user: str


def _params(parameters: Any) -> tuple[dict[str, Any], dict[str, str]]:
    """(values as given when JSON-able, else as text; the texts logged as run params)."""
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


def checked_inputs(
    framework: Any,
    metrics: Any,
    parameters: Any,
    tags: Mapping[str, Any] | None,
    description: Any,
    model_type: Any,
    user_id: str | None,
) -> Inputs:
    """The arguments checked, or `InvalidInputError` naming the first bad one."""
    fw = art.validate_framework(framework)
    clean_metrics = metric_values(metrics)
    values, texts = _params(parameters)
    user_tags = dict(validate_user_tag(k, v) for k, v in (tags or {}).items())
    if not isinstance(description, str) or len(description) > _DESCRIPTION_MAX:
        raise InvalidInputError(
            "description", f"expected text of at most {_DESCRIPTION_MAX} characters."
        )
    if model_type is not None and (
        not isinstance(model_type, str) or len(model_type) > _MODEL_TYPE_MAX
    ):
        raise InvalidInputError(
            "model_type", f"expected text of at most {_MODEL_TYPE_MAX} characters."
        )
    user = str(user_id or default_user())
    return Inputs(fw, clean_metrics, values, texts, user_tags, description, model_type, user)


@dataclass(frozen=True)
class Producer:
    """The run a version is logged to: the MLflow run (its info and tags), the folder
    of the version's files in it, and the run's metric history."""

    run: Any
    prefix: str
    history: dict[str, list[dict[str, Any]]]


def _log_to_existing_run(
    tracker: ExperimentTracker, tenant: str, name: str, run_id: str, inputs: Inputs
) -> Producer:
    """Log the params not logged yet (params are write-once) and the metrics to the
    tenant's run, with the client: the tracker's writer needs a running run, and a
    finished training run may still receive the model's final metrics."""
    existing = tracker.get_run(run_id, tenant, include_artifacts=False)
    fresh = new_params(existing.params, inputs.param_texts)
    now = now_ms()
    m, p, t = convert.entities(
        [(k, v, now, 0) for k, v in inputs.metrics.items()], list(fresh.items()), []
    )
    for i in range(0, max(len(m), len(p), 1), _LOG_BATCH):
        with translate_errors(f"logging to run {run_id}"):
            tracker.client.log_batch(
                run_id,
                metrics=m[i : i + _LOG_BATCH],
                params=p[i : i + _LOG_BATCH],
                tags=t,
                synchronous=True,
            )
    with translate_errors(f"reading run {run_id}"):
        run = tracker.client.get_run(run_id)
        history = art.metrics_history(tracker.client, run_id, list(run.data.metrics))
    folder = f"registered_models/{name.replace(' ', '_')}/{uuid.uuid4().hex[:12]}/"
    return Producer(run, folder, history)


@contextlib.contextmanager
def _new_run(
    tracker: ExperimentTracker, tenant: str, name: str, inputs: Inputs
) -> Iterator[Producer]:
    """A new run in ``models.<name>`` holding the params and metrics; it ends FINISHED,
    or FAILED (KILLED on an interrupt) when the registration fails. Its metric history is
    the points its writer stored, so nothing is read back."""
    cfg = RunConfig(
        run_name=f"register {name}",
        tenant_id=tenant,
        user_id=inputs.user,
        description=inputs.description or None,
    )
    active = tracker.start_run(f"models.{name}", cfg)
    stored: list[tuple[str, float, int, int]] = []
    active.add_listener(stored.extend)
    try:
        active.log_params(inputs.param_texts)
        active.log_metrics(inputs.metrics)
        active.flush()
        yield Producer(active.created_run, "", art.history_of(stored))
    except BaseException as exc:
        with contextlib.suppress(MatihError):
            active.end("KILLED" if isinstance(exc, KeyboardInterrupt) else "FAILED", error=exc)
        raise
    else:
        active.end("FINISHED")


@contextlib.contextmanager
def producing_run(
    tracker: ExperimentTracker, tenant: str, name: str, run_id: str | None, inputs: Inputs
) -> Iterator[Producer]:
    """The run a version is logged to: the tenant's run ``run_id``, or a new one."""
    if run_id is not None:
        yield _log_to_existing_run(tracker, tenant, name, run_id, inputs)
        return
    with _new_run(tracker, tenant, name, inputs) as producer:
        yield producer


class Registration:
    """The registration flow on one tracker's store."""

    def __init__(self, tracker: ExperimentTracker, epochs: Epochs, hooks: HookSet) -> None:
        self.tracker = tracker
        self.client = tracker.client
        self.epochs = epochs
        self.hooks = hooks

    def register(
        self,
        tenant: str,
        name: str,
        full: str,
        model: Any,
        inputs: Inputs,
        *,
        run_id: str | None,
        must_exist: bool,
    ) -> ModelMetadata:
        """Register ``model`` as a new version; the result describes that version."""
        before = self._check_name(tenant, name, full, must_exist)
        with tempfile.TemporaryDirectory(prefix="matih-model-") as tmp:
            dest = Path(tmp) / "version"
            dest.mkdir()
            onnx_note, _ = art.save_model(model, inputs.framework, dest)
            write_requirements(dest, inputs.framework, onnx_note is None)
            with producing_run(self.tracker, tenant, name, run_id, inputs) as producer:
                self._upload(producer, dest)
                if before is None:
                    self._ensure_registered(tenant, name, full, inputs)
                mv = self._create_version(tenant, name, full, producer, inputs, onnx_note)
                # Planned on the read made before, plus the new version: the commit holds
                # only if no other change was committed since, else it is planned again
                # on a fresh read.
                first = None if before is None else snapshot.with_new_version(before, mv)
                _, snap = self.epochs.transact(
                    tenant, name, full,
                    lambda snap: registration_plan(snap, mv.version, inputs.user),
                    self.hooks, retries=_REGISTER_RETRIES, first=first,
                )  # fmt: skip
                write_card(self.client, tenant, snap, mv.version, producer.run, Path(tmp))
        return model_metadata(snap, mv.version)

    def _check_name(self, tenant: str, name: str, full: str, must_exist: bool) -> Snapshot | None:
        """The tenant's model ``full`` as read now, or ``None`` when MLflow has none yet."""
        known = last_change.recall(self.client, full)
        rm, snap = snapshot.peek_since(self.client, tenant, name, full, known)
        if rm is not None and snap is None:
            # A model MLflow holds under this name that matih did not create for this
            # tenant: never adopt it.
            raise ConflictError(
                f"The name '{name}' is taken in MLflow by a model matih does not manage "
                f"for tenant '{tenant}'.",
                hint="Choose another name.",
            )
        if rm is None and must_exist:
            raise snapshot.not_found(name, tenant)
        return snap

    def _upload(self, producer: Producer, dest: Path) -> None:
        """The saved files and the run's metric history beside them, in one upload (a
        move, on a local store)."""
        run_id = producer.run.info.run_id
        path = dest / art.METRICS_HISTORY_FILE
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(producer.history, indent=2, default=str))
        with translate_errors(f"uploading the model to run {run_id}"):
            move_to_run(
                self.client,
                producer.run.info.artifact_uri,
                dest,
                producer.prefix.rstrip("/") or None,
            )

    def _ensure_registered(self, tenant: str, name: str, full: str, inputs: Inputs) -> Any:
        """The registered model ``_check_name`` found missing, created (with its first
        ticket); one created by a concurrent first registration is used if it is ours."""
        tags = {
            **inputs.user_tags,
            TAG_TENANT: tenant,
            TAG_SHORT_NAME: name,
            TAG_FRAMEWORK: inputs.framework,
            TAG_CREATED_BY: inputs.user,
            TAG_STAGE: "development",
            TAG_EPOCH: "0",
        }
        if inputs.model_type:
            tags[TAG_MODEL_TYPE] = inputs.model_type
        try:
            with translate_errors(f"creating model '{full}'"):
                rm = self.client.create_registered_model(
                    full, tags=tags, description=inputs.description or None
                )
        except ConflictError:  # registered concurrently: use it if it is ours
            rm = snapshot.registered(self.client, full)
            if rm is None or not snapshot.owned(rm, tenant, name):
                raise ConflictError(
                    f"The name '{name}' is taken in MLflow by another model."
                ) from None
            return rm
        # Only the creator makes the first ticket, so there is never more than one.
        self.epochs.create_ticket(full, 0)
        return rm

    def _create_version(
        self,
        tenant: str,
        name: str,
        full: str,
        producer: Producer,
        inputs: Inputs,
        onnx_note: str | None,
    ) -> VersionRead:
        """Create the MLflow model version, tagged with everything the registry reads."""
        tags = {
            **inputs.user_tags,
            TAG_TENANT: tenant,
            TAG_SHORT_NAME: name,
            TAG_STAGE: "development",
            TAG_FRAMEWORK: inputs.framework,
            TAG_CREATED_BY: inputs.user,
            TAG_METRICS: dumps(inputs.metrics),
            TAG_PARAMS: dumps(inputs.param_values),
            TAG_ARTIFACT_PATH: producer.prefix,
            TAG_ONNX: "true" if onnx_note is None else onnx_note[:500],
        }
        if inputs.model_type:
            tags[TAG_MODEL_TYPE] = inputs.model_type
        info = producer.run.info
        source = f"{info.artifact_uri.rstrip('/')}/{producer.prefix}{art.MODEL_DIR}"
        with translate_errors(f"registering a version of '{full}'"):
            mv = self.client.create_model_version(
                full,
                source,
                run_id=info.run_id,
                tags=tags,
                description=inputs.description or None,
            )
        return version_read(mv)
