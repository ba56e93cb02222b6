"""Where the calling code runs: the current job and worker state (Routilux v2's module).

Inside logic these name the activation's job and its worker's state; elsewhere they are
None. ``routilux.core.context`` is also where upstream code imports ``JobContext`` and
``get_current_job`` from.
"""

from __future__ import annotations

from routilux.core._context import current_activation, remote_job
from routilux.core.job import JobContext, get_current_job
from routilux.core.state import WorkerState

__all__ = ["JobContext", "get_current_job", "get_current_job_id", "get_current_worker_state"]


def get_current_job_id() -> str | None:
    """The id of the job whose logic is running in this thread, or None outside of logic."""
    activation = current_activation.get()
    if activation is not None:
        return activation.job.job_id
    job = remote_job.get()  # remote logic: a copy of the driver's job
    return job.job_id if job is not None else None


def get_current_worker_state() -> WorkerState | None:
    """The state of the worker whose logic is running in this thread, or None."""
    activation = current_activation.get()
    return activation._node.worker.state if activation is not None else None
