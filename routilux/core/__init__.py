"""The engine: routines, slots, events, flows, policies, workers and the engine itself.

Imports only the standard library (and serilux), so everything above it (debugger, store,
notebook) is optional. What users build flows with is exported from ``routilux``; this
package exports what only engine-level code needs: :class:`Engine` (the runtime without the
debugger and store parts), the views ``Worker.inspect()`` returns, queues and :data:`HOLD`.
"""

from routilux.core.engine import Engine
from routilux.core.hooks import HOLD, Hold
from routilux.core.inspection import QueueView, RoutineStats, WorkerView
from routilux.core.queue import QueuedItem, SlotQueue

__all__ = [
    "HOLD",
    "Engine",
    "Hold",
    "QueueView",
    "QueuedItem",
    "RoutineStats",
    "SlotQueue",
    "WorkerView",
]
