"""DiagramState: the live run state a diagram can show, and how each part is drawn."""

from __future__ import annotations

from collections.abc import Mapping, Set
from typing import Literal, TypedDict, get_args

from routilux.core.connection import Connection

__all__ = [
    "BREAKPOINT_COLOUR",
    "BREAKPOINT_MARK",
    "HIGHLIGHT_COLOUR",
    "ROUTINE_STATES",
    "STATE_COLOURS",
    "DiagramState",
    "RoutineState",
    "check_overlay",
    "routine_classes",
    "routine_style",
]

RoutineState = Literal["idle", "queued", "running", "paused", "failed", "done"]

ROUTINE_STATES: tuple[RoutineState, ...] = get_args(RoutineState)

# Light fills so the black label text stays readable on every state.
STATE_COLOURS: dict[RoutineState, str] = {
    "idle": "#ffffff",
    "queued": "#fff3bf",
    "running": "#d0ebff",
    "paused": "#ffd8a8",
    "failed": "#ffc9c9",
    "done": "#d3f9d8",
}

BREAKPOINT_COLOUR = "#e03131"
HIGHLIGHT_COLOUR = "#1971c2"
BREAKPOINT_MARK = "\u25cf"  # a filled circle, the usual breakpoint glyph in debuggers


class DiagramState(TypedDict, total=False):
    """What a running flow looks like right now; every key is optional.

    Attributes:
        routine_states: State of each routine by id; sets its fill colour and adds a legend.
        breakpoints: Routine ids with a breakpoint; drawn with a red border and a dot.
        queued: Number of data points waiting, by ``(routine_id, slot)``; shown at the slot.
        edge_counts: Messages sent along each connection; shown as the edge label.
        highlight: The routine about to run or paused at; drawn with a thick outline.
    """

    routine_states: Mapping[str, RoutineState]
    breakpoints: Set[str]
    queued: Mapping[tuple[str, str], int]
    edge_counts: Mapping[Connection, int]
    highlight: str | None


def check_overlay(overlay: DiagramState) -> None:
    """Raise ValueError for a state name that has no colour, so typos do not pass unseen."""
    for routine_id, state in overlay.get("routine_states", {}).items():
        if state not in STATE_COLOURS:
            raise ValueError(
                f"unknown state {state!r} for routine {routine_id!r}; "
                f"expected one of {', '.join(ROUTINE_STATES)}"
            )


def routine_classes(routine_id: str, overlay: DiagramState) -> str:
    """The CSS classes of a routine's SVG element: stable hooks for widgets and browser tests."""
    classes = ["routine"]
    state = overlay.get("routine_states", {}).get(routine_id)
    if state is not None:
        classes.append(f"state-{state}")
    if routine_id in overlay.get("breakpoints", ()):
        classes.append("breakpoint")
    if overlay.get("highlight") == routine_id:
        classes.append("highlight")
    return " ".join(classes)


def routine_style(routine_id: str, overlay: DiagramState) -> dict[str, str]:
    """Graphviz node attributes that draw the overlay on one routine."""
    attributes: dict[str, str] = {}
    state = overlay.get("routine_states", {}).get(routine_id)
    if state is not None:
        attributes["fillcolor"] = STATE_COLOURS[state]
    has_breakpoint = routine_id in overlay.get("breakpoints", ())
    highlighted = overlay.get("highlight") == routine_id
    if has_breakpoint:
        attributes["color"] = BREAKPOINT_COLOUR
        attributes["penwidth"] = "2"
    if highlighted:
        # A breakpoint keeps its red border; the width alone says "this one is next".
        attributes.setdefault("color", HIGHLIGHT_COLOUR)
        attributes["penwidth"] = "4"
    return attributes
