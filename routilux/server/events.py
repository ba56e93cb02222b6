"""EventHub: the observer behind the WebSocket stream, with a bounded buffer per client.

Worker threads only append to a deque (the observer's record sink, a C call): nothing they
do waits for the event loop or a client. The loop drains that deque every ``interval``
seconds, keeps per-flow activity for the live diagram and the duration histogram, and
hands each item to every subscriber's bounded buffer; a subscriber that falls behind
loses its oldest items and counts them, so a slow client never slows a worker.

A record sink is not free (the engine times activations for it, and records live until
the next drain), so the hub observes the runtime only while someone subscribes, unless
told to observe always (for a complete duration histogram).
"""

from __future__ import annotations

import asyncio
import bisect
import threading
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from routilux.core.activation import ActivationRecord
from routilux.core.engine import Engine
from routilux.core.hooks import Observer
from routilux.core.job import JobContext
from routilux.core.worker import Worker

__all__ = ["DURATION_BUCKETS", "EventHub", "FlowActivity", "Subscriber", "as_events"]

DURATION_BUCKETS = (
    0.0001,
    0.00025,
    0.0005,
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
)
"""Upper bounds (seconds) of the activation duration histogram; +Inf is implied."""


@dataclass
class Histogram:
    """Counts per bucket of :data:`DURATION_BUCKETS` (the last one is +Inf), and the sum."""

    buckets: list[int] = field(default_factory=lambda: [0] * (len(DURATION_BUCKETS) + 1))
    total: float = 0.0


@dataclass
class FlowActivity:
    """What a flow's streamed activations did: the last routine, emits per event, durations.

    Which routines ran or failed comes from the engine's counters (``Worker.inspect``).
    """

    last: str | None = None
    emitted: Counter[tuple[str, str]] = field(default_factory=Counter)
    durations: dict[str, Histogram] = field(default_factory=dict)


class Subscriber:
    """One client's buffer: at most ``size`` items; the oldest go first when it is full.

    Used from the event loop only.
    """

    def __init__(self, size: int) -> None:
        self.size = size
        self.dropped = 0
        self.ready = asyncio.Event()
        self._buffer: deque[tuple[int, object]] = deque(maxlen=size)

    def offer(self, numbered: list[tuple[int, object]]) -> None:
        """Add ``(number, item)`` pairs; what does not fit pushes the oldest out (counted).

        One C-level extend per batch, however far behind the client is.
        """
        overflow = len(self._buffer) + len(numbered) - self.size
        if overflow > 0:
            self.dropped += overflow
        self._buffer.extend(numbered)
        self.ready.set()

    def take(self) -> list[tuple[int, object]]:
        """Everything buffered, oldest first; the buffer is empty afterwards."""
        items = list(self._buffer)
        self._buffer.clear()
        self.ready.clear()
        return items


