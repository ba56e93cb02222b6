"""Slot: a named input of a routine; its queue of data lives in each running worker."""

from __future__ import annotations

from dataclasses import dataclass

from routilux.core import _check


@dataclass(frozen=True)
class Slot:
    """An input port of a :class:`~routilux.Routine`.

    A slot is only a definition. Every worker running the flow keeps its own queue for it,
    so two workers never share queued data.

    Args:
        name: Unique among the routine's slots.
        max_queue_length: How many data points may wait in one worker's queue: a positive
            integer, or ``None`` (the default) for unbounded. When full, ``Runtime.post``
            raises :class:`~routilux.SlotQueueFullError` and so does ``emit`` inside logic
            (the error then follows the routine's error strategy); in both cases no target
            receives the data, so nothing is half delivered.
    """

    name: str
    max_queue_length: int | None = None

    def __post_init__(self) -> None:
        if self.max_queue_length is not None:
            _check.count("max_queue_length", self.max_queue_length)
