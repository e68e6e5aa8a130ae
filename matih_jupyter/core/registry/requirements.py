"""The pinned ``requirements.txt`` stored with every version: ``name==version`` of the
installed packages a loader of the model needs."""

from __future__ import annotations

import functools
import platform
from importlib import metadata
from pathlib import Path

REQUIREMENTS_FILE = "requirements.txt"

#: Packages pinned for each framework (when installed).
_PACKAGES: dict[str, tuple[str, ...]] = {
    "sklearn": ("mlflow", "scikit-learn", "numpy", "scipy", "cloudpickle"),
    "onnx": ("mlflow", "onnx", "onnxruntime", "numpy"),
    "pytorch": ("mlflow", "torch", "numpy", "cloudpickle"),
}
#: Added when the version has an ONNX export.
_ONNX_PACKAGES = ("onnx", "onnxruntime", "skl2onnx")


@functools.cache
def _installed_version(package: str) -> str | None:
    # Read once per process: each lookup scans the installed distributions, and a
    # package upgraded while the kernel runs stays imported at the version read first.
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def pinned_requirements(framework: str, with_onnx: bool) -> list[str]:
    """``name==version`` for the packages a loader of this model needs."""
    names = list(_PACKAGES[framework])
    if with_onnx:
        names += [p for p in _ONNX_PACKAGES if p not in names]
    pins = []
    for name in names:
        version = _installed_version(name)
        if version is not None:
            pins.append(f"{name}=={version}")
    return pins


def write_requirements(dest: Path, framework: str, with_onnx: bool) -> None:
    """Write ``dest/requirements.txt``, headed by the Python version it was pinned on."""
    pins = pinned_requirements(framework, with_onnx)
    header = f"# Pinned when this version was registered (Python {platform.python_version()}).\n"
    (dest / REQUIREMENTS_FILE).write_text(header + "\n".join(pins) + "\n")
