"""Notebook layer: Graphviz diagrams of flows (the live debugger widget builds on them)."""

# Only diagram code is imported here, so the package loads without ipywidgets; the
# debugger widget (FlowDebugger) will be re-exported from this module when it lands.
from routilux.notebook.render import (
    DiagramState,
    EngineUnavailable,
    RoutineState,
    mimebundle,
    render,
)

__all__ = ["DiagramState", "EngineUnavailable", "RoutineState", "mimebundle", "render"]
