"""The debugger: breakpoints, pause / step / continue, snapshots, edits and history.

Built on the core's observer hooks; works from plain Python, the notebook widget drives it.
"""

from routilux.core.activation import ActivationRecord
from routilux.core.hooks import HOLD, Observer
from routilux.debug.breakpoints import Breakpoint
from routilux.debug.history import History
from routilux.debug.session import DebugSession
from routilux.debug.snapshot import Snapshot

__all__ = [
    "HOLD",
    "ActivationRecord",
    "Breakpoint",
    "DebugSession",
    "History",
    "Observer",
    "Snapshot",
]
