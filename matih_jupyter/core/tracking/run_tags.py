"""The tags matih sets on a run, built once for every way a run is created."""

from __future__ import annotations

from ..tenancy import TAG_JOB, TAG_TENANT, TAG_USER, validate_user_tag
from ..values import now_ms
from .provenance import TAG_HOST, TAG_PID, provenance_tags
from .run_config import RunConfig

TAG_HEARTBEAT = "matih.heartbeat"
TAG_END_REASON = "matih.end_reason"
TAG_ERROR_TYPE = "matih.error.type"
TAG_ERROR_MESSAGE = "matih.error.message"
TAG_PARENT = "mlflow.parentRunId"
TAG_RUN_NAME = "mlflow.runName"
TAG_NOTE = "mlflow.note.content"


def run_tags(
    cfg: RunConfig, tenant: str, user: str, parent: str | None, *, with_process: bool
) -> dict[str, str]:
    """User tags (checked), provenance, identity, parent and description of a new run.

    ``with_process``: a process of this machine keeps the run alive (its writer beats a
    heartbeat), so orphan detection may judge it by pid, host and heartbeat. Runs created
    without one (the REST quick start) carry none of the three and are never orphans.
    """
    tags = dict(validate_user_tag(k, v) for k, v in cfg.tags.items())
    tags.update(provenance_tags(cfg.notebook_path))
    tags.update({TAG_TENANT: tenant, TAG_USER: user, "mlflow.user": user})
    if with_process:
        tags[TAG_HEARTBEAT] = str(now_ms())
    else:
        for key in (TAG_PID, TAG_HOST):
            tags.pop(key, None)
    if cfg.job_id:
        tags[TAG_JOB] = str(cfg.job_id)
    if cfg.description:
        tags[TAG_NOTE] = cfg.description
    if parent:
        tags[TAG_PARENT] = parent
    return tags
