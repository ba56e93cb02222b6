"""ProcessExecutor: routine logic on a pool of processes, its effects replayed in the driver.

A drainer decides an activation as usual (policies, the debugger's gate and job accounting
stay in the driver) and hands it here. The routine travels pickled with cloudpickle once
per start of its worker (its flow reference cut off) and is loaded once per process; each
activation ships its inputs and a snapshot of the worker state. The child returns what the
logic did; a pool thread's callback (never a drainer) replays it inside the activation's
context: printed text, state writes, then emits through ``route()``, and completes the
activation through the scheduler's one completion path. RETRY delays wait on the
runtime's timers.
"""

from __future__ import annotations

import hashlib
import io
import multiprocessing
import os
import threading
import time
from collections import OrderedDict, deque
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import TYPE_CHECKING, Any, ClassVar

import cloudpickle

from routilux.core._context import current_activation
from routilux.core.errors import ConfigurationError
from routilux.executors._child import exit_with_parent, run_activation
from routilux.executors._main_guard import refuse_unguarded_main

if TYPE_CHECKING:
    from routilux.core._attempts import Attempts
    from routilux.core._node import Node
    from routilux.core.activation import ActivationRecord
    from routilux.core.job import JobContext
    from routilux.core.routine import Routine
    from routilux.core.state import WorkerState

__all__ = ["ProcessExecutor", "dumps", "job_snapshot"]

_WALL_OFFSET = time.time() - time.perf_counter()
# Pickled routines kept in the driver (a flow exec()-ed per request makes new ones each time).
_MAX_PAYLOADS = 256


class _CutFlow(cloudpickle.Pickler):  # type: ignore[misc]  # cloudpickle has no types
    """Pickles a routine without what only the driver uses: its flow and error handler."""

    def __init__(self, file: io.BytesIO, cut: tuple[object, ...]) -> None:
        super().__init__(file)
        self._cut = [obj for obj in cut if obj is not None]

    def persistent_id(self, obj: Any) -> Any:
        for cut in self._cut:
            if obj is cut:
                return "cut"  # loaded as None in the child
        return None


def dumps(routine: Routine, routine_id: str) -> bytes:
    """``routine`` pickled for a pool process.

    Raises:
        ConfigurationError: It cannot be pickled; the message names the attribute.
    """
    try:
        return _dumps(routine, _driver_only(routine))
    except Exception as exc:
        raise ConfigurationError(_why_unpicklable(routine, routine_id, exc)) from exc


def _driver_only(routine: Routine) -> tuple[object, ...]:
    return (routine.flow, routine.error_handler)


def _dumps(obj: object, cut: tuple[object, ...]) -> bytes:
    buffer = io.BytesIO()
    _CutFlow(buffer, cut).dump(obj)
    return buffer.getvalue()


def _why_unpicklable(routine: Routine, routine_id: str, exc: BaseException) -> str:
    for name, value in vars(routine).items():
        try:
            _dumps(value, _driver_only(routine))
        except Exception:
            return (
                f"routine {routine_id!r} cannot run in a process: attribute {name!r} "
                f"({type(value).__module__}.{type(value).__qualname__}) cannot be pickled; "
                "open it inside logic, or keep the routine local (set_remote(False))"
            )
    return f"routine {routine_id!r} cannot run in a process: it cannot be pickled ({exc})"


def _snapshot(state: WorkerState) -> dict[str, Any]:
    with state.lock:
        return {
            "worker_id": state.worker_id,
            "flow_name": state.flow_name,
            "routine_states": state.routine_states,
            "shared_data": dict(state.shared_data),
            "shared_log": list(state.shared_log),
        }


def _inflight_limit(node: Node) -> int | None:
    """How many activations of ``node`` may be in the pool at once, or None: no limit."""
    options = node.remote
    if options is not None and options.max_inflight is not None:
        return options.max_inflight
    return node.max_concurrency


def job_snapshot(job: JobContext) -> dict[str, Any]:
    """What remote logic sees of ``job`` through ``get_current_job()``."""
    return {
        "job_id": job.job_id,
        "flow_name": job.flow_name,
        "worker_id": job.worker_id,
        "trace_id": job.trace_id,
        "metadata": dict(job.metadata),
    }


def _replay_journal(state: WorkerState, journal: list[tuple[Any, ...]], job: JobContext) -> None:
    for op, key, value in journal:
        if op == "job_data":
            job.metadata[key] = value
        elif op == "update":
            state.update_routine_state(key, value)
        elif op == "set":
            state.set_routine_state(key, value)
        elif op == "shared_set":
            state.shared_data[key] = value
        elif op == "shared_del":
            state.shared_data.pop(key, None)
        elif op == "log_append":
            state.shared_log.append(value)


