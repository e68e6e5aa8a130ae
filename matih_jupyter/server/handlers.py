"""REST handlers: thin adapters that parse a request, call the core, answer JSON.

All routes are declared in `ROUTES` (mirrored by ``openapi.yaml``). Every handler:

- is authenticated by Jupyter (``@web.authenticated``) and authorized by the server's
  authorizer (``@authorized``, resource ``matih``);
- works for one tenant, resolved by `MatihService.resolve_tenant` from the server's
  configuration and the authenticated user, never from a value the client invents;
- runs core calls through `MatihService.call` (off the event loop, bounded in time);
- answers errors through `MatihHandler.write_error`, the one place that maps core errors
  to HTTP: a JSON body with the status, a message and (for bad input) the field, never a
  traceback.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Callable
from typing import Any, TypeVar

import pydantic_core
from jupyter_server.auth.decorator import authorized
from jupyter_server.base.handlers import APIHandler
from jupyter_server.utils import url_path_join
from pydantic import BaseModel, ValidationError
from tornado import web

from ..core.errors import InvalidInputError, MatihError, NotFoundError
from ..core.models import ExperimentCreate
from . import page_tokens, run_search, sweeps
from .app import TENANT_HEADER, MatihService
from .caller import as_caller
from .schemas import (
    MAX_PAGE,
    MAX_RUNS_COMPARED,
    SERVER_CHOSEN,
    AliasSet,
    MetricsBatch,
    ModelCreate,
    ParamsBody,
    Rollback,
    RunCreate,
    RunEnd,
    StageChange,
    VersionCreate,
)

T = TypeVar("T")
B = TypeVar("B", bound=BaseModel)

API_PREFIX = "matih/api/v1"
#: Query arguments Jupyter itself reads (authentication, XSRF), allowed on every route.
_JUPYTER_ARGS = frozenset({"token", "_xsrf", "no_track_activity"})
_ERROR_NAMES = {
    400: "invalid_input",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    502: "logging_failed",
    503: "backend_unavailable",
}


class MatihHandler(APIHandler):
    """Base of every matih handler: tenant, body parsing, core calls, JSON errors."""

    #: Resource name the Jupyter authorizer sees (actions: read for GET, write otherwise).
    auth_resource = "matih"

    def initialize(self, service: MatihService) -> None:
        self.service = service
        self._tenant: str | None = None

    def compute_etag(self) -> None:
        """No entity tag: every answer is read fresh (the sidebar polls with a cache-busting
        query), so hashing each body would be work no client uses."""
        return None

    async def prepare(self) -> None:  # type: ignore[override]
        await super().prepare()
        if self.current_user:
            for name in self.request.query_arguments:
                if name in SERVER_CHOSEN:
                    raise _server_chosen(name)

    # -- who is asking -----------------------------------------------------------------

    @property
    def user_name(self) -> str:
        user = self.current_user
        return str(getattr(user, "username", None) or user)

    @property
    def tenant(self) -> str:
        """The tenant of this request (raises 404 for a header naming another tenant)."""
        if self._tenant is None:
            requested = self.request.headers.get(TENANT_HEADER, "").strip() or None
            self._tenant = self.service.resolve_tenant(self.user_name, requested)
        return self._tenant

    # -- input -------------------------------------------------------------------------

    def body(self, model: type[B]) -> B:
        """The JSON body as ``model``; `InvalidInputError` naming the first bad field."""
        raw = self.request.body or b"{}"
        try:
            data = json.loads(raw)
        except (ValueError, UnicodeDecodeError) as exc:
            raise InvalidInputError(
                "body", f"is not valid JSON ({exc}).", hint="Send a JSON object."
            ) from None
        if not isinstance(data, dict):
            raise InvalidInputError("body", "must be a JSON object.")
        for name in data:
            if name in SERVER_CHOSEN and not (name == "artifact_location" and data[name] is None):
                raise _server_chosen(name)
        try:
            return model.model_validate(data)
        except ValidationError as exc:
            raise _invalid(exc, model) from None

    def query(self, name: str, default: str | None = None) -> str | None:
        value = self.get_query_argument(name, None)
        return default if value in (None, "") else value

    def query_list(self, name: str) -> list[str] | None:
        """Comma-separated or repeated values (``?run_ids=a,b`` or ``?run_ids=a&run_ids=b``)."""
        values = [
            part.strip()
            for raw in self.get_query_arguments(name)
            for part in raw.split(",")
            if part.strip()
        ]
        return values or None

    def query_bool(self, name: str, default: bool = False) -> bool:
        value = self.query(name)
        if value is None:
            return default
        if value.lower() in ("1", "true", "yes"):
            return True
        if value.lower() in ("0", "false", "no"):
            return False
        raise InvalidInputError(name, f"{value!r} is not a boolean.", hint="Use true or false.")

    def query_int(self, name: str, default: int, low: int, high: int) -> int:
        value = self.query(name)
        if value is None:
            return default
        if not re.fullmatch(r"\d{1,9}", value) or not low <= int(value) <= high:
            raise InvalidInputError(name, f"{value!r} is not an integer in {low}..{high}.")
        return int(value)

    # -- output ------------------------------------------------------------------------

    async def call(self, fn: Callable[[], T]) -> T:
        return await self.service.call(as_caller(self.user_name, self.current_user, fn))

    def reply(self, payload: Any, status: int = 200) -> None:
        self.set_status(status)
        if status == 204:
            self.finish()
            return
        # Models in their JSON form; NaN has no JSON spelling: null (MLflow already caps
        # infinities). Encoded in one pass by pydantic's serializer.
        self.finish(pydantic_core.to_json(payload, inf_nan_mode="null"))

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        """The one mapping from errors to HTTP answers. Bodies never hold tracebacks."""
        exc = kwargs.get("exc_info", (None, None, None))[1]
        body: dict[str, Any]
        if isinstance(exc, MatihError):
            status_code = exc.http_status
            body = {"message": exc.message}
            if isinstance(exc, InvalidInputError):
                body["field"] = exc.field
            if exc.hint:
                body["hint"] = exc.hint
        elif isinstance(exc, web.HTTPError):
            body = {"message": exc.log_message or exc.reason or _reason(status_code)}
        else:
            status_code = 500 if exc is not None else status_code
            body = {"message": "Internal server error; the server log has the details."}
        body = {"status": status_code, "error": _ERROR_NAMES.get(status_code, "error"), **body}
        self.clear()
        self.set_status(status_code)
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps(body))

    def log_exception(self, typ: Any, value: Any, tb: Any) -> None:
        if isinstance(value, MatihError):
            # Expected outcomes (bad input, not found, conflicts): one line, no traceback.
            self.log.info(
                "matih %s %s -> %s: %s",
                self.request.method,
                self.request.path,
                value.http_status,
                value.message,
            )
            return
        super().log_exception(typ, value, tb)


def _reason(status: int) -> str:
    from http.client import responses

    return responses.get(status, "Error")


def _server_chosen(name: str) -> InvalidInputError:
    return InvalidInputError(
        name,
        "is chosen by the server's configuration, not by the client.",
        hint="Remove it from the request; administrators set c.MatihJupyter.tracking_uri "
        "and artifact_root.",
    )


_UNION_TAGS = frozenset({"str", "int", "float", "bool"})


def _invalid(exc: ValidationError, model: type[BaseModel]) -> InvalidInputError:
    err = exc.errors()[0]
    cause = err.get("ctx", {}).get("error")
    if isinstance(cause, InvalidInputError):
        return cause  # a core validator's own message, naming its own field
    loc = [str(p) for p in err["loc"]]
    # For a union pydantic appends the member type tried last; the field is what matters.
    while len(loc) > 1 and loc[-1] in _UNION_TAGS:
        loc.pop()
    field = ".".join(loc) or "body"
    if err["type"] == "extra_forbidden":
        if len(loc) > 1:
            return InvalidInputError(field, "is not a known field.")
        known = ", ".join(model.model_fields)
        return InvalidInputError(field, "is not a known field.", hint=f"Known fields: {known}.")
    if err["type"] == "missing":
        return InvalidInputError(field, "is required.")
    return InvalidInputError(field, f"{err['msg']}.")


# -- identity ------------------------------------------------------------------------------


class WhoAmIHandler(MatihHandler):
    @web.authenticated
    @authorized
    async def get(self) -> None:
        """The caller, their tenant and the store in use."""
        self.reply(
            {
                "user": self.user_name,
                "tenant_id": self.tenant,
                "allowed_tenants": self.service.allowed_tenants(self.user_name),
                "store": self.service.store.describe(),
                "embedded_store": self.service.store.embedded,
            }
        )


# -- experiments ---------------------------------------------------------------------------


class ExperimentsHandler(MatihHandler):
    @web.authenticated
    @authorized
    async def get(self) -> None:
        tenant = self.tenant
        archived = self.query_bool("include_archived")
        found = await self.call(
            lambda: self.service.tracker.list_experiments(tenant, include_archived=archived)
        )
        self.reply({"experiments": found})

    @web.authenticated
    @authorized
    async def post(self) -> None:
        from ..core import ExperimentConfig

        tenant = self.tenant
        req = self.body(ExperimentCreate)
        config = ExperimentConfig(**req.model_dump(), tenant_id=tenant, user_id=self.user_name)
        exp = await self.call(lambda: self.service.tracker.create_experiment(config, tenant))
        self.reply(exp, 201)


class ChangesHandler(MatihHandler):
    @web.authenticated
    @authorized
    async def get(self) -> None:
        """Change tokens of the tenant's experiments and of each experiment's runs (see
        `changes`): what a live view polls, reloading only what changed."""
        tenant = self.tenant
        self.reply(await self.call(lambda: self.service.changes.tokens(tenant)))


class ExperimentHandler(MatihHandler):
    @web.authenticated
    @authorized
    async def get(self, experiment_id: str) -> None:
        tenant = self.tenant
        self.reply(
            await self.call(lambda: self.service.tracker.get_experiment(experiment_id, tenant))
        )

    @web.authenticated
    @authorized
    async def delete(self, experiment_id: str) -> None:
        """Archive (MLflow's soft delete; ``POST .../restore`` undoes it)."""
        tenant = self.tenant
        self.reply(
            await self.call(lambda: self.service.tracker.archive_experiment(experiment_id, tenant))
        )


class ExperimentRestoreHandler(MatihHandler):
    @web.authenticated
    @authorized
    async def post(self, experiment_id: str) -> None:
        tenant = self.tenant
        self.reply(
            await self.call(lambda: self.service.tracker.restore_experiment(experiment_id, tenant))
        )


class ExperimentRunsHandler(MatihHandler):
    @web.authenticated
    @authorized
    async def get(self, experiment_id: str) -> None:
        """Runs of one experiment, one page at a time: ``filter``, ``search`` (the name
        contains), ``status``, ``order_by``, ``max_results`` (at most `MAX_PAGE`) and
        ``page_token`` (a ``next_page_token`` this same listing answered).

        Without ``parent`` the top level: ordinary runs and sweep parents, each parent with
        a ``sweep`` summary, and no trials (unless ``include_trials``). With ``parent`` (a
        run id of the tenant, in this experiment) only that run's children."""
        tenant = self.tenant
        filter_string = self.query("filter")
        search = run_search.check_search(self.query("search"))
        status = run_search.check_status(self.query("status"))
        order_by = self.query_list("order_by")
        max_results = self.query_int("max_results", 100, 1, MAX_PAGE)
        include_deleted = self.query_bool("include_deleted")
        include_trials = self.query_bool("include_trials")
        parent = self.query("parent")
        tokens = self.service.page_tokens
        listing = page_tokens.scope(
            tenant, experiment_id, filter_string, search, status, order_by,
            include_deleted, include_trials, parent,
        )  # fmt: skip
        page_token = tokens.open(listing, self.query("page_token"))
        tracker = self.service.tracker

        def list_page(filter_: str, size: int, token: str | None) -> Any:
            return tracker.list_runs(
                tenant,
                filter_string=filter_,
                order_by=order_by,
                max_results=size,
                page_token=token,
                experiment_ids=[experiment_id],
                include_deleted=include_deleted,
            )

        def run() -> dict[str, Any]:
            parent_id = None if parent is None else self._parent_id(experiment_id, parent)
            narrowed = [c for c in (filter_string, *run_search.clauses(search, status)) if c]
            runs = list_page(
                sweeps.runs_filter(" and ".join(narrowed), parent_id, include_trials),
                max_results,
                page_token,
            )
            rows = [_run_row(r, list_page) for r in runs if run_search.matches(r, search)]
            return {"runs": rows, "next_page_token": tokens.issue(listing, _page_token(runs))}

        self.reply(await self.call(run))

    def _parent_id(self, experiment_id: str, parent: str) -> str:
        """The parent's id as the store holds it; a parent that is missing, another
        tenant's or in another experiment is the same 404 as any missing run."""
        tenant = self.tenant
        run = self.service.tracker.get_run(parent, tenant, include_artifacts=False)
        if run.experiment_id != experiment_id:
            raise NotFoundError(f"Run '{parent}' was not found for tenant '{tenant}'.")
        return run.id


def _run_row(run: Any, list_page: Callable[..., Any]) -> dict[str, Any]:
    """A run of a listing; a sweep's parent also carries its ``sweep`` summary."""
    row: dict[str, Any] = run.model_dump(mode="json")
    row["sweep"] = None
    if sweeps.is_sweep(run):
        row["sweep"] = sweeps.summary(run, sweeps.count_children(list_page, run.id))
    return row


def _page_token(runs: Any) -> str | None:
    token = runs.next_page_token
    # Some MLflow stores hand out the token as base64 bytes.
    if isinstance(token, bytes):
        token = token.decode("ascii")
    return token or None


class RunsCreateHandler(MatihHandler):
    @web.authenticated
    @authorized
    async def post(self) -> None:
        """Create a run in one of the tenant's experiments; log to it with
        ``/runs/{id}/...``."""
        from ..core import RunConfig

        tenant = self.tenant
        req = self.body(RunCreate)
        config = RunConfig(
            run_name=req.name,
            tenant_id=tenant,
            user_id=self.user_name,
            job_id=req.job_id,
            tags=dict(req.tags),
            description=req.description,
            parent_run_id=req.parent_run_id,
        )
        run = await self.call(lambda: self.service.tracker.create_run(req.experiment_id, config))
        self.reply(run, 201)


class CompareHandler(MatihHandler):
    @web.authenticated
    @authorized
    async def get(self) -> None:
        """Compare runs: ``run_ids`` and optional ``metrics`` (default: every metric any of
        the runs has). One row per run, in the core's comparison shape (`comparison_rows`);
        a metric a run lacks is null."""
        tenant = self.tenant
        run_ids = self.query_list("run_ids")
        if not run_ids:
            raise InvalidInputError("run_ids", "is required.", hint="Example: ?run_ids=a1b2,c3d4")
        if len(run_ids) > MAX_RUNS_COMPARED:
            raise InvalidInputError("run_ids", f"at most {MAX_RUNS_COMPARED} runs at once.")
        metrics = self.query_list("metrics")

        def run() -> dict[str, Any]:
            from ..core import comparison_rows

            keys, rows = comparison_rows(self.service.tracker.get_runs(run_ids, tenant), metrics)
            return {"metrics": keys, "runs": rows}

        self.reply(await self.call(run))


# -- runs ----------------------------------------------------------------------------------


class RunHandler(MatihHandler):
    @web.authenticated
    @authorized
    async def get(self, run_id: str) -> None:
        tenant = self.tenant
        self.reply(await self.call(lambda: self.service.tracker.get_run(run_id, tenant)))


class RunMetricsHandler(MatihHandler):
    @web.authenticated
    @authorized
    async def post(self, run_id: str) -> None:
        """Log a batch of metric values, each with its own step."""
        tenant = self.tenant
        req = self.body(MetricsBatch)
        metrics = [m.model_dump(exclude_none=True) for m in req.metrics]
        await self.call(lambda: self.service.tracker.log_batch(run_id, metrics, tenant_id=tenant))
        self.reply({"run_id": run_id, "logged": len(metrics)})


class MetricHistoryHandler(MatihHandler):
    @web.authenticated
    @authorized
    async def get(self, run_id: str, key: str) -> None:
        tenant = self.tenant
        history = await self.call(
            lambda: self.service.tracker.get_metric_history(run_id, key, tenant)
        )
        self.reply({"run_id": run_id, "key": key, "history": history})


class RunParamsHandler(MatihHandler):
    @web.authenticated
    @authorized
    async def post(self, run_id: str) -> None:
        """Log params (write-once: another value for a key is a 409)."""
        tenant = self.tenant
        req = self.body(ParamsBody)
        await self.call(
            lambda: self.service.tracker.log_batch(run_id, params=req.params, tenant_id=tenant)
        )
        self.reply({"run_id": run_id, "logged": len(req.params)})


class RunEndHandler(MatihHandler):
    @web.authenticated
    @authorized
    async def post(self, run_id: str) -> None:
        tenant = self.tenant
        req = self.body(RunEnd)
        self.reply(
            await self.call(lambda: self.service.tracker.end_run(run_id, req.status, tenant))
        )


# -- models --------------------------------------------------------------------------------


class ModelsHandler(MatihHandler):
    @web.authenticated
    @authorized
    async def get(self) -> None:
        tenant = self.tenant
        stage, framework = self.query("stage"), self.query("framework")
        found = await self.call(
            lambda: self.service.registry.list_models(tenant, stage=stage, framework=framework)
        )
        self.reply({"models": found})

    @web.authenticated
    @authorized
    async def post(self) -> None:
        """Register a model sent as ONNX (the only format the server parses safely)."""
        tenant = self.tenant
        req = self.body(ModelCreate)
        model = _onnx_bytes(req.framework, req.onnx_model)
        user = self.user_name

        def run() -> Any:
            _check_onnx(model)
            return self.service.registry.register_model(
                tenant,
                req.name,
                model,
                "onnx",
                dict(req.metrics),
                dict(req.parameters),
                dict(req.tags),
                description=req.description,
                model_type=req.model_type,
                run_id=req.run_id,
                user_id=user,
            )

        created = await self.call(run)
        self.reply(created, 201)


class ModelHandler(MatihHandler):
    @web.authenticated
    @authorized
    async def get(self, model_id: str) -> None:
        tenant = self.tenant
        self.reply(await self.call(lambda: _model(self.service, tenant, model_id)))

    @web.authenticated
    @authorized
    async def delete(self, model_id: str) -> None:
        """Delete a model; ``?force=true`` also when a version is in production."""
        tenant = self.tenant
        force = self.query_bool("force")
        await self.call(lambda: self.service.registry.delete_model(tenant, model_id, force=force))
        self.reply(None, 204)


class ModelVersionsHandler(MatihHandler):
    @web.authenticated
    @authorized
    async def get(self, model_id: str) -> None:
        tenant = self.tenant
        versions = await self.call(lambda: self.service.registry.list_versions(tenant, model_id))
        self.reply({"versions": versions})

    @web.authenticated
    @authorized
    async def post(self, model_id: str) -> None:
        tenant = self.tenant
        req = self.body(VersionCreate)
        model = _onnx_bytes(req.framework, req.onnx_model)
        user = self.user_name

        def run() -> Any:
            _check_onnx(model)
            return self.service.registry.create_version(
                tenant,
                model_id,
                model,
                "onnx",
                dict(req.metrics),
                dict(req.parameters),
                dict(req.tags),
                run_id=req.run_id,
                user_id=user,
            )

        created = await self.call(run)
        self.reply(created, 201)


class ModelStageHandler(MatihHandler):
    @web.authenticated
    @authorized
    async def put(self, model_id: str) -> None:
        """Move a version to a stage. A move the lifecycle forbids, or one a before-hook of
        the process registry refuses, is a 409 and changes nothing."""
        tenant = self.tenant
        req = self.body(StageChange)
        user = self.user_name

        from ..core import validate_stage

        # Checked under the body's own field name before the core sees it.
        stage = validate_stage(req.stage, "stage")

        def run() -> Any:
            return self.service.registry.transition_stage(
                tenant, model_id, str(req.version), stage, reason=req.reason, user_id=user
            )

        self.reply(await self.call(run))


class ModelHistoryHandler(MatihHandler):
    @web.authenticated
    @authorized
    async def get(self, model_id: str) -> None:
        tenant = self.tenant
        history = await self.call(lambda: self.service.registry.history(tenant, model_id))
        self.reply({"model_id": model_id, "history": history})


class ModelRollbackHandler(MatihHandler):
    @web.authenticated
    @authorized
    async def post(self, model_id: str) -> None:
        tenant = self.tenant
        req = self.body(Rollback)
        user = self.user_name
        self.reply(
            await self.call(
                lambda: self.service.registry.rollback(
                    tenant, model_id, reason=req.reason, user_id=user
                )
            )
        )


class ModelAliasHandler(MatihHandler):
    @web.authenticated
    @authorized
    async def put(self, model_id: str, alias: str) -> None:
        tenant = self.tenant
        req = self.body(AliasSet)

        def run() -> Any:
            self.service.registry.set_alias(tenant, model_id, alias, str(req.version))
            return _model(self.service, tenant, model_id)

        self.reply(await self.call(run))

    @web.authenticated
    @authorized
    async def delete(self, model_id: str, alias: str) -> None:
        tenant = self.tenant

        def run() -> Any:
            self.service.registry.delete_alias(tenant, model_id, alias)
            return _model(self.service, tenant, model_id)

        self.reply(await self.call(run))


def _onnx_bytes(framework: str, encoded: str | None) -> bytes:
    """The ONNX model of a registration request, as bytes (never a path: the core would
    read a path from the server's disk)."""
    if framework.strip().lower() != "onnx":
        raise InvalidInputError(
            "framework",
            f"{framework!r} models cannot be registered over REST.",
            hint="The server only parses ONNX (a protobuf: no code runs). Send the model as "
            "onnx_model, or register scikit-learn/pytorch models from a notebook "
            "(ModelRegistry.register_model).",
        )
    if not encoded:
        raise InvalidInputError(
            "onnx_model", "is required.", hint="Send the .onnx file's bytes, base64-encoded."
        )
    try:
        return base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidInputError(
            "onnx_model", "is not base64.", hint="Send the .onnx file's bytes, base64-encoded."
        ) from None


def _check_onnx(data: bytes) -> None:
    """Check that ``data`` parses as an ONNX model (in a worker thread: it may be large)."""
    try:
        import onnx
    except ImportError:
        return  # the registry explains which packages to install
    try:
        onnx.load_model_from_string(data)
    except Exception:
        raise InvalidInputError(
            "onnx_model", "is not an ONNX model.", hint="Send the .onnx file's bytes, base64."
        ) from None


def _model(service: MatihService, tenant: str, model_id: str) -> Any:
    """The tenant's model; a missing or foreign one is the registry's own NotFoundError
    (`get_model` answers None for both, so both get this same message)."""
    model = service.registry.get_model(tenant, model_id)
    if model is None:
        raise NotFoundError(f"Model '{model_id}' was not found for tenant '{tenant}'.")
    return model


# -- the route table -----------------------------------------------------------------------

#: Every route, as an OpenAPI path template relative to ``{base_url}/matih/api/v1``.
#: Order matters where templates overlap: ``/experiments/runs`` before ``/experiments/{id}``.
ROUTES: list[tuple[str, type[MatihHandler]]] = [
    ("/whoami", WhoAmIHandler),
    ("/changes", ChangesHandler),
    ("/experiments", ExperimentsHandler),
    ("/experiments/runs", RunsCreateHandler),
    ("/experiments/compare", CompareHandler),
    ("/experiments/{experiment_id}", ExperimentHandler),
    ("/experiments/{experiment_id}/restore", ExperimentRestoreHandler),
    ("/experiments/{experiment_id}/runs", ExperimentRunsHandler),
    ("/runs/{run_id}", RunHandler),
    ("/runs/{run_id}/metrics", RunMetricsHandler),
    ("/runs/{run_id}/metrics/{key}", MetricHistoryHandler),
    ("/runs/{run_id}/params", RunParamsHandler),
    ("/runs/{run_id}/end", RunEndHandler),
    ("/models", ModelsHandler),
    ("/models/{model_id}", ModelHandler),
    ("/models/{model_id}/versions", ModelVersionsHandler),
    ("/models/{model_id}/stage", ModelStageHandler),
    ("/models/{model_id}/history", ModelHistoryHandler),
    ("/models/{model_id}/rollback", ModelRollbackHandler),
    ("/models/{model_id}/aliases/{alias}", ModelAliasHandler),
]

#: Path parameters that may hold '/' (MLflow metric keys such as ``train/loss``).
_PATH_PARAMS = {"key": ".+"}
HTTP_METHODS = ("get", "post", "put", "patch", "delete")


def route_methods(handler: type[MatihHandler]) -> list[str]:
    """The HTTP methods a handler implements, upper case."""
    return [
        m.upper() for m in HTTP_METHODS if getattr(handler, m) is not getattr(web.RequestHandler, m)
    ]


def route_pattern(template: str) -> str:
    """An OpenAPI path template as a tornado regex (``{x}`` -> a named group)."""
    parts = re.split(r"(\{\w+\})", template)
    out = []
    for part in parts:
        m = re.fullmatch(r"\{(\w+)\}", part)
        out.append(f"(?P<{m[1]}>{_PATH_PARAMS.get(m[1], '[^/]+')})" if m else re.escape(part))
    return "".join(out)


def setup_handlers(web_app: Any, service: MatihService) -> None:
    """Register every route of `ROUTES` under ``{base_url}/matih/api/v1``."""
    base = url_path_join(web_app.settings["base_url"], API_PREFIX)
    handlers = [
        (url_path_join(base, route_pattern(template)) + "$", handler, {"service": service})
        for template, handler in ROUTES
    ]
    web_app.add_handlers(".*$", handlers)
