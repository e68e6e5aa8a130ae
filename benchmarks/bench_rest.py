"""REST API under load: 200 concurrent mixed requests from two tenants.

Starts a real Jupyter server (subprocess, token auth, 127.0.0.1, a temporary SQLite
store) with the matih_jupyter extension, seeds two tenants with experiments and runs,
then fires 200 requests at once: reads (runs, run lists, metric histories, experiments),
metric writes, and cross-tenant probes. Every answer is checked for cross-talk: a tenant
only ever sees its own ids, and the other tenant's ids answer 404.

The same reads are then done with a plain ``MlflowClient`` on the same store, with the
same concurrency as the server's worker pool, and the latencies are compared. The REST
client keeps as many keep-alive connections as the plain side has threads, as a browser
keeps a few open connections to a server: each request's latency runs from the moment it
is fired, with the whole burst, to its answer, on both sides.

Printed last as one JSON line: the medians over ``--repeats`` rounds (each round REST,
then the plain client) and the median of the rounds' ratios.

Run: ``.venv/bin/python benchmarks/bench_rest.py [--requests 200] [--repeats 5]``. Not a
timed test.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import aiohttp

TOKEN = "bench-token"
TENANTS = ("acme-corp", "globex")
WORKERS = 8


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _ms(values: list[float], q: float) -> str:
    return f"{_pct(values, q) * 1000:7.1f}"


def start_server(tmp: Path, port: int, store: Path | None = None) -> subprocess.Popen:
    """A Jupyter server with the extension on ``store`` (default: a new one in ``tmp``)."""
    if store is None:
        store = tmp / "store"
        store.mkdir()
    tracking_uri = f"sqlite:///{store / 'mlflow.db'}"
    config_dir = tmp / "config"
    config_dir.mkdir()
    (config_dir / "jupyter_server_config.py").write_text(
        "\n".join(
            [
                'c.ServerApp.jpserver_extensions = {"matih_jupyter": True}',
                "c.ServerApp.allow_unauthenticated_access = False",
                f"c.IdentityProvider.token = {TOKEN!r}",
                f"c.MatihJupyter.tenant_id = {TENANTS[0]!r}",
                f"c.MatihJupyter.allowed_tenants = [{TENANTS[1]!r}]",
                f"c.MatihJupyter.tracking_uri = {tracking_uri!r}",
                f"c.MatihJupyter.artifact_root = {(store / 'artifacts').as_uri()!r}",
                f"c.MatihJupyter.max_workers = {WORKERS}",
            ]
        )
    )
    root = tmp / "root"
    root.mkdir()
    env = {
        **os.environ,
        "JUPYTER_CONFIG_DIR": str(config_dir),
        "JUPYTER_DATA_DIR": str(tmp / "data"),
        "JUPYTER_RUNTIME_DIR": str(tmp / "runtime"),
    }
    for key in ("MLFLOW_TRACKING_URI", "MATIH_TENANT_ID", "JUPYTER_CONFIG_PATH"):
        env.pop(key, None)
    cmd = [
        sys.executable,
        "-m",
        "jupyter_server",
        "--no-browser",
        "--ip=127.0.0.1",
        f"--port={port}",
        f"--ServerApp.root_dir={root}",
        "--ServerApp.port_retries=0",
    ]
    if hasattr(os, "getuid") and os.getuid() == 0:
        cmd.append("--allow-root")
    log = open(tmp / "server.log", "wb")  # noqa: SIM115 - closed with the process
    return subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)


class Client:
    """One user's HTTP client, as a browser is one: it keeps its connections open between
    requests (HTTP/1.1 keep-alive) and no more of them than the plain side has threads,
    so both sides read with the same concurrency (a browser keeps six per server); the
    other requests of a burst wait for a free connection, and that wait is part of their
    latency. It keeps the login cookie the server sets: without it Jupyter makes up a new
    anonymous user for every token request."""

    def __init__(self, port: int) -> None:
        self.base = f"http://127.0.0.1:{port}/matih/api/v1/"
        self.http = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=WORKERS),
            cookie_jar=aiohttp.CookieJar(unsafe=True),  # 127.0.0.1 is an IP address
            timeout=aiohttp.ClientTimeout(total=120),
        )

    async def call(
        self, method: str, path: str, tenant: str, body: Any = None
    ) -> tuple[int, Any, float]:
        headers = {
            "Authorization": f"token {TOKEN}",
            "X-Tenant-ID": tenant,
            "Content-Type": "application/json",
        }
        data = None if body is None and method == "GET" else json.dumps(body or {})
        t0 = time.perf_counter()
        async with self.http.request(method, self.base + path, headers=headers, data=data) as r:
            raw = await r.read()
            status = r.status
        elapsed = time.perf_counter() - t0
        return status, json.loads(raw) if raw else None, elapsed

    async def close(self) -> None:
        await self.http.close()


async def wait_ready(client: Client, proc: subprocess.Popen, tmp: Path) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited:\n{(tmp / 'server.log').read_text()[-3000:]}")
        try:
            status, _, _ = await client.call("GET", "whoami", TENANTS[0])
            if status == 200:
                return
        except (OSError, aiohttp.ClientError):
            pass
        await asyncio.sleep(0.2)
    raise SystemExit("server did not start in 90 s")


async def seed(client: Client, runs_per_tenant: int) -> dict[str, dict[str, Any]]:
    """One experiment per tenant with runs carrying params and a 20-step loss curve."""
    data: dict[str, dict[str, Any]] = {}
    for tenant in TENANTS:
        status, exp, _ = await client.call("POST", "experiments", tenant, {"name": "bench"})
        assert status == 201, exp
        runs = []
        for i in range(runs_per_tenant):
            status, run, _ = await client.call(
                "POST", "experiments/runs", tenant, {"experiment_id": exp["id"], "name": f"r{i}"}
            )
            assert status == 201, run
            metrics = [{"key": "loss", "value": 1 / (s + 1), "step": s} for s in range(20)]
            status, _, _ = await client.call(
                "POST", f"runs/{run['id']}/metrics", tenant, {"metrics": metrics}
            )
            assert status == 200
            await client.call("POST", f"runs/{run['id']}/params", tenant, {"params": {"i": i}})
            runs.append(run["id"])
        data[tenant] = {"experiment": exp["id"], "runs": runs}
    return data


def plan_requests(data: dict[str, dict[str, Any]], n: int, rng: random.Random) -> list[tuple]:
    """(kind, method, path, tenant, body, expected status) for n mixed requests."""
    plan = []
    for i in range(n):
        tenant = TENANTS[i % 2]
        other = TENANTS[(i + 1) % 2]
        mine, theirs = data[tenant], data[other]
        run = rng.choice(mine["runs"])
        kind = rng.choices(
            ["get_run", "list_runs", "history", "experiments", "experiment", "write", "probe"],
            weights=[25, 15, 20, 10, 10, 10, 10],
        )[0]
        if kind == "get_run":
            plan.append((kind, "GET", f"runs/{run}", tenant, None, 200))
        elif kind == "list_runs":
            plan.append((kind, "GET", f"experiments/{mine['experiment']}/runs", tenant, None, 200))
        elif kind == "history":
            plan.append((kind, "GET", f"runs/{run}/metrics/loss", tenant, None, 200))
        elif kind == "experiments":
            plan.append((kind, "GET", "experiments", tenant, None, 200))
        elif kind == "experiment":
            plan.append((kind, "GET", f"experiments/{mine['experiment']}", tenant, None, 200))
        elif kind == "write":
            body = {"metrics": [{"key": "val", "value": rng.random(), "step": i}]}
            plan.append((kind, "POST", f"runs/{run}/metrics", tenant, body, 200))
        else:
            plan.append((kind, "GET", f"runs/{rng.choice(theirs['runs'])}", tenant, None, 404))
    return plan


def check(kind: str, tenant: str, payload: Any, data: dict[str, dict[str, Any]]) -> None:
    """Fail loudly on any answer that shows another tenant's data."""
    mine = data[tenant]
    if kind == "get_run":
        assert payload["tenant_id"] == tenant and payload["id"] in mine["runs"], payload
    elif kind == "list_runs":
        assert {r["id"] for r in payload["runs"]} == set(mine["runs"]), payload
        assert all(r["tenant_id"] == tenant for r in payload["runs"])
    elif kind == "history":
        assert len(payload["history"]) == 20 and payload["run_id"] in mine["runs"]
    elif kind == "experiments":
        assert [e["id"] for e in payload["experiments"]] == [mine["experiment"]], payload
    elif kind == "experiment":
        assert payload["tenant_id"] == tenant and payload["id"] == mine["experiment"]
    elif kind == "probe":
        assert payload["error"] == "not_found" and tenant in payload["message"], payload


