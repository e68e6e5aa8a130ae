"""Page tokens of the runs listing, bound to the tenant and to the listing they came from.

MLflow's own page token is an offset: sent back with another tenant, experiment or filter
it would silently continue some other listing. The REST API never hands it out as is. It
wraps it with an HMAC over the listing's scope (tenant, experiment, filter, order and the
other query arguments that select runs), so a token answers only the listing that issued
it; any other token (forged, edited, from another tenant or query, or from before the
server's secret changed) is one and the same 400, which says nothing about other tenants.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
from collections.abc import Sequence

from ..core.errors import InvalidInputError

_VERSION = "p1"
#: Longest token accepted; MLflow's offsets and the MAC make real ones ~100 characters.
_MAX_LENGTH = 1024


def _refused() -> InvalidInputError:
    return InvalidInputError(
        "page_token",
        "does not belong to this listing (it was issued for another query, tenant or "
        "experiment, edited, or by a server with another secret).",
        hint="Start again without page_token and follow each answer's next_page_token.",
    )


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def scope(tenant: str, *parts: str | Sequence[str] | bool | None) -> bytes:
    """A digest of what a listing selects; equal scopes are the same listing."""
    return hashlib.sha256(json.dumps([tenant, *parts], sort_keys=True).encode()).digest()


class PageTokens:
    """Issues and checks page tokens with one server secret.

    Args:
        secret: The key of the MACs; the Jupyter server's cookie secret keeps tokens
            valid across restarts. None: a random key (tokens end with the process).
    """

    def __init__(self, secret: bytes | None = None) -> None:
        base = secret or secrets.token_bytes(32)
        # A key of its own, so a page token never doubles as anything signed with the secret.
        self._key = hmac.new(base, b"matih page tokens", hashlib.sha256).digest()

    def _mac(self, listing: bytes, payload: bytes) -> bytes:
        return hmac.new(self._key, listing + payload, hashlib.sha256).digest()

    def issue(self, listing: bytes, backend_token: str | None) -> str | None:
        """The client's token for MLflow's ``backend_token`` (None: no more pages)."""
        if not backend_token:
            return None
        payload = backend_token.encode()
        return f"{_VERSION}.{_b64(payload)}.{_b64(self._mac(listing, payload))}"

    def open(self, listing: bytes, token: str | None) -> str | None:
        """MLflow's token inside ``token``, if this listing issued it; else a 400."""
        if token is None:
            return None
        parts = token.split(".")
        if len(token) > _MAX_LENGTH or len(parts) != 3 or parts[0] != _VERSION:
            raise _refused()
        try:
            payload, mac = _unb64(parts[1]), _unb64(parts[2])
        except (binascii.Error, ValueError):
            raise _refused() from None
        if not hmac.compare_digest(mac, self._mac(listing, payload)):
            raise _refused()
        return payload.decode()
