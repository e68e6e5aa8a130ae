"""Tenant -> MLflow workspace, when the tracking server has workspaces.

MLflow 3.x servers started with ``mlflow server --enable-workspaces`` partition
experiments, runs and registered models into *workspaces*. The server picks a request's
workspace from the ``X-MLFLOW-WORKSPACE`` header; a request naming no workspace lands in
``default``; another workspace's ids answer "does not exist". MLflow's Python client sends
the header from a context variable (``mlflow.set_workspace`` also writes the process-wide
``MLFLOW_WORKSPACE`` environment variable, which a Jupyter server serving several tenants
must never do).

This module:

* detects the capability (`detect`, one ``GET /api/3.0/mlflow/server-info`` per URI, cached);
* maps a tenant to its workspace (`workspace_for_tenant`: the tenant id itself; MLflow's
  workspace-name rule is the tenant rule, minus a few reserved names);
* creates a tenant's workspace on first use (`ensure_workspace`);
* binds a tenant's workspace for the calls made inside a ``with`` block, on this thread
  (or asyncio task) only (`WorkspaceRouter.scope`).

Without the capability (embedded SQLite store, a server without ``--enable-workspaces``,
an older server), every function here is a no-op and isolation stays the name-prefix
scheme of `tenancy` (``<tenant>/<name>`` experiments, ``<tenant>.<name>`` models, tenant
tags re-checked on every result). With it, both apply: the prefixes and tags stay, and the
server refuses cross-workspace access on top.

Framework-free; the MLflow context variable its REST client reads is set through
`internals` (MLflow is imported only when a workspace is bound), never at import time.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from ..config import redact_uri
from ..errors import BackendUnavailableError, InvalidInputError, MatihError
from ..tenancy import validate_tenant_id
from . import internals

WORKSPACE_HEADER = "X-MLFLOW-WORKSPACE"
DEFAULT_WORKSPACE = "default"
#: Names MLflow refuses for workspaces (they are URL path segments of the server).
RESERVED = frozenset({"workspaces", "api", "ajax-api", "static-files"})
#: ``auto`` (detect), ``on`` (require workspaces), ``off`` (never use them).
ENV_MODE = "MATIH_WORKSPACES"
_SERVER_INFO = "/api/3.0/mlflow/server-info"
_WORKSPACES = "/api/3.0/mlflow/workspaces"


@dataclass(frozen=True)
class WorkspaceSupport:
    """Whether a tracking URI routes tenants to workspaces.

    Attributes:
        enabled: True when tenants are mapped to workspaces.
        reason: Why, in words (shown by ``describe()``-style status lines).
    """

    enabled: bool
    reason: str


_cache: dict[str, WorkspaceSupport] = {}
_known: set[tuple[str, str]] = set()
_lock = threading.Lock()


def mode() -> str:
    """``$MATIH_WORKSPACES``: ``auto`` (default), ``on`` or ``off``."""
    value = (os.environ.get(ENV_MODE) or "auto").strip().lower()
    if value not in ("auto", "on", "off"):
        raise InvalidInputError(
            ENV_MODE, f"{value!r} is not a workspace mode.", hint="Use auto, on or off."
        )
    return value


def _is_http(uri: str) -> bool:
    return urllib.parse.urlparse(uri).scheme in ("http", "https")


def _auth_headers() -> dict[str, str]:
    """The credentials MLflow's own client would send (same environment variables)."""
    token = os.environ.get("MLFLOW_TRACKING_TOKEN")
    if token:
        return {"Authorization": f"Bearer {token}"}
    user = os.environ.get("MLFLOW_TRACKING_USERNAME")
    password = os.environ.get("MLFLOW_TRACKING_PASSWORD")
    if user and password:
        pair = base64.b64encode(f"{user}:{password}".encode()).decode()
        return {"Authorization": f"Basic {pair}"}
    return {}