async def load(client: Client, plan: list[tuple], data: dict) -> dict[str, list[float]]:
    async def one(item: tuple) -> tuple[str, float]:
        kind, method, path, tenant, body, expected = item
        status, payload, elapsed = await client.call(method, path, tenant, body)
        assert status == expected, (kind, path, tenant, status, payload)
        check(kind, tenant, payload, data)
        return kind, elapsed

    results = await asyncio.gather(*(one(item) for item in plan))
    by_kind: dict[str, list[float]] = {}
    for kind, elapsed in results:
        by_kind.setdefault(kind, []).append(elapsed)
    return by_kind


def plain_mlflow(tracking_uri: str, plan: list[tuple], data: dict) -> list[float]:
    """The plan with a plain MlflowClient (no tenancy, no HTTP), submitted all at once to a
    pool as large as the server's: the reads timed, the writes done too (as ``log_batch``),
    so both sides carry the same load. Each read's latency: from submission to its end."""
    from mlflow.entities import Metric
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=tracking_uri)

    def one(item: tuple) -> float:
        kind, _, path, tenant, body, _ = item
        parts = path.split("/")
        if kind in ("get_run", "probe"):
            client.get_run(parts[1])
        elif kind == "list_runs":
            client.search_runs([parts[1]], max_results=100)
        elif kind == "history":
            client.get_metric_history(parts[1], "loss")
        elif kind == "experiments":
            client.search_experiments(filter_string=f"tags.`matih.tenant_id` = '{tenant}'")
        elif kind == "experiment":
            client.get_experiment(parts[1])
        elif kind == "write":
            m = body["metrics"][0]
            now = int(time.time() * 1000)
            client.log_batch(parts[1], metrics=[Metric(m["key"], m["value"], now, m["step"])])
        return time.perf_counter()

    with ThreadPoolExecutor(WORKERS) as pool:
        submitted = time.perf_counter()
        futures = [(item[0], pool.submit(one, item)) for item in plan]
        return [f.result() - submitted for kind, f in futures if kind != "write"]


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--runs", type=int, default=10, help="runs per tenant")
    parser.add_argument("--repeats", type=int, default=5, help="rounds of REST, then plain")
    args = parser.parse_args()
    rng = random.Random(7)

    with tempfile.TemporaryDirectory(prefix="matih-bench-rest-") as tmp_name:
        tmp = Path(tmp_name)
        port = _free_port()
        proc = start_server(tmp, port)
        uri = f"sqlite:///{tmp / 'store' / 'mlflow.db'}"
        rounds = []
        client = Client(port)
        try:
            t0 = time.perf_counter()
            await wait_ready(client, proc, tmp)
            print(f"server ready in {time.perf_counter() - t0:.1f} s on 127.0.0.1:{port}")
            data = await seed(client, args.runs)
            plan = plan_requests(data, args.requests, rng)
            # One warm-up round so both sides run with warm caches and connections.
            await load(client, plan[:20], data)
            plain_mlflow(uri, plan[:20], data)
            for _ in range(args.repeats):
                rounds.append(await one_round(client, plan, data, uri))
        finally:
            await client.close()
            proc.terminate()
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
        print(json.dumps(summary(args.requests, rounds)))


