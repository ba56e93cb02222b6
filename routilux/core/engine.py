"""Engine: starts workers for flows, takes posts, counts jobs and owns the threads.

``routilux.Runtime`` is the class users create; it is this engine with the debugger and the
store as parts. The engine alone imports only the standard library.
"""

from __future__ import annotations

import collections
import itertools
import logging
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import Executor
from types import TracebackType
from typing import TYPE_CHECKING, Any

from routilux.core import _check
from routilux.core._executors import RemoteExecutors, split_executor
from routilux.core._pool import DaemonPool, ExecutorPool
from routilux.core._timers import DelayedCalls
from routilux.core.activation import ActivationRecord
from routilux.core.clock import Clock
from routilux.core.errors import ConfigurationError, ConfigurationTypeError, StateError
from routilux.core.flow import Flow
from routilux.core.hooks import Observer
from routilux.core.job import JobContext
from routilux.core.registry import FlowRegistry
from routilux.core.remote import RemoteExecutor
from routilux.core.state import WorkerState
from routilux.core.worker import Worker

if TYPE_CHECKING:
    from routilux.core._loop import AsyncLoop

__all__ = ["Engine"]

_log = logging.getLogger("routilux")
_engine_ids = itertools.count(1)
# How many idle workers that exec(flow, entry_params) started are kept (see Engine.exec).
DEFAULT_MAX_IDLE_WORKERS = 8


