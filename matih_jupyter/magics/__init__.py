"""IPython magics for tenant-scoped experiment tracking: ``%load_ext matih_jupyter``.

Loading registers the ``%matih_*`` magics and a ``post_run_cell`` hook; it imports neither
MLflow nor pandas (the first magic that needs them does), so it takes milliseconds.
"""

from __future__ import annotations

import contextlib
from typing import Any

from .session import MagicSession, OpenRun, get_session

__all__ = [
    "MagicSession",
    "OpenRun",
    "get_session",
    "load_ipython_extension",
    "unload_ipython_extension",
]

_ATTR = "_matih_magics"


def load_ipython_extension(ipython: Any) -> None:
    """Register the magics on ``ipython`` (called by ``%load_ext matih_jupyter``)."""
    from .approval_magic import ApprovalMagics
    from .magics import MatihMagics
    from .sweep_magic import SweepMagics

    if getattr(ipython, _ATTR, None) is not None:
        return
    magics = MatihMagics(ipython)
    ipython.register_magics(magics)
    ipython.register_magics(SweepMagics(ipython, magics.session))
    ipython.register_magics(ApprovalMagics(ipython, magics.session))
    ipython.events.register("post_run_cell", magics.post_run_cell)
    setattr(ipython, _ATTR, magics)


def unload_ipython_extension(ipython: Any) -> None:
    """Remove the magics; runs still open are ended as KILLED (nothing could end them
    later)."""
    from .session import drop_session

    magics = getattr(ipython, _ATTR, None)
    if magics is None:
        return
    delattr(ipython, _ATTR)
    with contextlib.suppress(ValueError):  # already unregistered by hand
        ipython.events.unregister("post_run_cell", magics.post_run_cell)
    magics.session.close_all("KILLED", "the matih_jupyter extension was unloaded")
    from .approval_magic import ApprovalMagics
    from .sweep_magic import SweepMagics

    registry = ipython.magics_manager.magics
    for owner in (magics, SweepMagics, ApprovalMagics):
        for kind, names in owner.magics.items():
            for name in names:
                registry[kind].pop(name, None)
    drop_session(ipython)
