"""Each layer uses only the public API of the layers below it."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1] / "routilux"
# Lowest first; a layer may use what the layers before it make public.
LAYERS = ["core", "store", "debug", "notebook", "server", "cli"]


def _modules(layer: str) -> list[Path]:
    folder = ROOT / layer
    return sorted(folder.rglob("*.py")) if folder.is_dir() else [ROOT / f"{layer}.py"]


def _private_names_defined(layer: str) -> set[str]:
    """``_name``s a layer defines as attributes or methods (``self._x = ...``, ``def _x``)."""
    names: set[str] = set()
    for path in _modules(layer):
        if not path.exists():
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                names.add(node.name)
            elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
                names.add(node.attr)
            elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
                names.add(node.target.id)
    return {n for n in names if n.startswith("_") and not n.startswith("__")}


@pytest.mark.parametrize("layer", LAYERS[1:])
def test_a_layer_imports_no_private_module_of_another_layer(layer: str) -> None:
    offenders = []
    for path in _modules(layer):
        if not path.exists():
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                modules = [node.module]
            elif isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            else:
                continue
            for module in modules:
                parts = module.split(".")
                if parts[0] != "routilux" or len(parts) < 2 or parts[1] == layer:
                    continue
                if any(part.startswith("_") for part in parts[2:]):
                    offenders.append(f"{path.relative_to(ROOT)}: {module}")
    assert offenders == []


@pytest.mark.parametrize("layer", LAYERS[1:])
def test_a_layer_touches_no_private_attribute_of_the_layers_below(layer: str) -> None:
    below = set().union(*(_private_names_defined(other) for other in LAYERS[: LAYERS.index(layer)]))
    own = _private_names_defined(layer)
    foreign = below - own
    offenders = []
    for path in _modules(layer):
        if not path.exists():
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Attribute)
                and node.attr in foreign
                and not (isinstance(node.value, ast.Name) and node.value.id in {"self", "cls"})
            ):
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno} .{node.attr}")
    assert offenders == []
