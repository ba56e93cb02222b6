"""The Runtime users import: the core engine plus the debugger and the store.

``from routilux.runtime import Runtime``, as the seed examples write, gives this class too.
"""

from __future__ import annotations

from typing import Any

from routilux.core.flow import Flow
from routilux.debug.session import DebugSession
from routilux.store.runtime_support import StoreRuntime

__all__ = ["Runtime"]


class Runtime(StoreRuntime):
    """Runs flows on a thread pool (see :class:`routilux.core.runtime.Runtime`).

    On top of the engine: :meth:`debug` attaches a :class:`~routilux.debug.DebugSession`;
    ``Runtime(store="jobs.db")`` checkpoints every activation into SQLite, and
    :meth:`resume`, :meth:`fork` and :meth:`unfinished_jobs` use those checkpoints (see
    :class:`routilux.store.StoreRuntime`).
    """

    def debug(self, flow_name: str | Flow, **options: Any) -> DebugSession:
        """A debug session on the worker running ``flow_name`` (a name or a Flow; its worker
        is started if none runs).

        Options are those of :class:`~routilux.debug.DebugSession`.
        """
        return DebugSession(self, flow_name, **options)
