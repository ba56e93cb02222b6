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
        queues: ``{routine_id: {slot: [data, ...]}}`` for every slot, oldest first.
        worker_state: ``{"routine_states": {...}, "shared_data": {...}, "status": ...}``.
        jobs: The unfinished jobs (live JobContext objects).
        trace: The most recent activation records, oldest first.
    """

    flow_name: str
    paused: bool
    routine_id: str | None
    inputs: dict[str, list[Any]]
    queues: dict[str, dict[str, list[Any]]]
    worker_state: dict[str, Any]
    jobs: list[JobContext]
    trace: list[ActivationRecord] = field(default_factory=list)

    @property
    def queued_counts(self) -> dict[tuple[str, str], int]:
        """``{(routine_id, slot): n}`` for every non-empty slot."""
        return {
            (rid, slot): len(items)
            for rid, slots in self.queues.items()
            for slot, items in slots.items()
            if items
        }

    def _repr_html_(self) -> str:
        """State tables for notebooks; ``routilux.notebook.SnapshotView`` adds the diagram."""
        rows = "".join(
            f"<tr><td>{escape(rid)}.{escape(slot)}</td><td>{len(items)}</td>"
            f"<td><code>{escape(repr(items[:3]))}{' ...' * (len(items) > 3)}</code></td></tr>"
            for rid, slots in self.queues.items()
            for slot, items in slots.items()
            if items
        )
        about = (
            f"paused before <b>{escape(self.routine_id)}</b> with inputs "
            f"<code>{escape(repr(self.inputs))}</code>"
            if self.routine_id
            else ("paused" if self.paused else "running")
        )
        return (
            f"<div class='routilux-snapshot'><p>Flow <b>{escape(self.flow_name)}</b>: {about}; "
            f"{len(self.jobs)} unfinished job(s).</p>"
            "<table><tr><th>slot</th><th>queued</th><th>first items</th></tr>"
            f"{rows or '<tr><td colspan=3>no queued data</td></tr>'}</table>"
            f"<p>WorkerState: <code>{escape(repr(self.worker_state))}</code></p></div>"
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
