"""DelayedCalls: one thread that runs callbacks after a delay (policies' retry_after, retries)."""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
from collections.abc import Callable

from routilux.core.clock import Clock, ManualClock, SystemClock

_log = logging.getLogger("routilux")


class DelayedCall:
    """A call :meth:`DelayedCalls.call_later` will make; :meth:`cancel` drops it."""

    __slots__ = ("callback",)

    def __init__(self, callback: Callable[[], None]) -> None:
        self.callback: Callable[[], None] | None = callback

    def cancel(self) -> None:
        """Do not make the call (if not made yet). The callback is released at once, so
        what it holds is not kept alive until the due time."""
        self.callback = None


class DelayedCalls:
    """A min-heap of (due time, callback) served by one daemon thread, started on first use.

    A callback that raises (anything) is logged and the thread goes on: one flow's broken
    policy must not stall another flow's timers.
    """

    def __init__(self, clock: Clock | None = None) -> None:
        self._clock = clock if clock is not None else SystemClock()
        # A manual clock wakes the thread when it moves; real time never does.
        self._manual = isinstance(self._clock, ManualClock)
        if isinstance(self._clock, ManualClock):
            self._clock.subscribe(self._poke)
        self._heap: list[tuple[float, int, DelayedCall]] = []
        self._order = itertools.count()
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None
        self._closed = False

    def call_later(self, delay: float, callback: Callable[[], None]) -> DelayedCall:
        """Call ``callback`` in the timer thread once ``delay`` seconds have passed."""
        call = DelayedCall(callback)
        with self._cond:
            if self._closed:
                return call
            due = self._clock.monotonic() + delay
            heapq.heappush(self._heap, (due, next(self._order), call))
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._serve, name="routilux-timers", daemon=True
                )
                self._thread.start()
            self._cond.notify()
        return call

    def close(self) -> None:
        """Forget pending calls and stop the thread."""
        with self._cond:
            self._closed = True
            self._heap.clear()
            self._cond.notify()

    def _poke(self) -> None:
        with self._cond:
            self._cond.notify()

    def _serve(self) -> None:
        while True:
            with self._cond:
                while not self._closed:
                    if self._heap:
                        wait = self._heap[0][0] - self._clock.monotonic()
                        if wait <= 0:
                            break
                        self._cond.wait(None if self._manual else wait)
                    else:
                        self._cond.wait()
                if self._closed:
                    return
                callback = heapq.heappop(self._heap)[2].callback
            if callback is None:
                continue  # cancelled
            try:
                callback()
            except BaseException:
                _log.exception("a delayed call raised; the timer thread goes on")
