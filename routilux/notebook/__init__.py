"""Notebook layer: Graphviz diagrams of flows and the live debugger widget built on them."""

from typing import TYPE_CHECKING, Any

from routilux.notebook.render import (
    DiagramState,
    EngineUnavailable,
    RoutineState,
    mimebundle,
    render,
)
from routilux.notebook.snapshot_html import SnapshotView, snapshot_html

if TYPE_CHECKING:
    from routilux.notebook.widget import FlowDebugger

__all__ = [
    "DiagramState",
    "EngineUnavailable",
    "FlowDebugger",
    "RoutineState",
    "SnapshotView",
    "mimebundle",
    "render",
    "snapshot_html",
]


def __getattr__(name: str) -> Any:
    # Diagrams (a Flow's display hook imports this package) must work without ipywidgets,
    # so the widget module loads on first use of FlowDebugger.
    if name == "FlowDebugger":
        from routilux.notebook.widget import FlowDebugger

        return FlowDebugger
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
