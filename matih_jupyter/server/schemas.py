"""Request bodies of the REST API (responses are the core's models).

Every body forbids unknown fields, so a misspelt field is a 400 naming it rather than a
silently ignored value. Fields that would let a client choose where data lives are named
in `SERVER_CHOSEN` and refused with their own message.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictFloat, StrictInt, StrictStr

#: Locations the server alone decides (its configuration), never the client.
SERVER_CHOSEN = frozenset(
    {
        "tracking_uri",
        "registry_uri",
        "artifact_location",
        "artifact_root",
        "artifact_uri",
        "artifact_path",
        "model_uri",
        "local_path",
        "local_dir",
        "path",
        "dst",
    }
)

#: Upper bounds that keep one request within bounded time.
MAX_METRICS_PER_REQUEST = 10_000
MAX_PARAMS_PER_REQUEST = 1_000
#: Runs one comparison names: as many as a page of the runs listing (read together).
MAX_RUNS_COMPARED = 1000
#: The most runs one page of a runs listing holds (MLflow's own largest page).
MAX_PAGE = 1000

Scalar = StrictStr | StrictInt | StrictFloat | StrictBool


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RunCreate(_Body):
    """``POST /experiments/runs``: a run in one of the tenant's experiments."""

    experiment_id: StrictStr = Field(..., min_length=1, max_length=64)
    name: StrictStr | None = Field(default=None, max_length=250)
    tags: dict[str, StrictStr] = Field(default_factory=dict)
    description: StrictStr | None = Field(default=None, max_length=5000)
    parent_run_id: StrictStr | None = Field(default=None, max_length=64)
    job_id: StrictStr | None = Field(default=None, max_length=250)


class MetricIn(_Body):
    """One metric value; ``step`` defaults to 0, ``timestamp`` (epoch ms) to now."""

    key: StrictStr
    value: StrictFloat | StrictInt
    step: StrictInt | None = None
    timestamp: StrictInt | None = None


class MetricsBatch(_Body):
    """``POST /runs/{run_id}/metrics``."""

    metrics: list[MetricIn] = Field(..., min_length=1, max_length=MAX_METRICS_PER_REQUEST)


class ParamsBody(_Body):
    """``POST /runs/{run_id}/params``: params are write-once."""

    params: dict[str, Scalar] = Field(..., min_length=1, max_length=MAX_PARAMS_PER_REQUEST)


class RunEnd(_Body):
    """``POST /runs/{run_id}/end``."""

    status: StrictStr = "FINISHED"


#: Largest ONNX model accepted in one request (base64 text, about 4/3 of the bytes).
MAX_ONNX_BASE64 = 64 * 1024 * 1024


class ModelCreate(_Body):
    """``POST /models``: register a model sent as ONNX (base64).

    ONNX is a protobuf: the server parses it without running code. Pickled formats
    (scikit-learn, pytorch) are never loaded by the server; register those from a
    notebook. ``run_id`` logs the model into that run of the tenant.
    """

    name: StrictStr
    framework: StrictStr = "onnx"
    onnx_model: StrictStr | None = Field(default=None, max_length=MAX_ONNX_BASE64)
    run_id: StrictStr | None = Field(default=None, min_length=1, max_length=64)
    metrics: dict[str, StrictFloat | StrictInt] = Field(default_factory=dict)
    parameters: dict[str, Any] = Field(default_factory=dict)
    tags: dict[str, StrictStr] = Field(default_factory=dict)
    description: StrictStr = Field(default="", max_length=5000)
    model_type: StrictStr | None = None


class VersionCreate(_Body):
    """``POST /models/{model_id}/versions``: a new version, sent as ONNX (base64)."""

    framework: StrictStr = "onnx"
    onnx_model: StrictStr | None = Field(default=None, max_length=MAX_ONNX_BASE64)
    run_id: StrictStr | None = Field(default=None, min_length=1, max_length=64)
    metrics: dict[str, StrictFloat | StrictInt] = Field(default_factory=dict)
    parameters: dict[str, Any] = Field(default_factory=dict)
    tags: dict[str, StrictStr] = Field(default_factory=dict)


class StageChange(_Body):
    """``PUT /models/{model_id}/stage``."""

    version: StrictStr | StrictInt
    stage: StrictStr
    reason: StrictStr | None = Field(default=None, max_length=1000)


class Rollback(_Body):
    """``POST /models/{model_id}/rollback``."""

    reason: StrictStr | None = Field(default=None, max_length=1000)


class AliasSet(_Body):
    """``PUT /models/{model_id}/aliases/{alias}``."""

    version: StrictStr | StrictInt
