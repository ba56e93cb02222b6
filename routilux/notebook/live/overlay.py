"""Decide what the live diagram shows from a snapshot, the activity counters and breakpoints."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from routilux.core.connection import Connection
from routilux.core.flow import Flow
from routilux.debug.breakpoints import Breakpoint
from routilux.debug.snapshot import Snapshot
from routilux.notebook.diagram.overlay import DiagramState, RoutineState
from routilux.notebook.live.activity import Activity

__all__ = ["build_overlay", "edge_counts", "routine_state"]


def routine_state(
    routine_id: str,
    snapshot: Snapshot,
    activity: Activity,
    running: frozenset[str] = frozenset(),
    waiting: frozenset[str] | None = None,
) -> RoutineState:
    """One routine's state; the more urgent one wins when several apply.

    >>> from routilux.notebook.live.activity import Activity
    >>> snap = Snapshot("f", True, "a", {}, {"a": {}, "b": {"in": [1]}}, {}, [])
    >>> [routine_state(r, snap, Activity(ran=frozenset("c"))) for r in "abcd"]
    ['paused', 'queued', 'done', 'idle']
    """
    if snapshot.routine_id == routine_id:
        return "paused"
    if routine_id in running:
        return "running"
    if routine_id in activity.failed:
        return "failed"
    if waiting is None:
        waiting = _waiting(snapshot)
    if routine_id in waiting:
        return "queued"
    if routine_id in activity.ran:
        return "done"
    return "idle"


def _waiting(snapshot: Snapshot) -> frozenset[str]:
    return frozenset(rid for (rid, _), n in snapshot.queued_counts.items() if n)


def edge_counts(
    connections: Iterable[Connection],
    activity: Activity,
    activations: Mapping[str, int] | None = None,
) -> dict[Connection, int]:
    """Messages per connection: every emit of an event travels along all its connections.

    Args:
        connections: The flow's connections.
        activity: Emits counted from finished activations.
        activations: Activations per routine as the engine counted them; when the activity
            counted only a sample (:attr:`Activity.complete` is False), emits are scaled
            from the sample up to these totals.
    """
    counts = {}
    for connection in connections:
        source = connection.source_id
        n = activity.emitted.get((source, connection.event), 0)
        if not activity.complete and activations and activity.counted.get(source):
            n = round(n * activations.get(source, 0) / activity.counted[source])
        if n:
            counts[connection] = n
    return counts


def build_overlay(
    flow: Flow,
    snapshot: Snapshot,
    activity: Activity,
    breakpoints: Iterable[Breakpoint],
    running: frozenset[str] = frozenset(),
) -> DiagramState:
    """Everything the diagram draws on top of the flow right now.

    Args:
        flow: The debugged flow.
        snapshot: The session's (bounded) snapshot.
        activity: What ran so far.
        breakpoints: The session's breakpoints; enabled ones are marked on their routine.
        running: Routines with an activation running now.

    Returns:
        The overlay: ``next`` is the parked activation's routine, ``last`` the routine
        that finished last.
    """
    queued = snapshot.queued_counts
    waiting = frozenset(rid for (rid, _), n in queued.items() if n)
    return {
        "routine_states": {
            rid: routine_state(rid, snapshot, activity, running, waiting) for rid in flow.routines
        },
        "breakpoints": {bp.routine_id for bp in breakpoints if bp.enabled},
        "queued": queued,
        "edge_counts": edge_counts(flow.connections, activity, snapshot.activations),
        "approximate": not activity.complete,
        "next": snapshot.routine_id,
        "last": activity.last.routine_id if activity.last is not None else None,
    }
