"""CommandRunner: run debugger commands off the kernel's thread, one at a time, in order."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from typing import Any

__all__ = ["CommandRunner"]


class CommandRunner:
    """Runs button actions (step, continue, post...) on one background thread.

    A step runs a routine's logic in the calling thread; doing that in the kernel's
    message handler would freeze the notebook for as long as the logic takes. One thread
    keeps the commands in click order.

    Args:
        on_error: Called with the command's name and exception when one fails.
        on_done: Called after every command, failed or not.
    """

    def __init__(
        self,
        on_error: Callable[[str, BaseException], None],
        on_done: Callable[[], None],
    ) -> None:
        self._on_error = on_error
        self._on_done = on_done
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="routilux-debugger")
        self._pending: set[Future[Any]] = set()
        self._lock = threading.Lock()

    def submit(self, name: str, command: Callable[[], Any]) -> Future[Any]:
        """Queue ``command``; returns at once."""
        future = self._executor.submit(self._run, name, command)
        with self._lock:
            self._pending.add(future)
        future.add_done_callback(self._forget)
        return future

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Wait until every submitted command finished; False if ``timeout`` ran out."""
        with self._lock:
            pending = set(self._pending)
        _, not_done = wait(pending, timeout)
        return not not_done

    def close(self) -> None:
        """Finish what is queued in the background and accept nothing more."""
        self._executor.shutdown(wait=False, cancel_futures=True)

    def _run(self, name: str, command: Callable[[], Any]) -> Any:
        try:
            return command()
        except Exception as exc:
            self._on_error(name, exc)
            return None
        finally:
            self._on_done()

    def _forget(self, future: Future[Any]) -> None:
        with self._lock:
            self._pending.discard(future)
