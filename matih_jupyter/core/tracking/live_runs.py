"""The runs open in this process, and how they end when the interpreter exits.

MLflow's own exit handler marks a crashed run FINISHED; here every open run is flushed and
ended with a true status: FAILED with the exception that ended the program, KILLED for an
interrupt, else FINISHED with the reason tagged.
"""

from __future__ import annotations

import atexit
import sys
import threading
import weakref
from types import TracebackType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .active_run import ActiveRun

_LIVE: weakref.WeakSet[ActiveRun] = weakref.WeakSet()
_exit_error: BaseException | None = None
_hook_lock = threading.Lock()
_hooks_installed = False


def add(run: ActiveRun) -> None:
    """Count ``run`` as open until `discard`; installs the exit handling on first use."""
    _install_exit_hooks()
    _LIVE.add(run)


def discard(run: ActiveRun) -> None:
    _LIVE.discard(run)


def open_runs() -> list[ActiveRun]:
    return list(_LIVE)


def open_run_ids() -> set[str]:
    return {r.run_id for r in _LIVE}


def find(run_id: str, tracker: object) -> ActiveRun | None:
    """The run ``run_id`` if ``tracker`` opened it in this process and it is still open."""
    for run in list(_LIVE):
        if run.run_id == run_id and run.tracker is tracker:
            return run
    return None


def _install_exit_hooks() -> None:
    global _hooks_installed
    with _hook_lock:
        if _hooks_installed:
            return
        _hooks_installed = True
        previous = sys.excepthook

        def excepthook(
            tp: type[BaseException], value: BaseException, tb: TracebackType | None
        ) -> None:
            global _exit_error
            _exit_error = value
            previous(tp, value, tb)

        sys.excepthook = excepthook
        atexit.register(_end_open_runs_at_exit)


def _end_open_runs_at_exit() -> None:
    """Write what is buffered and end every open run with a true status."""
    error = _exit_error
    if error is None:
        status, reason = "FINISHED", "interpreter exit without end()"
    elif isinstance(error, KeyboardInterrupt):
        status, reason = "KILLED", "interrupted"
    else:
        status, reason = "FAILED", "uncaught exception"
    for run in list(_LIVE):
        try:
            run.end(status, error=error, reason=reason, timeout=30)
        except Exception as exc:  # report, never raise at exit
            print(f"matih: could not end run {run.run_id} at exit: {exc}", file=sys.stderr)
