"""The process-wide registry: one per kernel or Jupyter server, so a hook or webhook added
to it holds for every promotion in the process, from the Python API, the magics, the
widgets and the REST API alike."""

from __future__ import annotations

import threading

from .registry import ModelRegistry

_lock = threading.Lock()
_registry: ModelRegistry | None = None


def get_model_registry() -> ModelRegistry:
    """The process-wide registry. It follows the process tracker
    (`get_experiment_tracker`), also after that is rebuilt."""
    global _registry
    with _lock:
        if _registry is None:
            _registry = ModelRegistry()
        return _registry
