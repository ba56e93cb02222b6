"""Slot: a named input of a routine; its queue of data lives in each running worker."""

from __future__ import annotations

from dataclasses import dataclass

from routilux.core import _check
from routilux.core.errors import ConfigurationError

ON_FULL = ("raise", "block", "drop_oldest")


@dataclass(frozen=True)
class Slot:
    """An input port of a :class:`~routilux.Routine`.

    A slot is only a definition. Every worker running the flow keeps its own queue for it,
    so two workers never share queued data.

    Args:
        name: Unique among the routine's slots.
        max_queue_length: How many data points may wait in one worker's queue: a positive
            integer, or ``None`` (the default) for unbounded.
        on_full: What a post or an emit into a full queue does:

            - ``"raise"`` (the default): ``Runtime.post`` raises
              :class:`~routilux.SlotQueueFullError`, and so does ``emit`` inside logic (the
              error then follows the routine's error strategy); no target receives the data,
              so nothing is half delivered.
            - ``"block"``: wait for room (backpressure: a producer goes at the consumer's
              pace), at most ``block_timeout`` seconds, then raise SlotQueueFullError
              naming the slot.
            - ``"drop_oldest"``: drop the oldest queued data point to make room (observers
              hear ``slot_dropped``).
        block_timeout: With ``on_full="block"``, the longest a post or emit waits for room
            (None: as long as it takes). ``Runtime.post(timeout=...)`` overrides it.
    """

    name: str
    max_queue_length: int | None = None
    on_full: str = "raise"
    block_timeout: float | None = None

    def __post_init__(self) -> None:
        if self.max_queue_length is not None:
            _check.count("max_queue_length", self.max_queue_length)
        if self.on_full not in ON_FULL:
            closest = _check.closest(str(self.on_full), ON_FULL)
            hint = f"; did you mean {closest!r}?" if closest else ""
            raise ConfigurationError(
                f"on_full must be one of {', '.join(map(repr, ON_FULL))}, "
                f"got {self.on_full!r}{hint}"
            )
        if self.block_timeout is not None:
            _check.seconds("block_timeout", self.block_timeout)
