"""What a caller says about an experiment or a run it wants."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import Field

from ..models import ExperimentCreate


class ExperimentConfig(ExperimentCreate):
    """An experiment to create for a tenant (name 1-255 characters,
    description at most 1000)."""

    tenant_id: str | None = Field(default=None)
    user_id: str | None = Field(default=None)
    job_id: str | None = Field(default=None)


@dataclass
class RunConfig:
    """How to start a run.

    Attributes:
        run_name: Shown in MLflow; generated when omitted.
        tenant_id: The tenant; defaults to the tracker's (``MATIH_TENANT_ID``).
        user_id: Who runs it; defaults to ``MATIH_USER_ID`` or the OS user.
        job_id: The platform job this run belongs to, if any.
        tags: User tags (not in the reserved ``matih.`` namespace).
        description: Run description (MLflow note).
        parent_run_id: Make this a child of that run (same tenant only).
        nested: Make this a child of the innermost run open in this thread.
        log_system_metrics: Sample CPU, memory and GPU during the run.
        system_metrics_interval: Seconds between samples.
        notebook_path: The notebook that runs this, when the caller knows it.
    """

    run_name: str | None = None
    tenant_id: str | None = None
    user_id: str | None = None
    job_id: str | None = None
    tags: dict[str, Any] = field(default_factory=dict)
    description: str | None = None
    parent_run_id: str | None = None
    nested: bool = False
    log_system_metrics: bool = False
    system_metrics_interval: float = 10.0
    notebook_path: str | None = None
