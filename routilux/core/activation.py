"""ActivationRecord: one run of a routine's logic, with its inputs and what it emitted."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from routilux.core._node import Node
    from routilux.core.job import JobContext
    from routilux.core.queue import QueuedItem

__all__ = ["ActivationRecord"]


class ActivationRecord:
    """One activation: built when a policy says "run", filled in as it runs.

    Attributes:
        seq: Order in which the worker built its activations (1, 2, ...).
        routine_id: The routine that runs.
        job: The job it runs for (the job of its first input).
        inputs: Data per slot name, in slot order, as passed to logic.
        policy_message: What the policy passed along.
        emitted: ``(event, data)`` pairs, in order.
        consumed: The queued items (data with job and id) the policy took as inputs.
        produced: ``(routine_id, slot, item)`` for each data point queued by its emits; kept
            only while an observer watches activations finish (``activation_finished``).
        started_at: Wall-clock start (``time.time()``), or None if it has not started.
        duration: Seconds the logic took, or None.
        error: The exception the logic raised last, or None.
        attempts: How many times the logic ran (more than 1 under RETRY).
    """

    __slots__ = (
        "_emitted",
        "_node",
        "_produced",
        "attempts",
        "consumed",
        "duration",
        "error",
        "inputs",
        "job",
        "policy_message",
        "routine_id",
        "seq",
        "started_at",
    )

    def __init__(
        self,
        seq: int,
        node: Node,
        job: JobContext,
        inputs: dict[str, list[Any]],
        consumed: list[QueuedItem],
        policy_message: Any = None,
    ) -> None:
        self.seq = seq
        self._node = node  # the engine's view of the routine; private
        self.routine_id: str = node.routine_id
        self.job = job
        self.inputs = inputs
        self.consumed = consumed
        self.policy_message = policy_message
        # Made on first use: most activations emit once or not at all, and nobody reads
        # `produced` unless an observer keeps it (each list spared is one object less for
        # the garbage collector to track, per activation).
        self._emitted: list[tuple[str, Any]] | None = None
        self._produced: list[tuple[str, str, QueuedItem]] | None = None
        self.started_at: float | None = None
        self.duration: float | None = None
        self.error: BaseException | None = None
        self.attempts = 0

    @property
    def emitted(self) -> list[tuple[str, Any]]:
        """``(event, data)`` pairs, in the order the logic emitted them."""
        return self._emitted if self._emitted is not None else []

    @property
    def produced(self) -> list[tuple[str, str, QueuedItem]]:
        """``(routine_id, slot, item)`` for each data point queued downstream (kept only
        while an observer watches activations finish)."""
        return self._produced if self._produced is not None else []

    def add_emitted(self, event: str, data: Any) -> None:
        if self._emitted is None:
            self._emitted = [(event, data)]
        else:
            self._emitted.append((event, data))

    def add_produced(self, routine_id: str, slot: str, item: QueuedItem) -> None:
        if self._produced is None:
            self._produced = [(routine_id, slot, item)]
        else:
            self._produced.append((routine_id, slot, item))

    @property
    def job_id(self) -> str | None:
        return self.job.job_id if self.job is not None else None

    def __repr__(self) -> str:
        state = "failed" if self.error else ("done" if self.duration is not None else "pending")
        return f"<ActivationRecord #{self.seq} {self.routine_id} {state}>"

    def as_dict(self) -> dict[str, Any]:
        """A plain-data view (for tables, JSON and tests)."""
        return {
            "seq": self.seq,
            "job_id": self.job_id,
            "routine_id": self.routine_id,
            "inputs": self.inputs,
            "emitted": list(self.emitted),
            "started_at": self.started_at,
            "duration": self.duration,
            "error": repr(self.error) if self.error is not None else None,
            "attempts": self.attempts,
        }