class EventHub(Observer):
    """Collects what workers do and fans it out to subscribers on the event loop.

    Args:
        client_buffer: Items each subscriber may fall behind by before it loses the oldest.
        ring_size: Items kept between two drains; past it the oldest are lost (only a
            stalled event loop gets there: a million items is many seconds of activations).
        interval: Seconds between drains.
    """

    def __init__(
        self, *, client_buffer: int = 2048, ring_size: int = 1 << 20, interval: float = 0.01
    ) -> None:
        self.client_buffer = client_buffer
        self.runtime: Engine | None = None
        self.always = False
        self._observing = False
        self._observe_lock = threading.Lock()
        self.interval = interval
        self.numbered = 0
        self._ring: deque[object] = deque(maxlen=ring_size)
        self._subscribers: list[Subscriber] = []
        self._activity: dict[str, FlowActivity] = {}
        # Guards the activity tables: the loop drains while request threads read them.
        self._lock = threading.Lock()

    # -- the observer side (worker threads) -----------------------------------------------

    def record_sink(self) -> Callable[[ActivationRecord], None]:
        return self._ring.append

    def wants(self, hook: str) -> bool:
        return hook == "job_finished"

    def job_finished(self, worker: Worker, job: JobContext) -> None:
        self._ring.append(job)

    def publish(self, event: dict[str, Any]) -> None:
        """Queue a control event (``{"type": ..., ...}``) from any thread."""
        self._ring.append(event)

    # -- the loop side ---------------------------------------------------------------------

    def bind(self, runtime: Engine, *, always: bool = False) -> None:
        """Observe ``runtime`` while someone subscribes (or ``always``)."""
        self.runtime = runtime
        self.always = always
        self.settle()

    def unbind(self) -> None:
        """Stop observing the runtime."""
        with self._observe_lock:
            if self.runtime is not None and self._observing:
                self.runtime.remove_observer(self)
            self._observing = False
            self.runtime = None

    def settle(self) -> None:
        """Observe the runtime if anyone subscribes (or ``always``), else stop.

        Attaching takes every worker's lock, where observers' hooks (user code) may run:
        call it from a thread that may wait, not from the event loop.
        """
        with self._observe_lock:
            wanted = self.always or bool(self._subscribers)
            if self.runtime is None or wanted == self._observing:
                return
            if wanted:
                self.runtime.add_observer(self)
            else:
                self.runtime.remove_observer(self)
            self._observing = wanted

    @property
    def observing(self) -> bool:
        """Whether the hub is attached to the runtime now."""
        return self._observing

    def subscribe(self) -> Subscriber:
        """A new subscriber; :meth:`settle` then attaches the hub if it was not."""
        subscriber = Subscriber(self.client_buffer)
        self._subscribers = [*self._subscribers, subscriber]
        return subscriber

    def unsubscribe(self, subscriber: Subscriber) -> None:
        """Forget ``subscriber``; :meth:`settle` then detaches the hub if it was the last."""
        self._subscribers = [s for s in self._subscribers if s is not subscriber]

    @property
    def dropped(self) -> int:
        """Items the connected subscribers lost by falling behind."""
        return sum(s.dropped for s in self._subscribers)

    def drain(self) -> int:
        """Move everything queued since the last drain to the subscribers; returns how many."""
        ring = self._ring
        # Only this thread takes from the ring; workers may append meanwhile, and what they
        # append after len() is read waits for the next drain.
        items = [ring.popleft() for _ in range(len(ring))]
        if not items:
            return 0
        with self._lock:
            self._note_locked(items)
            first = self.numbered + 1
            self.numbered += len(items)
        subscribers = self._subscribers
        if subscribers:
            numbered = list(zip(range(first, first + len(items)), items, strict=True))
            for subscriber in subscribers:
                subscriber.offer(numbered)
        return len(items)

    async def run(self) -> None:
        """Drain every ``interval`` seconds until cancelled."""
        while True:
            self.drain()
            await asyncio.sleep(self.interval)

    # -- activity (read from request threads) -----------------------------------------------

    def _note_locked(self, items: list[object]) -> None:
        # About a microsecond per record on the loop's thread, which shares the GIL with the
        # workers: kept to local lookups, one histogram bucket, one dict per flow.
        activities = self._activity
        bucket_of = bisect.bisect_left
        bounds = DURATION_BUCKETS
        flow_name, activity = None, None
        for record in items:
            if not isinstance(record, ActivationRecord):
                continue
            job = record.job
            flow = job.flow_name if job is not None else "?"
            if flow != flow_name:
                activity = activities.get(flow)
                if activity is None:
                    activity = activities[flow] = FlowActivity()
                flow_name = flow
            assert activity is not None
            routine = record.routine_id
            activity.last = routine
            emitted = record.emitted
            if emitted:
                counts = activity.emitted
                for event, _ in emitted:
                    counts[(routine, event)] += 1
            duration = record.duration
            if duration is not None:
                histogram = activity.durations.get(routine)
                if histogram is None:
                    histogram = activity.durations[routine] = Histogram()
                histogram.buckets[bucket_of(bounds, duration)] += 1
                histogram.total += duration

    def note_stepped(self, flow: str, record: ActivationRecord) -> None:
        """Show a stepped activation at once (a step returns before the next drain)."""
        with self._lock:
            self._activity.setdefault(flow, FlowActivity()).last = record.routine_id

    def activity(self, flow: str) -> FlowActivity:
        """A copy of ``flow``'s activity."""
        with self._lock:
            found = self._activity.get(flow) or FlowActivity()
            return FlowActivity(found.last, Counter(found.emitted), {})

    def durations(self) -> dict[tuple[str, str], Histogram]:
        """Activation duration histograms by ``(flow, routine)`` (copies)."""
        with self._lock:
            return {
                (flow, routine): Histogram(list(h.buckets), h.total)
                for flow, activity in self._activity.items()
                for routine, h in activity.durations.items()
            }


def as_events(number: int, item: object) -> list[dict[str, Any]]:
    """The stream events one hub item stands for, in order.

    An activation gives ``activation_started``, one ``emitted`` per emit, then
    ``activation_finished``; a finished job gives ``job_finished``; control events (pause,
    step, breakpoints...) pass as they are.
    """
    if isinstance(item, ActivationRecord):
        job = item.job
        common = {
            "flow": job.flow_name if job is not None else None,
            "worker_id": job.worker_id if job is not None else None,
            "job_id": item.job_id,
            "routine_id": item.routine_id,
            "seq": item.seq,
        }
        events: list[dict[str, Any]] = [
            {"type": "activation_started", "n": number, "time": item.started_at, **common}
        ]
        for event, data in item.emitted:
            events.append({"type": "emitted", "n": number, "event": event, "data": data, **common})
        events.append(
            {
                "type": "activation_finished",
                "n": number,
                "duration": item.duration,
                "error": repr(item.error) if item.error is not None else None,
                **common,
            }
        )
        return events
    if isinstance(item, JobContext):
        return [
            {
                "type": "job_finished",
                "n": number,
                "flow": item.flow_name,
                "worker_id": item.worker_id,
                "job_id": item.job_id,
                "status": str(item.status),
                "error": repr(item.error) if item.error is not None else None,
            }
        ]
    if isinstance(item, dict):
        return [{**item, "n": number}]
    return []
