"""Observer: optional callbacks on what a worker does, attached per runtime or per worker.

Subclass :class:`Observer` and override only what you need. A worker calls just the
methods that are overridden, and with no observer attached it checks one empty list per
step: observation costs nothing when nobody observes.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from routilux.core.activation import ActivationRecord
    from routilux.core.job import JobContext
    from routilux.core.queue import QueuedItem
    from routilux.core.worker import Worker

__all__ = ["HOLD", "Hold", "HookTable", "Observer"]

HOLD: Literal["hold"] = "hold"
"""Returned by :meth:`Observer.slot_received`, :meth:`Observer.event_emitted` or
:meth:`Observer.activation_starting` to pause the worker (and, from
``activation_starting``, to park the activation with its inputs)."""

Hold = Literal["hold"] | None
"""What a hook that may pause the worker returns: :data:`HOLD`, or None to go on."""

_log = logging.getLogger("routilux")


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


def overridden_hooks(observers: list[Observer], name: str) -> list[Any]:
    """The bound ``name`` methods of the observers that override it (and want it called)."""
    base = getattr(Observer, name)
    return [
        getattr(obs, name)
        for obs in observers
        if getattr(type(obs), name, base) is not base and obs.wants(name)
    ]


class HookTable:
    """The hooks of a worker's observers, looked up once per change of observers.

    A worker reads these lists and flags on its hot path: an empty list costs one check,
    and no hook is called for an observer that does not override it.
    """

    __slots__ = (
        "activation_finished",
        "activation_starting",
        "error",
        "event_emitted",
        "job_finished",
        "job_started",
        "keeps_produced",
        "quick_posts",
        "routes_observed",
        "sinks",
        "slot_dropped",
        "slot_received",
        "timed",
    )

    def __init__(self, observers: list[Observer]) -> None:
        self.job_started = overridden_hooks(observers, "job_started")
        self.job_finished = overridden_hooks(observers, "job_finished")
        self.slot_received = overridden_hooks(observers, "slot_received")
        self.slot_dropped = overridden_hooks(observers, "slot_dropped")
        self.activation_starting = overridden_hooks(observers, "activation_starting")
        self.activation_finished = overridden_hooks(observers, "activation_finished")
        self.event_emitted = overridden_hooks(observers, "event_emitted")
        self.error = overridden_hooks(observers, "error")
        self.sinks: list[Callable[[ActivationRecord], None]] = []
        for obs in observers:
            try:
                sink = obs.record_sink()
            except BaseException as exc:  # a broken observer must not stop the worker
                hook_failed(obs.record_sink, exc)
                continue
            if sink is not None:
                self.sinks.append(sink)
        # Records are timed only for someone who will see them.
        self.timed = bool(self.activation_finished or self.sinks)
        self.routes_observed = bool(self.slot_received or self.event_emitted)
        # ActivationRecord.produced is kept only for observers that read it (a store does).
        self.keeps_produced = any(obs.needs_produced for obs in observers)
        # Posts that an observer sees (a store records them before post() returns) are
        # queued under the worker's lock, never handed over through the lock-free inbox.
        self.quick_posts = not (self.job_started or self.slot_received)


_reported: set[str] = set()


def hook_failed(hook: Callable[..., Any], exc: BaseException) -> None:
    """Log a hook's failure: the first one of each observer in full, later ones briefly."""
    owner = getattr(hook, "__self__", hook)
    name = f"{type(owner).__qualname__}.{getattr(hook, '__name__', 'hook')}"
    if name not in _reported:
        _reported.add(name)
        _log.error("observer hook %s raised; the call was skipped", name, exc_info=exc)
    else:
        _log.debug("observer hook %s raised again: %r", name, exc)


def call_hook(hook: Callable[..., Any], *args: Any) -> Any:
    """Run an observer hook, containing whatever it raises; returns what it returned."""
    try:
        return hook(*args)
    except BaseException as exc:
        hook_failed(hook, exc)
        return None
