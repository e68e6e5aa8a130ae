"""Install functions for ``c.MatihJupyter.registry_hooks`` (the tests name this module in
the server's configuration, as an administrator names their own package)."""

from __future__ import annotations

from typing import Any

FREEZE_MESSAGE = "production is frozen until the release review"
NOT_A_FUNCTION = 42


def freeze_production(payload: dict[str, Any]) -> None:
    raise RuntimeError(FREEZE_MESSAGE)


def install(registry: Any) -> None:
    """A gate: no version may enter production."""
    registry.add_hook(freeze_production, stages=["production"], before=True, name="release-freeze")


def install_broken(registry: Any) -> None:
    raise RuntimeError("the gate service is misconfigured")
