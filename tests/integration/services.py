"""Real services for the scale-out tier and the server benchmark, all on 127.0.0.1.

- `Postgres`: a private PostgreSQL cluster from the Debian binaries (``initdb`` + ``pg_ctl``),
  in a temporary directory, run by the non-root ``postgres`` user when we are root.
- `S3Server`: moto's S3 server mode in a subprocess, the S3-compatible endpoint; used exactly as
  a MinIO deployment is (``MLFLOW_S3_ENDPOINT_URL`` + access keys on the MLflow server).
- `MlflowServer`: ``mlflow server`` on a PostgreSQL database with proxied artifacts
  (``--artifacts-destination s3://bucket/...``), so notebooks need no S3 credentials.
- `Stack`: the three together, the reference deployment of docs/deployment.md.

Imported by tests/integration/conftest.py and benchmarks/bench_server.py; no pytest here.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path

HOST = "127.0.0.1"
S3_KEY = "matih-test-key"
S3_SECRET = "matih-test-secret"
S3_REGION = "us-east-1"
PG_USER = "mlflow"
PG_PASSWORD = "mlflow-test-pw"


class ServiceError(RuntimeError):
    """A service could not be started; the message says which and shows its log."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def _wait_port(port: int, timeout: float, proc: subprocess.Popen | None = None) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            return False
        with contextlib.suppress(OSError), socket.create_connection((HOST, port), timeout=0.5):
            return True
        time.sleep(0.1)
    return False


def _tail(path: Path, n: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-n:])
    except OSError:
        return "(no log)"


def _stop_group(proc: subprocess.Popen, timeout: float = 15) -> None:
    """Stop a process started with its own session, and its workers."""
    if proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(5)


# -- PostgreSQL ---------------------------------------------------------------------------


def pg_bindir() -> Path:
    """The newest Debian PostgreSQL ``bin`` folder, else the one holding ``initdb`` on PATH."""

    def version(path: str) -> int:
        name = Path(path).parent.parent.name
        return int(name) if name.isdigit() else 0

    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=version)
    if found:
        return Path(found[-1]).parent
    which = shutil.which("initdb")
    if which:
        return Path(which).parent
    raise ServiceError(
        "PostgreSQL server binaries not found (initdb). Install them: "
        "apt-get install -y postgresql (the CI script .ci/run does this)."
    )


