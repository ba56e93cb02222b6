"""FlowRegistry: the process-wide table of flows by name, as the seed API names it."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, ClassVar

from routilux.core._names import unknown
from routilux.core.errors import ConfigurationError

if TYPE_CHECKING:
    from routilux.core.flow import Flow

__all__ = ["FlowRegistry"]


class FlowRegistry:
    """Flows by name. ``FlowRegistry.get_instance()`` is the one a runtime looks names up in.

    Registering a name again replaces the flow (so re-running a notebook cell works).
    """

    _instance: ClassVar[FlowRegistry | None] = None
    _instance_lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self) -> None:
        self._flows: dict[str, Flow] = {}
        self._lock = threading.Lock()

    @classmethod
    def get_instance(cls) -> FlowRegistry:
        with cls._instance_lock:
            if cls._instance is None:
                cls._instance = cls()
            return cls._instance

    def register_by_name(self, name: str, flow: Flow) -> None:
        """Make ``flow`` reachable as ``name``."""
        if not isinstance(name, str) or not name:
            raise ConfigurationError(f"a flow name must be a non-empty string, got {name!r}")
        with self._lock:
            self._flows[name] = flow

    def register(self, flow: Flow) -> None:
        """Register ``flow`` under its ``flow_id``."""
        self.register_by_name(flow.flow_id, flow)

    def unregister(self, name: str) -> None:
        with self._lock:
            self._flows.pop(name, None)

    def get_by_name(self, name: str) -> Flow:
        """The flow registered as ``name``; raises ConfigurationError naming the known ones."""
        with self._lock:
            flow = self._flows.get(name)
            if flow is None:
                raise ConfigurationError(unknown("flow", name, self._flows, "the FlowRegistry"))
            return flow

    get = get_by_name

    def names(self) -> list[str]:
        with self._lock:
            return list(self._flows)

    def __contains__(self, name: object) -> bool:
        with self._lock:
            return name in self._flows

    def clear(self) -> None:
        with self._lock:
            self._flows.clear()
