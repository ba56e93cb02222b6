"""Event: a named output of a routine, wired to slots by connections."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Event:
    """An output port of a :class:`~routilux.Routine`.

    Args:
        name: Unique among the routine's events.
        params: Names of the keyword arguments the routine passes to ``emit`` (documentation
            for readers and diagrams; emit does not enforce them).
    """

    name: str
    params: tuple[str, ...] = field(default=())