def _request(
    uri: str, path: str, *, method: str = "GET", body: Any = None, timeout: float
) -> tuple[int, Any]:
    """One JSON request to the tracking server; (status, parsed body or None)."""
    data = None if body is None else json.dumps(body).encode()
    headers = {"Accept": "application/json", **_auth_headers()}
    if data is not None:
        headers["Content-Type"] = "application/json"
    req = urllib.request.Request(uri.rstrip("/") + path, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            raw = resp.read()
            status = resp.status
    except urllib.error.HTTPError as exc:
        raw = exc.read()
        status = exc.code
    except (urllib.error.URLError, OSError, TimeoutError) as exc:
        raise BackendUnavailableError(
            f"The MLflow server at {redact_uri(uri)} did not answer ({_reason(exc)}).",
            hint="Check that the tracking server is running and reachable.",
        ) from None
    try:
        parsed = json.loads(raw) if raw else None
    except ValueError:
        parsed = None
    return status, parsed


def _reason(exc: BaseException) -> str:
    inner = getattr(exc, "reason", None)
    return str(inner or exc) or type(exc).__name__


def detect(tracking_uri: str, *, timeout: float = 5.0, refresh: bool = False) -> WorkspaceSupport:
    """Whether ``tracking_uri`` maps tenants to workspaces (cached per URI).

    Args:
        tracking_uri: The MLflow tracking URI.
        timeout: Seconds to wait for the server.
        refresh: Ask the server again instead of using the cached answer.

    Raises:
        BackendUnavailableError: The server did not answer (not cached).
        InvalidInputError: ``MATIH_WORKSPACES=on`` but the server has no workspaces.
    """
    wanted = mode()
    if wanted == "off":
        return WorkspaceSupport(False, f"{ENV_MODE}=off: tenants are separated by name prefix")
    if not _is_http(tracking_uri):
        support = WorkspaceSupport(
            False, "not an MLflow server (embedded or SQL store): tenants are separated by prefix"
        )
    else:
        with _lock:
            cached = None if refresh else _cache.get(tracking_uri)
        if cached is not None:
            support = cached
        else:
            status, body = _request(tracking_uri, _SERVER_INFO, timeout=timeout)
            if status == 200 and isinstance(body, dict):
                on = bool(body.get("workspaces_enabled"))
                support = WorkspaceSupport(
                    on,
                    "the server has --enable-workspaces: one workspace per tenant"
                    if on
                    else "the server runs without --enable-workspaces: tenants by prefix",
                )
            elif status in (404, 405):
                support = WorkspaceSupport(
                    False, "the server predates workspaces (no server-info): tenants by prefix"
                )
            else:
                raise BackendUnavailableError(
                    f"The MLflow server at {redact_uri(tracking_uri)} answered {status} to "
                    "server-info.",
                    hint="Check the server's logs, and the credentials in MLFLOW_TRACKING_*.",
                )
            with _lock:
                _cache[tracking_uri] = support
    if wanted == "on" and not support.enabled:
        raise InvalidInputError(
            ENV_MODE,
            f"workspaces are required but unavailable: {support.reason}.",
            hint="Start the server with `mlflow server --enable-workspaces`, or set "
            f"{ENV_MODE}=auto.",
        )
    return support


def workspace_for_tenant(tenant_id: str) -> str:
    """The workspace of a tenant: its id (the tenant rule is MLflow's workspace-name rule).

    Raises:
        InvalidInputError: Not a valid tenant id, or a name MLflow reserves (``default`` is
            the shared workspace of clients that name none, so no tenant may own it).
    """
    tenant = validate_tenant_id(tenant_id)
    if tenant == DEFAULT_WORKSPACE or tenant in RESERVED:
        raise InvalidInputError(
            "tenant_id",
            f"'{tenant}' cannot be a tenant on a server with workspaces: MLflow reserves "
            "that workspace name.",
            hint=f"Choose another tenant id (not {DEFAULT_WORKSPACE!r} or one of "
            f"{sorted(RESERVED)}).",
        )
    return tenant


def ensure_workspace(tracking_uri: str, tenant_id: str, *, timeout: float = 10.0) -> str:
    """The tenant's workspace, created on the server if missing (cached once known).

    Raises:
        MatihError: The server refused to create it (with auth on, only admins may: an
            administrator creates each tenant's workspace, see docs/deployment.md).
        BackendUnavailableError: The server did not answer.
    """
    name = workspace_for_tenant(tenant_id)
    key = (tracking_uri, name)
    with _lock:
        if key in _known:
            return name
    quoted = urllib.parse.quote(name, safe="")
    status, body = _request(tracking_uri, f"{_WORKSPACES}/{quoted}", timeout=timeout)
    if status == 404:
        status, body = _request(
            tracking_uri,
            _WORKSPACES,
            method="POST",
            body={"name": name, "description": f"matih tenant {name}"},
            timeout=timeout,
        )
        exists = isinstance(body, dict) and body.get("error_code") == "RESOURCE_ALREADY_EXISTS"
        if status not in (200, 201) and not exists:  # a concurrent creator won: fine
            raise MatihError(
                f"Could not create the MLflow workspace of tenant '{name}' "
                f"(HTTP {status}: {_message(body)}).",
                hint="With MLflow auth on, an administrator creates each tenant's workspace "
                "(docs/deployment.md).",
            )
    elif status == 403:
        # With MLflow's auth app only administrators may read workspace objects; members
        # still work inside the workspace an administrator created for their tenant (and
        # the server refuses them, clearly, if it does not exist).
        pass
    elif status != 200:
        raise MatihError(
            f"Could not read the MLflow workspace of tenant '{name}' "
            f"(HTTP {status}: {_message(body)}).",
            hint="Check the credentials in MLFLOW_TRACKING_USERNAME/PASSWORD or TOKEN.",
        )
    with _lock:
        _known.add(key)
    return name


def _message(body: Any) -> str:
    if isinstance(body, dict):
        return str(body.get("message") or body.get("error_code") or "no detail")[:200]
    return "no detail"


class WorkspaceRouter:
    """Routes one tracking URI's MLflow calls to each tenant's workspace, when it has them.

    Use one per tracker::

        router = WorkspaceRouter(tracking_uri)
        with router.scope(tenant_id):
            client.create_experiment(...)   # sent with X-MLFLOW-WORKSPACE: <tenant>

    The scope binds MLflow's request-workspace context variable only: it holds for the
    current thread or asyncio task and is restored on exit; other threads, other tasks and
    the process environment are untouched. A thread started inside the block does not
    inherit it: enter ``scope`` again in that thread (e.g. around a writer's send).

    Args:
        tracking_uri: The MLflow tracking URI.
        timeout: Seconds for detection and workspace creation requests.
    """

    def __init__(self, tracking_uri: str, *, timeout: float = 5.0) -> None:
        self.tracking_uri = tracking_uri
        self.timeout = timeout
        self._support: WorkspaceSupport | None = None

    @property
    def support(self) -> WorkspaceSupport:
        """Detected on first use; a failed detection is retried at the next use."""
        if self._support is None:
            self._support = detect(self.tracking_uri, timeout=self.timeout)
        return self._support

    @property
    def enabled(self) -> bool:
        return self.support.enabled

    def workspace(self, tenant_id: str) -> str | None:
        """The tenant's workspace (created if needed), or None without workspaces."""
        if not self.enabled:
            return None
        return ensure_workspace(self.tracking_uri, tenant_id, timeout=self.timeout)

    @contextlib.contextmanager
    def scope(self, tenant_id: str) -> Iterator[str | None]:
        """Send the MLflow calls made in this block to the tenant's workspace."""
        name = self.workspace(tenant_id)
        if name is None:
            yield None
            return
        with internals.request_workspace(name):
            yield name

    def bind(self, tenant_id: str) -> str | None:
        """Send the current context's MLflow calls to the tenant's workspace, until bound
        again; returns the workspace, or None without workspaces.

        For code that cannot wrap its calls in `scope`: the tracker and the registry bind
        at the start of every tenant-scoped call and run each public method in its own
        context (`isolated_methods`), so a binding never outlives the call; a run's writer
        binds before every send.
        """
        name = self.workspace(tenant_id)
        if name is not None:
            internals.bind_request_workspace(name)
        return name

    def describe(self) -> str:
        """One line for people, e.g. for ``%matih_tenant`` or the store status."""
        try:
            return self.support.reason
        except MatihError as exc:
            return f"workspaces unknown: {exc}"


def _reset_cache() -> None:
    """Forget detections and known workspaces (tests, or after reconfiguring a server)."""
    with _lock:
        _cache.clear()
        _known.clear()
