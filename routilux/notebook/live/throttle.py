"""Throttle and Ticker: coalesced, paced redraws, asked for by threads or by the clock."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

__all__ = ["Throttle", "Ticker"]


class Throttle:
    """Call ``callback`` soon after :meth:`request`, at most once per ``interval`` seconds.

    Worker threads may request thousands of refreshes a second; the front end only needs
    the latest picture, so requests made while one is pending merge into it. The callback
    runs on a timer thread (or in the caller of :meth:`flush`), never two at once.

    A call that takes long spaces the next ones further apart (``cost_factor`` times its
    duration), so that drawing a big flow never takes more than a small share of the time.

    Args:
        callback: What to run; exceptions are kept in :attr:`errors`, not raised.
        interval: Minimum seconds between the starts of two calls.
        clock: Monotonic clock, injectable for tests.
        cost_factor: The gap after a call is at least this many times its duration.
    """

    def __init__(
        self,
        callback: Callable[[], None],
        interval: float = 0.1,
        clock: Callable[[], float] = time.monotonic,
        cost_factor: float = 4.0,
    ) -> None:
        self.callback = callback
        self.interval = interval
        self.clock = clock
        self.cost_factor = cost_factor
        self._last_cost = 0.0
        self.calls = 0
        self.errors: list[BaseException] = []
        self._lock = threading.Lock()
        self._run_lock = threading.Lock()
        self._timer: threading.Timer | None = None
        self._last_start = float("-inf")
        self._closed = False

    def request(self) -> None:
        """Ask for a call; returns at once. Safe from any thread."""
        with self._lock:
            if self._timer is not None or self._closed:
                return  # the pending call will show this change too
            gap = max(self.interval, self.cost_factor * self._last_cost)
            delay = max(0.0, self._last_start + gap - self.clock())
            self._timer = threading.Timer(delay, self._fire)
            self._timer.daemon = True
            self._timer.start()

    def flush(self) -> None:
        """Run the callback now in this thread, absorbing any pending request."""
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
        self._run()

    def close(self) -> None:
        """Cancel what is pending and accept no more requests."""
        with self._lock:
            self._closed = True
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None

    def _fire(self) -> None:
        with self._lock:
            self._timer = None
        self._run()

    def _run(self) -> None:
        with self._run_lock:
            with self._lock:
                # Stamped before the call, so a request made during it schedules one more.
                self._last_start = self.clock()
            self.calls += 1
            started = time.perf_counter()
            try:
                self.callback()
            except Exception as exc:  # a display error must not kill the timer thread
                self.errors.append(exc)
            self._last_cost = time.perf_counter() - started


class Ticker:
    """Calls ``tick`` every ``interval`` seconds on a daemon thread until :meth:`close`.

    The widget's clock: a running flow changes far more often than anyone announces it,
    so the view looks at it at a steady pace instead of being told of every activation.

    Args:
        tick: What to call; it should be cheap (a :meth:`Throttle.request`, say).
        interval: Seconds between calls.
    """

    def __init__(self, tick: Callable[[], None], interval: float) -> None:
        self._tick = tick
        self._interval = interval
        self._closed = threading.Event()
        self._thread = threading.Thread(target=self._run, name="routilux-ticker", daemon=True)
        self._thread.start()

    def close(self) -> None:
        """Stop ticking (the thread ends within one interval)."""
        self._closed.set()

    def _run(self) -> None:
        while not self._closed.wait(self._interval):
            try:
                self._tick()
            except Exception:  # the next tick may well succeed; a display bug stops nothing
                continue
