"""The process-wide tracker: one per kernel or Jupyter server, shared by the magics, the
widgets, the REST handlers and user code, so they all see the same open runs."""

from __future__ import annotations

import threading

from .tracker import ExperimentTracker

_lock = threading.Lock()
_tracker: ExperimentTracker | None = None


def get_experiment_tracker(*, refresh: bool = False) -> ExperimentTracker:
    """The process-wide tracker, configured from the environment.

    ``refresh=True`` builds it again, after the environment changed (the process registry
    follows it).
    """
    global _tracker
    with _lock:
        if _tracker is None or refresh:
            _tracker = ExperimentTracker()
        return _tracker


def use_tracker(tracker: ExperimentTracker) -> None:
    """Make ``tracker`` the process tracker: a Jupyter server configured with explicit
    URIs serves its REST API and its registry from it."""
    global _tracker
    with _lock:
        _tracker = tracker
