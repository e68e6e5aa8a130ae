"""Native notebook widgets built on `matih_jupyter.core`.

Controls are plain ipywidgets; charts are drawn in the browser by the same chart code as
the JupyterLab sidebar, shipped in this package as an anywidget ES module (``static/``), so
they work wherever widgets work (JupyterLab, Notebook 7, VS Code) without an iframe, a CDN
or a separate web app. The kernel only sends data. Imports are lazy so
``import matih_jupyter.widgets`` is cheap.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_EXPORTS = {
    "LiveMetricsPlot": "matih_jupyter.widgets.live",
    "RunComparison": "matih_jupyter.widgets.compare",
    "ModelPromotion": "matih_jupyter.widgets.promotion",
    "SweepView": "matih_jupyter.widgets.sweep_view",
}

__all__ = ["LiveMetricsPlot", "ModelPromotion", "RunComparison", "SweepView"]

if TYPE_CHECKING:
    from .compare import RunComparison
    from .live import LiveMetricsPlot
    from .promotion import ModelPromotion
    from .sweep_view import SweepView


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'matih_jupyter.widgets' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])
