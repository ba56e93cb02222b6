"""Resuming jobs a crashed (or stopped) process left unfinished, from their checkpoints."""

from __future__ import annotations

import logging
from collections.abc import Mapping

from routilux.core.engine import Engine
from routilux.core.errors import SerializationError, StateError
from routilux.core.flow import Flow
from routilux.core.job import JobContext
from routilux.store._restore import (
    adopt_decoded,
    decode_rows,
    flow_for,
    start_worker,
    stored_state,
)
from routilux.store.recorder import StoreRecorder
from routilux.store.records import JobRow
from routilux.store.sqlite import SqliteStore

__all__ = ["resume", "unfinished_jobs"]

_log = logging.getLogger("routilux.store")


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

    The queues are rebuilt from the data no recorded activation consumed, the worker state
    (routine states, ``shared_data``, ``shared_log``) from every state write committed for
    the flow, by any job, and retry counts from the attempts begun. Completed activations
    do not run again; one that was running at the crash runs again. Resuming a failed job
    (after fixing the cause) runs the activations that failed it again.

    Without ``job_id``, this takes every unfinished job, and every completed job with data
    still waiting in a slot (a batch or a join its job did not fill), whose owner is gone:
    a job another live runtime owns (its lease, see ``docs/guide/persistence.md``) is left
    to it and logged, as is a job whose rows are corrupt.

    Args:
        runtime: Runs the resumed jobs; ``recorder`` must be attached to it.
        recorder: The recorder of the store to resume from.
        job_id: One job (which may also have failed); None resumes every unfinished job.
        flows: Flows by name, for flows that are not in the runtime's registry.
        paused: Start the new workers paused (to step them with a debugger).

    Returns:
        The resumed jobs, oldest first (wait on them with ``job.wait()``).

    Raises:
        StateError: ``job_id`` is finished, runs in this runtime, or is owned by another
            live runtime.
    """
    store = recorder.store
    if job_id is not None:
        rows = [store.job(job_id)]
    else:
        rows = store.jobs(unfinished=True)
        waiting = set(store.jobs_with_waiting_data())
        rows += [row for row in store.jobs() if row.job_id in waiting and row.is_finished]
    live = {job.job_id for wid in runtime.worker_ids for job in runtime.get_worker(wid).jobs}
    by_flow: dict[str, list[tuple[JobRow, int]]] = {}
    for row in rows:
        if row.job_id in live:
            raise StateError(f"job {row.job_id} is running in this runtime; nothing to resume")
        if job_id is not None and row.status in ("completed", "cancelled"):
            raise StateError(f"job {row.job_id} is {row.status}; nothing to resume")
        by_flow.setdefault(row.flow_name, []).append((row, store.key_of(row.job_id)))
    # Every flow is found before any worker starts: a missing one resumes nothing.
    found = {name: flow_for(runtime, group[0][0], flows) for name, group in by_flow.items()}
    resumed: dict[str, JobContext] = {}
    for name, group in by_flow.items():
        taken = []
        for row, key in group:
            try:
                queued = decode_rows(store.queued_after(key, None))
            except SerializationError as exc:
                if job_id is not None:
                    raise
                _log.warning("job %s not resumed: %s", row.job_id, exc)
                continue
            reason = store.take_over(row.job_id)
            if reason is not None:
                if job_id is not None:
                    raise StateError(f"{reason}; not resumed")
                _log.warning("%s; not resumed", reason)
                continue
            taken.append((row, key, queued))
        if not taken:
            continue
        worker = start_worker(runtime, found[name], stored_state(store, name), paused=paused)
        for row, key, queued in taken:
            recorder.expect_resume(row.job_id, store.pending_attempts(key))
            job = JobContext(name, worker.worker_id, job_id=row.job_id, metadata=row.metadata)
            job.created_at = row.created_at
            adopt_decoded(worker, job, queued)
            resumed[row.job_id] = job
    return [resumed[row.job_id] for row in rows if row.job_id in resumed]
