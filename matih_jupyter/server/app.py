"""Configuration and shared state of the server extension.

`MatihJupyter` holds the settings an administrator puts in ``jupyter_server_config.py``
(``c.MatihJupyter.tenant_id = "acme-corp"``, ...). `MatihService` is the one object the
handlers share: it resolves the caller's tenant, builds the tracker bound to the configured
store and makes it the process tracker, serves the registry from the process registry (so
the hooks added to it, by `registry_hooks` or by anything else in the process, gate every
REST promotion), issues the runs listing's page tokens, shares the tenants' change tokens,
and runs blocking core calls on a thread pool with a time limit.

The store comes only from this configuration (or the server's environment): nothing a
client sends can choose a tracking URI, a registry URI or an artifact location.
"""

from __future__ import annotations

import asyncio
import re
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, TypeVar

from traitlets import Bool, Dict, Float, Int, List, TraitError, Unicode, validate
from traitlets.config import Configurable

from ..core.config import StoreConfig, default_tenant
from ..core.errors import BackendUnavailableError, MatihError, NotFoundError
from ..core.tenancy import TENANT_ID_RE, validate_tenant_id
from . import hook_setup
from .changes import ChangeFeed
from .page_tokens import PageTokens
from .startup_heap import freeze_startup_heap

if TYPE_CHECKING:
    from ..core import ExperimentTracker, ModelRegistry

T = TypeVar("T")

#: The request header that selects one of the caller's allowed tenants; a tenant the
#: user may not use is answered like a missing one.
TENANT_HEADER = "X-Tenant-ID"

#: What a refused ``X-Tenant-ID`` answers: the same body whatever the header named, so
#: the answer says nothing about which tenants exist.
TENANT_NOT_FOUND = "Tenant not found: the X-Tenant-ID header names no tenant you can use."


class NoTenantError(MatihError):
    """The authenticated user has no tenant at all (a server configuration matter)."""

    http_status = 403


class MatihJupyter(Configurable):
    """Settings of the matih_jupyter server extension (``c.MatihJupyter.*``).

    A user's tenants are, in order of precedence: their entry in `user_tenants`; else
    their own user name when `tenant_from_user` is on (JupyterHub deployments); else
    `tenant_id`. `allowed_tenants` are added for users without a `user_tenants` entry.
    The first tenant is the default; ``X-Tenant-ID`` picks another allowed one.
    """

    tenant_id = Unicode(
        None,
        allow_none=True,
        config=True,
        help="Tenant of users without a user_tenants entry (default: $MATIH_TENANT_ID).",
    )
    allowed_tenants = List(
        Unicode(),
        config=True,
        help="More tenants that users without a user_tenants entry may select with "
        "the X-Tenant-ID header.",
    )
    user_tenants = Dict(
        key_trait=Unicode(),
        value_trait=List(Unicode()),
        config=True,
        help="User name -> the tenants that user may use; the first is their default. "
        'Example: {"alice": ["acme-corp"], "bob": ["globex", "acme-corp"]}.',
    )
    tenant_from_user = Bool(
        False,
        config=True,
        help="Use the authenticated user's name as tenant (lowercased, other characters "
        "turned into '-'), for example a JupyterHub user name.",
    )
    tracking_uri = Unicode(
        None,
        allow_none=True,
        config=True,
        help="MLflow tracking URI (default: $MLFLOW_TRACKING_URI, else the embedded store).",
    )
    registry_uri = Unicode(
        None,
        allow_none=True,
        config=True,
        help="MLflow model registry URI (default: $MLFLOW_REGISTRY_URI, else tracking_uri).",
    )
    artifact_root = Unicode(
        None,
        allow_none=True,
        config=True,
        help="Where new experiments keep artifacts (default: $MLFLOW_ARTIFACT_ROOT).",
    )
    backend_timeout = Float(
        20.0,
        config=True,
        help="Seconds a request may wait for MLflow before it answers 503.",
    )
    max_workers = Int(
        8,
        config=True,
        help="Threads that run MLflow calls off the server's event loop.",
    )
    freeze_startup_heap = Bool(
        True,
        config=True,
        help="Once MLflow is loaded, leave the objects the server started with out of the "
        "garbage collector's full passes (gc.freeze): each pass would walk them all, some "
        "500,000 objects, while requests wait.",
    )
    registry_hooks = List(
        Unicode(),
        config=True,
        help="Functions that add promotion hooks, as import strings 'package.module:function'. "
        "Each is called once, when the server starts, with the process's ModelRegistry and "
        "adds gates (registry.add_hook(check, stages=['production'], before=True): raising "
        "or returning False refuses the move, a 409) or notifications "
        "(registry.add_webhook(url)). Installed packages add theirs through the entry-point "
        f"group '{hook_setup.ENTRY_POINT_GROUP}'. A function that cannot be imported "
        "or fails stops the extension from loading, so the API never runs without its gates.",
    )
    webhooks = List(
        Dict(),
        config=True,
        help="Webhooks added to the process's ModelRegistry when the server starts: each "
        "gets the transition as JSON (POST) when a version enters one of its stages. Keys: "
        "url (required), stages (default ['staging', 'production']), before (default false: "
        "a notification after the move; true: a gate that must answer 2xx in time or the "
        "move is refused), tenant_id (default: every tenant), timeout (seconds, default 3), "
        'headers. Example: [{"url": "https://ci.example.com/hook", "stages": ["production"]}].',
    )

    policy_file = Unicode(
        None,
        allow_none=True,
        config=True,
        help="The promotion policy (TOML): per tenant and stage, who may move versions "
        "(users; JupyterHub groups), gates, and second-person approval. Validated when the "
        "server starts (an error stops the extension) and read again when it changes. "
        "Default: $MATIH_POLICY_FILE, else $MATIH_HOME/policy.toml on the embedded store.",
    )

    @validate("tenant_id")
    def _valid_tenant(self, proposal: dict[str, Any]) -> str | None:
        value = proposal["value"]
        return _config_tenant(value, "MatihJupyter.tenant_id") if value else None

    @validate("allowed_tenants")
    def _valid_allowed(self, proposal: dict[str, Any]) -> list[str]:
        return [_config_tenant(t, "MatihJupyter.allowed_tenants") for t in proposal["value"]]

    @validate("user_tenants")
    def _valid_user_tenants(self, proposal: dict[str, Any]) -> dict[str, list[str]]:
        out = {}
        for user, tenants in proposal["value"].items():
            if not tenants:
                raise TraitError(f"MatihJupyter.user_tenants[{user!r}] lists no tenant.")
            out[user] = [_config_tenant(t, f"MatihJupyter.user_tenants[{user!r}]") for t in tenants]
        return out

    @validate("registry_hooks")
    def _valid_registry_hooks(self, proposal: dict[str, Any]) -> list[str]:
        return [
            _config_value(hook_setup.check_import_string, v, f"registry_hooks[{i}]")
            for i, v in enumerate(proposal["value"])
        ]

    @validate("webhooks")
    def _valid_webhooks(self, proposal: dict[str, Any]) -> list[dict[str, Any]]:
        return [
            _config_value(hook_setup.check_webhook, v, f"webhooks[{i}]")
            for i, v in enumerate(proposal["value"])
        ]

    @validate("backend_timeout")
    def _valid_timeout(self, proposal: dict[str, Any]) -> float:
        if proposal["value"] <= 0:
            raise TraitError("MatihJupyter.backend_timeout must be positive.")
        return float(proposal["value"])


