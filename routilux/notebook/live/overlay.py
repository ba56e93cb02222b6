"""Decide what the live diagram shows from a snapshot, the activity counters and breakpoints."""

from __future__ import annotations

from collections.abc import Iterable

from routilux.core.connection import Connection
from routilux.core.flow import Flow
from routilux.debug.breakpoints import Breakpoint
from routilux.debug.snapshot import Snapshot
from routilux.notebook.diagram.overlay import DiagramState, RoutineState
from routilux.notebook.live.activity import Activity

__all__ = ["build_overlay", "highlighted_routine", "routine_state"]


def routine_state(routine_id: str, snapshot: Snapshot, activity: Activity) -> RoutineState:
    """One routine's state; the more urgent one wins when several apply.

    >>> from routilux.notebook.live.activity import Activity
    >>> snap = Snapshot("f", True, "a", {}, {"a": {}, "b": {"in": [1]}}, {}, [])
    >>> [routine_state(r, snap, Activity(ran=frozenset("c"))) for r in "abcd"]
    ['paused', 'queued', 'done', 'idle']
    """
    if snapshot.routine_id == routine_id:
        return "paused"
    if any(r.routine_id == routine_id for r in activity.started):
        return "running"
    if routine_id in activity.failed:
        return "failed"
    if any(snapshot.queues.get(routine_id, {}).values()):
        return "queued"
    if routine_id in activity.ran:
        return "done"
    return "idle"


def highlighted_routine(snapshot: Snapshot, activity: Activity) -> str | None:
    """The debugger's "you are here": the parked routine, else the one that ran last."""
    if snapshot.routine_id is not None:
        return snapshot.routine_id
    return activity.last.routine_id if activity.last is not None else None


def edge_counts(connections: Iterable[Connection], activity: Activity) -> dict[Connection, int]:
    """Messages per connection: every emit of an event travels along all its connections."""
    counts = {}
    for connection in connections:
        n = activity.emitted.get((connection.source_id, connection.event), 0)
        if n:
            counts[connection] = n
    return counts


def build_overlay(
    flow: Flow,
    snapshot: Snapshot,
    activity: Activity,
    breakpoints: Iterable[Breakpoint],
) -> DiagramState:
    """Everything the diagram draws on top of the flow right now."""
    return {
        "routine_states": {rid: routine_state(rid, snapshot, activity) for rid in flow.routines},
        "breakpoints": {bp.routine_id for bp in breakpoints if bp.enabled},
        "queued": snapshot.queued_counts,
        "edge_counts": edge_counts(flow.connections, activity),
        "highlight": highlighted_routine(snapshot, activity),
    }
