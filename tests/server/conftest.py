"""A real Jupyter server (pytest-jupyter) with the matih extension on the test's store;
the process registry's hooks, cleaned up after each test that adds some; a real HTTP server
that receives webhooks.

Users authenticate with per-user tokens (`UserTokenIdentityProvider`), the way
JupyterHub gives each request a named user; the server's own token is an anonymous user.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hook_harness import added_hooks_removed
from jupyter_server.auth import IdentityProvider, User
from pytest_jupyter.jupyter_server import *  # noqa: F403
from traitlets import Dict
from traitlets.config import Config

SERVER_TOKEN = "server-token-for-tests"
USER_TOKENS = {
    "alice-token": "alice",  # no user_tenants entry: the configured tenant, acme-corp
    "bob-token": "bob",  # globex only
    "carol-token": "carol",  # both tenants, acme-corp by default
    "dave-token": "Dave.Smith",  # for tenant_from_user
    "erin-token": "erin",  # acme-corp; a JupyterHub group member (HUB_GROUPS)
}
#: JupyterHub groups of users, as the hub's user model lists them for the single-user server.
HUB_GROUPS = {"erin": ["ml-leads"]}


class UserTokenIdentityProvider(IdentityProvider):
    """Maps a token to a named user, like JupyterHub's per-user API tokens."""

    user_tokens = Dict(config=True)

    async def get_user_token(self, handler: Any) -> User | None:
        name = self.user_tokens.get(self.get_token(handler) or "")
        if name:
            user = User(username=name)
            if name in HUB_GROUPS:  # what JupyterHub's identity provider attaches
                user.hub_user = {"name": name, "groups": HUB_GROUPS[name]}  # type: ignore[attr-defined]
            return user
        return await super().get_user_token(handler)


@pytest.fixture
def matih_config(
    request: pytest.FixtureRequest,
    tracking_uri: str,
    store_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> dict[str, Any]:
    """``c.MatihJupyter`` for the test server. Tests change it with
    ``@pytest.mark.parametrize("matih_config", [{...}], indirect=True)``."""
    # The server's configuration is explicit here; a developer's shell must not leak in.
    monkeypatch.delenv("MATIH_TENANT_ID", raising=False)
    config = {
        "tenant_id": "acme-corp",
        "user_tenants": {"bob": ["globex"], "carol": ["acme-corp", "globex"]},
        "tracking_uri": tracking_uri,
        "artifact_root": (store_dir / "artifacts").as_uri(),
        # These servers run inside the test process: frozen, its heap would keep every
        # earlier test's objects out of collection. test_startup_heap turns it on.
        "freeze_startup_heap": False,
    }
    config.update(getattr(request, "param", {}))
    return config


@pytest.fixture
def server_app_config(request: pytest.FixtureRequest) -> dict[str, Any]:
    """Extra ``c.ServerApp`` settings (indirect parametrization), e.g. an authorizer."""
    return dict(getattr(request, "param", {}))


@pytest.fixture
def jp_server_config(matih_config: dict[str, Any], server_app_config: dict[str, Any]) -> Config:
    return Config(
        {
            "ServerApp": {
                "jpserver_extensions": {
                    "matih_jupyter": True,
                    "jupyter_server_terminals": False,
                },
                "allow_unauthenticated_access": False,
                "identity_provider_class": UserTokenIdentityProvider,
                **server_app_config,
            },
            "IdentityProvider": {"token": SERVER_TOKEN},
            "UserTokenIdentityProvider": {"user_tokens": USER_TOKENS},
            "MatihJupyter": matih_config,
        }
    )


class Reply:
    """A response: status, parsed JSON body (or None), raw body, headers."""

    def __init__(self, response: Any) -> None:
        self.status: int = response.code
        self.raw: bytes = response.body or b""
        self.headers = response.headers
        try:
            self.json: Any = json.loads(self.raw) if self.raw else None
        except ValueError:
            self.json = None

    def __repr__(self) -> str:
        return f"<Reply {self.status} {self.raw[:300]!r}>"


Api = Callable[..., Awaitable[Reply]]


@pytest.fixture
def api(jp_fetch: Any) -> Api:
    """``await api("POST", "experiments", body={...}, user="bob", tenant="globex")``.

    ``user`` picks a token from USER_TOKENS by name (None: the server token; "" sends no
    credentials at all). Never raises for HTTP errors: check ``.status``.
    """
    by_name = {name: token for token, name in USER_TOKENS.items()}

    async def call(
        method: str,
        path: str,
        body: Any = None,
        *,
        user: str | None = "alice",
        tenant: str | None = None,
        headers: dict[str, str] | None = None,
        params: dict[str, Any] | None = None,
        raw_body: bytes | None = None,
        request_timeout: float = 60,
    ) -> Reply:
        hdrs = dict(headers or {})
        if user == "":
            hdrs.setdefault("Authorization", "")
        elif user is not None:
            hdrs.setdefault("Authorization", f"token {by_name[user]}")
        if tenant is not None:
            hdrs["X-Tenant-ID"] = tenant
        kwargs: dict[str, Any] = {}
        if raw_body is not None:
            kwargs["body"] = raw_body
        elif body is not None:
            kwargs["body"] = json.dumps(body)
        elif method in ("POST", "PUT"):
            kwargs["body"] = b""
        if body is not None or raw_body is not None:
            hdrs.setdefault("Content-Type", "application/json")
        response = await jp_fetch(
            "matih/api/v1",
            path,
            method=method,
            headers=hdrs,
            params=params,
            raise_error=False,
            request_timeout=request_timeout,
            **kwargs,
        )
        reply = Reply(response)
        # No error body may carry a traceback, whatever went wrong.
        assert b"Traceback" not in reply.raw and b'File "' not in reply.raw, reply
        return reply

    return call


@pytest.fixture
def process_hooks() -> Iterator[Any]:
    """The process registry, which the server's REST API uses. Hooks added to it during the
    test (by the test, or by a server it starts) are removed afterwards. Request it before
    the server starts (e.g. from a ``matih_config`` override) to cover the server's own."""
    from matih_jupyter.core import get_model_registry

    with added_hooks_removed(get_model_registry()) as registry:
        yield registry