def _config_tenant(value: str, where: str) -> str:
    try:
        return validate_tenant_id(value, where)
    except MatihError as exc:
        raise TraitError(str(exc)) from None


def _config_value(check: Callable[[Any, str], T], value: Any, where: str) -> T:
    try:
        return check(value, f"c.MatihJupyter.{where}")
    except ValueError as exc:
        raise TraitError(str(exc)) from None


def tenant_from_user_name(name: str) -> str | None:
    """A user name as a tenant id: lowercase, runs of other characters become one '-'.

    Returns None when nothing valid is left (for example a one-letter name).
    """
    candidate = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:63].rstrip("-")
    if len(candidate) >= 2 and TENANT_ID_RE.match(candidate):
        return candidate
    return None


# One pool per size for the whole process: servers started and stopped in one process
# (tests) reuse idle threads instead of leaving a pool behind each time.
_POOLS: dict[int, ThreadPoolExecutor] = {}
_POOLS_LOCK = threading.Lock()


def _pool(size: int) -> ThreadPoolExecutor:
    with _POOLS_LOCK:
        pool = _POOLS.get(size)
        if pool is None:
            pool = _POOLS[size] = ThreadPoolExecutor(size, thread_name_prefix="matih-rest")
        return pool


class MatihService:
    """What every handler shares: tenant rules, the core objects and the worker pool.

    Args:
        config: The extension's settings.
        secret: The key of the runs listing's page tokens (the Jupyter server's cookie
            secret); None: a random one for this service.
    """

    def __init__(self, config: MatihJupyter, secret: bytes | None = None) -> None:
        self.config = config
        self.store = StoreConfig.resolve(
            config.tracking_uri, config.artifact_root, config.registry_uri
        )
        self._default_tenant = config.tenant_id or default_tenant()
        self._tracker: ExperimentTracker | None = None
        self._lock = threading.Lock()
        #: The hooks this server added to the process registry when it started.
        self.hooks: list[Any] = []
        self._pool = _pool(max(1, config.max_workers))
        self.page_tokens = PageTokens(secret)
        #: The tenants' change tokens, polled by the live sidebar.
        self.changes = ChangeFeed(lambda: self.tracker)

    # -- tenants -----------------------------------------------------------------------

    def allowed_tenants(self, user_name: str) -> list[str]:
        """The tenants ``user_name`` may use, default first (empty: none configured)."""
        cfg = self.config
        if user_name in cfg.user_tenants:
            return list(dict.fromkeys(cfg.user_tenants[user_name]))
        tenants: list[str] = []
        if cfg.tenant_from_user:
            own = tenant_from_user_name(user_name)
            if own:
                tenants.append(own)
        elif self._default_tenant:
            tenants.append(self._default_tenant)
        tenants.extend(cfg.allowed_tenants)
        return list(dict.fromkeys(tenants))

    def resolve_tenant(self, user_name: str, requested: str | None) -> str:
        """The tenant of one request.

        Raises:
            NoTenantError: The user has no tenant.
            NotFoundError: ``requested`` is not one of the user's tenants; the message
                is the same whatever was requested.
        """
        allowed = self.allowed_tenants(user_name)
        if not allowed:
            raise NoTenantError(
                f"User {user_name!r} has no tenant on this server.",
                hint="Ask the administrator to set c.MatihJupyter.tenant_id, "
                "c.MatihJupyter.user_tenants or c.MatihJupyter.tenant_from_user.",
            )
        if requested:
            if requested not in allowed:
                raise NotFoundError(TENANT_NOT_FOUND)
            return requested
        return allowed[0]

    # -- core objects (built on first use, in a worker thread: importing MLflow is slow) --

    @property
    def tracker(self) -> ExperimentTracker:
        """The tracker on the configured store; it is the process tracker, so the process
        registry and anything else in the server process use the same one."""
        with self._lock:
            if self._tracker is None:
                from ..core import ExperimentTracker, use_tracker

                tracker = ExperimentTracker(
                    self.store.tracking_uri,
                    self.store.artifact_root,
                    self.store.registry_uri,
                )
                use_tracker(tracker)
                self._tracker = tracker
            return self._tracker

    @property
    def registry(self) -> ModelRegistry:
        """The process registry (`get_model_registry`), with every hook added to it."""
        _ = self.tracker  # the process tracker is the server's before the registry is used
        from ..core import get_model_registry

        return get_model_registry()

    def install_registry_hooks(self) -> list[Any]:
        """Add the configured hooks (`registry_hooks`, the entry points, `webhooks`) to
        the process registry; `hook_setup.HookSetupError` when one cannot be added.
        Without any, neither the registry nor MLflow is imported here."""
        functions = hook_setup.install_functions(self.config.registry_hooks)
        if not functions and not self.config.webhooks:
            return []
        from ..core import get_model_registry

        self.hooks = hook_setup.install_hooks(get_model_registry(), functions, self.config.webhooks)
        return self.hooks

    def install_policy(self) -> None:
        """Govern the process registry's promotions with `policy_file`, validated now."""
        if self.config.policy_file:
            from ..core import get_model_registry

            get_model_registry().set_policy(self.config.policy_file)

    # -- running core calls ------------------------------------------------------------

    async def call(self, fn: Callable[[], T]) -> T:
        """Run a blocking core call on the pool, at most ``backend_timeout`` seconds.

        Raises:
            BackendUnavailableError: MLflow did not answer in time (the call may still
                finish in its thread; its result is dropped).
        """
        loop = asyncio.get_running_loop()
        future = loop.run_in_executor(self._pool, fn)
        try:
            return await asyncio.wait_for(future, self.config.backend_timeout)
        except TimeoutError:
            raise BackendUnavailableError(
                f"The MLflow backend did not answer within {self.config.backend_timeout:g} s.",
                hint="Check that the tracking server is running and reachable.",
            ) from None

    def warm_up(self) -> None:
        """Import MLflow and build the tracker in the background, so the first request
        does not pay for it, then freeze the start-up heap if configured. Touches no
        backend."""
        self._pool.submit(self._warm)

    def _warm(self) -> None:
        _ = self.tracker
        if self.config.freeze_startup_heap:
            freeze_startup_heap()


def load_extension(server_app: Any) -> None:
    """Create the service from the server's config and register the routes."""
    from .approvals import setup_approval_handlers
    from .handlers import setup_handlers

    config = MatihJupyter(parent=server_app)
    service = MatihService(config, server_app.web_app.settings.get("cookie_secret"))
    # Before the routes exist: no promotion is ever served without the configured gates.
    hooks = service.install_registry_hooks()
    service.install_policy()
    setup_handlers(server_app.web_app, service)
    setup_approval_handlers(server_app.web_app, service)
    service.warm_up()
    server_app.log.info(
        "matih_jupyter: REST API at %smatih/api/v1/ on %s",
        server_app.web_app.settings.get("base_url", "/"),
        service.store.describe(),
    )
    if hooks:
        server_app.log.info(
            "matih_jupyter: promotion hooks: %s",
            "; ".join(hook_setup.describe(h) for h in hooks),
        )
