"""Backpressure: what a post or an emit does when its target slot is full.

A bounded slot says it (``Slot.on_full``): raise, drop the oldest queued item, or wait for
room. Waiting is on the worker's condition, woken when a drainer takes data out of a slot
(``Scheduler._next_locked``). A drainer that waits inside an emit stops counting as a
drainer meanwhile, and the pool may start a thread in its place: the routine that would
make room may need one to run, even with ``thread_pool_size=1``.

Regular installs compile this module with mypyc (see setup.py); keep it fully typed.
"""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING

from routilux.core._attempts import Attempts
from routilux.core._hook_table import call_hook
from routilux.core.errors import SlotQueueFullError, StateError

if TYPE_CHECKING:
    from routilux.core._node import Node
    from routilux.core.queue import SlotQueue

__all__ = ["FOREVER", "Backpressure", "drainer_thread"]

FOREVER = float("inf")
# Which scheduler the current thread drains for, if any (read only when an emit must wait).
drainer_thread = threading.local()


class Backpressure(Attempts):
    """Full-slot handling of the scheduler (see the module doc)."""

    worker_id: str
    _room_waiters: int

    def _start_drainer_locked(self) -> None:
        raise NotImplementedError

    def _wait_for_room_locked(self, deadline: float) -> bool:
        """Wait a while for a full slot to get room (a drainer consuming signals it).

        Returns whether to start a drainer first: with none running, nothing would ever
        make room. The caller looks at the queue again either way.
        """
        if self._wants_drainer_locked(False):
            return True
        self._room_waiters += 1
        try:
            # Bounded waits: a stop, a resume or a timeout are noticed without a signal.
            self._changed.wait(max(0.0, min(deadline - time.monotonic(), 0.05)))
        finally:
            self._room_waiters -= 1
        return False

    def _drop_oldest_locked(self, queue: SlotQueue) -> None:
        """Make room in a full ``drop_oldest`` slot; its job ends when nothing else is left."""
        dropped = queue.remove_at(0)
        for hook in self._hooks.slot_dropped:
            call_hook(hook, self, queue.routine_id, queue.name, dropped)

    def _emit_into_full_locked(self, queue: SlotQueue, node: Node, event: str) -> None:
        """An emit found ``queue`` full: raise, drop its oldest item, or wait for room.

        Returns once there is room (or raises SlotQueueFullError). A drainer that waits
        stops counting as one while it waits, and the pool may start a thread in its place:
        the routine that would make room may need a thread to run.
        """
        mode = queue.on_full
        if mode == "drop_oldest":
            self._drop_oldest_locked(queue)
            return
        if mode != "block":
            raise self._full(queue, node, event)
        wait = queue.block_timeout
        deadline = FOREVER if wait is None else time.monotonic() + wait
        in_drainer = getattr(drainer_thread, "scheduler", None) is self
        if in_drainer:
            self._drainers -= 1
            self._running -= 1
            self.runtime._pool.lend(1)
        try:
            while queue.max_length is not None and len(queue._items) >= queue.max_length:
                if self._stopped:
                    raise StateError(
                        f"worker {self.worker_id} stopped while {node.routine_id}"
                        f".{event} waited for room in {queue.routine_id}"
                        f".{queue.name}"
                    )
                if time.monotonic() >= deadline:
                    raise SlotQueueFullError(
                        f"slot {queue.routine_id}.{queue.name} stayed full "
                        f"({queue.max_length} queued) for {wait}s; {node.routine_id}.{event} "
                        "was delivered to no slot"
                    )
                if self._wants_drainer_locked(False):
                    self._start_drainer_locked()
                self._room_waiters += 1
                try:
                    self._changed.wait(max(0.0, min(deadline - time.monotonic(), 0.05)))
                finally:
                    self._room_waiters -= 1
        finally:
            if in_drainer:
                self._drainers += 1
                self._running += 1
                self.runtime._pool.lend(-1)

    @staticmethod
    def _full(queue: SlotQueue, node: Node, event: str) -> SlotQueueFullError:
        return SlotQueueFullError(
            f"slot {queue.routine_id}.{queue.name} is full ({queue.max_length} queued); "
            f"{node.routine_id}.{event} was delivered to no slot"
        )
