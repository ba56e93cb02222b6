"""Runtime: starts workers for flows, takes posts, and owns the thread pool."""

from __future__ import annotations

import itertools
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from types import TracebackType
from typing import Any

from routilux.core._timers import DelayedCalls
from routilux.core.errors import ConfigurationError, StateError
from routilux.core.flow import Flow
from routilux.core.hooks import Observer
from routilux.core.job import JobContext
from routilux.core.registry import FlowRegistry
from routilux.core.state import WorkerState
from routilux.core.worker import Worker

__all__ = ["Runtime"]

_runtime_ids = itertools.count(1)


class Runtime:
    """Runs flows: one worker per running flow instance, all on one thread pool.

    Args:
        thread_pool_size: Threads shared by all workers (default: CPU count + 4, at most 32).
            One worker uses at most this many at once.
        registry: Where flow names are looked up (default: ``FlowRegistry.get_instance()``).

    Use it as a context manager to shut it down on exit::

        with Runtime(thread_pool_size=4) as runtime:
            worker_state = runtime.exec("pipeline", entry_params={"data": "Hello"})
            runtime.wait_until_all_jobs_finished(timeout=5)
    """

    def __init__(
        self, thread_pool_size: int | None = None, *, registry: FlowRegistry | None = None
    ) -> None:
        if thread_pool_size is None:
            thread_pool_size = min(32, (os.cpu_count() or 1) + 4)
        if not isinstance(thread_pool_size, int) or thread_pool_size < 1:
            raise ConfigurationError(
                f"thread_pool_size must be a positive integer, got {thread_pool_size!r}"
            )
        self.thread_pool_size = thread_pool_size
        self.registry = registry or FlowRegistry.get_instance()
        self.runtime_id = f"runtime-{next(_runtime_ids)}"
        self._executor = ThreadPoolExecutor(
            max_workers=thread_pool_size, thread_name_prefix=f"routilux-{self.runtime_id}"
        )
        self._timers = DelayedCalls()
        self._lock = threading.Lock()
        self._workers: dict[str, Worker] = {}
        self._newest: dict[str, Worker] = {}  # flow name -> its newest worker
        self._worker_ids = itertools.count(1)
        self._observers: list[Observer] = []
        # Counted under a plain lock (jobs open and close once per post); the condition on
        # the same lock is only for wait_until_all_jobs_finished.
        self._jobs_lock = threading.Lock()
        self._jobs_changed = threading.Condition(self._jobs_lock)
        self._unfinished_jobs = 0
        self._closed = False

    def __repr__(self) -> str:
        return f"<Runtime {self.runtime_id}: {len(self._workers)} workers>"

    def __enter__(self) -> Runtime:
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
        """
        worker = self._start_worker(flow, worker_id)
        if entry_params is not None:
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
        return worker.state

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
    ) -> tuple[WorkerState, JobContext]:
        """Post ``data`` to ``routine_id``'s ``slot_name`` as a new job.

        Without ``worker_id`` it goes to the flow's running worker (the newest one, if
        several), which is started if there is none. Dicts are copied, so changing yours
        afterwards does not change the job's data.

        Returns:
            The worker's state and the new job's context.
        """
        worker = self._worker_for_post(flow, worker_id)
        job = worker.post(routine_id, slot_name, data, metadata=metadata, job_id=job_id)
        return worker.state, job

    def _worker_for_post(self, flow: str | Flow, worker_id: str | None) -> Worker:
        flow_name = flow.flow_id if isinstance(flow, Flow) else flow
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
        return self._start_worker(flow, None)

    def _start_worker(self, flow: str | Flow, worker_id: str | None) -> Worker:
        if self._closed:
            raise StateError(f"{self.runtime_id} is shut down; create a new Runtime")
        if isinstance(flow, Flow):
            flow_obj, flow_name = flow, flow.flow_id
        else:
            flow_obj, flow_name = self.registry.get_by_name(flow), flow
        problems = flow_obj.validate()
        if problems:
            raise ConfigurationError(
                f"flow {flow_name!r} cannot start:\n" + "\n".join(f"  - {p}" for p in problems)
            )
        with self._lock:
            if worker_id is None:
                worker_id = f"{flow_name}-{next(self._worker_ids)}"
            elif worker_id in self._workers:
                raise ConfigurationError(f"duplicate worker id {worker_id!r}")
            worker = Worker(self, flow_obj, flow_name, worker_id)
            self._workers[worker_id] = worker
            self._newest[flow_name] = worker
        return worker

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

    def wait_until_all_jobs_finished(self, timeout: float | None = None) -> bool:
        """Block until every job of every worker is finished; False if ``timeout`` ran out."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._jobs_changed:
            while self._unfinished_jobs:
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return False
                self._jobs_changed.wait(remaining)
        return True

    def shutdown(self, wait: bool = True, timeout: float | None = None) -> None:
        """Stop taking work; with ``wait``, let running jobs finish first (up to ``timeout``).

        Jobs still unfinished afterwards (paused ones, or when the timeout ran out) are
        cancelled. Calling it twice is harmless.
        """
        self._closed = True
        with self._lock:
            workers = list(self._workers.values())
        if wait:
            # A paused worker would never finish: its jobs are cancelled, the rest may finish.
            for worker in workers:
                if worker.is_paused:
                    worker.stop()
            self.wait_until_all_jobs_finished(timeout)
        for worker in workers:
            worker.stop()
        self._timers.close()
        self._executor.shutdown(wait=wait)
