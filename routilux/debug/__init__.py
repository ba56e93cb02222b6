"""The debugger: breakpoints, pause / step / continue, snapshots, edits and history.

Built on the core's observer hooks; works from plain Python, the notebook widget drives it.
"""

from routilux.debug.breakpoints import Breakpoint
from routilux.debug.history import History
from routilux.debug.session import DebugSession
from routilux.debug.snapshot import Snapshot

__all__ = [
    "Breakpoint",
    "DebugSession",
    "History",
    "Snapshot",
]
