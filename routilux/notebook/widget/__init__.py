"""The live debugger widget (needs ipywidgets and anywidget: the ``notebook`` extra)."""

from routilux.notebook.widget.debugger import FlowDebugger

__all__ = ["FlowDebugger"]