class Postgres:
    """A private cluster: temp data dir, random port, socket dir inside the temp dir.

    PostgreSQL refuses to run as root, so when we are root every server command runs as
    the ``postgres`` system user (created if missing).
    """

    def __init__(self, base: Path | None = None) -> None:
        self.bindir = pg_bindir()
        # Our own temp dir (not pytest's 0700 one): the postgres user must reach it.
        self.dir = Path(tempfile.mkdtemp(prefix="matih-pg-", dir=base))
        self.data = self.dir / "data"
        self.sock = self.dir / "sock"
        self.log = self.dir / "postgres.log"
        self.port = free_port()
        self._as: list[str] = []

    def _run(self, *args: str) -> None:
        cmd = [*self._as, *args]
        res = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)
        if res.returncode != 0:
            raise ServiceError(
                f"PostgreSQL command failed: {' '.join(args)}\n{res.stdout}\n{res.stderr}\n"
                f"{_tail(self.log)}"
            )

    def start(self) -> Postgres:
        self.sock.mkdir()
        pwfile = self.dir / "pw"
        pwfile.write_text(PG_PASSWORD + "\n")
        if os.geteuid() == 0:
            if subprocess.run(["id", "-u", "postgres"], capture_output=True).returncode != 0:
                subprocess.run(["useradd", "--system", "--no-create-home", "postgres"], check=True)
            shutil.chown(self.dir, "postgres")
            shutil.chown(self.sock, "postgres")
            shutil.chown(pwfile, "postgres")
            self._as = ["runuser", "-u", "postgres", "--"]
        self._run(
            str(self.bindir / "initdb"),
            "-D",
            str(self.data),
            "-U",
            PG_USER,
            f"--pwfile={pwfile}",
            "--auth-local=trust",
            "--auth-host=scram-sha-256",
            "-E",
            "UTF8",
            "--no-sync",
        )
        # Test-only durability trade-offs: the data is thrown away after the session.
        opts = (
            f"-p {self.port} -k {self.sock} -c listen_addresses={HOST} -c max_connections=400 "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        self._run(
            str(self.bindir / "pg_ctl"),
            "-D",
            str(self.data),
            "-l",
            str(self.log),
            "-o",
            opts,
            "-w",
            "-t",
            "60",
            "start",
        )
        return self

    def uri(self, database: str) -> str:
        """SQLAlchemy URI; the driver is named because SQLAlchemy 2.1 defaults to psycopg 3."""
        return f"postgresql+psycopg2://{PG_USER}:{PG_PASSWORD}@{HOST}:{self.port}/{database}"

    def create_database(self, name: str | None = None, template: str | None = None) -> str:
        """Create a database (optionally copied from ``template``) and return its URI."""
        import psycopg2

        name = name or f"mlflow_{uuid.uuid4().hex[:8]}"
        conn = psycopg2.connect(
            host=HOST, port=self.port, user=PG_USER, password=PG_PASSWORD, dbname="postgres"
        )
        conn.autocommit = True
        try:
            with conn.cursor() as cur:
                suffix = f" TEMPLATE {template}" if template else ""
                cur.execute(f'CREATE DATABASE "{name}"{suffix}')
        finally:
            conn.close()
        return self.uri(name)

    def stop(self) -> None:
        if self.data.exists():
            with contextlib.suppress(ServiceError, subprocess.TimeoutExpired):
                self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", "fast", "stop")
        shutil.rmtree(self.dir, ignore_errors=True)


def migrated_template(pg: Postgres, name: str = "mlflow_template") -> str:
    """A database with MLflow's schema, to copy for each server (migrations take seconds)."""
    uri = pg.create_database(name)
    env = dict(os.environ)
    code = (
        "import sys\n"
        "from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore\n"
        "from mlflow.store.model_registry.sqlalchemy_store import SqlAlchemyStore as R\n"
        "SqlAlchemyStore(sys.argv[1], 'file:///tmp/unused')\n"
        "R(sys.argv[1])\n"
    )
    res = subprocess.run(
        [sys.executable, "-c", code, uri], capture_output=True, text=True, env=env, check=False
    )
    if res.returncode != 0:
        raise ServiceError(f"MLflow migrations on PostgreSQL failed:\n{res.stderr[-3000:]}")
    return name


# -- S3 (moto server mode) ----------------------------------------------------------------


class S3Server:
    """moto's standalone S3 server, an S3 API on a random local port."""

    def __init__(self, log_dir: Path) -> None:
        self.port = free_port()
        self.endpoint = f"http://{HOST}:{self.port}"
        self.log = log_dir / "moto.log"
        self.proc: subprocess.Popen | None = None

    def start(self) -> S3Server:
        exe = Path(sys.executable).with_name("moto_server")
        cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "moto.server"]
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(
                [*cmd, "-H", HOST, "-p", str(self.port)],
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                env={**os.environ, **self.credentials()},
            )
        if not _wait_port(self.port, 30, self.proc):
            raise ServiceError(f"moto S3 server did not start:\n{_tail(self.log)}")
        return self

    @staticmethod
    def credentials() -> dict[str, str]:
        return {
            "AWS_ACCESS_KEY_ID": S3_KEY,
            "AWS_SECRET_ACCESS_KEY": S3_SECRET,
            "AWS_DEFAULT_REGION": S3_REGION,
        }

    def client(self):
        import boto3

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            aws_access_key_id=S3_KEY,
            aws_secret_access_key=S3_SECRET,
            region_name=S3_REGION,
        )

    def create_bucket(self, name: str) -> str:
        self.client().create_bucket(Bucket=name)
        return name

    def list_keys(self, bucket: str, prefix: str = "") -> list[str]:
        keys: list[str] = []
        for page in (
            self.client().get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
        ):
            keys.extend(obj["Key"] for obj in page.get("Contents", []))
        return keys

    def stop(self) -> None:
        if self.proc is not None:
            _stop_group(self.proc)


# -- MLflow server ------------------------------------------------------------------------


