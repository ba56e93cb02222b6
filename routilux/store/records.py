"""Plain read-only views of what a store holds: jobs, activations and queued data points."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["ActivationRow", "ItemRow", "JobRow"]

UNFINISHED = ("pending", "running")
"""Job statuses that :func:`routilux.store.resume` picks up."""


@dataclass(frozen=True)
class JobRow:
    """One job as the store recorded it.

    Attributes:
        job_id: The job's id (the same as ``JobContext.job_id``).
        flow_name: The flow it runs in; resume looks the flow up by this name.
        status: ``pending``, ``running``, ``completed``, ``failed`` or ``cancelled``.
        metadata: The job's metadata when it was posted.
        created_at: When it was posted (``time.time()``).
        finished_at: When it finished, or None.
        error: ``repr`` of the error that failed it, or None.
        parent_job_id: For a fork, the job it was forked from.
        parent_step: For a fork, the parent's step it starts after.
    """

    job_id: str
    flow_name: str
    status: str
    metadata: dict[str, Any]
    created_at: float
    finished_at: float | None
    error: str | None
    parent_job_id: str | None
    parent_step: int | None

    @property
    def is_finished(self) -> bool:
        return self.status not in UNFINISHED


@dataclass(frozen=True)
class ActivationRow:
    """One finished activation (a checkpoint): its inputs, outputs and the state after it.

    Attributes:
        step: Its place in the job's history (1, 2, ...), in the order activations finished.
        routine_id: The routine that ran.
        inputs: Ids of the data points it consumed (see :class:`ItemRow`).
        emitted: ``[event, data]`` pairs, in order.
        routine_state: The routine's state right after it, or None if it has none.
        error: ``repr`` of the exception its logic raised last, or None.
        fatal: Whether that error failed the job (STOP, or RETRY with no retry left).
        attempts: How many times the logic ran, counting runs before a restart.
        started_at: Wall-clock start of the last attempt.
        duration: Seconds the last attempt took.
        worker_seq: ``ActivationRecord.seq`` in the worker that ran it.
    """

    step: int
    routine_id: str
    inputs: list[int]
    emitted: list[list[Any]]
    routine_state: dict[str, Any] | None
    error: str | None
    fatal: bool
    attempts: int
    started_at: float | None
    duration: float | None
    worker_seq: int


@dataclass(frozen=True)
class ItemRow:
    """One data point queued in a slot.

    Attributes:
        item_id: Its durable id (the ``QueuedItem.uid`` it gets back on resume).
        routine_id: The routine whose slot it was queued in.
        slot: The slot.
        data: The data.
        produced_by: The step that emitted it, or None when it was posted.
        consumed_by: The step that consumed it, or None while it waits.
        dropped_after: When the debugger removed it from its slot without running it, the
            number of steps the job had then; None otherwise.
    """

    item_id: int
    routine_id: str
    slot: str
    data: Any
    produced_by: int | None
    consumed_by: int | None
    dropped_after: int | None = None
