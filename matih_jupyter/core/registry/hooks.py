"""Transition hooks: Python callables and webhooks called when a version enters a stage.

Two kinds, chosen per hook:

* **before** hooks are gates. They run after the transition was validated and before
  anything changes; if one raises (or a webhook does not answer 2xx in time) the
  transition is refused with `HookVetoError` and the registry is left exactly as it was.
* **after** hooks are notifications (for example integration tests when a version enters
  staging, a canary deploy when it enters production). They run once the change is
  committed; a failure cannot undo it, so it is reported instead: a `HookFailureWarning`,
  and the failure is recorded with the transition (``TransitionRecord.hook_failures``).
"""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlparse

from ..errors import ConflictError, InvalidInputError
from ..tenancy import validate_tenant_id
from .types import validate_stage

HookCallable = Callable[[dict[str, Any]], Any]
DEFAULT_HOOK_STAGES = ("staging", "production")
DEFAULT_WEBHOOK_TIMEOUT = 3.0


class HookVetoError(ConflictError):
    """A before-transition hook refused the transition; nothing was changed."""


class HookFailureWarning(UserWarning):
    """An after-transition hook failed; the transition itself is committed."""


@dataclass
class Hook:
    """One registered hook (callable or webhook)."""

    id: str
    name: str
    stages: tuple[str, ...]
    before: bool
    tenant_id: str | None
    callback: HookCallable | None = None
    url: str | None = None
    timeout: float = DEFAULT_WEBHOOK_TIMEOUT
    headers: dict[str, str] = field(default_factory=dict)

    def applies(self, tenant_id: str, to_stage: str, before: bool) -> bool:
        return (
            self.before == before
            and to_stage in self.stages
            and (self.tenant_id is None or self.tenant_id == tenant_id)
        )

    def call(self, payload: dict[str, Any]) -> None:
        """Run the hook; raise on failure (any exception, or a non-2xx webhook answer)."""
        if self.callback is not None:
            result = self.callback(dict(payload))
            if result is False:
                raise RuntimeError("returned False")
            return
        assert self.url is not None
        body = json.dumps(payload, default=str).encode()
        request = urllib.request.Request(
            self.url,
            data=body,
            method="POST",
            headers={"Content-Type": "application/json", **self.headers},
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                status = response.status
        except urllib.error.HTTPError as exc:
            raise RuntimeError(f"HTTP {exc.code} {exc.reason}") from None
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise RuntimeError(f"no answer ({reason})") from None
        if not 200 <= status < 300:
            raise RuntimeError(f"HTTP {status}")


class HookSet:
    """The hooks of one registry (thread-safe)."""

    def __init__(self) -> None:
        self._hooks: dict[str, Hook] = {}
        self._lock = threading.Lock()

    def add(
        self,
        *,
        callback: HookCallable | None = None,
        url: str | None = None,
        stages: Iterable[str] = DEFAULT_HOOK_STAGES,
        before: bool = False,
        tenant_id: str | None = None,
        name: str | None = None,
        timeout: float = DEFAULT_WEBHOOK_TIMEOUT,
        headers: Mapping[str, str] | None = None,
    ) -> str:
        if isinstance(stages, str):
            stages = (stages,)
        stage_list = tuple(validate_stage(s, "stages") for s in stages)
        if not stage_list:
            raise InvalidInputError(
                "stages", "no stage given.", hint="For example ('production',)."
            )
        if tenant_id is not None:
            validate_tenant_id(tenant_id)
        if url is not None:
            parsed = urlparse(url)
            if parsed.scheme not in ("http", "https") or not parsed.netloc:
                raise InvalidInputError(
                    "url", f"{url!r} is not an http(s) URL.", hint="Use http://host/path."
                )
            if not (0 < float(timeout) <= 30):
                raise InvalidInputError("timeout", f"{timeout!r} is not in (0, 30] seconds.")
            label = name or url
        elif callable(callback):
            label = name or getattr(callback, "__qualname__", None) or repr(callback)
        else:
            raise InvalidInputError("callback", f"{callback!r} is not callable.")
        hook = Hook(
            id=uuid.uuid4().hex[:12],
            name=label,
            stages=stage_list,
            before=before,
            tenant_id=tenant_id,
            callback=callback if url is None else None,
            url=url,
            timeout=float(timeout),
            headers=dict(headers or {}),
        )
        with self._lock:
            self._hooks[hook.id] = hook
        return hook.id

    def remove(self, hook_id: str) -> bool:
        with self._lock:
            return self._hooks.pop(hook_id, None) is not None

    def all(self) -> list[Hook]:
        with self._lock:
            return list(self._hooks.values())

    def matching(self, tenant_id: str, to_stage: str, before: bool) -> list[Hook]:
        return [h for h in self.all() if h.applies(tenant_id, to_stage, before)]

    def run_before(self, tenant_id: str, payloads: list[dict[str, Any]]) -> None:
        """Run the gates; the first failure vetoes the transition."""
        for payload in payloads:
            for hook in self.matching(tenant_id, payload["to_stage"], True):
                try:
                    hook.call(payload)
                except Exception as exc:
                    raise HookVetoError(
                        f"Hook '{hook.name}' refused moving version {payload['version']} of "
                        f"model '{payload['model_id']}' to {payload['to_stage']}: {exc}",
                        hint="Nothing was changed. Fix what the hook checks, then try again.",
                    ) from None

    def run_after(self, tenant_id: str, payloads: list[dict[str, Any]]) -> list[str]:
        """Run the notifications; return one message per failure (never raise)."""
        failures = []
        for payload in payloads:
            for hook in self.matching(tenant_id, payload["to_stage"], False):
                try:
                    hook.call(payload)
                except Exception as exc:
                    failures.append(
                        f"{hook.name} (version {payload['version']} -> {payload['to_stage']}): "
                        f"{type(exc).__name__}: {exc}"
                    )
        return failures
