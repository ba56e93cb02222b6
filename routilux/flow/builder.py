"""``routilux.flow.builder``, where earlier Routilux kept ``FlowBuilder``."""

from routilux.core.builder import FlowBuilder

__all__ = ["FlowBuilder"]
