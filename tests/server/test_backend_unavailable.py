"""A dead MLflow backend: 503 in bounded time, without blocking the server's event loop."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .conftest import Api

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
def backend(request: pytest.FixtureRequest) -> Iterator[tuple[str, dict[str, Any]]]:
    """``closed``: a port nobody listens on. ``hanging``: a server that accepts
    connections and never answers (with a short ``backend_timeout``)."""
    if request.param == "closed":
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        yield f"http://127.0.0.1:{port}", {}
        return
    hang = socket.socket()
    hang.bind(("127.0.0.1", 0))
    hang.listen(64)
    try:
        yield f"http://127.0.0.1:{hang.getsockname()[1]}", {"backend_timeout": 0.5}
    finally:
        hang.close()


@pytest.fixture
def matih_config(
    backend: tuple[str, dict[str, Any]], store_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> dict[str, Any]:
    monkeypatch.delenv("MATIH_TENANT_ID", raising=False)
    # The bounds the core's client applies to a remote store, pinned for the test.
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "2")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR", "1")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_TIMEOUT", "10")
    uri, extra = backend
    # In-process server: see the conftest on leaving the heap unfrozen.
    return {"tenant_id": "acme-corp", "tracking_uri": uri, "freeze_startup_heap": False, **extra}


@pytest.mark.parametrize("backend", ["closed"], indirect=True)
async def test_refused_connections_answer_503_within_seconds(api: Api) -> None:
    started = time.monotonic()
    slow = asyncio.ensure_future(api("GET", "experiments"))
    # The event loop is free while MLflow retries: whoami answers meanwhile.
    fast = await api("GET", "whoami")
    fast_at = time.monotonic() - started
    r = await slow
    slow_at = time.monotonic() - started
    assert fast.status == 200 and fast.json["store"].startswith("MLflow at http://127.0.0.1:")
    assert r.status == 503, r
    assert r.json["error"] == "backend_unavailable" and r.json["hint"]
    assert slow_at < 30, slow_at
    assert fast_at < slow_at, (fast_at, slow_at)

    for method, path, body in [
        ("POST", "experiments", {"name": "x"}),
        ("GET", "runs/0123456789abcdef0123456789abcdef", None),
        ("GET", "models", None),
    ]:
        t0 = time.monotonic()
        r = await api(method, path, body)
        assert r.status == 503, (path, r)
        assert time.monotonic() - t0 < 30


@pytest.mark.parametrize("backend", ["hanging"], indirect=True)
async def test_a_hanging_backend_is_cut_off_at_backend_timeout(api: Api) -> None:
    t0 = time.monotonic()
    r = await api("GET", "experiments")
    elapsed = time.monotonic() - t0
    assert r.status == 503, r
    assert "within 0.5 s" in r.json["message"]
    assert elapsed < 5, elapsed
    t0 = time.monotonic()
    assert (await api("GET", "whoami")).status == 200
    assert time.monotonic() - t0 < 2
