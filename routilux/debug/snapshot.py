"""Snapshot: what a paused worker looks like, as plain data."""

from __future__ import annotations

from dataclasses import dataclass, field
from html import escape
from typing import Any

from routilux.core.activation import ActivationRecord
from routilux.core.job import JobContext

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
