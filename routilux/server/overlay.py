"""The live diagram's overlay, from a worker's view and the event hub's activity."""

from __future__ import annotations

from collections.abc import Iterable

from routilux.core.flow import Flow
from routilux.core.inspection import WorkerView
from routilux.debug.breakpoints import Breakpoint
from routilux.notebook import DiagramState, RoutineState
from routilux.server.events import FlowActivity

__all__ = ["live_overlay"]


def live_overlay(
    flow: Flow, view: WorkerView, activity: FlowActivity, breakpoints: Iterable[Breakpoint]
) -> DiagramState:
    """What the live page draws on ``flow``, as the notebook widget draws it.

    The highlight is the debugger's "you are here": the activation parked at a breakpoint,
    else the routine that ran last.
    """
    parked = view.held[0].routine_id if view.held else None
    # The engine's counters know every activation, streamed or not.
    ran = {rid for rid, s in view.stats.items() if s.activations > s.failures}
    failed = {rid for rid, s in view.stats.items() if s.failures}
    queued = {
        (rid, slot): q.length
        for rid, slots in view.queues.items()
        for slot, q in slots.items()
        if q.length
    }

    def state(routine_id: str) -> RoutineState:
        if routine_id == parked:
            return "paused"
        if routine_id in failed:
            return "failed"
        if any(rid == routine_id for rid, _ in queued):
            return "queued"
        if routine_id in ran:
            return "done"
        return "idle"

    return {
        "routine_states": {rid: state(rid) for rid in flow.routines},
        "breakpoints": {bp.routine_id for bp in breakpoints if bp.enabled},
        "queued": queued,
        "edge_counts": {
            c: n for c in flow.connections if (n := activity.emitted[(c.source_id, c.event)])
        },
        "highlight": parked if parked is not None else activity.last,
    }
