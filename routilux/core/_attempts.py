"""Attempts: running an activation's logic under its error handler, and completing it.

The scheduler's drain loop runs the first attempt of most activations itself (it is the hot
path); what happens after a failure lives here: recording the attempt, asking the error
handler for another, waiting out its delay on the runtime's timers (never in a drainer
thread), and running every attempt in the caller's thread for ``step()``. So does the one
completion path of an activation that ran elsewhere (the event loop), which hands the record
to the observers and books it like a drained one.

Regular installs compile this module with mypyc (see setup.py); keep it fully typed.
"""

from __future__ import annotations

import inspect
import threading
import time
from collections import deque
from typing import TYPE_CHECKING

from routilux.core._context import current_activation
from routilux.core._growth import DrainerGrowth
from routilux.core._hook_table import HookTable, call_hook
from routilux.core._node import ASYNC
from routilux.core.activation import ActivationRecord
from routilux.core.errors import ConfigurationError
from routilux.core.state import WorkerState

if TYPE_CHECKING:
    from routilux.core.engine import Engine

__all__ = ["Attempts", "refuse_awaitable"]

# Wall-clock time = this + perf_counter(): one clock read per activation instead of two.
WALL_OFFSET = time.time() - time.perf_counter()


class Attempts(DrainerGrowth):
    """The scheduler's attempts and completions (see the module doc). The scheduler that
    builds on this class sets the attributes declared here and books activations."""

    runtime: Engine
    state: WorkerState
    _hooks: HookTable
    _changed: threading.Condition
    _retries: deque[ActivationRecord]
    _offloaded: int
    _quiet_waiters: int

    def _book_locked(self, activation: ActivationRecord) -> None:
        raise NotImplementedError

    def _failed_attempt(
        self, activation: ActivationRecord, exc: BaseException, start: float
    ) -> float | None:
        """Record a failed attempt; return the delay before the next one, or None if none.

        Only ``Exception`` is retried: ``KeyboardInterrupt``, ``SystemExit`` and the like
        fail the job whatever the strategy says.
        """
        if activation.started_at is None:
            activation.started_at = WALL_OFFSET + start
        activation.duration = time.perf_counter() - start
        activation.error = exc
        for hook in self._hooks.error:
            call_hook(hook, self, activation, exc)
        handler = activation._node.error_handler
        if not (isinstance(exc, Exception) and handler.should_retry(exc, activation.attempts)):
            return None
        return handler.delay_before(activation.attempts + 1)

    def _retry_later(self, activation: ActivationRecord, delay: float) -> None:
        """Queue ``activation`` for another attempt once ``delay`` seconds have passed.

        Waiting happens on the runtime's timers, never in a drainer thread; meanwhile the
        activation stays in flight for its job, so the job does not finish under it.
        """
        if delay <= 0:
            self._retry_due(activation)
        else:
            self.runtime._timers.call_later(delay, lambda: self._retry_due(activation))

    def _retry_due(self, activation: ActivationRecord) -> None:
        with self._lock:
            if self._stopped or activation.job._stopped:
                self._book_locked(activation)  # cancelled meanwhile: its last error stands
                spawn = False
            else:
                activation.started_at = None
                activation.error = None  # set again if this attempt fails too
                self._retries.append(activation)
                spawn = self._wants_drainer_locked(False)
        if spawn:
            self._start_drainer()

    def _run_inline(self, activation: ActivationRecord) -> None:
        """Run every attempt of ``activation`` in the calling thread (``step()``), waiting
        out retry delays here: the caller is a user's thread, not a drainer."""
        if activation._node.dispatch == ASYNC:
            # Awaited on the runtime's loop while this thread waits: one activation, with
            # its retries, exactly as a drained one, and stepped like any other.
            from routilux.core._loop import run_attempts  # asyncio loads with async logic only

            self.runtime._async_loop().run(run_attempts(self, activation))
            self._after_inline(activation)
            return
        token = current_activation.set(activation)
        try:
            while True:
                activation.attempts += 1
                start = time.perf_counter()
                activation.started_at = WALL_OFFSET + start
                logic = activation._node.logic
                assert logic is not None
                try:
                    result = logic(
                        *activation.inputs.values(), activation.policy_message, self.state
                    )
                    if result is not None:
                        refuse_awaitable(activation, result)
                except BaseException as exc:
                    delay = self._failed_attempt(activation, exc, start)
                    if delay is None:
                        break
                    if delay > 0:
                        time.sleep(delay)
                    continue
                activation.duration = time.perf_counter() - start
                activation.error = None
                break
        finally:
            current_activation.reset(token)
        self._after_inline(activation)

    def _after_inline(self, activation: ActivationRecord) -> None:
        hooks = self._hooks
        for sink in hooks.sinks:
            call_hook(sink, activation)
        for hook in hooks.activation_finished:
            call_hook(hook, self, activation)

    def _complete(self, activation: ActivationRecord) -> None:
        """The one completion path of an activation that ran elsewhere (the event loop):
        hand the record to the observers (history, store), then book it."""
        hooks = self._hooks
        for sink in hooks.sinks:
            call_hook(sink, activation)
        for hook in hooks.activation_finished:
            call_hook(hook, self, activation)
        with self._lock:
            self._offloaded -= 1
            self._book_locked(activation)
            if self._quiet_waiters and self._offloaded == 0:
                self._changed.notify_all()
            spawn = self._wants_drainer_locked(False)
        if spawn:
            self._start_drainer()


def refuse_awaitable(activation: ActivationRecord, result: object) -> None:
    """Logic returned something to await without being ``async def`` (a lambda returning a
    coroutine, say): it never ran, so fail the attempt rather than report success."""
    if inspect.isawaitable(result):
        close = getattr(result, "close", None)
        if close is not None:
            close()  # no "never awaited" warning: this error says it
        raise ConfigurationError(
            f"logic of routine {activation.routine_id!r} returned {type(result).__name__} "
            "without being 'async def', so the runtime cannot await it; declare the logic "
            "'async def' (it is then awaited on the runtime's event loop)"
        )
