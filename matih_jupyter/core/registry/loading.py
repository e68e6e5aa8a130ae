"""Loading a version of a model back as a Python object: the version chosen by stage,
alias or number, its ``model/`` folder downloaded and loaded with its flavor."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from ..backend.error_map import translate_errors
from ..errors import InvalidInputError, NotFoundError
from . import artifacts as art
from .aliases import version_by_alias
from .snapshot import Snapshot, version_in
from .tags import TAG_ARTIFACT_PATH, TAG_FRAMEWORK
from .types import validate_stage


def chosen_version(snap: Snapshot, stage: Any, alias: Any, version: Any) -> str:
    """The version given by at most one of ``stage`` (the version holding it, the newest
    one for stages several versions hold), ``alias`` or ``version``; default production."""
    given = [x for x in (stage, alias, version) if x is not None]
    if len(given) > 1:
        raise InvalidInputError(
            "stage/alias/version", "give at most one of stage, alias or version."
        )
    if version is not None:
        return version_in(snap, version)
    if alias is not None:
        return version_by_alias(snap, alias)
    wanted = validate_stage(stage) if stage is not None else "production"
    holders = snap.holders(wanted)
    if not holders:
        raise NotFoundError(
            f"Model '{snap.name}' has no version in {wanted}.",
            hint="Pass version=... or another stage.",
        )
    held = snap.aliases.get(wanted)
    return held if held is not None and held in holders else holders[-1]


def load_version(client: Any, snap: Snapshot, version: str) -> Any:
    """Download ``version``'s model into a temporary folder and load it."""
    mv = snap.versions[version]
    framework = (mv.tags or {}).get(TAG_FRAMEWORK, "")
    prefix = (mv.tags or {}).get(TAG_ARTIFACT_PATH, "")
    with tempfile.TemporaryDirectory(prefix="matih-load-") as tmp:
        with translate_errors(
            f"downloading version {version} of '{snap.name}'",
            not_found=f"The artifacts of version {version} of '{snap.name}' are missing.",
        ):
            local = client.download_artifacts(mv.run_id, f"{prefix}{art.MODEL_DIR}", tmp)
        return art.load_model(framework, Path(local))
