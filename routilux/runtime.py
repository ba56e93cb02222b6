"""The Runtime users import: the core engine plus the debugger (and, later, the store)."""

from __future__ import annotations

from typing import Any

from routilux.core.runtime import Runtime as _CoreRuntime
from routilux.debug.session import DebugSession

__all__ = ["Runtime"]


class Runtime(_CoreRuntime):
    """Runs flows on a thread pool; see :class:`routilux.core.runtime.Runtime`.

    Adds :meth:`debug`, which attaches a :class:`~routilux.debug.DebugSession`.
    """

    def debug(self, flow_name: str, **options: Any) -> DebugSession:
        """A debug session on the worker running ``flow_name`` (started if none runs).

        Options are those of :class:`~routilux.debug.DebugSession`.
        """
        return DebugSession(self, flow_name, **options)
