"""Observer: optional callbacks on what a worker does, attached per runtime or per worker.

Subclass :class:`Observer` and override only what you need. A worker calls just the
methods that are overridden (looked up once, in :class:`~routilux.core._hook_table.
HookTable`), and with no observer attached it checks one empty list per step: observation
costs nothing when nobody observes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from routilux.core.activation import ActivationRecord
    from routilux.core.job import JobContext
    from routilux.core.queue import QueuedItem
    from routilux.core.worker import Worker

__all__ = ["HOLD", "Hold", "Observer"]

HOLD: Literal["hold"] = "hold"
"""Returned by :meth:`Observer.slot_received`, :meth:`Observer.event_emitted` or
:meth:`Observer.activation_starting` to pause the worker (and, from
``activation_starting``, to park the activation with its inputs)."""

Hold = Literal["hold"] | None
"""What a hook that may pause the worker returns: :data:`HOLD`, or None to go on."""


class Observer:
    """Callbacks run in the worker's threads; keep them quick and never block.

    The contract: a hook that raises (anything, ``BaseException`` included) is contained.
    The worker logs the first failure of each hook with the observer's name (later ones at
    debug level), skips that one call and goes on: a broken observer never breaks a post, a
    job, a wait or the worker. Hooks that may pause the worker return
    :data:`HOLD` or None; any other return value means "go on".
    """

    needs_produced = False
    """Set True if :meth:`activation_finished` reads ``record.produced`` (the items each
    emit queued): workers keep that list only while such an observer is attached."""

    def record_sink(self) -> Callable[[ActivationRecord], None] | None:
        """A fast callable (such as ``deque.append``) to hand every finished record to.

        For observers that only collect records: the worker calls it directly, timed
        records and all, and the observer can switch :meth:`activation_finished` off with
        :meth:`wants`. Checked when attached and on ``Worker.refresh_hooks()``. It must not
        raise.
        """
        return None

    def wants(self, hook: str) -> bool:
        """Whether to call the overridden method ``hook`` at all (checked when attached,
        and again on ``Worker.refresh_hooks()``): lets an observer switch off the hooks it
        has nothing to do in, so the worker keeps its fast paths."""
        return True

    def job_started(self, worker: Worker, job: JobContext) -> None:
        """A job was posted."""

    def job_finished(self, worker: Worker, job: JobContext) -> None:
        """A job reached completed, failed or cancelled."""

    def slot_received(self, worker: Worker, routine_id: str, slot: str, item: QueuedItem) -> Hold:
        """Data was queued in a slot (by post or by a connection); :data:`HOLD` pauses."""

    def slot_dropped(self, worker: Worker, routine_id: str, slot: str, item: QueuedItem) -> None:
        """Queued data was removed without running (``Worker.drop``, from the debugger)."""

    def activation_starting(self, worker: Worker, record: ActivationRecord) -> Hold:
        """An activation is about to run; return :data:`HOLD` to park it and pause."""

    def activation_finished(self, worker: Worker, record: ActivationRecord) -> None:
        """An activation ran (``record.error`` tells whether it failed)."""

    def event_emitted(
        self, worker: Worker, record: ActivationRecord | None, event: str, data: Any
    ) -> Hold:
        """Logic emitted an event (after its data was queued in the target slots);
        :data:`HOLD` pauses the worker."""

    def error(self, worker: Worker, record: ActivationRecord, exc: BaseException) -> None:
        """Logic (or its policy) raised."""