class ProcessExecutor:
    """A process pool that runs activations handed to it by schedulers.

    Args:
        max_workers: Processes in the pool (default: one per core).
    """

    #: Whether ``RemoteOptions.resources`` means anything here (Dask worker resources).
    takes_resources: ClassVar[bool] = False

    def __init__(self, max_workers: int | None = None) -> None:
        self._max_workers = max_workers or os.cpu_count() or 1
        self._lock = threading.Lock()
        self._pool: Any = None
        # id(routine) -> (routine, token, pickled routine), refreshed whenever a worker starts
        # (the routine is kept so that its id is not reused while the entry lives).
        self._payloads: OrderedDict[int, tuple[Routine, str, bytes]] = OrderedDict()
        # Per node with a limit (max_inflight, max_concurrency): activations in the pool, and
        # those waiting a turn.
        self._inflight: dict[int, int] = {}
        self._waiting: dict[int, deque[tuple[Attempts, ActivationRecord]]] = {}
        self._closed = False
        # What starts processes on this machine, checked against an unguarded script once.
        self._spawns: str | None = "a process pool"

    def prepare(self, routine: Routine, routine_id: str) -> None:
        """Pickle ``routine`` for the pool now, when its flow starts.

        Raises:
            ConfigurationError: It cannot be pickled (naming the attribute), its logic is
                ``async def`` (await it on the runtime's loop instead), or its options ask
                for Dask resources and this executor has none.
        """
        from routilux.core._convention import is_async

        options = routine.remote
        if options is not None and options.resources and not self.takes_resources:
            raise ConfigurationError(
                f"routine {routine_id!r} asks for resources {dict(options.resources)}, which "
                f"only Dask honours, not {type(self).__name__}: run it with executor='dask' "
                "or drop resources="
            )
        logic = routine.get_logic()
        if logic is not None and is_async(logic):
            raise ConfigurationError(
                f"routine {routine_id!r} has 'async def' logic, which runs on the runtime's "
                "event loop; keep it local (set_remote(False)) or make the logic plain 'def'"
            )
        if self._spawns is not None:
            refuse_unguarded_main(self._spawns)
            self._spawns = None
        blob = dumps(routine, routine_id)
        # Named by content: the same routine started again is not loaded again in a child.
        token = hashlib.blake2b(blob, digest_size=16).hexdigest()
        with self._lock:
            self._payloads[id(routine)] = (routine, token, blob)
            self._payloads.move_to_end(id(routine))
            while len(self._payloads) > _MAX_PAYLOADS:
                self._payloads.popitem(last=False)

    def _payload(self, routine: Routine, routine_id: str) -> tuple[str, bytes]:
        entry = self._payloads.get(id(routine))
        if entry is None or entry[0] is not routine:
            self.prepare(routine, routine_id)
            entry = self._payloads[id(routine)]
        return entry[1], entry[2]

    def _get_pool(self) -> Any:
        with self._lock:
            if self._closed:
                raise RuntimeError("the runtime's process pool is shut down")
            if self._pool is None:
                self._pool = self._start_pool()
            return self._pool

    def _start_pool(self) -> Any:
        # spawn: a fresh interpreter per process, safe in a multi-threaded driver (fork would
        # copy locks that other threads hold).
        return ProcessPoolExecutor(
            self._max_workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=exit_with_parent,  # a killed driver leaves no process behind
        )

    def _send(self, pool: Any, activation: ActivationRecord, *args: Any) -> Any:
        """Start ``run_activation(*args)`` for ``activation`` on ``pool``; return a future
        (anything with ``add_done_callback``, called with something that has ``result()``)."""
        return pool.submit(run_activation, *args)

    def _lost(self, pool: Any, exc: BaseException) -> None:
        """``exc`` ended a task: if a process died, forget the broken pool (the next
        activation starts a new one)."""
        if isinstance(exc, BrokenProcessPool):
            with self._lock:
                if self._pool is pool:
                    self._pool = None
            pool.shutdown(wait=False, cancel_futures=True)

    def _stop_pool(self, pool: Any, wait: bool) -> None:
        pool.shutdown(wait=wait, cancel_futures=True)

    def submit(self, scheduler: Attempts, activation: ActivationRecord) -> None:
        """Run ``activation`` in the pool (all its attempts); it completes from a callback.

        A routine's ``RemoteOptions.max_inflight`` (else its ``max_concurrency``) bounds how
        many of its activations are in the pool at once (per worker); the others wait here,
        in order.
        """
        limit = _inflight_limit(activation._node)
        if limit is not None:
            key = id(activation._node)
            with self._lock:
                running = self._inflight.get(key, 0)
                if running >= limit:
                    self._waiting.setdefault(key, deque()).append((scheduler, activation))
                    return
                self._inflight[key] = running + 1
        self._attempt(scheduler, activation)

    def _finish(self, scheduler: Attempts, activation: ActivationRecord) -> None:
        """Complete ``activation`` (the scheduler books it) and let the next one in."""
        following: tuple[Attempts, ActivationRecord] | None = None
        if _inflight_limit(activation._node) is not None:
            key = id(activation._node)
            with self._lock:
                waiting = self._waiting.get(key)
                if waiting:
                    following = waiting.popleft()  # takes over the freed turn
                else:
                    self._inflight[key] -= 1
                    self._waiting.pop(key, None)
        scheduler._complete(activation)
        if following is not None:
            self._attempt(*following)

    def _attempt(self, scheduler: Attempts, activation: ActivationRecord) -> None:
        """Run one attempt of ``activation`` in the pool."""
        activation.attempts += 1
        start = time.perf_counter()
        activation.started_at = _WALL_OFFSET + start
        try:
            node = activation._node
            token, blob = self._payload(node.routine, activation.routine_id)
            pool = self._get_pool()
            future = self._send(
                pool,
                activation,
                token,
                blob,
                list(activation.inputs.values()),
                activation.policy_message,
                _snapshot(scheduler.state),
                job_snapshot(activation.job),
            )
        except BaseException as exc:  # shut down, unpicklable, pool broken: the attempt fails
            self._attempt_failed(scheduler, activation, exc, start)
            return
        timeout = node.remote.timeout if node.remote is not None else None
        if timeout is not None:
            self._time_limit(scheduler, activation, future, pool, start, timeout)
            return
        future.add_done_callback(lambda done: self._done(scheduler, activation, done, pool, start))

    def _time_limit(
        self,
        scheduler: Attempts,
        activation: ActivationRecord,
        future: Any,
        pool: Any,
        start: float,
        timeout: float,
    ) -> None:
        """Settle the attempt with its result or, if ``timeout`` passes first, fail it with
        a TimeoutError; whichever comes second is ignored (a late result is never routed).
        The wait is one of the runtime's timers, not a thread."""
        once = threading.Lock()  # taken by whichever comes first
        attempt = activation.attempts

        def expired() -> None:
            if once.acquire(blocking=False):
                cancel = getattr(future, "cancel", None)
                if cancel is not None:
                    cancel()  # frees its place in the pool if it has not started
                error = TimeoutError(
                    f"routine {activation.routine_id!r} did not return within its timeout of "
                    f"{timeout:g} s (attempt {attempt}); a late result is dropped"
                )
                self._attempt_failed(scheduler, activation, error, start)

        def returned(done: Any) -> None:
            if once.acquire(blocking=False):
                timer.cancel()
                self._done(scheduler, activation, done, pool, start)
            elif isinstance(done, Future) and not done.cancelled():
                late_error = done.exception()
                if late_error is not None:
                    self._lost(pool, late_error)  # its process died: forget a broken pool

        timer = scheduler.runtime._timers.call_later(timeout, expired)
        future.add_done_callback(returned)

    def _done(
        self,
        scheduler: Attempts,
        activation: ActivationRecord,
        future: Future[Any],
        pool: Any,
        start: float,
    ) -> None:
        try:
            error, emits, journal, printed = future.result()
        except BaseException as exc:  # the process died, the pool shut down, a pickling error
            self._lost(pool, exc)
            self._attempt_failed(scheduler, activation, exc, start)
            return
        token = current_activation.set(activation)
        try:
            if printed:
                print(printed, end="")  # routed to the job's output like a local print
            if journal:
                _replay_journal(scheduler.state, journal, activation.job)
            node = activation._node
            route = node.worker.route
            for event, data in emits:
                route(activation, node, event, data)
        except BaseException as exc:  # an unknown event, say: the attempt fails with it
            error = exc
        finally:
            current_activation.reset(token)
        if error is not None:
            self._attempt_failed(scheduler, activation, error, start)
            return
        activation.duration = time.perf_counter() - start
        activation.error = None
        self._finish(scheduler, activation)

    def _attempt_failed(
        self, scheduler: Attempts, activation: ActivationRecord, exc: BaseException, start: float
    ) -> None:
        delay = scheduler._failed_attempt(activation, exc, start)
        if delay is None or self._closed:
            self._finish(scheduler, activation)
        elif delay <= 0:
            self._attempt(scheduler, activation)
        else:
            scheduler.runtime._timers.call_later(delay, lambda: self._retry(scheduler, activation))

    def _retry(self, scheduler: Attempts, activation: ActivationRecord) -> None:
        if activation.job._stopped:
            self._finish(scheduler, activation)  # cancelled meanwhile: its last error stands
        else:
            self._attempt(scheduler, activation)

    def close(self, wait: bool = True) -> None:
        """Stop the pool; activations not yet started fail (cancelled) and are booked."""
        with self._lock:
            self._closed = True
            pool, self._pool = self._pool, None
            waiting = [entry for queue in self._waiting.values() for entry in queue]
            self._waiting.clear()
        for scheduler, activation in waiting:  # never started: fail them, so jobs finish
            activation.error = RuntimeError("the runtime shut down before this activation ran")
            scheduler._complete(activation)
        if pool is not None:
            self._stop_pool(pool, wait)
