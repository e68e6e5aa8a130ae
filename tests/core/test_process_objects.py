"""One tracker and one registry per process, and the registry follows the process tracker
when it is rebuilt or replaced. (That the magics, widgets and REST API share them, hooks
included, is tested through each of them.)"""

from __future__ import annotations

import matih_jupyter
from matih_jupyter import get_experiment_tracker, get_model_registry
from matih_jupyter.core import use_tracker


def test_the_process_registry_is_one_object_on_the_process_tracker(matih_env) -> None:
    tracker = get_experiment_tracker(refresh=True)
    registry = get_model_registry()
    assert registry is get_model_registry() is matih_jupyter.get_model_registry()
    assert registry.tracker is tracker
    rebuilt = get_experiment_tracker(refresh=True)
    assert rebuilt is not tracker
    assert get_model_registry().tracker is rebuilt


def test_use_tracker_moves_the_process_registry_with_it(matih_env, tracker) -> None:
    before = get_experiment_tracker(refresh=True)
    try:
        use_tracker(tracker)
        assert get_experiment_tracker() is tracker
        assert get_model_registry().tracker is tracker
    finally:
        use_tracker(before)
