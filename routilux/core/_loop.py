"""AsyncLoop: the event loop a runtime awaits ``async def`` logic on.

One loop per runtime, in a daemon thread, started when the first worker with async logic
starts. A drainer decides an async activation as it decides any other (policies, the
debugger's gate, job accounting all stay in the scheduler), then hands it here; many are
awaited at once, up to each routine's ``max_concurrency``. When one is done (all its
attempts under the error handler, retry delays awaited with ``asyncio.sleep``), the
scheduler's one completion path books it, fires the hooks and lets the store commit.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any

from routilux.core._context import current_activation

if TYPE_CHECKING:
    from routilux.core._attempts import Attempts
    from routilux.core._node import Node
    from routilux.core.activation import ActivationRecord

__all__ = ["AsyncLoop", "run_attempts"]

_log = logging.getLogger("routilux")
_WALL_OFFSET = time.time() - time.perf_counter()


async def run_attempts(scheduler: Attempts, activation: ActivationRecord) -> None:
    """Await every attempt of ``activation``'s logic, as the error handler allows.

    Runs in its own task, whose context points at the activation (for ``emit``,
    ``get_current_job`` and routed output).
    """
    current_activation.set(activation)
    node = activation._node
    logic = node.logic
    assert logic is not None
    while True:
        activation.attempts += 1
        start = time.perf_counter()
        activation.started_at = _WALL_OFFSET + start
        try:
            await logic(*activation.inputs.values(), activation.policy_message, scheduler.state)
        except BaseException as exc:  # the job fails with it; the loop goes on
            delay = scheduler._failed_attempt(activation, exc, start)
            if delay is None:
                break
            if delay > 0:
                await asyncio.sleep(delay)
            continue
        activation.duration = time.perf_counter() - start
        activation.error = None
        break


class AsyncLoop:
    """An asyncio loop in a daemon thread, awaiting activations handed to it."""

    def __init__(self, name: str) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._serve, name=name, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_forever()
        finally:
            self._loop.close()

    def submit(self, scheduler: Attempts, activation: ActivationRecord) -> None:
        """Await ``activation`` on the loop; the scheduler completes it when it is done."""
        self._loop.call_soon_threadsafe(self._start, scheduler, activation)

    def _start(self, scheduler: Attempts, activation: ActivationRecord) -> None:
        self._loop.create_task(self._run(scheduler, activation))

    async def _run(self, scheduler: Attempts, activation: ActivationRecord) -> None:
        try:
            limit = self._limit(activation._node)
            if limit is None:
                await run_attempts(scheduler, activation)
            else:
                async with limit:
                    await run_attempts(scheduler, activation)
        except BaseException as exc:  # cancelled at shutdown, say: still book it
            if activation.error is None:
                activation.error = exc
        finally:
            current_activation.set(None)
            scheduler._complete(activation)

    def _limit(self, node: Node) -> asyncio.Semaphore | None:
        if node.max_concurrency is None:
            return None
        # Kept on the node (made here, in the loop's thread, the only one that touches it):
        # it goes when the worker goes, whatever the number of workers started.
        limit = node.async_limit
        if limit is None:
            limit = node.async_limit = asyncio.Semaphore(node.max_concurrency)
        return limit  # type: ignore[no-any-return]

    def run(self, coroutine: Coroutine[Any, Any, None], timeout: float | None = None) -> None:
        """Run ``coroutine`` on the loop and wait for it here (``step()`` of async logic)."""
        if threading.current_thread() is self._thread:
            raise RuntimeError("cannot wait for the runtime's event loop from inside it")
        asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout)

    def close(self, timeout: float | None = None) -> None:
        """Cancel what is still awaited and stop the loop (waiting at most ``timeout``)."""
        if self._loop.is_closed():
            return

        def cancel_all() -> None:
            for task in asyncio.all_tasks(self._loop):
                task.cancel()
            self._loop.call_soon(self._loop.stop)

        try:
            self._loop.call_soon_threadsafe(cancel_all)
        except RuntimeError:  # already closed
            return
        self._thread.join(timeout)
