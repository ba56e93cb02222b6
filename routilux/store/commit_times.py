"""CommitTimes: how long the store's commits took, counted in fixed buckets.

The committer adds one duration per transaction (a group commit covers many activations),
so keeping them costs nothing per activation; a metrics scrape reads a copy.

>>> times = CommitTimes()
>>> times.observe(0.0003)
>>> times.observe(0.02)
>>> snapshot = times.snapshot()
>>> snapshot.count, snapshot.counts[BUCKETS.index(0.0005)], snapshot.counts[-1]
(2, 1, 0)
"""

from __future__ import annotations

import bisect
import threading
from dataclasses import dataclass

__all__ = ["BUCKETS", "CommitTimes", "CommitTimesSnapshot"]

BUCKETS: tuple[float, ...] = (
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
    1.0,
)
"""Upper bounds in seconds; a last, open bucket takes the rest."""


@dataclass(frozen=True)
class CommitTimesSnapshot:
    """Commit durations at one instant: per-bucket counts (not cumulative), total, sum."""

    counts: tuple[int, ...]
    count: int
    total_seconds: float


class CommitTimes:
    """Durations of commits, in :data:`BUCKETS` (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts = [0] * (len(BUCKETS) + 1)
        self._count = 0
        self._sum = 0.0

    def observe(self, seconds: float) -> None:
        index = bisect.bisect_left(BUCKETS, seconds)
        with self._lock:
            self._counts[index] += 1
            self._count += 1
            self._sum += seconds

    def snapshot(self) -> CommitTimesSnapshot:
        with self._lock:
            return CommitTimesSnapshot(tuple(self._counts), self._count, self._sum)
