"""Following MLflow's page tokens."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def all_pages(search: Callable[..., Any], **kwargs: Any) -> list[Any]:
    """Every result of an MLflow ``search_*`` call, following its page tokens."""
    found: list[Any] = []
    token = None
    while True:
        page = search(page_token=token, **kwargs)
        found.extend(page)
        token = page.token
        if not token:
            return found
