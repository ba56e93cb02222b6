"""HookTable: a worker's view of its observers' hooks, and how a hook is called safely.

The table is rebuilt whenever observers change and read on the hot path, so it is compiled
with the scheduler (setup.py); :class:`~routilux.core.hooks.Observer` itself stays
interpreted for users to subclass.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from routilux.core.hooks import Observer

if TYPE_CHECKING:
    from routilux.core.activation import ActivationRecord

__all__ = ["HookTable", "call_hook", "hook_failed", "overridden_hooks"]

_log = logging.getLogger("routilux")


def overridden_hooks(observers: list[Observer], name: str) -> list[Any]:
    """The bound ``name`` methods of the observers that override it (and want it called)."""
    base = getattr(Observer, name)
    return [
        getattr(obs, name)
        for obs in observers
        if getattr(type(obs), name, base) is not base and _wants(obs, name)
    ]


def _wants(observer: Observer, name: str) -> bool:
    """``observer.wants(name)``; an observer whose ``wants`` raises gets no such call."""
    try:
        return bool(observer.wants(name))
    except BaseException as exc:
        hook_failed(observer.wants, exc)
        return False


def _needs_produced(observer: Observer) -> bool:
    try:
        return bool(observer.needs_produced)
    except BaseException as exc:
        hook_failed(observer.record_sink, exc)
        return False


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
        self.keeps_produced = any(_needs_produced(obs) for obs in observers)
        # Posts that an observer sees (a store records them before post() returns) are
        # queued under the worker's lock, never handed over through the lock-free inbox.
        self.quick_posts = not (self.job_started or self.slot_received)


# (id of the observer, hook name) of the failures logged in full; an id may be reused once
# its observer is gone, which at worst logs a later failure briefly instead of in full.
_reported: set[tuple[int, str]] = set()


def hook_failed(hook: Callable[..., Any], exc: BaseException) -> None:
    """Log a hook's failure: the first one of each observer's hook in full, later ones
    briefly (a broken hook on the hot path would otherwise flood the log)."""
    owner = getattr(hook, "__self__", hook)
    name = f"{type(owner).__qualname__}.{getattr(hook, '__name__', 'hook')}"
    key = (id(owner), name)
    if key not in _reported:
        _reported.add(key)
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
