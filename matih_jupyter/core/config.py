"""Where MLflow lives: explicit arguments, else the environment (``MLFLOW_TRACKING_URI``,
``MLFLOW_ARTIFACT_ROOT``, ``MLFLOW_REGISTRY_URI``), else the embedded default store
``sqlite:///$MATIH_HOME/mlflow.db``, which works on a fresh machine."""

from __future__ import annotations

import getpass
import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

from .tenancy import validate_tenant_id

ENV_TRACKING_URI = "MLFLOW_TRACKING_URI"
ENV_ARTIFACT_ROOT = "MLFLOW_ARTIFACT_ROOT"
ENV_REGISTRY_URI = "MLFLOW_REGISTRY_URI"
ENV_TENANT = "MATIH_TENANT_ID"
ENV_USER = "MATIH_USER_ID"
ENV_HOME = "MATIH_HOME"


def matih_home() -> Path:
    """``$MATIH_HOME``, default ``~/.matih``."""
    return Path(os.environ.get(ENV_HOME) or Path.home() / ".matih").expanduser()


@dataclass(frozen=True)
class StoreConfig:
    """The resolved MLflow locations of one tracker.

    Attributes:
        tracking_uri: MLflow tracking URI.
        registry_uri: Model registry URI (defaults to the tracking URI).
        artifact_root: Where new experiments put artifacts, or None for MLflow's default.
        embedded: True when this is the embedded default store under ``MATIH_HOME``.
    """

    tracking_uri: str
    registry_uri: str
    artifact_root: str | None
    embedded: bool

    @classmethod
    def resolve(
        cls,
        tracking_uri: str | None = None,
        default_artifact_root: str | None = None,
        registry_uri: str | None = None,
    ) -> StoreConfig:
        embedded = False
        uri = tracking_uri or os.environ.get(ENV_TRACKING_URI)
        root = default_artifact_root or os.environ.get(ENV_ARTIFACT_ROOT)
        if not uri:
            home = matih_home()
            home.mkdir(parents=True, exist_ok=True)
            uri = f"sqlite:///{home / 'mlflow.db'}"
            root = root or (home / "artifacts").as_uri()
            embedded = True
        if root and "://" not in root:
            # A plain path: make it absolute so every process agrees on it.
            root = Path(root).expanduser().resolve().as_uri()
        registry = registry_uri or os.environ.get(ENV_REGISTRY_URI) or uri
        return cls(tracking_uri=uri, registry_uri=registry, artifact_root=root, embedded=embedded)

    @property
    def is_remote(self) -> bool:
        return urlparse(self.tracking_uri).scheme in ("http", "https")

    def describe(self) -> str:
        """One line for people: which store is in use."""
        shown = redact_uri(self.tracking_uri)
        if self.embedded:
            return f"embedded store {shown}"
        return f"MLflow at {shown}"


def redact_uri(uri: str) -> str:
    """Hide a password in a URI before showing it."""
    parsed = urlparse(uri)
    if parsed.password:
        netloc = parsed.netloc.replace(f":{parsed.password}@", ":***@")
        return parsed._replace(netloc=netloc).geturl()
    return uri


def default_tenant() -> str | None:
    """The tenant from ``MATIH_TENANT_ID``, validated, or None."""
    value = os.environ.get(ENV_TENANT)
    return validate_tenant_id(value, ENV_TENANT) if value else None


def default_user() -> str:
    """``MATIH_USER_ID``, else the operating-system user."""
    value = os.environ.get(ENV_USER)
    if value:
        return value
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry in some containers
        return "unknown"
