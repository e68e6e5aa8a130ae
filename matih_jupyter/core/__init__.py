"""The framework-free core: configuration, tenancy, tracker, registry, errors, results.

Nothing here imports IPython, ipywidgets, tornado or jupyter_server. The public names are
resolved lazily (the same table as the package root), so importing a light module such as
``matih_jupyter.core.errors`` or ``matih_jupyter.core.tenancy`` does not import MLflow.
"""

from __future__ import annotations

from typing import Any


def __getattr__(name: str) -> Any:
    import matih_jupyter

    if name in matih_jupyter._EXPORTS:
        return getattr(matih_jupyter, name)
    raise AttributeError(f"module 'matih_jupyter.core' has no attribute {name!r}")


def __dir__() -> list[str]:
    import matih_jupyter

    return sorted([*globals(), *matih_jupyter._EXPORTS])
