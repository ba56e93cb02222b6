"""``routilux.monitoring.breakpoint_manager``, Routilux v2's path for breakpoints.

Breakpoints belong to a :class:`~routilux.debug.DebugSession` here
(``session.add_breakpoint(...)``); this module re-exports the names that path had and we
keep.
"""

from routilux.debug.breakpoints import Breakpoint
from routilux.debug.session import DebugSession

__all__ = ["Breakpoint", "DebugSession"]
