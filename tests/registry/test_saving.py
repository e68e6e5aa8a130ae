"""A version's flavor is saved with requirements pinned from the installed packages, which
MLflow is not asked to check against those same packages again; every other save (another
thread's, or after matih's) is still checked."""

from __future__ import annotations

import logging
import threading

import mlflow.sklearn

from matih_jupyter.core.backend import internals
from matih_jupyter.core.backend.flavors import save_flavor
from matih_jupyter.core.registry.requirements import pinned_requirements

from .conftest import fitted

#: A pin no installed scikit-learn satisfies: MLflow warns when it checks it.
_IMPOSSIBLE = ["scikit-learn==0.0.1"]
_MISMATCH = "Detected one or more mismatches"


def _warned(caplog) -> bool:
    return any(_MISMATCH in r.getMessage() for r in caplog.records)


def test_the_flavor_keeps_its_pins(tmp_path, caplog):
    pins = pinned_requirements("sklearn", False)
    with caplog.at_level(logging.WARNING, logger="mlflow"):
        save_flavor("sklearn", fitted(), tmp_path / "model", pins)
    written = (tmp_path / "model" / "requirements.txt").read_text().split()
    assert set(pins) <= set(written)
    assert not _warned(caplog)


def test_saves_outside_the_block_are_still_checked(tmp_path, caplog):
    model = fitted()
    caplog.set_level(logging.WARNING, logger="mlflow")
    with internals.requirement_check_skipped():
        mlflow.sklearn.save_model(model, str(tmp_path / "inside"), pip_requirements=_IMPOSSIBLE)
        assert not _warned(caplog)
        # Another thread saving meanwhile is checked.
        other = threading.Thread(
            target=mlflow.sklearn.save_model,
            args=(model, str(tmp_path / "other")),
            kwargs={"pip_requirements": _IMPOSSIBLE},
        )
        other.start()
        other.join()
        assert _warned(caplog)
    caplog.clear()
    mlflow.sklearn.save_model(model, str(tmp_path / "after"), pip_requirements=_IMPOSSIBLE)
    assert _warned(caplog)