class Engine:
    """Runs flows: one worker per running flow instance, all on one pool of threads.

    Args:
        thread_pool_size: Threads shared by all workers (default: CPU count + 4, at most 32).
            One worker uses at most this many at once.
        registry: Where flow names are looked up (default: ``FlowRegistry.get_instance()``).
        clock: What delays (retry backoff, policies' ``retry_after``) are measured on;
            ``routilux.core.clock.ManualClock`` makes them exact in tests.
        executor: Either a ``concurrent.futures.Executor`` to run drainer threads on
            instead of the engine's own daemon threads (it is not shut down with the
            engine), or the executor of remote routines whose options name none
            (``set_remote(True)``): a kind (``"processes"``, ``"dask"``,
            ``"dask://host:port"``; needs ``remote_executors``) or an object with the
            methods of :class:`~routilux.core.remote.RemoteExecutor` such as
            ``DaskExecutor(address=None)`` (closed by :meth:`shutdown`).
        max_idle_workers: How many finished one-request workers to keep (see :meth:`exec`).
        remote_executors: Makes the executor of a kind (processes, Dask) for remote
            routines; ``routilux.Runtime`` passes the one of ``routilux.executors``.

    Use it as a context manager to shut it down on exit::

        with Runtime(thread_pool_size=4) as runtime:
            worker_state = runtime.exec("pipeline", entry_params={"data": "Hello"})
            runtime.wait_until_all_jobs_finished(timeout=5)
    """

    def __init__(
        self,
        thread_pool_size: int | None = None,
        *,
        registry: FlowRegistry | None = None,
        clock: Clock | None = None,
        executor: Executor | str | RemoteExecutor | None = None,
        max_idle_workers: int = DEFAULT_MAX_IDLE_WORKERS,
        remote_executors: Callable[[str], Any] | None = None,
    ) -> None:
        if thread_pool_size is None:
            thread_pool_size = min(32, (os.cpu_count() or 1) + 4)
        _check.count("thread_pool_size", thread_pool_size, minimum=1)
        _check.count("max_idle_workers", max_idle_workers, minimum=0)
        if registry is not None and not isinstance(registry, FlowRegistry):
            raise TypeError(f"registry must be a FlowRegistry, got {type(registry).__name__}")
        if clock is not None and not callable(getattr(clock, "monotonic", None)):
            raise TypeError("clock must have a monotonic() method (see routilux.core.clock)")
        drainers, default_remote = split_executor(executor, remote_executors)
        self.thread_pool_size = thread_pool_size
        self.registry = registry or FlowRegistry.get_instance()
        self.runtime_id = f"runtime-{next(_engine_ids)}"
        self._pool: DaemonPool | ExecutorPool = (
            ExecutorPool(drainers)
            if drainers is not None
            else DaemonPool(thread_pool_size, f"routilux-{self.runtime_id}")
        )
        self._timers = DelayedCalls(clock)
        self._lock = threading.Lock()
        self._workers: dict[str, Worker] = {}
        self._newest: dict[str, Worker] = {}  # flow name -> its newest worker
        self._worker_ids = itertools.count(1)
        self._one_shot: collections.deque[Worker] = collections.deque()
        self._max_idle_workers = max_idle_workers
        self._observers: list[Observer] = []
        # Counted under a plain lock (jobs open and close once per post); the condition on
        # the same lock is only for wait_until_all_jobs_finished.
        self._jobs_lock = threading.Lock()
        self._jobs_changed = threading.Condition(self._jobs_lock)
        self._unfinished_jobs = 0
        # A KeyboardInterrupt or SystemExit raised by logic in a pool thread, to raise again
        # in the thread that waits (a pool thread would swallow it).
        self._interrupt: BaseException | None = None
        self._loop: AsyncLoop | None = None  # started with the first async routine
        self._remote = RemoteExecutors(default_remote, remote_executors)
        self._closed = False

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.runtime_id}: {len(self._workers)} workers>"

    def __enter__(self) -> Engine:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.shutdown(wait=exc is None)

    # -- starting and posting --------------------------------------------------------------

    def exec(
        self,
        flow: str | Flow,
        entry_params: dict[str, Any] | None = None,
        *,
        worker_id: str | None = None,
    ) -> WorkerState:
        """Start a worker for ``flow`` (a registered name or a Flow) and return its state.

        With ``entry_params``, also post them to the flow's entry slot: the one slot that no
        connection feeds. When the flow has several, raises ConfigurationError; use
        :meth:`post` and name the slot.

        Calling it once per request is fine: a worker started with ``entry_params`` and no
        ``worker_id`` is a one-request worker, and once it is idle (no jobs, no observer of
        its own, not paused) and more than ``max_idle_workers`` such workers exist, the
        oldest is retired: stopped and forgotten by the engine (its WorkerState stays
        readable). So memory stays bounded whatever the call pattern. Name the worker
        (``worker_id=``) or leave out ``entry_params`` to keep a worker until shutdown.
        """
        one_shot = entry_params is not None and worker_id is None
        worker = self.start_worker(flow, worker_id)
        if entry_params is not None:
            self._post_entry(worker, entry_params)
            if one_shot:
                self._retire_idle_one_shots(worker)
        return worker.state

    def _post_entry(self, worker: Worker, entry_params: dict[str, Any]) -> None:
        """Post ``entry_params`` to the flow's one entry slot."""
        entries = worker.flow.entry_slots()
        if len(entries) != 1:
            listed = ", ".join(f"{r}.{s}" for r, s in entries) or "none"
            raise ConfigurationError(
                f"flow {worker.flow_name!r} has {len(entries)} entry slots ({listed}); "
                "exec(entry_params=...) needs exactly one: use runtime.post(flow, "
                "routine_id, slot, data) instead"
            )
        routine_id, slot = entries[0]
        worker.post(routine_id, slot, entry_params)

    def post(
        self,
        flow: str | Flow,
        routine_id: str,
        slot_name: str,
        data: Any = None,
        worker_id: str | None = None,
        *,
        metadata: dict[str, Any] | None = None,
        job_id: str | None = None,
        block: bool | None = None,
        timeout: float | None = None,
    ) -> tuple[WorkerState, JobContext]:
        """Post ``data`` to ``routine_id``'s ``slot_name`` as a new job.

        Without ``worker_id`` it goes to the flow's running worker (the newest one, if
        several), which is started if there is none. Dicts are copied, so changing yours
        afterwards does not change the job's data.

        Into a full bounded slot, ``block`` (default: the slot's ``on_full``) waits for
        room, at most ``timeout`` seconds (default: the slot's ``block_timeout``), then
        raises :class:`~routilux.SlotQueueFullError` naming the slot.

        ``job_id`` names the new job (default: a new random id); it must not be the id of
        a job this runtime is running, nor (with a store) of a job the store holds.

        Returns:
            The worker's state and the new job's context.
        """
        worker = self.worker_for(flow, worker_id)
        job = worker.post(
            routine_id,
            slot_name,
            data,
            metadata=metadata,
            job_id=job_id,
            block=block,
            timeout=timeout,
        )
        return worker.state, job

    def _check_new_job_id(self, job_id: object) -> None:
        """Refuse a caller's job id that is not a name, or that an unfinished job of this
        runtime has (two jobs of one id would share waits, histories and checkpoints).
        Every post that names its job's id comes here first (``Worker.post``)."""
        if not isinstance(job_id, str) or not job_id:
            raise ConfigurationTypeError(
                f"job_id must be a non-empty string, got {type(job_id).__name__} {job_id!r}"
            )
        with self._lock:
            workers = list(self._workers.values())
        for worker in workers:
            if worker.has_job(job_id):
                raise ConfigurationError(
                    f"job_id {job_id!r} is taken: an unfinished job of worker "
                    f"{worker.worker_id} has it"
                )

    def worker_for(self, flow: str | Flow, worker_id: str | None = None) -> Worker:
        """The worker a post to ``flow`` goes to: ``worker_id``'s, or the flow's newest
        running worker, started if none runs."""
        flow_name = _flow_name(flow)
        if worker_id is not None:
            worker = self.get_worker(worker_id)
            if worker.flow_name != flow_name:
                raise ConfigurationError(
                    f"worker {worker_id!r} runs flow {worker.flow_name!r}, not {flow_name!r}"
                )
            return worker
        # The newest worker of each flow, remembered: posting in a loop skips the search.
        newest = self._newest.get(flow_name)
        if newest is not None and not newest._stopped:
            return newest
        with self._lock:
            for worker in reversed(self._workers.values()):
                if worker.flow_name == flow_name and not worker._stopped:
                    self._newest[flow_name] = worker
                    return worker
        return self.start_worker(flow, None)

    def start_worker(self, flow: str | Flow, worker_id: str | None = None) -> Worker:
        """Start a new worker for ``flow`` (a registered name or a Flow) and return it.

        Raises:
            ConfigurationError: The flow is unknown or invalid (every problem is listed), or
                ``worker_id`` is taken.
            StateError: The engine is shut down.
        """
        if self._closed:
            raise StateError(f"{self.runtime_id} is shut down; create a new Runtime")
        if isinstance(flow, Flow):
            flow_obj, flow_name = flow, flow.flow_id
        elif isinstance(flow, str):
            flow_obj, flow_name = self.registry.get_by_name(flow), flow
        else:
            raise TypeError(f"flow must be a Flow or a flow name, got {type(flow).__name__}")
        if worker_id is not None and not isinstance(worker_id, str):
            raise TypeError(f"worker_id must be a string, got {type(worker_id).__name__}")
        problems = flow_obj.validate()
        if problems:
            raise ConfigurationError(
                f"flow {flow_name!r} cannot start:\n" + "\n".join(f"  - {p}" for p in problems)
            )
        self._remote.prepare(flow_obj, flow_name)
        with self._lock:
            if worker_id is None:
                worker_id = f"{flow_name}-{next(self._worker_ids)}"
            elif worker_id in self._workers:
                raise ConfigurationError(f"duplicate worker id {worker_id!r}")
            worker = Worker(self, flow_obj, flow_name, worker_id)
            self._workers[worker_id] = worker
            self._newest[flow_name] = worker
        return worker

    def _retire_idle_one_shots(self, newest: Worker) -> None:
        """Keep at most ``max_idle_workers`` idle one-request workers (see :meth:`exec`)."""
        retire: list[Worker] = []
        with self._lock:
            self._one_shot.append(newest)
            excess = len(self._one_shot) - self._max_idle_workers
            if excess <= 0:
                return
            kept: collections.deque[Worker] = collections.deque()
            # Oldest first; busy ones stay (they are looked at again on a later call).
            for worker in self._one_shot:
                if excess > 0 and worker is not newest and (worker.is_stopped or _is_idle(worker)):
                    excess -= 1
                    self._workers.pop(worker.worker_id, None)
                    if self._newest.get(worker.flow_name) is worker:
                        del self._newest[worker.flow_name]
                    retire.append(worker)
                else:
                    kept.append(worker)
            self._one_shot = kept
        for worker in retire:
            worker.stop()

    def _async_loop(self) -> AsyncLoop:
        """The event loop ``async def`` logic is awaited on, started on first use."""
        loop = self._loop
        if loop is None:
            # asyncio costs tens of milliseconds to import: only flows with async logic pay.
            from routilux.core._loop import AsyncLoop

            with self._lock:
                if self._loop is None:
                    self._loop = AsyncLoop(f"routilux-{self.runtime_id}-loop")
                loop = self._loop
        return loop

    def _remote_executor(self, kind: str | None) -> Any:
        """The executor of remote routines whose options name ``kind`` (None: the engine's
        default); see :class:`~routilux.core._executors.RemoteExecutors`."""
        return self._remote.get(kind)

    # -- workers -------------------------------------------------------------------------

    def get_worker(self, worker_id: str) -> Worker:
        with self._lock:
            worker = self._workers.get(worker_id)
        if worker is None:
            raise ConfigurationError(f"unknown worker {worker_id!r} (known: {self.worker_ids})")
        return worker

    @property
    def worker_ids(self) -> list[str]:
        with self._lock:
            return list(self._workers)

    @property
    def workers(self) -> list[Worker]:
        """Every worker, oldest first."""
        with self._lock:
            return list(self._workers.values())

    def workers_of(self, flow_name: str) -> list[Worker]:
        """The workers running ``flow_name``, oldest first."""
        with self._lock:
            return [w for w in self._workers.values() if w.flow_name == flow_name]

    def stop_worker(self, worker_id: str) -> None:
        """Cancel a worker's jobs and stop it."""
        self.get_worker(worker_id).stop()

    def cancel(self, job: JobContext) -> None:
        """Cancel ``job``: its queued data is dropped and it ends as cancelled."""
        self.get_worker(job.worker_id).cancel_job(job)

    # -- observers -------------------------------------------------------------------------

    def add_observer(self, observer: Observer) -> None:
        """Attach ``observer`` to every worker of this runtime, present and future."""
        if not isinstance(observer, Observer):
            raise TypeError(f"observer must be an Observer, got {type(observer).__name__}")
        with self._lock:
            self._observers.append(observer)
            workers = list(self._workers.values())
        for worker in workers:
            worker.refresh_hooks()

    def remove_observer(self, observer: Observer) -> None:
        with self._lock:
            if observer in self._observers:
                self._observers.remove(observer)
            workers = list(self._workers.values())
        for worker in workers:
            worker.refresh_hooks()

    # -- waiting and stopping --------------------------------------------------------------

    def _job_opened(self) -> None:
        with self._jobs_lock:
            self._unfinished_jobs += 1

    def _job_closed(self) -> None:
        with self._jobs_lock:
            self._unfinished_jobs -= 1
            if self._unfinished_jobs == 0:
                self._jobs_changed.notify_all()

    def _note_interrupt(self, exc: BaseException | None) -> None:
        """Keep a KeyboardInterrupt / SystemExit from logic to raise in the waiting thread."""
        if isinstance(exc, (KeyboardInterrupt, SystemExit)):
            with self._jobs_lock:
                if self._interrupt is None:
                    self._interrupt = exc

    def _take_interrupt(self, exc: BaseException) -> None:
        """``exc`` is being raised elsewhere (by ``step()``): do not raise it again."""
        with self._jobs_lock:
            if self._interrupt is exc:
                self._interrupt = None

    def wait_until_all_jobs_finished(self, timeout: float | None = None) -> bool:
        """Block until every job of every worker is finished; False if ``timeout`` ran out.

        If logic raised ``KeyboardInterrupt`` or ``SystemExit`` in a pool thread, its job
        failed and the exception is raised here (once), where the user can handle it.
        """
        timeout = _check.timeout(timeout)
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._jobs_changed:
            while self._unfinished_jobs:
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    break
                self._jobs_changed.wait(remaining)
            finished = self._unfinished_jobs == 0
            interrupt, self._interrupt = self._interrupt, None
        if interrupt is not None:
            raise interrupt
        return finished

    def shutdown(self, wait: bool = True, timeout: float | None = None) -> list[ActivationRecord]:
        """Stop taking work; with ``wait``, let running jobs finish first (up to ``timeout``).

        Jobs still unfinished afterwards (paused ones, or when the timeout ran out) are
        cancelled. Returns within about ``timeout`` even if some logic never returns: such
        activations are logged and returned (their threads are daemons and end with the
        process). Calling it twice is harmless.

        Returns:
            The activations still running when it gave up waiting (empty if none).
        """
        if timeout is not None and not (
            isinstance(timeout, (int, float)) and not isinstance(timeout, bool) and timeout >= 0
        ):
            raise ValueError(f"timeout must be a number of seconds >= 0 or None, got {timeout!r}")
        deadline = None if timeout is None else time.monotonic() + timeout
        self._closed = True
        with self._lock:
            workers = list(self._workers.values())
        if wait:
            # A paused worker would never finish: its jobs are cancelled, the rest may finish.
            for worker in workers:
                if worker.is_paused:
                    worker.stop()
            with self._jobs_changed:
                while self._unfinished_jobs:
                    remaining = None if deadline is None else deadline - time.monotonic()
                    if remaining is not None and remaining <= 0:
                        break
                    self._jobs_changed.wait(remaining)
        for worker in workers:
            worker.stop()
        self._timers.close()
        remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
        self._pool.shutdown(wait=wait, timeout=remaining)
        if self._loop is not None:
            remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
            self._loop.close(remaining if wait else 0)
        self._remote.close(wait)
        stuck = [a for worker in workers for a in worker.running_activations()]
        if stuck and wait:
            _log.warning(
                "%s shut down with %d activation(s) still running: %s",
                self.runtime_id,
                len(stuck),
                ", ".join(f"{a.routine_id} (job {a.job_id})" for a in stuck),
            )
        return stuck


def _is_idle(worker: Worker) -> bool:
    view = worker.inspect(max_items=0, max_jobs=0)
    return not view.job_count and not view.paused and view.running == 0 and not worker._observers


def _flow_name(flow: str | Flow) -> str:
    if isinstance(flow, Flow):
        return flow.flow_id
    if isinstance(flow, str):
        return flow
    raise TypeError(f"flow must be a Flow or a flow name, got {type(flow).__name__}")