async def one_round(client: Client, plan: list[tuple], data: dict, uri: str) -> dict[str, Any]:
    """The plan over REST, then its reads with a plain client; the figures of both."""
    started = time.perf_counter()
    by_kind = await load(client, plan, data)
    wall = time.perf_counter() - started
    rest_reads = [x for k, xs in by_kind.items() if k != "write" for x in xs]
    plain = plain_mlflow(uri, plan, data)
    counts = Counter({k: len(v) for k, v in by_kind.items()})
    print(f"{sum(counts.values())} concurrent requests from {len(TENANTS)} tenants, no cross-talk")
    print(f"  REST wall {wall:.2f} s ({sum(counts.values()) / wall:.0f} req/s)")
    for kind, xs in sorted(by_kind.items()):
        print(f"  {kind:<12} n={len(xs):<3} p50 {_ms(xs, 0.5)} ms  p95 {_ms(xs, 0.95)} ms")
    print(
        f"  reads: REST p50 {_ms(rest_reads, 0.5)} p95 {_ms(rest_reads, 0.95)} ms; plain "
        f"MlflowClient ({WORKERS} threads) p50 {_ms(plain, 0.5)} p95 {_ms(plain, 0.95)} ms"
    )
    return {
        "rest": {q: _pct(rest_reads, v) for q, v in (("p50", 0.5), ("p95", 0.95))},
        "plain": {q: _pct(plain, v) for q, v in (("p50", 0.5), ("p95", 0.95))},
        "req_per_s": sum(counts.values()) / wall,
    }


def summary(requests: int, rounds: list[dict[str, Any]]) -> dict[str, Any]:
    """Medians over the rounds; each ratio is the median of the rounds' own ratios."""

    def med(side: str, q: str) -> float:
        return round(statistics.median(r[side][q] for r in rounds) * 1000, 1)

    ratio = {
        q: round(statistics.median(r["rest"][q] / r["plain"][q] for r in rounds), 2)
        for q in ("p50", "p95")
    }
    return {
        "benchmark": "rest",
        "requests": requests,
        "repeats": len(rounds),
        "rest_reads_ms": {q: med("rest", q) for q in ("p50", "p95")},
        "plain_reads_ms": {q: med("plain", q) for q in ("p50", "p95")},
        "ratio_rest_to_plain": ratio,
        "rest_req_per_s": round(statistics.median(r["req_per_s"] for r in rounds)),
        "target": "<= 1.5",
    }


if __name__ == "__main__":
    asyncio.run(main())
