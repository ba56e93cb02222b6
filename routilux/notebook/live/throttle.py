"""Throttle: coalesce refresh requests from many threads into at most one call per interval."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

__all__ = ["Throttle"]


class Throttle:
    """Call ``callback`` soon after :meth:`request`, at most once per ``interval`` seconds.

    Worker threads may request thousands of refreshes a second; the front end only needs
    the latest picture, so requests made while one is pending merge into it. The callback
    runs on a timer thread (or in the caller of :meth:`flush`), never two at once.

    Args:
        callback: What to run; exceptions are kept in :attr:`errors`, not raised.
        interval: Minimum seconds between the starts of two calls.
        clock: Monotonic clock, injectable for tests.
    """

    def __init__(
        self,
        callback: Callable[[], None],
        interval: float = 0.1,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.callback = callback
        self.interval = interval
        self.clock = clock
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
            delay = max(0.0, self._last_start + self.interval - self.clock())
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
            try:
                self.callback()
            except Exception as exc:  # a display error must not kill the timer thread
                self.errors.append(exc)
