"""Snapshot: what a paused worker looks like, as plain data."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from html import escape
from typing import Any

from routilux.core.activation import ActivationRecord
from routilux.core.inspection import WorkerView
from routilux.core.job import JobContext
from routilux.core.queue import QueuedItem
from routilux.core.state import WorkerState

__all__ = ["Snapshot"]


@dataclass
class Snapshot:
    """The state of a debugged worker at one moment (copied, so it does not change later).

    Attributes:
        flow_name: The flow the worker runs.
        paused: Whether the worker was paused.
        routine_id: The routine about to run (parked by a breakpoint), or None.
        inputs: That activation's inputs per slot ({} when none is parked).
        queues: ``{routine_id: {slot: [data, ...]}}`` for every slot, oldest first (at most
            ``max_items`` per slot when the snapshot was bounded).
        worker_state: ``{"routine_states": {...}, "shared_data": {...}, "status": ...}``.
        jobs: The unfinished jobs (live JobContext objects).
        trace: The most recent activation records, oldest first.
        queue_lengths: ``{(routine_id, slot): n}`` for non-empty slots, all data counted
            (None: count :attr:`queues`).
        activations: Activations finished per routine since the worker started.
        failures: Failed activations per routine since the worker started.
        running: Activations running at that instant.
        job_count: How many jobs were unfinished, all counted (:attr:`jobs` may hold only
            the oldest of them; None: ``len(jobs)``).
    """

    flow_name: str
    paused: bool
    routine_id: str | None
    inputs: dict[str, list[Any]]
    queues: dict[str, dict[str, list[Any]]]
    worker_state: dict[str, Any]
    jobs: list[JobContext]
    trace: list[ActivationRecord] = field(default_factory=list)
    queue_lengths: dict[tuple[str, str], int] | None = None
    activations: dict[str, int] = field(default_factory=dict)
    failures: dict[str, int] = field(default_factory=dict)
    running: int = 0
    job_count: int | None = None

    @property
    def unfinished(self) -> int:
        """How many jobs were unfinished (counting those not copied into :attr:`jobs`)."""
        return len(self.jobs) if self.job_count is None else self.job_count

    @property
    def queued_counts(self) -> dict[tuple[str, str], int]:
        """``{(routine_id, slot): n}`` for every non-empty slot, counting data not copied
        into :attr:`queues` too."""
        if self.queue_lengths is not None:
            return dict(self.queue_lengths)
        return {
            (rid, slot): len(items)
            for rid, slots in self.queues.items()
            for slot, items in slots.items()
            if items
        }

    def _repr_html_(self) -> str:
        """State tables for notebooks, drawn by the notebook layer's static HTML.

        Loaded on display only, as a Flow's diagram is: the debugger itself needs no
        notebook packages, and without them a snapshot shows as escaped text.
        """
        try:
            from routilux.notebook.snapshot_html import snapshot_html
        except ImportError:
            return f"<pre>{escape(repr(self))}</pre>"
        return snapshot_html(self)

    @classmethod
    def from_view(
        cls, view: WorkerView, state: WorkerState, trace: list[ActivationRecord]
    ) -> Snapshot:
        """A snapshot of what ``Worker.inspect()`` read, with copies of the data in it.

        Data is deep-copied here, outside the worker's lock: the view holds the queued items
        themselves, and a snapshot must not change when logic later mutates what it gets.

        Args:
            view: One consistent read of the worker.
            state: The worker's WorkerState.
            trace: The most recent activation records, oldest first.
        """
        held = view.held[0] if view.held else None
        return cls(
            flow_name=view.flow_name,
            paused=view.paused,
            routine_id=held.routine_id if held else None,
            inputs=copy.deepcopy(held.inputs) if held else {},
            queues={
                rid: {name: _copy_data(q.items) for name, q in slots.items()}
                for rid, slots in view.queues.items()
            },
            worker_state={
                "status": str(state.status),
                "routine_states": state.routine_states,
                "shared_data": copy.deepcopy(state.shared_data),
            },
            jobs=list(view.jobs),
            trace=trace,
            queue_lengths={
                (rid, name): q.length
                for rid, slots in view.queues.items()
                for name, q in slots.items()
                if q.length
            },
            activations={rid: stats.activations for rid, stats in view.stats.items()},
            failures={rid: stats.failures for rid, stats in view.stats.items()},
            running=view.running,
            job_count=view.job_count,
        )

    def as_dict(self) -> dict[str, Any]:
        """Plain data, without job objects (for tables, JSON and tests)."""
        return {
            "flow_name": self.flow_name,
            "paused": self.paused,
            "routine_id": self.routine_id,
            "inputs": self.inputs,
            "queues": self.queues,
            "worker_state": self.worker_state,
            "jobs": [{"status": str(j.status), "metadata": dict(j.metadata)} for j in self.jobs],
            "trace": [r.as_dict() for r in self.trace],
        }


def _copy_data(items: tuple[QueuedItem, ...]) -> list[Any]:
    # Most slots are empty: skip deepcopy's bookkeeping for them.
    return copy.deepcopy([item.data for item in items]) if items else []
