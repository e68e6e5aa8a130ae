"""The errors of governed promotion: a policy file that cannot be loaded, a user the
policy does not allow, a gate that failed, a move waiting for a second person."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...errors import ConflictError, InvalidInputError, MatihError

if TYPE_CHECKING:
    from .requests import ApprovalRequest


class PolicyError(InvalidInputError):
    """A policy that cannot be loaded; the message names the file, the table and the key.
    Nothing of it is applied."""

    def __init__(self, source: str, table: str, key: str | None, message: str) -> None:
        where = (f"[{table}]" if table else "top level") + (f" key '{key}'" if key else "")
        self.source, self.table, self.key = source, table, key
        super().__init__("policy", f"{source}: {where}: {message}")


class NotPermittedError(MatihError, PermissionError):
    """The policy does not let this user make this move (or decide this request)."""

    http_status = 403


class GateFailedError(ConflictError):
    """A gate of the policy failed; nothing changed. ``results`` lists every gate."""

    def __init__(self, message: str, *, hint: str | None, results: list[dict]) -> None:
        self.results = results
        super().__init__(message, hint=hint)


class ApprovalRequiredError(ConflictError):
    """The move needs a second person: nothing moved, and ``request`` was filed."""

    def __init__(self, message: str, *, hint: str | None, request: ApprovalRequest) -> None:
        self.request = request
        super().__init__(message, hint=hint)


__all__ = ["ApprovalRequiredError", "GateFailedError", "NotPermittedError", "PolicyError"]
