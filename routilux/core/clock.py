"""Clocks for the runtime's timers: the system's, or one a test moves by hand.

``Runtime(clock=ManualClock())`` makes every delay the runtime waits for (retry backoff,
policies' ``retry_after``, time-interval policies built with the same clock) happen exactly
when the test calls :meth:`ManualClock.advance`, never by the wall clock.

>>> clock = ManualClock()
>>> clock.advance(2.5)
>>> clock.monotonic()
2.5
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from typing import Protocol, runtime_checkable

__all__ = ["Clock", "ManualClock", "SystemClock"]


@runtime_checkable
class Clock(Protocol):
    """What the runtime needs of a clock: seconds from a fixed, monotonic origin."""

    def monotonic(self) -> float: ...


class SystemClock:
    """``time.monotonic``: the default."""

    def monotonic(self) -> float:
        return time.monotonic()


class ManualClock:
    """A clock that moves only when :meth:`advance` is called (for tests)."""

    def __init__(self, start: float = 0.0) -> None:
        self._now = float(start)
        self._lock = threading.Lock()
        self._listeners: list[Callable[[], None]] = []

    def monotonic(self) -> float:
        return self._now

    def advance(self, seconds: float) -> None:
        """Move the clock forward and wake whatever waits on it."""
        if not isinstance(seconds, (int, float)) or not math.isfinite(seconds) or seconds < 0:
            raise ValueError(f"seconds must be a finite number >= 0, got {seconds!r}")
        with self._lock:
            self._now += seconds
            listeners = list(self._listeners)
        for listener in listeners:
            listener()

    def subscribe(self, listener: Callable[[], None]) -> None:
        """Call ``listener`` after every :meth:`advance` (timers use it to wake up)."""
        with self._lock:
            self._listeners.append(listener)
