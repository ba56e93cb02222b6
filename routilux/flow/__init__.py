"""``routilux.flow``, earlier Routilux's package for flows: ``Flow`` and ``FlowBuilder``."""

from routilux.core.builder import FlowBuilder
from routilux.core.flow import Flow

__all__ = ["Flow", "FlowBuilder"]