@dataclass
class MlflowServer:
    """``mlflow server`` on PostgreSQL with artifacts proxied to S3, as a user deploys it.

    Attributes:
        backend_uri: The PostgreSQL URI of its database.
        s3: The S3 endpoint the server writes artifacts to.
        bucket: The artifact bucket; artifacts land under ``s3://bucket/mlflow``.
        workdir: Where its log goes.
        workers: uvicorn worker processes.
        enable_workspaces: Start with ``--enable-workspaces``.
        extra_args: More ``mlflow server`` arguments.
        extra_env: More environment for the server (e.g. the auth app's settings).
    """

    backend_uri: str
    s3: S3Server
    bucket: str
    workdir: Path
    workers: int = 4
    enable_workspaces: bool = False
    extra_args: list[str] = field(default_factory=list)
    extra_env: dict[str, str] = field(default_factory=dict)
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def log(self) -> Path:
        return self.workdir / f"mlflow-server-{self.port}.log"

    @property
    def artifact_prefix(self) -> str:
        return "mlflow/"

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
        env.update(self.s3.credentials())
        # The MinIO recipe: the server reaches the bucket through this endpoint.
        env["MLFLOW_S3_ENDPOINT_URL"] = self.s3.endpoint
        # Background job runners (huey) are not used here and slow the start.
        env["MLFLOW_SERVER_ENABLE_JOB_EXECUTION"] = "false"
        env.update(self.extra_env)
        return env

    def command(self) -> list[str]:
        cmd = [
            sys.executable,
            "-m",
            "mlflow",
            "server",
            "--backend-store-uri",
            self.backend_uri,
            "--artifacts-destination",
            f"s3://{self.bucket}/mlflow",
            "--serve-artifacts",
            "--host",
            HOST,
            "--port",
            str(self.port),
            "--workers",
            str(self.workers),
        ]
        if self.enable_workspaces:
            cmd.append("--enable-workspaces")
        return cmd + self.extra_args

    def start(self, timeout: float = 120) -> MlflowServer:
        """Start (or restart on the same port) and wait until /health answers."""
        if self.proc is not None and self.proc.poll() is None:
            return self
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(
                self.command(),
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                env=self.env(),
                cwd=self.workdir,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                break
            with (
                contextlib.suppress(OSError, urllib.error.URLError),
                urllib.request.urlopen(f"{self.url}/health", timeout=2) as r,
            ):
                if r.status == 200:
                    return self
            time.sleep(0.2)
        self.stop()
        raise ServiceError(f"mlflow server did not become healthy:\n{_tail(self.log)}")

    def stop(self) -> None:
        if self.proc is not None:
            _stop_group(self.proc)
            self.proc = None

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None


class Stack:
    """PostgreSQL + S3 + a factory of MLflow servers, started together, stopped together."""

    def __init__(self, base: Path | None = None) -> None:
        self.workdir = Path(tempfile.mkdtemp(prefix="matih-stack-", dir=base))
        self.pg: Postgres | None = None
        self.s3: S3Server | None = None
        self.bucket = "matih-artifacts"
        self.template = ""
        self.servers: list[MlflowServer] = []

    def start(self) -> Stack:
        try:
            self.pg = Postgres().start()
            self.s3 = S3Server(self.workdir).start()
            self.s3.create_bucket(self.bucket)
            self.template = migrated_template(self.pg)
        except BaseException:
            self.stop()
            raise
        return self

    def server(self, *, workers: int = 4, enable_workspaces: bool = False, **kw) -> MlflowServer:
        """A new MLflow server on its own fresh database (copied from the migrated one)."""
        assert self.pg is not None and self.s3 is not None
        uri = self.pg.create_database(template=self.template)
        srv = MlflowServer(
            backend_uri=uri,
            s3=self.s3,
            bucket=self.bucket,
            workdir=self.workdir,
            workers=workers,
            enable_workspaces=enable_workspaces,
            **kw,
        )
        self.servers.append(srv)
        return srv.start()

    def stop(self) -> None:
        for srv in self.servers:
            srv.stop()
        if self.s3 is not None:
            self.s3.stop()
        if self.pg is not None:
            self.pg.stop()
        shutil.rmtree(self.workdir, ignore_errors=True)


@contextlib.contextmanager
def running_stack(base: Path | None = None):
    """``with running_stack() as stack: srv = stack.server()`` — everything stopped after."""
    stack = Stack(base).start()
    try:
        yield stack
    finally:
        stack.stop()
