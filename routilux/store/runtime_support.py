"""Runtime integration: a Runtime that records into a store, resumes and forks jobs.

``routilux.runtime.Runtime`` builds on :class:`StoreRuntime`, so ``Runtime(store="jobs.db")``
records every job; :func:`attach_store` does the same for a runtime made elsewhere.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from routilux.core.errors import StateError
from routilux.core.flow import Flow
from routilux.core.job import JobContext
from routilux.core.registry import FlowRegistry
from routilux.core.runtime import Runtime
from routilux.core.state import WorkerState
from routilux.store.codec import encode
from routilux.store.fork import fork as fork_job
from routilux.store.recorder import StoreRecorder
from routilux.store.records import JobRow
from routilux.store.resume import resume as resume_jobs
from routilux.store.resume import unfinished_jobs
from routilux.store.sqlite import SqliteStore

__all__ = ["StoreRuntime", "attach_store"]

StoreLike = SqliteStore | str | os.PathLike[str]


def attach_store(runtime: Runtime, store: StoreLike) -> StoreRecorder:
    """Record everything ``runtime``'s workers do into ``store`` (a store or a file path)."""
    recorder = StoreRecorder(store if isinstance(store, SqliteStore) else SqliteStore(store))
    runtime.add_observer(recorder)
    return recorder


class StoreRuntime(Runtime):
    """A :class:`~routilux.core.runtime.Runtime` that can checkpoint jobs into a store.

    Args:
        thread_pool_size: As for the core Runtime.
        registry: As for the core Runtime.
        store: A :class:`SqliteStore` or the path of its file (created on first use). A
            store opened from a path is closed by :meth:`shutdown`. None: no recording.

    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "jobs.db"
    >>> with StoreRuntime(store=path) as runtime:
    ...     runtime.unfinished_jobs()
    []
    """

    def __init__(
        self,
        thread_pool_size: int | None = None,
        *,
        registry: FlowRegistry | None = None,
        store: StoreLike | None = None,
    ) -> None:
        super().__init__(thread_pool_size, registry=registry)
        self._recorder: StoreRecorder | None = None
        self._owns_store = store is not None and not isinstance(store, SqliteStore)
        if store is not None:
            self._recorder = attach_store(self, store)

    @property
    def store(self) -> SqliteStore | None:
        """The store jobs are recorded in, or None."""
        return self._recorder.store if self._recorder is not None else None

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
    ) -> WorkerState:
        if self._recorder is not None and entry_params is not None:
            encode(entry_params, f"entry_params of flow {_name(flow)!r}")
        return super().exec(flow, entry_params, worker_id=worker_id)

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
        if self._recorder is not None:
            # Checked before queuing: a post the store cannot record is refused, not lost.
            encode(data, f"data posted to routine {routine_id!r} slot {slot_name!r}")
            encode(metadata, f"metadata of a job posted to {routine_id!r}")
            if job_id is not None:
                self._recorder.expect_known_id(job_id)
        return super().post(
            flow, routine_id, slot_name, data, worker_id, metadata=metadata, job_id=job_id
        )

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

    def shutdown(self, wait: bool = True, timeout: float | None = None) -> None:
        recorder = self._recorder
        if recorder is not None:
            recorder.closing()  # jobs the shutdown cancels stay resumable
        super().shutdown(wait, timeout)
        if recorder is not None:
            recorder.release_leases()
            if self._owns_store:
                recorder.store.close()


def _name(flow: str | Flow) -> str:
    return flow.flow_id if isinstance(flow, Flow) else flow
