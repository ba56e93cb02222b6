"""ActivityTracker: what the worker has been doing, counted from observer hooks for the diagram."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from routilux.core.activation import ActivationRecord
from routilux.core.hooks import Observer
from routilux.core.worker import Worker

__all__ = ["Activity", "ActivityTracker", "activity_from_records"]


@dataclass(frozen=True)
class Activity:
    """A consistent copy of the tracker's counters.

    Attributes:
        started: Activations decided but not finished (running, or parked by a breakpoint).
        emitted: Emits per ``(routine_id, event)``.
        ran: Routines that finished at least one activation.
        failed: Routines whose latest activation raised.
        last: The most recently finished activation, or None.
    """

    started: tuple[ActivationRecord, ...] = ()
    emitted: dict[tuple[str, str], int] = field(default_factory=dict)
    ran: frozenset[str] = frozenset()
    failed: frozenset[str] = frozenset()
    last: ActivationRecord | None = None


class ActivityTracker(Observer):
    """Counts activations and emits; calls ``on_change`` after each (keep it cheap).

    The hooks run in worker threads, some under the worker's lock, so they only touch
    their own counters; the widget reads them through :meth:`activity`.
    """

    def __init__(self, on_change: Callable[[], None]) -> None:
        self._on_change = on_change
        self._lock = threading.Lock()
        self._started: dict[int, ActivationRecord] = {}
        self._emitted: Counter[tuple[str, str]] = Counter()
        self._ran: set[str] = set()
        self._failed: set[str] = set()
        self._last: ActivationRecord | None = None

    def activity(self) -> Activity:
        """The counters now; activations of finished (e.g. cancelled) jobs are left out."""
        with self._lock:
            started = tuple(
                r for r in self._started.values() if r.job is None or not r.job.is_finished
            )
            return Activity(
                started,
                dict(self._emitted),
                frozenset(self._ran),
                frozenset(self._failed),
                self._last,
            )

    def reset(self) -> None:
        """Forget everything counted so far."""
        with self._lock:
            self._started.clear()
            self._emitted.clear()
            self._ran.clear()
            self._failed.clear()
            self._last = None
        self._on_change()

    def activation_starting(self, worker: Worker, record: ActivationRecord) -> Any:
        with self._lock:
            self._started[record.seq] = record
        self._on_change()
        return None

    def activation_finished(self, worker: Worker, record: ActivationRecord) -> None:
        with self._lock:
            self._started.pop(record.seq, None)
            self._ran.add(record.routine_id)
            if record.error is not None:
                self._failed.add(record.routine_id)
            else:
                self._failed.discard(record.routine_id)
            self._last = record
        self._on_change()

    def event_emitted(
        self, worker: Worker, record: ActivationRecord | None, event: str, data: Any
    ) -> Any:
        if record is not None:
            with self._lock:
                self._emitted[record.routine_id, event] += 1
        return None


def activity_from_records(records: list[ActivationRecord]) -> Activity:
    """Rebuild the counters from finished records (a snapshot's trace), oldest first."""
    emitted: Counter[tuple[str, str]] = Counter()
    failed: set[str] = set()
    for record in records:
        for event, _ in record.emitted:
            emitted[record.routine_id, event] += 1
        if record.error is not None:
            failed.add(record.routine_id)
        else:
            failed.discard(record.routine_id)
    return Activity(
        emitted=dict(emitted),
        ran=frozenset(r.routine_id for r in records),
        failed=frozenset(failed),
        last=records[-1] if records else None,
    )
