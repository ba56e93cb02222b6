"""Observer: optional callbacks on what a worker does, attached per runtime or per worker.

Subclass :class:`Observer` and override only what you need. A worker calls just the
methods that are overridden, and with no observer attached it checks one empty list per
step: observation costs nothing when nobody observes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from routilux.core.activation import ActivationRecord
    from routilux.core.job import JobContext
    from routilux.core.queue import QueuedItem
    from routilux.core.worker import Worker

__all__ = ["HOLD", "HOOK_NAMES", "Observer"]

HOLD = "hold"
"""Returned by :meth:`Observer.activation_starting` to park the activation and pause."""


class Observer:
    """Callbacks run in the worker's threads; keep them quick and never block."""

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

    def slot_received(self, worker: Worker, routine_id: str, slot: str, item: QueuedItem) -> None:
        """Data was queued in a slot (by post or by a connection)."""

    def slot_dropped(self, worker: Worker, routine_id: str, slot: str, item: QueuedItem) -> None:
        """Queued data was removed without running (``Worker.drop``, from the debugger)."""

    def activation_starting(self, worker: Worker, record: ActivationRecord) -> Any:
        """An activation is about to run; return :data:`HOLD` to park it and pause."""

    def activation_finished(self, worker: Worker, record: ActivationRecord) -> None:
        """An activation ran (``record.error`` tells whether it failed)."""

    def event_emitted(
        self, worker: Worker, record: ActivationRecord | None, event: str, data: Any
    ) -> None:
        """Logic emitted an event (after its data was queued in the target slots)."""

    def error(self, worker: Worker, record: ActivationRecord, exc: BaseException) -> None:
        """Logic (or its policy) raised."""


HOOK_NAMES = (
    "job_started",
    "job_finished",
    "slot_received",
    "slot_dropped",
    "activation_starting",
    "activation_finished",
    "event_emitted",
    "error",
)


def overridden_hooks(observers: list[Observer], name: str) -> list[Any]:
    """The bound ``name`` methods of the observers that override it."""
    base = getattr(Observer, name)
    return [
        getattr(obs, name)
        for obs in observers
        if getattr(type(obs), name, base) is not base and obs.wants(name)
    ]
