"""DaemonPool: the threads drainers run on, which never keep the process alive.

``concurrent.futures.ThreadPoolExecutor`` joins its threads when the interpreter exits, so
one logic that never returns would hang the exit for ever; these threads are daemons, and
:meth:`DaemonPool.shutdown` waits for them at most as long as it is told.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Executor
from queue import SimpleQueue

_log = logging.getLogger("routilux")


class DaemonPool:
    """Up to ``max_workers`` daemon threads, reused, serving submitted calls in order."""

    def __init__(self, max_workers: int, name_prefix: str) -> None:
        self._max = max_workers
        self._prefix = name_prefix
        self._tasks: SimpleQueue[Callable[[], None] | None] = SimpleQueue()
        self._idle = threading.Semaphore(0)
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        self._shut = False

    def submit(self, fn: Callable[[], None]) -> None:
        if self._shut:
            raise RuntimeError("cannot submit after shutdown")
        self._tasks.put(fn)
        if self._idle.acquire(timeout=0):
            return  # an idle thread takes it
        with self._lock:
            if len(self._threads) < self._max:
                thread = threading.Thread(
                    target=self._serve,
                    name=f"{self._prefix}_{len(self._threads)}",
                    daemon=True,
                )
                self._threads.append(thread)
                thread.start()

    def lend(self, threads: int) -> None:
        """Allow ``threads`` more threads (negative: take them back): while a drainer waits
        for room in a full slot, another may run the routine that makes room."""
        with self._lock:
            self._max += threads

    def _serve(self) -> None:
        while True:
            task = self._tasks.get()
            if task is None:
                return
            try:
                task()
            except BaseException:
                _log.exception("a routilux pool thread's task raised")
            self._idle.release()

    def shutdown(self, wait: bool = True, timeout: float | None = None) -> list[str]:
        """Stop taking calls; with ``wait``, join the threads for at most ``timeout`` seconds.

        Returns the names of the threads still busy afterwards (they are daemons, and end
        with the process).
        """
        with self._lock:
            self._shut = True
            threads = list(self._threads)
        for _ in threads:
            self._tasks.put(None)
        if not wait:
            return [t.name for t in threads if t.is_alive()]
        deadline = None if timeout is None else time.monotonic() + timeout
        for thread in threads:
            remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
            thread.join(remaining)
        return [t.name for t in threads if t.is_alive()]


class ExecutorPool:
    """A user's ``concurrent.futures.Executor`` as a pool (not shut down by the runtime)."""

    def __init__(self, executor: Executor) -> None:
        self._executor = executor

    def submit(self, fn: Callable[[], None]) -> None:
        self._executor.submit(fn)

    def lend(self, threads: int) -> None:
        """A user's executor has the threads it has."""

    def shutdown(self, wait: bool = True, timeout: float | None = None) -> list[str]:
        return []
