"""What the live diagram's front end is sent: per-element classes and counts, not a new SVG."""

from __future__ import annotations

from typing import TypedDict

from routilux.core.flow import Flow
from routilux.notebook.diagram.dot import connection_element_id, element_id
from routilux.notebook.diagram.overlay import DiagramState, routine_marks

__all__ = ["DiagramPayload", "diagram_payload", "flow_outline"]


class DiagramPayload(TypedDict):
    """The diagram's live state, keyed by SVG element id.

    Attributes:
        routines: ``{element id: "state-queued next breakpoint"}``: the classes to set.
        queued: ``{element id: {slot: n}}`` for slots holding data.
        edges: ``{element id: label}``: messages sent along each connection so far
            (``"≈n"`` when estimated).
        tips: ``{element id: text}``: hover text (the inputs of the activation next to run).
    """

    routines: dict[str, str]
    queued: dict[str, dict[str, int]]
    edges: dict[str, str]
    tips: dict[str, str]


class RoutineOutline(TypedDict):
    """What the front end needs to know of one routine: its name and ports, in order."""

    id: str
    slots: list[str]
    events: list[str]


def flow_outline(flow: Flow) -> dict[str, RoutineOutline]:
    """``{element id: outline}`` of every routine: for node menus and slot counts."""
    return {
        element_id("routine", rid): {
            "id": rid,
            "slots": [slot.name for slot in routine.slots],
            "events": [event.name for event in routine.events],
        }
        for rid, routine in flow.routines.items()
    }


def diagram_payload(
    flow: Flow, overlay: DiagramState, tips: dict[str, str] | None = None
) -> DiagramPayload:
    """The overlay as the front end applies it to a layout drawn once without it.

    Only classes and numbers change while a flow runs, so sending them instead of a new
    SVG keeps each redraw small and the layout (and the reader's eye) where it was.

    Args:
        flow: The flow the layout shows.
        overlay: What to show now.
        tips: Hover text by routine id.

    Returns:
        The payload; equal payloads mean nothing to redraw.
    """
    states = overlay.get("routine_states", {})
    routines = {}
    for rid in flow.routines:
        classes = [f"state-{states[rid]}"] if rid in states else []
        routines[element_id("routine", rid)] = " ".join(classes + routine_marks(rid, overlay))
    queued: dict[str, dict[str, int]] = {}
    for (rid, slot), n in overlay.get("queued", {}).items():
        if n:
            queued.setdefault(element_id("routine", rid), {})[slot] = n
    approximate = "\u2248" if overlay.get("approximate") else ""
    edges = {
        connection_element_id(c): f"{approximate}{n}"
        for c, n in overlay.get("edge_counts", {}).items()
    }
    return {
        "routines": routines,
        "queued": queued,
        "edges": edges,
        "tips": {element_id("routine", rid): text for rid, text in (tips or {}).items()},
    }
