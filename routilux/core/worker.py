"""Worker: one running instance of a flow, and the face debuggers and stores use.

The scheduling itself (posts, routing, drainers, booking) is :class:`~routilux.core.
_scheduler.Scheduler`; this class adds what is done *to* a running worker: observers,
pause / resume / step / stop, inspection, and edits (inject, drop, adopt). Every method here
that reads or changes queues or jobs takes the lock through :meth:`Worker.locked`, which
also moves lock-free posts into their slots first (the inbox rule).

Regular installs compile this module with mypyc (see setup.py); keep it fully typed.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from routilux.core import _check
from routilux.core._hook_table import call_hook
from routilux.core._names import unknown
from routilux.core._node import REMOTE, Node
from routilux.core._scheduler import Scheduler, emit_in_context
from routilux.core.activation import ActivationRecord
from routilux.core.errors import ConfigurationError, ConfigurationTypeError, StateError
from routilux.core.hooks import Observer
from routilux.core.inspection import QueueView, RoutineStats, WorkerView
from routilux.core.job import JobContext
from routilux.core.queue import QueuedItem, SlotQueue
from routilux.core.state import WorkerStatus

if TYPE_CHECKING:
    from routilux.core.routine import Routine

__all__ = ["Worker", "emit_in_context"]


class Worker(Scheduler):
    """Runs one flow. Made by ``Runtime.exec`` / ``Runtime.post`` / ``Runtime.start_worker``."""

    def __repr__(self) -> str:
        return f"<Worker {self.worker_id} flow={self.flow_name!r}>"

    # -- observers -----------------------------------------------------------------------

    def add_observer(self, observer: Observer) -> None:
        """Call ``observer``'s hooks for everything this worker does from now on."""
        if not isinstance(observer, Observer):
            raise TypeError(f"observer must be an Observer, got {type(observer).__name__}")
        with self.locked():
            self._observers.append(observer)
            self._refresh_hooks_locked()

    def remove_observer(self, observer: Observer) -> None:
        with self.locked():
            if observer in self._observers:
                self._observers.remove(observer)
            self._refresh_hooks_locked()

    def refresh_hooks(self) -> None:
        """Ask the observers again which hooks they want (see :meth:`Observer.wants`)."""
        with self.locked():
            self._refresh_hooks_locked()

    # -- the lock ------------------------------------------------------------------------

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the worker's lock with every post in its slot: for debuggers and stores that
        read or edit queues, jobs and states while the worker runs or pauses.

        Inside it, :meth:`inspect`, :attr:`jobs`, :attr:`held` and :meth:`queued` read without
        taking the lock again. Keep the block short: the worker waits for it.
        """
        with self._lock:
            self._take_posts_locked()
            self._lock_owner = threading.get_ident()
            try:
                yield
            finally:
                self._lock_owner = 0

    @contextlib.contextmanager
    def _reading(self) -> Iterator[None]:
        """The lock for a read, unless this thread already holds it through :meth:`locked`."""
        if self._lock_owner == threading.get_ident():
            self._take_posts_locked()
            yield
        else:
            with self.locked():
                yield

    # -- control (used by the debugger) --------------------------------------------------

    @property
    def is_paused(self) -> bool:
        return self._paused

    @property
    def is_stopped(self) -> bool:
        return self._stopped

    def pause(self) -> None:
        """Dispatch nothing new; activations already running finish."""
        with self.locked():
            self._pause_locked()

    def resume(self) -> None:
        """Dispatch again, held activations first."""
        with self._lock:  # adds no data: the inbox can wait for the next reader
            if self._stopped:
                return
            self._paused = False
            self.state._status = WorkerStatus.RUNNING if self._jobs else WorkerStatus.IDLE
            spawn = self._wants_drainer_locked(False)
            self._changed.notify_all()
        if spawn:
            self._start_drainer()

    def wait_until_quiet(self, timeout: float | None = None) -> bool:
        """Wait until the worker is paused and no activation is running (in a drainer or
        on the event loop)."""
        timeout = _check.timeout(timeout)
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._lock:
            self._quiet_waiters += 1
            try:
                while not (self._paused and self._running == 0 and self._offloaded == 0):
                    remaining = None if deadline is None else deadline - time.monotonic()
                    if remaining is not None and remaining <= 0:
                        return False
                    self._changed.wait(remaining)
                return True
            finally:
                self._quiet_waiters -= 1

    def step(self, timeout: float | None = None, *, local: bool = False) -> ActivationRecord | None:
        """Run exactly one activation; the worker stays paused.

        The activation runs where it would have run: in the calling thread, or, for a remote
        routine (``set_remote``), on its executor while this call waits for it. With
        ``local=True`` a remote routine's logic runs in the calling thread instead, with the
        same inputs and state, so ``breakpoint()`` or ``%debug`` work on it.

        Returns the finished record, or None when nothing is ready to run. If the logic
        raised ``KeyboardInterrupt`` or ``SystemExit``, its job fails and the exception is
        raised here, in the thread that stepped.

        Args:
            timeout: Seconds to wait for running activations to finish before stepping.
            local: Run a remote routine's logic here, not on its executor.
        """
        with self._lock:
            if not self._paused:
                raise StateError("step() needs a paused worker: pause() it first")
        if not self.wait_until_quiet(timeout):
            raise StateError(f"an activation did not finish within {timeout}s; cannot step")
        with self.locked():
            activation = self._next_locked(False)
            if activation is None:
                return None
            node = activation._node
            remote = node.remote if node.dispatch == REMOTE and not local else None
            if remote is not None:
                self._offloaded += 1  # completed (and booked) by the executor
            else:
                self._running += 1
        if remote is not None:
            try:
                executor = self.runtime._remote_executor(remote.executor)
            except BaseException as exc:  # cannot happen once the flow started; never wedge
                activation.error = exc
                self._complete(activation)
                raise
            executor.submit(self, activation)
            # Completed (and booked) by the executor, whatever happens remotely; its options'
            # timeout bounds an attempt there.
            with self._lock:
                self._quiet_waiters += 1
                try:
                    while self._offloaded:
                        self._changed.wait()
                finally:
                    self._quiet_waiters -= 1
            return activation
        try:
            self._run_inline(activation)
        finally:
            with self._lock:
                self._running -= 1
                self._book_locked(activation)
                if self._quiet_waiters and self._running == 0:
                    self._changed.notify_all()
                spawn = self._wants_drainer_locked(False)  # resumed while we stepped
            if spawn:
                self._start_drainer()
        error = activation.error
        if isinstance(error, (KeyboardInterrupt, SystemExit)):
            self.runtime._take_interrupt(error)
            raise error
        return activation

    def stop(self) -> None:
        """Cancel every unfinished job, drop all queued data and accept nothing more."""
        with self.locked():
            self._candidates.clear()
            self._held.clear()
            self._stopped = True
            self._paused = False
            for job in list(self._jobs.values()):
                self._stop_job_locked(job, None)
                self._finish_job_locked(job)
            # Activations waiting for another attempt end with their last error.
            while self._retries:
                self._book_locked(self._retries.popleft())
            self.state._status = WorkerStatus.STOPPED
            self._changed.notify_all()

    def cancel_job(self, job: JobContext) -> None:
        """Drop ``job``'s queued data; it ends as cancelled once nothing of it runs.

        A job that has already finished is left as it is.

        Raises:
            ConfigurationError: ``job`` is not a job of this worker.
        """
        if not isinstance(job, JobContext):
            raise ConfigurationTypeError(
                f"cancel_job() takes a JobContext, got {type(job).__name__} {job!r:.60}"
            )
        with self.locked():
            if self._jobs.get(job.job_id) is not job:
                if job.status.finished:
                    return
                raise ConfigurationError(
                    f"job {job.job_id} is not a job of worker {self.worker_id} (it runs in "
                    f"worker {job.worker_id})"
                )
            self._stop_job_locked(job, None)
            self._candidates = deque((n, j) for n, j in self._candidates if j is not job)
            self._held = deque(a for a in self._held if a.job is not job)
            # Ends now; an activation of it still running finishes without effect on others.
            self._finish_job_locked(job)

    # -- inspection ----------------------------------------------------------------------

    def inspect(self, max_items: int | None = 20, max_jobs: int | None = None) -> WorkerView:
        """Read held activations, queues, jobs and counters together, at one instant.

        Args:
            max_items: How many queued items to copy per slot (the oldest); None copies all.
                The lock is held only for the copy, so keep it small on big queues.
            max_jobs: How many unfinished jobs to copy (the oldest); None copies all.
                :attr:`WorkerView.job_count` counts all of them either way.
        """
        for name, value in (("max_items", max_items), ("max_jobs", max_jobs)):
            if value is not None and (
                not isinstance(value, int) or isinstance(value, bool) or value < 0
            ):
                raise ValueError(f"{name} must be an int >= 0 or None, got {value!r}")
        with self._reading():
            queues = {
                rid: {
                    name: QueueView(len(q._items), _first(q._items, max_items))
                    for name, q in node.queues.items()
                }
                for rid, node in self.nodes.items()
            }
            stats = {
                rid: RoutineStats(node.activations, node.failures)
                for rid, node in self.nodes.items()
            }
            return WorkerView(
                worker_id=self.worker_id,
                flow_name=self.flow_name,
                status=self.state.status,
                paused=self._paused,
                running=self._running,
                held=tuple(self._held),
                queues=queues,
                jobs=_first_jobs(self._jobs, max_jobs),
                stats=stats,
                job_count=len(self._jobs),
            )

    def has_job(self, job_id: str) -> bool:
        """Whether an unfinished job of this worker (or one just posted to it) has
        ``job_id``. Reads without the worker's lock: a post checks every worker with it, and
        may come from a thread that holds another worker's lock."""
        if job_id in self._jobs:
            return True
        return any(job.job_id == job_id for _, _, _, job in list(self._inbox))

    @property
    def jobs(self) -> list[JobContext]:
        """The unfinished jobs."""
        with self._reading():
            return list(self._jobs.values())

    @property
    def held(self) -> list[ActivationRecord]:
        """Activations parked by a breakpoint, next to run first."""
        with self._reading():
            return list(self._held)

    def queue(self, routine_id: str, slot: str) -> SlotQueue:
        node = self._node(routine_id)
        try:
            return node.queues[slot]
        except KeyError:
            raise ConfigurationError(
                unknown("slot", slot, node.queues, f"routine {routine_id!r}")
            ) from None

    def queued(self) -> dict[str, dict[str, list[Any]]]:
        """``{routine_id: {slot: [data, ...]}}`` for every slot, oldest first."""
        with self._reading():
            return {
                rid: {name: q.peek() for name, q in node.queues.items()}
                for rid, node in self.nodes.items()
            }

    def node_for(self, routine: Routine) -> Node:
        for node in self.nodes.values():
            if node.routine is routine:
                return node
        raise ConfigurationError(f"{routine!r} is not part of flow {self.flow_name!r}")

    # -- edits ---------------------------------------------------------------------------

    def inject(self, routine_id: str, slot: str, data: Any, job: JobContext | None = None) -> None:
        """Queue ``data`` in a slot as if it had been routed there (for a job, or a new one).

        Raises:
            ConfigurationError: An unknown routine or slot, or ``job`` is not an unfinished
                job of this worker (checked before anything is queued).
        """
        queue = self.queue(routine_id, slot)
        node = self.nodes[routine_id]
        if job is not None and not isinstance(job, JobContext):
            raise ConfigurationTypeError(
                f"job must be a JobContext of this worker or None (a new job), got "
                f"{type(job).__name__} {job!r:.60}"
            )
        with self.locked():
            if job is None:
                job = self._open_job_locked()
            elif self._jobs.get(job.job_id) is not job:
                raise ConfigurationError(
                    f"job {job.job_id} is not an unfinished job of worker {self.worker_id} "
                    f"(it is {job.status.value}, in worker {job.worker_id}); inject into one "
                    "of worker.jobs, or pass None for a new job"
                )
            self._enqueue_locked(node, queue, QueuedItem(data, job), job)
            job.inflight += 1
            spawn = self._wants_drainer_locked(False)
        if spawn:
            self._start_drainer()

    def adopt(self, job: JobContext, queued: list[tuple[str, str, QueuedItem]]) -> None:
        """Take over ``job`` with data already waiting in slots (resuming or forking a job).

        Each ``(routine_id, slot, item)`` is queued as if it had just arrived; the items keep
        their ``uid`` so a store can match them with what it recorded.
        """
        resolved = [(self._node(rid), self.queue(rid, slot), item) for rid, slot, item in queued]
        with self.locked():
            if self._stopped:
                raise StateError(f"worker {self.worker_id} is stopped")
            job.worker_id = self.worker_id
            self._jobs[job.job_id] = job
            self.runtime._job_opened()
            self.state._status = WorkerStatus.PAUSED if self._paused else WorkerStatus.RUNNING
            for hook in self._hooks.job_started:
                call_hook(hook, self, job)
            for node, queue, item in resolved:
                item.job = job
                self._enqueue_locked(node, queue, item, job)
            job.inflight += len(resolved)
            if job.inflight == 0:
                self._finish_job_locked(job)
            spawn = self._wants_drainer_locked(False)
        if spawn:
            self._start_drainer()

    def drop(self, routine_id: str, slot: str, index: int) -> Any:
        """Remove the data point at ``index`` (0 is the oldest) from a slot; return its data."""
        queue = self.queue(routine_id, slot)
        with self.locked():
            try:
                item = queue.remove_at(index)
            except IndexError:
                raise ConfigurationError(
                    f"slot {routine_id}.{slot} has {len(queue)} queued items; no index {index}"
                ) from None
            for hook in self._hooks.slot_dropped:
                call_hook(hook, self, routine_id, slot, item)
        return item.data

    def hold_completion(self, job: JobContext) -> Callable[[], None]:
        """Keep ``job`` from being done until the returned function is called (call it once).

        While held, a job that finished has its final ``status`` but is not done yet: its
        ``wait()`` blocks, ``is_finished`` is False, and the runtime counts it as unfinished
        (``wait_until_all_jobs_finished``, ``shutdown``). The store holds each job it records
        until the job's last checkpoint is committed, so that a job whose ``wait()`` returned
        is entirely in the file. Observers call it from ``job_started``; it takes no lock the
        worker holds. Whoever holds a job must release it, whatever happens (removing the
        observer does not): until then the job's waiters wait.
        """
        job._hold()
        runtime = self.runtime

        def release() -> None:
            if job._release():
                runtime._job_closed()

        return release

    def running_activations(self) -> list[ActivationRecord]:
        """The activation each live drainer thread took last: at a shutdown that timed out,
        the ones still running."""
        with self._lock:
            return [cell.activation for cell in self._cells if cell.activation is not None]


def _first_jobs(jobs: dict[str, JobContext], n: int | None) -> tuple[JobContext, ...]:
    if n is None or n >= len(jobs):
        return tuple(jobs.values())
    out: list[JobContext] = []
    for job in jobs.values():
        if len(out) >= n:
            break
        out.append(job)
    return tuple(out)


def _first(items: deque[QueuedItem], n: int | None) -> tuple[QueuedItem, ...]:
    if n is None or n >= len(items):
        return tuple(items)
    out: list[QueuedItem] = []
    for item in items:
        if len(out) >= n:
            break
        out.append(item)
    return tuple(out)
