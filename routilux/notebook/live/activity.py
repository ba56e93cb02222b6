"""ActivityTracker: what the worker has been doing, read from its record feed for the diagram."""

from __future__ import annotations

import threading
from collections import Counter, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from routilux.core.activation import ActivationRecord
from routilux.core.hooks import Observer

__all__ = ["Activity", "ActivityTracker", "activity_from_records"]


@dataclass(frozen=True)
class Activity:
    """A consistent copy of the tracker's counters.

    Attributes:
        emitted: Emits per ``(routine_id, event)``.
        ran: Routines that finished at least one activation.
        failed: Routines whose latest activation raised.
        last: The most recently finished activation, or None.
        counted: Finished activations counted per routine (all of them when ``complete``).
        complete: False when activations came faster than they were counted, so that
            ``emitted`` and ``counted`` cover a sample of them, not all.
    """

    emitted: dict[tuple[str, str], int] = field(default_factory=dict)
    counted: dict[str, int] = field(default_factory=dict)
    ran: frozenset[str] = frozenset()
    failed: frozenset[str] = frozenset()
    last: ActivationRecord | None = None
    complete: bool = True


class ActivityTracker(Observer):
    """Counts finished activations and their emits, for the diagram's states and edges.

    It calls no Python per activation: the worker appends each finished record to a
    bounded deque (the observer's record sink, a C call), and :meth:`activity` counts what
    arrived since the last call. Work is paid only when the widget redraws, at most
    ``capacity`` records each time, and never under the worker's lock.

    Args:
        capacity: Records kept between two reads; older ones are dropped (and the counts
            become a sample, see :attr:`Activity.complete`). Kept small on purpose: every
            record held is one more object the garbage collector walks while the flow
            runs, which costs a fast flow more than the counting itself.
    """

    def __init__(self, capacity: int = 2000) -> None:
        self._feed: deque[ActivationRecord] = deque(maxlen=capacity)
        self._lock = threading.Lock()
        self._counted: Counter[str] = Counter()
        self._emitted: Counter[tuple[str, str]] = Counter()
        self._ran: set[str] = set()
        self._failed: set[str] = set()
        self._last: ActivationRecord | None = None
        self._complete = True

    def record_sink(self) -> Callable[[ActivationRecord], None]:
        return self._feed.append

    def wants(self, hook: str) -> bool:
        return False  # everything comes through the record sink

    def activity(self) -> Activity:
        """Count what finished since the last call, and return the counters now."""
        with self._lock:
            feed = self._feed
            if len(feed) == feed.maxlen:
                self._complete = False
            # popleft, not a copy and clear: appends from worker threads go on meanwhile.
            self._count(feed.popleft() for _ in range(len(feed)))
            return Activity(
                dict(self._emitted),
                dict(self._counted),
                frozenset(self._ran),
                frozenset(self._failed),
                self._last,
                self._complete,
            )

    def reset(self) -> None:
        """Forget everything counted so far."""
        with self._lock:
            self._feed.clear()
            self._counted.clear()
            self._emitted.clear()
            self._ran.clear()
            self._failed.clear()
            self._last = None
            self._complete = True

    def _count(self, records: Iterable[ActivationRecord]) -> None:
        emitted, counted, ran, failed = self._emitted, self._counted, self._ran, self._failed
        last = None
        for last in records:
            routine_id = last.routine_id
            counted[routine_id] += 1
            ran.add(routine_id)
            for event, _ in last.emitted:
                emitted[routine_id, event] += 1
            if last.error is not None:
                failed.add(routine_id)
            else:
                failed.discard(routine_id)
        if last is not None:
            self._last = last


def activity_from_records(records: Iterable[ActivationRecord]) -> Activity:
    """Rebuild the counters from finished records (a snapshot's trace), oldest first."""
    tracker = ActivityTracker()
    tracker._count(records)
    return Activity(
        dict(tracker._emitted),
        dict(tracker._counted),
        frozenset(tracker._ran),
        frozenset(tracker._failed),
        tracker._last,
    )
