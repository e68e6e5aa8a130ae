"""The tags a sweep writes, named once for the sweep itself and for every view of it."""

from __future__ import annotations

from ..run_tags import TAG_PARENT


class SweepTag:
    """Tag names: on the sweep's run (``ROLE`` = ``parent``, name, metric, best trial) and
    on each trial's run (``PARENT`` = the sweep's run, trial number and state)."""

    NAME = "matih.sweep.name"
    STUDY = "matih.sweep.study"
    ROLE = "matih.sweep.role"
    METRIC = "matih.sweep.metric"
    DIRECTION = "matih.sweep.direction"
    BEST_RUN = "matih.sweep.best_run_id"
    BEST_TRIAL = "matih.sweep.best_trial"
    BEST_VALUE = "matih.sweep.best_value"
    BEST_PARAMS = "matih.sweep.best_params"
    PARENT = TAG_PARENT
    TRIAL = "matih.sweep.trial"
    TRIAL_STATE = "matih.sweep.trial_state"
