"""The Jupyter server extension: a tenant-safe REST API over `matih_jupyter.core`.

Routes live under ``{base_url}/matih/api/v1/`` (see ``handlers.ROUTES`` and
``openapi.yaml``). Everything heavy (tornado handlers, MLflow) is imported when the
server loads the extension, not when this package is imported.
"""

from __future__ import annotations

from typing import Any


def _jupyter_server_extension_points() -> list[dict[str, str]]:
    return [{"module": "matih_jupyter.server"}]


def _load_jupyter_server_extension(server_app: Any) -> None:
    """Register the handlers on a running Jupyter server (called by jupyter_server)."""
    from .app import load_extension

    load_extension(server_app)


# jupyter_server < 2 looked for the name without the leading underscore.
load_jupyter_server_extension = _load_jupyter_server_extension
