"""Runtime: the class users create. The engine, with the debugger and the store as parts.

``from routilux import Runtime`` and ``from routilux.runtime import Runtime`` (as the seed
examples write) give this class. :class:`routilux.core.Engine` is the engine alone.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from concurrent.futures import Executor
from typing import Any

from routilux.core.clock import Clock
from routilux.core.engine import DEFAULT_MAX_IDLE_WORKERS, Engine
from routilux.core.errors import ConfigurationError, StateError
from routilux.core.flow import Flow
from routilux.core.job import JobContext
from routilux.core.registry import FlowRegistry
from routilux.core.remote import RemoteExecutor
from routilux.core.state import WorkerState
from routilux.debug.session import DebugSession
from routilux.store.codec import encode
from routilux.store.fork import fork as fork_job
from routilux.store.job_state import JobState
from routilux.store.recorder import StoreRecorder
from routilux.store.records import JobRow
from routilux.store.resume import resume as resume_jobs
from routilux.store.resume import unfinished_jobs
from routilux.store.runtime_support import StoreLike, attach_store
from routilux.store.sqlite import SqliteStore

__all__ = ["Runtime"]


class Runtime(Engine):
    """Runs flows on a pool of threads; debug them, and checkpoint them into a store.

    Args:
        thread_pool_size: Threads shared by all workers (default: CPU count + 4, at most 32).
        registry: Where flow names are looked up (default: the global ``FlowRegistry``).
        store: A store (:class:`~routilux.SqliteStore`, ``PostgresStore``), the path of a
            SQLite file (created on first use), or a URL (``"sqlite:///jobs.db"``,
            ``"postgresql://user@host/db"``): every activation is checkpointed into it, and
            :meth:`resume`, :meth:`fork` and :meth:`unfinished_jobs` use those checkpoints.
            A store opened from a path or a URL is closed by :meth:`shutdown`. None (the
            default): no recording.
        clock: What delays are measured on (``routilux.core.clock.ManualClock`` in tests).
        executor: Where remote routines run when their options name no executor
            (``routine.set_remote(True)``, ``flow.set_remote(True)``, ``@remote``):
            ``"processes"``, ``"dask"``, ``"dask://host:port"`` or an executor object
            such as ``DaskExecutor(address=None)`` (closed by :meth:`shutdown`). A
            ``concurrent.futures.Executor`` instead runs the drainer threads (default: the
            runtime's own daemon threads). See the guide's "Running logic in processes or
            on Dask".
        max_idle_workers: How many finished one-request workers to keep (see :meth:`exec`).

    The parts: :meth:`debug` opens a :class:`~routilux.debug.DebugSession` on a flow's
    worker; :attr:`store` is the store, or None.

    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "jobs.db"
    >>> with Runtime(store=path) as runtime:
    ...     runtime.unfinished_jobs()
    []
    """

    def __init__(
        self,
        thread_pool_size: int | None = None,
        *,
        registry: FlowRegistry | None = None,
        store: StoreLike | None = None,
        clock: Clock | None = None,
        executor: Executor | str | RemoteExecutor | None = None,
        max_idle_workers: int = DEFAULT_MAX_IDLE_WORKERS,
    ) -> None:
        is_store_object = hasattr(store, "write_batch") and hasattr(store, "history")
        if store is not None and not isinstance(store, (str, os.PathLike)) and not is_store_object:
            raise TypeError(
                "store must be a store (SqliteStore, PostgresStore), a file path or a URL, "
                f"got {type(store).__name__}"
            )
        super().__init__(
            thread_pool_size,
            registry=registry,
            clock=clock,
            executor=executor,
            max_idle_workers=max_idle_workers,
            remote_executors=_remote_executor,
        )
        self._recorder: StoreRecorder | None = None
        # A store opened here, from a path or a URL, is closed by shutdown(); one passed in
        # as an object belongs to the caller.
        self._owns_store = isinstance(store, (str, os.PathLike))
        if store is not None:
            self._recorder = attach_store(self, store)

    # -- the debugger --------------------------------------------------------------------

    def debug(self, flow_name: str | Flow, **options: Any) -> DebugSession:
        """A debug session on the worker running ``flow_name`` (a name or a Flow; its worker
        is started if none runs).

        Options are those of :class:`~routilux.debug.DebugSession`.
        """
        return DebugSession(self, flow_name, **options)

    # -- the store -----------------------------------------------------------------------

    @property
    def store(self) -> SqliteStore | None:
        """The store jobs are recorded in, or None."""
        return self._recorder.store if self._recorder is not None else None

    def _check_new_job_id(self, job_id: object) -> None:
        super()._check_new_job_id(job_id)
        recorder = self._recorder
        if recorder is not None and recorder.store.job_key(str(job_id)) is not None:
            raise ConfigurationError(
                f"job_id {job_id!r} is taken: {recorder.store} holds a job of that id (a post "
                "starts a new job; runtime.resume() or runtime.fork() continue a stored one)"
            )

    def _require_recorder(self) -> StoreRecorder:
        if self._recorder is None:
            raise StateError("this runtime has no store: create it with Runtime(store=...)")
        return self._recorder

    def exec(
        self,
        flow: str | Flow,
        entry_params: dict[str, Any] | None = None,
        *,
        worker_id: str | None = None,
        worker_state: WorkerState | None = None,
        job_state: WorkerState | JobState | None = None,
    ) -> WorkerState:
        """Start a worker for ``flow`` and return its state (see :meth:`Engine.exec`).

        Args:
            flow: A registered flow name or a Flow.
            entry_params: Posted to the flow's one entry slot as a new job.
            worker_id: Name the worker (it is then kept until shutdown).
            worker_state: A saved :class:`~routilux.WorkerState` (``WorkerState.load``) to
                start from: its routine states, ``shared_data`` and ``shared_log`` are
                copied into the new worker before anything is posted.
            job_state: What seed code passes: a WorkerState as above, or a
                :class:`~routilux.JobState` (a job's snapshot), whose job then runs on in
                the new worker from where it was saved.

        Raises:
            ConfigurationError: Both ``worker_state`` and ``job_state`` were given, or a
                state belongs to another flow.
            TypeError: A state of another type.
        """
        if self._recorder is not None and entry_params is not None:
            encode(entry_params, f"entry_params of flow {_name(flow)!r}")
        if worker_state is not None and job_state is not None:
            raise ConfigurationError("give worker_state= or job_state=, not both")
        saved = worker_state if worker_state is not None else job_state
        if saved is None:
            return super().exec(flow, entry_params, worker_id=worker_id)
        if not isinstance(saved, (WorkerState, JobState)):
            raise TypeError(
                "worker_state / job_state must be a WorkerState or a JobState "
                f"(WorkerState.load / JobState.load), got {type(saved).__name__}"
            )
        if saved.flow_name != _name(flow):
            raise ConfigurationError(
                f"the saved state belongs to flow {saved.flow_name!r}, not {_name(flow)!r}"
            )
        worker = self.start_worker(flow, worker_id)
        if isinstance(saved, WorkerState):
            saved.copy_into(worker.state)
        else:
            saved.resume_in(worker)
        if entry_params is not None:
            super()._post_entry(worker, entry_params)
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
        block: bool | None = None,
        timeout: float | None = None,
    ) -> tuple[WorkerState, JobContext]:
        recorder = self._recorder
        if recorder is not None:
            # Checked before queuing: a post the store cannot record is refused, not lost.
            data_json = encode(  # as the worker queues it: None is an empty dict
                {} if data is None else data,
                f"data posted to routine {routine_id!r} slot {slot_name!r}",
            )
            encode(metadata, f"metadata of a job posted to {routine_id!r}")
            recorder.posting(data_json)
        try:
            return super().post(
                flow,
                routine_id,
                slot_name,
                data,
                worker_id,
                metadata=metadata,
                job_id=job_id,
                block=block,
                timeout=timeout,
            )
        finally:
            if recorder is not None:
                recorder.posting(None)

    post.__doc__ = Engine.post.__doc__

    def unfinished_jobs(self) -> list[JobRow]:
        """Jobs the store holds as pending or running (e.g. left by a crash)."""
        return unfinished_jobs(self._require_recorder().store)

    def resume(
        self,
        job_id: str | None = None,
        *,
        flows: Mapping[str, Flow] | None = None,
        paused: bool = False,
    ) -> list[JobContext]:
        """Resume one job, or every unfinished one; see :func:`routilux.store.resume`."""
        return resume_jobs(self, self._require_recorder(), job_id, flows=flows, paused=paused)

    def fork(
        self,
        job_id: str,
        step: int,
        *,
        flows: Mapping[str, Flow] | None = None,
        paused: bool = False,
    ) -> JobContext:
        """A new job from the state after ``step`` of ``job_id`` (see ``routilux.store.fork``)."""
        return fork_job(self, self._require_recorder(), job_id, step, flows=flows, paused=paused)

    def shutdown(self, wait: bool = True, timeout: float | None = None) -> list[Any]:
        recorder = self._recorder
        if recorder is not None:
            recorder.closing()  # jobs the shutdown cancels stay resumable, as after a crash
        stuck = super().shutdown(wait, timeout)
        if recorder is not None:
            recorder.release_leases()
            if self._owns_store:
                recorder.store.close()
        return stuck

    shutdown.__doc__ = Engine.shutdown.__doc__


def _remote_executor(kind: str) -> Any:
    """The executor of remote routines on ``kind``; its extra loads only now."""
    from routilux.executors import make_executor

    return make_executor(kind)


def _name(flow: str | Flow) -> str:
    return flow.flow_id if isinstance(flow, Flow) else flow
