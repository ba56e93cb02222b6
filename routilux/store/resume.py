"""Resuming jobs a crashed (or stopped) process left unfinished, from their checkpoints."""

from __future__ import annotations

from collections.abc import Mapping

from routilux.core.engine import Engine
from routilux.core.errors import StateError
from routilux.core.flow import Flow
from routilux.core.job import JobContext
from routilux.store._restore import adopt_rows, flow_for, latest_states, start_worker
from routilux.store.recorder import StoreRecorder
from routilux.store.records import JobRow
from routilux.store.sqlite import SqliteStore

__all__ = ["resume", "unfinished_jobs"]


def unfinished_jobs(store: SqliteStore) -> list[JobRow]:
    """The jobs the store holds as pending or running, oldest first."""
    return store.jobs(unfinished=True)


def resume(
    runtime: Engine,
    recorder: StoreRecorder,
    job_id: str | None = None,
    *,
    flows: Mapping[str, Flow] | None = None,
    paused: bool = False,
) -> list[JobContext]:
    """Continue jobs from their last checkpoint, in one new worker of ``runtime`` per flow.

    The queues are rebuilt from the data no recorded activation consumed, routine states
    from the latest activation of each routine, and retry counts from the attempts begun.
    Completed activations do not run again; one that was running at the crash runs again.
    Resuming a failed job (after fixing the cause) runs the activations that failed it again.

    Jobs of the same flow share their new worker, as they shared one before; its routine
    states are the latest that any of them recorded.

    Args:
        runtime: Runs the resumed jobs; ``recorder`` must be attached to it.
        recorder: The recorder of the store to resume from.
        job_id: One job (which may also have failed); None resumes every unfinished job.
        flows: Flows by name, for flows that are not in the runtime's registry.
        paused: Start the new workers paused (to step them with a debugger).

    Returns:
        The resumed jobs, oldest first (wait on them with ``job.wait()``).
    """
    store = recorder.store
    rows = [store.job(job_id)] if job_id is not None else store.jobs(unfinished=True)
    live = {job.job_id for wid in runtime.worker_ids for job in runtime.get_worker(wid).jobs}
    by_flow: dict[str, list[tuple[JobRow, int]]] = {}
    for row in rows:
        if row.job_id in live:
            raise StateError(f"job {row.job_id} is running in this runtime; nothing to resume")
        if row.status in ("completed", "cancelled"):
            raise StateError(f"job {row.job_id} is {row.status}; nothing to resume")
        by_flow.setdefault(row.flow_name, []).append((row, store.key_of(row.job_id)))
    # Every flow is found before any worker starts: a missing one resumes nothing.
    found = {name: flow_for(runtime, group[0][0], flows) for name, group in by_flow.items()}
    resumed: dict[str, JobContext] = {}
    for name, group in by_flow.items():
        states = latest_states(store.routine_states(key, None) for _, key in group)
        worker = start_worker(runtime, found[name], states, paused=paused)
        for row, key in group:
            recorder.expect_resume(row.job_id, store.pending_attempts(key))
            job = JobContext(name, worker.worker_id, job_id=row.job_id, metadata=row.metadata)
            job.created_at = row.created_at
            adopt_rows(worker, job, store.queued_after(key, None), keep_ids=True)
            resumed[row.job_id] = job
    return [resumed[row.job_id] for row in rows]
