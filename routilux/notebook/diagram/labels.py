"""Record labels for routine nodes: header, slot ports and event ports, safely escaped."""

from __future__ import annotations

import re
from collections.abc import Mapping

from routilux.core.routine import Routine
from routilux.notebook.diagram.overlay import BREAKPOINT_MARK

__all__ = ["event_port", "policy_label", "routine_label", "slot_port", "where_label"]

# Record labels give {}|<> and spaces a meaning, and escString gives backslash one;
# a backslash before each makes it literal text. Newlines become DOT's own line break.
_RECORD_SPECIAL = re.compile(r"([\\{}|<> ])")
_LINE_BREAKS = re.compile(r"\r\n|\r|\n")


def slot_port(index: int) -> str:
    """The record port of the routine's ``index``-th slot (indices keep port names safe)."""
    return f"in{index}"


def event_port(index: int) -> str:
    """The record port of the routine's ``index``-th event."""
    return f"out{index}"


def record_text(text: str) -> str:
    r"""Escape ``text`` so a record label shows it literally.

    >>> print(record_text("a|b <c>"))
    a\|b\ \<c\>
    """
    return _LINE_BREAKS.sub(r"\\n", _RECORD_SPECIAL.sub(r"\\\1", text))


def policy_label(routine: Routine) -> str:
    """A short, stable name for the routine's activation policy.

    Built-in policies carry a ``label``; a plain function is named by ``__name__`` because
    its ``str()`` holds a memory address, which would make diagrams differ run to run.
    """
    policy = routine.activation_policy
    label = getattr(policy, "label", None)
    if isinstance(label, str):
        return label
    name = getattr(policy, "__name__", None) or type(policy).__name__
    return f"custom({name})"


def where_label(routine: Routine) -> str:
    """Where a remote routine's logic runs (``"on processes"``, ``"on dask"``, or ``"remote"``
    for the runtime's executor); empty for a routine that runs on the runtime's threads."""
    if routine.remote is None:
        return ""
    kind = routine.executor
    return "remote" if kind is None else f"on {kind}"


def routine_label(
    routine_id: str,
    routine: Routine,
    queued: Mapping[str, int],
    has_breakpoint: bool,
    room: str = "",
) -> str:
    """The record label of one routine: slots | header | events, laid out left to right.

    Args:
        routine_id: Shown first in the header.
        routine: Supplies the class name, policy, slots and events.
        queued: Waiting data points by slot name; counts above zero are shown at the slot.
        has_breakpoint: Puts a breakpoint mark before the routine id.
        room: Appended to each slot's text (spaces kept free for a count written later).

    Returns:
        A label for ``shape=record``: three columns side by side in a left-to-right
        graph, three rows (slots on top) in a top-to-bottom one.
    """
    title = record_text(routine_id)
    if has_breakpoint:
        title = f"{BREAKPOINT_MARK}\\ {title}"
    lines = [title, record_text(type(routine).__name__), record_text(policy_label(routine))]
    where = where_label(routine)
    if where:
        lines.append(record_text(where))
    header = "\\n".join(lines)
    fields = []
    slots = [
        f"<{slot_port(i)}> {record_text(_slot_text(slot.name, queued.get(slot.name, 0)) + room)}"
        for i, slot in enumerate(routine.slots)
    ]
    if slots:
        fields.append("{" + "|".join(slots) + "}")
    fields.append(header)
    events = [
        f"<{event_port(i)}> {record_text(_event_text(event.name, event.params))}"
        for i, event in enumerate(routine.events)
    ]
    if events:
        fields.append("{" + "|".join(events) + "}")
    # In a left-to-right graph the outer braces lay the three columns side by side and the
    # inner braces stack the ports of each column; a top-to-bottom graph turns both.
    return "{" + "|".join(fields) + "}"


def _slot_text(name: str, waiting: int) -> str:
    return f"{name} ({waiting})" if waiting > 0 else name


def _event_text(name: str, params: tuple[str, ...]) -> str:
    return f"{name}({', '.join(params)})" if params else name
