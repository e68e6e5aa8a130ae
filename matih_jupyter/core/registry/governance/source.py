"""Where a registry's policy comes from: one set with the Python API
(`ModelRegistry.set_policy`), else the file ``MATIH_POLICY_FILE`` names, else
``$MATIH_HOME/policy.toml`` on the embedded store. A file is read again when it changes;
a file that fails validation is an error at every governed move until it is fixed, and
the previous version of it is never half applied."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from ...config import matih_home
from .policy import Policy
from .policy_file import load_policy, parse_policy

ENV_POLICY = "MATIH_POLICY_FILE"
POLICY_FILE = "policy.toml"


class PolicySource:
    """The policy in force for one registry. ``embedded()`` says whether the registry's
    store is the embedded one (checked when a move asks, as the store can change)."""

    def __init__(self, embedded: Callable[[], bool]) -> None:
        self._embedded = embedded
        self._explicit: Policy | None = None
        self._path: Path | None = None
        self._cache: tuple[Path, float, Policy] | None = None
        self._lock = threading.Lock()

    def set(self, policy: Policy | Mapping[str, Any] | str | os.PathLike | None) -> Policy | None:
        """Use ``policy`` (a `Policy`, its dict form, or a TOML file's path; validated
        whole first); ``None`` goes back to the file the environment names."""
        explicit, path = None, None
        if isinstance(policy, Policy):
            explicit = policy
        elif isinstance(policy, Mapping):
            explicit = parse_policy(policy, "<policy given to set_policy>")
        elif policy is not None:
            path = Path(policy).expanduser()
            explicit = load_policy(path)
        with self._lock:
            self._explicit, self._path, self._cache = explicit, path, None
        return explicit

    def _default(self) -> tuple[Path | None, bool]:
        """The file the environment names (required), else the embedded store's."""
        named = os.environ.get(ENV_POLICY)
        if named:
            return Path(named).expanduser(), True
        return (matih_home() / POLICY_FILE if self._embedded() else None), False

    def current(self) -> Policy | None:
        """The policy in force now (``None``: no policy, every move as without one)."""
        with self._lock:
            path, explicit = self._path, self._explicit
        if path is not None:
            return self._read(path, required=True)
        if explicit is not None:
            return explicit
        path, required = self._default()
        return None if path is None else self._read(path, required)

    def _read(self, path: Path, required: bool) -> Policy | None:
        try:
            mtime = path.stat().st_mtime
        except OSError:
            return load_policy(path) if required else None  # the error names the file
        cache = self._cache
        if cache is not None and cache[0] == path and cache[1] == mtime:
            return cache[2]
        policy = load_policy(path)
        with self._lock:
            self._cache = (path, mtime, policy)
        return policy


__all__ = ["ENV_POLICY", "POLICY_FILE", "PolicySource"]
