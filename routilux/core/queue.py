"""SlotQueue: one worker's queue of data points waiting in one slot.

Activation policies read and consume these queues; the worker owns them and holds its lock
whenever a policy runs, so a policy never needs locking of its own.
"""

from __future__ import annotations

import itertools
from collections import deque
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from routilux.core.job import JobContext

_item_ids = itertools.count(1)


class QueuedItem:
    """One data point in a queue, with the job it belongs to and a process-unique id."""

    __slots__ = ("data", "job", "uid")

    def __init__(self, data: Any, job: JobContext | None, uid: int | None = None) -> None:
        self.data = data
        self.job = job
        self.uid = next(_item_ids) if uid is None else uid

    def __repr__(self) -> str:
        return f"QueuedItem({self.data!r})"


class SlotQueue:
    """The data waiting in one slot of one worker.

    Policies use ``len()``, :meth:`peek` and :meth:`consume`; everything consumed during one
    policy call becomes the activation's input for this slot.
    """

    __slots__ = ("_items", "_taken", "block_timeout", "max_length", "name", "on_full", "routine_id")

    def __init__(
        self,
        routine_id: str,
        name: str,
        max_length: int | None = None,
        on_full: str = "raise",
        block_timeout: float | None = None,
    ) -> None:
        self.routine_id = routine_id
        self.name = name
        self.max_length = max_length
        self.on_full = on_full  # see Slot: "raise", "block" or "drop_oldest"
        self.block_timeout = block_timeout
        self._items: deque[QueuedItem] = deque()
        self._taken: list[QueuedItem] = []

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self) -> Iterator[Any]:
        return (item.data for item in self._items)

    def __repr__(self) -> str:
        return f"<SlotQueue {self.routine_id}.{self.name}: {len(self._items)} queued>"

    def peek(self) -> list[Any]:
        """The queued data, oldest first, without consuming it."""
        return [item.data for item in self._items]

    def consume(self, n: int | None = None) -> list[Any]:
        """Remove and return up to ``n`` oldest data points (all of them when ``n`` is None)."""
        items = self._items
        if n is None or n >= len(items):
            taken = list(items)
            items.clear()
        else:
            taken = [items.popleft() for _ in range(n)]
        self._taken.extend(taken)
        return [item.data for item in taken]

    def consume_one(self) -> Any:
        """Remove and return the oldest data point; the queue must not be empty."""
        item = self._items.popleft()
        self._taken.append(item)
        return item.data

    # The methods below are the worker's, not the policies'.

    def items(self) -> list[QueuedItem]:
        """The queued items themselves (data with job and id), oldest first."""
        return list(self._items)

    def append(self, item: QueuedItem) -> None:
        self._items.append(item)

    def has_room(self, extra: int = 1) -> bool:
        return self.max_length is None or len(self._items) + extra <= self.max_length

    def take_consumed(self) -> list[QueuedItem]:
        """Hand over what the last policy call consumed, and forget it."""
        taken = self._taken
        if taken:
            self._taken = []
        return taken

    def restore_consumed(self) -> None:
        """Put back what a policy consumed but did not use, in the original order."""
        if self._taken:
            self._items.extendleft(reversed(self._taken))
            self._taken = []

    def remove_at(self, index: int) -> QueuedItem:
        """Remove the item at ``index`` (0 is the oldest)."""
        item = self._items[index]
        del self._items[index]
        return item

    def remove_job(self, job: JobContext) -> int:
        """Drop every item that belongs to ``job``; return how many were dropped."""
        kept = [item for item in self._items if item.job is not job]
        dropped = len(self._items) - len(kept)
        if dropped:
            self._items = deque(kept)
        return dropped
