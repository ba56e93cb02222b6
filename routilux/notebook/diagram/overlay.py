"""DiagramState: the live run state a diagram can show, and how each part is drawn."""

from __future__ import annotations

from collections.abc import Mapping, Set
from typing import Literal, TypedDict, get_args

from routilux.core.connection import Connection

__all__ = [
    "BREAKPOINT_COLOUR",
    "BREAKPOINT_MARK",
    "HIGHLIGHT_COLOUR",
    "LAST_COLOUR",
    "MARKS",
    "NEXT_COLOUR",
    "ROUTINE_STATES",
    "STATE_COLOURS",
    "DiagramState",
    "RoutineState",
    "check_overlay",
    "legend_entries",
    "routine_classes",
    "routine_marks",
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
NEXT_COLOUR = "#e8590c"
HIGHLIGHT_COLOUR = NEXT_COLOUR
LAST_COLOUR = "#1971c2"
BREAKPOINT_MARK = "\u25cf"  # a filled circle, the usual breakpoint glyph in debuggers

# The marks drawn over the fill colour, for the legend: CSS class, what it means.
MARKS: tuple[tuple[str, str], ...] = (
    ("next", "next to run"),
    ("last", "ran last"),
    ("breakpoint", "breakpoint"),
)


class DiagramState(TypedDict, total=False):
    """What a running flow looks like right now; every key is optional.

    Attributes:
        routine_states: State of each routine by id; sets its fill colour and adds a legend.
        breakpoints: Routine ids with a breakpoint; drawn with a red border and a dot.
        queued: Number of data points waiting, by ``(routine_id, slot)``; shown at the slot.
        edge_counts: Messages sent along each connection; shown as the edge label.
        approximate: The edge counts are estimates (scaled from a sample); labelled ``≈``.
        next: The routine about to run (parked at a breakpoint or after a step); drawn
            with a thick orange outline.
        last: The routine that ran last; drawn with a dashed blue outline.
        highlight: One routine drawn with a thick outline and the ``highlight`` class, for
            views that do not tell "next" from "last" (the older form of the two).
    """

    routine_states: Mapping[str, RoutineState]
    breakpoints: Set[str]
    queued: Mapping[tuple[str, str], int]
    edge_counts: Mapping[Connection, int]
    approximate: bool
    next: str | None
    last: str | None
    highlight: str | None


def check_overlay(overlay: DiagramState) -> None:
    """Raise for an overlay that is not a mapping (TypeError), and for an unknown key or a
    state name that has no colour (ValueError), so typos do not pass unseen."""
    if not isinstance(overlay, Mapping):
        raise TypeError(
            f"an overlay is a DiagramState (a dict), got {type(overlay).__name__} {overlay!r:.60}"
        )
    unknown = [key for key in overlay if key not in DiagramState.__annotations__]
    if unknown:
        raise ValueError(
            f"unknown overlay key(s) {', '.join(map(repr, unknown))}; "
            f"expected some of {', '.join(DiagramState.__annotations__)}"
        )
    for routine_id, state in overlay.get("routine_states", {}).items():
        if state not in STATE_COLOURS:
            raise ValueError(
                f"unknown state {state!r} for routine {routine_id!r}; "
                f"expected one of {', '.join(ROUTINE_STATES)}"
            )


def routine_marks(routine_id: str, overlay: DiagramState) -> list[str]:
    """The marks on one routine (``next``, ``last``, ``breakpoint``), as CSS class names."""
    marks = []
    if overlay.get("next") == routine_id:
        marks.append("next")
    elif overlay.get("last") == routine_id:
        marks.append("last")  # "next" wins: the routine is about to run again
    if routine_id in overlay.get("breakpoints", ()):
        marks.append("breakpoint")
    if overlay.get("highlight") == routine_id:
        marks.append("highlight")
    return marks


def legend_entries(overlay: DiagramState) -> list[tuple[str, str]]:
    """``(css class, text)`` for each state and mark the overlay shows, idle left out.

    Only what appears is explained: a legend wider than a small flow helps nobody.

    >>> legend_entries({"routine_states": {"a": "done", "b": "idle"}, "next": "a"})
    [('state-done', 'done'), ('next', 'next to run')]
    """
    routine_states = overlay.get("routine_states", {})
    shown = set(routine_states.values())
    entries = [(f"state-{s}", s) for s in ROUTINE_STATES if s in shown and s != "idle"]
    marks = {m for m in ("next", "last") if overlay.get(m)}
    if overlay.get("breakpoints"):
        marks.add("breakpoint")
    return entries + [(mark, text) for mark, text in MARKS if mark in marks]


def routine_classes(routine_id: str, overlay: DiagramState) -> str:
    """The CSS classes of a routine's SVG element: stable hooks for widgets and browser tests."""
    classes = ["routine"]
    state = overlay.get("routine_states", {}).get(routine_id)
    if state is not None:
        classes.append(f"state-{state}")
    classes += routine_marks(routine_id, overlay)
    return " ".join(classes)


def routine_style(routine_id: str, overlay: DiagramState) -> dict[str, str]:
    """Graphviz node attributes that draw the overlay on one routine."""
    attributes: dict[str, str] = {}
    state = overlay.get("routine_states", {}).get(routine_id)
    if state is not None:
        attributes["fillcolor"] = STATE_COLOURS[state]
    marks = routine_marks(routine_id, overlay)
    if "breakpoint" in marks:
        attributes["color"] = BREAKPOINT_COLOUR
        attributes["penwidth"] = "2"
    if "next" in marks or "highlight" in marks:
        # A breakpoint keeps its red border; the width alone says "this one is next".
        attributes.setdefault("color", NEXT_COLOUR)
        attributes["penwidth"] = "4"
    elif "last" in marks:
        attributes.setdefault("color", LAST_COLOUR)
        attributes["penwidth"] = "2.5"
        attributes["style"] = "filled,dashed"
    return attributes
