"""``from routilux.monitoring.flow_registry import FlowRegistry``, as the seed examples write."""

from routilux.core.registry import FlowRegistry

__all__ = ["FlowRegistry"]
