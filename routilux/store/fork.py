"""Time travel: a new job that starts from the state a stored job had right after a step."""

from __future__ import annotations

from collections.abc import Mapping

from routilux.core import _check
from routilux.core.engine import Engine
from routilux.core.errors import ConfigurationError
from routilux.core.flow import Flow
from routilux.core.job import JobContext
from routilux.store._restore import adopt_rows, flow_for, start_worker, stored_state
from routilux.store.recorder import StoreRecorder

__all__ = ["fork"]


def fork(
    runtime: Engine,
    recorder: StoreRecorder,
    job_id: str,
    step: int,
    *,
    flows: Mapping[str, Flow] | None = None,
    paused: bool = False,
) -> JobContext:
    """Start a new job from the state ``job_id`` had right after ``step`` (0: before any).

    The state is the data waiting in the slots then, and the worker state (routine states,
    ``shared_data``, ``shared_log``) as of that step: every state write committed before
    the flow's next activation after it. The new job runs in a new worker and is recorded
    as a child of ``job_id``; the parent's rows are only read.

    Args:
        runtime: Runs the new job; ``recorder`` must be attached to it.
        recorder: The recorder of the store holding ``job_id``.
        job_id: The job to fork.
        step: A step of its history (see ``store.history(job_id)``).
        flows: Flows by name, for flows that are not in the runtime's registry.
        paused: Start the worker paused, so a debugger can step the fork from the start.

    Returns:
        The new job.
    """
    step = _check.count("step", step, minimum=0)
    store = recorder.store
    row = store.job(job_id)
    key = store.key_of(job_id)
    last = store.last_step(key)
    if not 0 <= step <= last:
        raise ConfigurationError(f"job {job_id} has steps 0..{last}; cannot fork at {step}")
    flow = flow_for(runtime, row, flows)
    state = stored_state(store, row.flow_name, store.state_cut(key, step))
    queued = store.queued_after(key, step)
    worker = start_worker(runtime, flow, state, paused=paused)
    job = JobContext(row.flow_name, worker.worker_id, metadata=row.metadata)
    recorder.expect_fork(job.job_id, key, step, [])
    adopt_rows(worker, job, queued, keep_ids=False)
    return job
