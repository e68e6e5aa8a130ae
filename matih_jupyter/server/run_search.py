"""The runs listing's search: runs whose name contains a text, runs in one status.

Both run in MLflow's search, so they reach every run of the experiment, not only a page the
client holds. A name search is an ``ILIKE`` clause; MLflow's filters have no escape for
``LIKE`` wildcards or quotes, so each such character of the text matches any one character
there, and `matches` then keeps the runs whose name really contains the text. A page may
so hold fewer runs than asked for, never more.
"""

from __future__ import annotations

import re
from typing import Any

from ..core.errors import InvalidInputError

#: Run statuses as the API spells them.
STATUSES = ("running", "scheduled", "finished", "failed", "killed")
MAX_SEARCH = 250
_UNQUOTABLE = re.compile(r"[%_'\"\\]")


def check_search(text: str | None) -> str | None:
    """The search text, stripped; None when empty; a 400 when it is too long."""
    text = (text or "").strip()
    if len(text) > MAX_SEARCH:
        raise InvalidInputError("search", f"is longer than {MAX_SEARCH} characters.")
    return text or None


def check_status(value: str | None) -> str | None:
    """The status in lower case; None when absent; a 400 naming the valid ones."""
    if value is None:
        return None
    status = value.strip().lower()
    if status not in STATUSES:
        raise InvalidInputError(
            "status", f"{value!r} is not a run status.", hint=f"Use one of {', '.join(STATUSES)}."
        )
    return status


def clauses(search: str | None, status: str | None) -> list[str]:
    """MLflow filter clauses for a checked search text and status."""
    out = []
    if search:
        out.append(f"attributes.run_name ILIKE '%{_UNQUOTABLE.sub('_', search)}%'")
    if status:
        out.append(f"attributes.status = '{status.upper()}'")
    return out


def matches(run: Any, search: str | None) -> bool:
    """Whether the run's name contains ``search`` (case-insensitive); True without one."""
    return not search or search.lower() in (run.name or "").lower()
