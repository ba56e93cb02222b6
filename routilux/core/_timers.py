"""DelayedCalls: one thread that runs callbacks after a delay (policies' retry_after, retries)."""

from __future__ import annotations

import heapq
import itertools
import threading
import time
from collections.abc import Callable


class DelayedCalls:
    """A min-heap of (due time, callback) served by one daemon thread, started on first use."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._heap: list[tuple[float, int, Callable[[], None]]] = []
        self._order = itertools.count()
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None
        self._closed = False

    def call_later(self, delay: float, callback: Callable[[], None]) -> None:
        with self._cond:
            if self._closed:
                return
            heapq.heappush(self._heap, (self._clock() + delay, next(self._order), callback))
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._serve, name="routilux-timers", daemon=True
                )
                self._thread.start()
            self._cond.notify()

    def close(self) -> None:
        """Forget pending calls and stop the thread."""
        with self._cond:
            self._closed = True
            self._heap.clear()
            self._cond.notify()

    def _serve(self) -> None:
        while True:
            with self._cond:
                while not self._closed:
                    if self._heap:
                        wait = self._heap[0][0] - self._clock()
                        if wait <= 0:
                            break
                        self._cond.wait(wait)
                    else:
                        self._cond.wait()
                if self._closed:
                    return
                _, _, callback = heapq.heappop(self._heap)
            callback()
