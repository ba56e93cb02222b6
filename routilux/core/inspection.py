"""What ``Worker.inspect()`` returns: one consistent, bounded copy of a worker's state."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from routilux.core.activation import ActivationRecord
    from routilux.core.job import JobContext
    from routilux.core.queue import QueuedItem
    from routilux.core.state import WorkerStatus

__all__ = ["QueueView", "RoutineStats", "WorkerView"]


@dataclass(frozen=True)
class QueueView:
    """One slot's queue: how many items wait, and the oldest of them."""

    length: int
    items: tuple[QueuedItem, ...]
    """The oldest ``max_items`` queued items (all of them when ``max_items`` was None)."""

    @property
    def truncated(self) -> bool:
        """Whether more items wait than :attr:`items` holds."""
        return self.length > len(self.items)


@dataclass(frozen=True)
class RoutineStats:
    """Counters the engine keeps per routine of a worker (booked activations)."""

    activations: int
    failures: int


@dataclass(frozen=True)
class WorkerView:
    """A worker's state, read at one instant under its lock (see ``Worker.inspect``)."""

    worker_id: str
    flow_name: str
    status: WorkerStatus
    paused: bool
    running: int
    """Threads inside an activation at that instant."""
    held: tuple[ActivationRecord, ...]
    """Activations parked by a breakpoint, next to run first."""
    queues: dict[str, dict[str, QueueView]]
    """``{routine_id: {slot: QueueView}}`` for every slot of every routine."""
    jobs: tuple[JobContext, ...]
    """The unfinished jobs (the oldest ``max_jobs`` of them)."""
    stats: dict[str, RoutineStats] = field(default_factory=dict)
    """``{routine_id: RoutineStats}``."""
    job_count: int = 0
    """How many jobs are unfinished, all of them counted."""

    @property
    def queued_count(self) -> int:
        """Items waiting in all slots together."""
        return sum(q.length for slots in self.queues.values() for q in slots.values())
