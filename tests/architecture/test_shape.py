"""The shape of the code, checked: MLflow's private APIs pinned and kept in one place, the
core's modules and classes small enough to read, pandas imported only where a DataFrame is
returned. (The import contracts themselves run in `make lint`: lint-imports.)"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from matih_jupyter.core.backend import internals

PACKAGE = Path(__file__).resolve().parents[2] / "matih_jupyter"
CORE = PACKAGE / "core"
MAX_MODULE_LINES = 600
MAX_CLASS_LINES = 400


def _modules(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*.py") if "labextension" not in p.parts)


@pytest.mark.parametrize(("what", "where", "check"), internals.PINNED, ids=lambda v: str(v)[:40])
def test_every_private_mlflow_api_matih_uses_still_exists(what, where, check) -> None:
    import mlflow

    assert check(), (
        f"MLflow {mlflow.__version__} no longer has {where}, which "
        f"matih_jupyter/core/backend/internals.py uses for {what}. Find its replacement "
        "in this MLflow version and update that accessor (nothing else reaches it)."
    )


def test_the_pins_cover_every_accessor_in_internals() -> None:
    tree = ast.parse((CORE / "backend" / "internals.py").read_text())
    accessors = {
        n.name for n in tree.body if isinstance(n, ast.FunctionDef) and not n.name.startswith("_")
    }
    pinned = " ".join(what for what, _, _ in internals.PINNED)
    assert accessors - {"set_fluent_globals"} <= set(re.findall(r"\w+", pinned))


# Names of MLflow internals: private modules or attributes reached through MLflow objects.
_PRIVATE = re.compile(
    r"mlflow(\.\w+)*\._\w+|_get_registry_client|_active_experiment_id|\._tracking_uri\b"
    r"|\._registry_uri\b|workspace_context|_status_code|_engine_map"
)


def test_mlflow_internals_are_reached_only_in_backend_internals() -> None:
    offenders = [
        f"{path.relative_to(PACKAGE.parent)}:{i}: {line.strip()}"
        for path in _modules(PACKAGE)
        if path != CORE / "backend" / "internals.py"
        for i, line in enumerate(path.read_text().splitlines(), 1)
        if _PRIVATE.search(line) and not line.lstrip().startswith("#")
    ]
    assert offenders == [], "private MLflow APIs outside core/backend/internals.py"


def _classes(tree: ast.AST) -> list[ast.ClassDef]:
    return [n for n in ast.walk(tree) if isinstance(n, ast.ClassDef)]


def test_core_modules_and_classes_stay_small() -> None:
    too_big = []
    for path in _modules(CORE):
        source = path.read_text()
        lines = len(source.splitlines())
        if lines > MAX_MODULE_LINES:
            too_big.append(f"{path.relative_to(CORE)}: {lines} lines")
        for cls in _classes(ast.parse(source)):
            size = (cls.end_lineno or cls.lineno) - cls.lineno + 1
            if size > MAX_CLASS_LINES:
                too_big.append(f"{path.relative_to(CORE)}: class {cls.name}: {size} lines")
    assert too_big == [], (
        f"split by job: modules <= {MAX_MODULE_LINES} lines, classes <= {MAX_CLASS_LINES}"
    )


def _module_level_imports(tree: ast.Module) -> list[ast.stmt]:
    """Imports that run when the module is imported (not in functions or TYPE_CHECKING)."""
    found: list[ast.stmt] = []
    for node in tree.body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            found.append(node)
        elif _runs_at_import(node):
            found.extend(n for n in ast.walk(node) if isinstance(n, ast.Import | ast.ImportFrom))
    return found


def _runs_at_import(node: ast.stmt) -> bool:
    """A try block, or an if block other than ``if TYPE_CHECKING:``."""
    if isinstance(node, ast.If):
        return "TYPE_CHECKING" not in ast.unparse(node.test)
    return isinstance(node, ast.Try)


def _imported(node: ast.stmt) -> list[str]:
    if isinstance(node, ast.Import):
        return [a.name for a in node.names]
    assert isinstance(node, ast.ImportFrom)
    return [node.module or ""]


def test_the_core_imports_pandas_only_where_it_returns_a_dataframe() -> None:
    eager = [
        str(path.relative_to(CORE))
        for path in _modules(CORE)
        for node in _module_level_imports(ast.parse(path.read_text()))
        if any(name == "pandas" or name.startswith("pandas.") for name in _imported(node))
    ]
    assert eager == []


def test_a_module_level_pandas_import_would_be_caught() -> None:
    tree = ast.parse("import pandas as pd\nif TYPE_CHECKING:\n    import numpy\n")
    names = [n for node in _module_level_imports(tree) for n in _imported(node)]
    assert names == ["pandas"]


def test_the_core_imports_optuna_only_in_the_sweep_package_and_only_when_sweeping() -> None:
    """Optuna is an extra: importing matih_jupyter must not need it."""
    sweep = CORE / "tracking" / "sweep"
    anywhere = [
        str(path.relative_to(CORE))
        for path in _modules(CORE)
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Import | ast.ImportFrom)
        and any(name.split(".")[0] == "optuna" for name in _imported(node))
        and sweep not in path.parents
    ]
    eager = [
        str(path.relative_to(CORE))
        for path in _modules(sweep)
        for node in _module_level_imports(ast.parse(path.read_text()))
        if any(name.split(".")[0] == "optuna" for name in _imported(node))
    ]
    assert anywhere == [] and eager == []
