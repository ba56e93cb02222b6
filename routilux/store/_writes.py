"""The writes a recorder commits (activations, posted data, drops, attempts, job statuses).

Each write knows the rows it adds to a :class:`Batch`, the rows of one transaction. Steps,
activation ids and "posted after" counts are given out when a write joins a batch, so they
follow the order in which writes commit.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

__all__ = [
    "ActivationWrite",
    "AttemptsWrite",
    "Batch",
    "DropWrite",
    "PostedWrite",
    "StateWrite",
    "StatusWrite",
    "Track",
    "Write",
]

JobValues = tuple[
    int, str, str, str, str, float, "int | None", "int | None", "str | None", "float | None"
]


class Batch:
    """The rows of one transaction, by statement (see ``SqliteStore.write_batch``).

    ``rows`` go to the ``writes`` view: each carries an activation, an item it emitted
    (or a posted item) and an item it consumed, any of them NULL (see ``_schema``).
    """

    __slots__ = ("attempts", "baselines", "drops", "jobs", "rows", "states", "statuses")

    def __init__(self) -> None:
        self.jobs: list[JobValues] = []
        # (flow_name, act_id or None, key, value_json or None): see StateRows.
        self.states: list[tuple[str, int | None, str, str | None]] = []
        self.baselines: list[tuple[int, str, str]] = []
        self.rows: list[tuple[Any, ...]] = []
        self.attempts: list[tuple[int, str, str, int]] = []
        self.drops: list[tuple[int, int]] = []
        self.statuses: list[tuple[str, float | None, str | None, int]] = []


# A row of the writes view without its activation, for an item or a consumption alone.
_NO_ACTIVATION = (None,) * 10


class Track:
    """One job as the recorder knows it, from its start until its last write commits.

    Attributes:
        job_id: The job.
        key: Its ``job_key`` in the store.
        step: Steps given out so far (the next activation to commit gets ``step + 1``).
        pending_row: The job's row and fork baselines, written with its first data.
        pending: Writes of the job not committed yet.
        blocked: Of those, the ones waiting for another activation's commit.
        finished: The job has finished; it is forgotten once ``pending`` is 0.
        parked: The job's status, held back until no write of it is blocked.
        failure: Why a write of the job could not be committed, if one could not: its
            status is then stored as failed, whatever the job did in memory.
    """

    __slots__ = (
        "blocked",
        "failure",
        "finished",
        "job_id",
        "key",
        "parked",
        "pending",
        "pending_row",
        "step",
    )

    def __init__(
        self,
        job_id: str,
        key: int,
        step: int,
        pending_row: tuple[JobValues, list[tuple[int, str, str]]] | None = None,
    ) -> None:
        self.job_id = job_id
        self.key = key
        self.step = step
        self.pending_row = pending_row
        self.pending = 0
        self.blocked = 0
        self.finished = False
        self.parked: StatusWrite | None = None
        self.failure: BaseException | None = None

    def __repr__(self) -> str:
        return f"<Track {self.job_id[:8]} step {self.step}, {self.pending} pending>"


class Write:
    """Something to commit for a job, and where it stands.

    Attributes:
        track: The job it belongs to.
        needs: Item uids it refers to; it waits while one of them is not committed.
        provides: Item uids it adds (an activation's emits).
        blockers: How many of ``needs`` it still waits for.
        done: Committed, or given up (``void``).
        void: Given up: it never commits (a resume runs the activation again).
        after: Writes that waited for this one and were released by its commit.
        failure: Why its transaction failed, if it did (the recorder fails its job).
    """

    __slots__ = ("after", "blockers", "done", "failure", "needs", "provides", "track", "void")

    def __init__(
        self, track: Track, needs: Sequence[int] = (), provides: Sequence[int] = ()
    ) -> None:
        self.track = track
        self.needs = needs
        self.provides = provides
        self.blockers = 0
        self.done = False
        self.void = False
        self.after: list[Write] = []
        self.failure: BaseException | None = None

    def add_to(self, batch: Batch, new_act_id: Callable[[], int]) -> None:
        """Add this write's rows to ``batch`` (numbering its step, if it has one)."""
        raise NotImplementedError


StateRows = tuple[str, list[tuple[str, "str | None"]]]
"""What an activation (or code outside logic) wrote to a WorkerState: the flow's name and
``(key, value_json)`` pairs in order (see ``_state.py`` for the keys)."""


class ActivationWrite(Write):
    """A finished activation: it consumes its inputs, adds its emits, its row and the
    state writes it made (``states``; ``state`` is its routine's state after it, for the
    history)."""

    __slots__ = ("inputs", "produced", "row", "state", "states", "tail")

    def __init__(
        self,
        track: Track,
        needs: Sequence[int],
        provides: Sequence[int],
        inputs: list[int],
        produced: list[tuple[int, str, str, str]],
        row: tuple[Any, ...],
        state: str | None,
        tail: tuple[Any, ...],
        states: StateRows | None,
    ) -> None:
        # Write.__init__'s attributes set here, without the call: one per activation.
        self.track = track
        self.needs = needs
        self.provides = provides
        self.blockers = 0
        self.done = self.void = False
        self.after = []
        self.failure = None
        self.inputs = inputs  # item ids consumed
        self.produced = produced  # (item_id, routine_id, slot, data_json) emitted
        # The writes view's columns: (worker_seq, routine_id, inputs_json, emitted_json),
        # then the state, then (error, fatal, attempts, started_at, duration).
        self.row, self.state, self.tail = row, state, tail
        self.states = states

    def add_to(self, batch: Batch, new_act_id: Callable[[], int]) -> None:
        track = self.track
        track.step += 1
        step, key, act_id = track.step, track.key, new_act_id()
        inputs, produced = self.inputs, self.produced
        consumed = inputs[0] if inputs else None
        item = produced[0] if produced else (None, None, None, None)
        batch.rows.append((act_id, key, step, *self.row, self.state, *self.tail, consumed, *item))
        # Usually one input and at most one emit; the rest go in rows of their own.
        for i in range(1, max(len(inputs), len(produced))):
            consumed = inputs[i] if i < len(inputs) else None
            item = produced[i] if i < len(produced) else (None, None, None, None)
            batch.rows.append((act_id, key, step, *_NO_ACTIVATION, consumed, *item))
        if self.states is not None:
            flow, pairs = self.states
            batch.states.extend((flow, act_id, k, v) for k, v in pairs)


class StateWrite(Write):
    """State written outside any recorded activation (by code outside logic, or by an
    activation that is left out), in the flow's state history."""

    __slots__ = ("states",)

    def __init__(
        self, track: Track, needs: Sequence[int], provides: Sequence[int], states: StateRows
    ) -> None:
        super().__init__(track, needs, provides)
        self.states = states

    def add_to(self, batch: Batch, new_act_id: Callable[[], int]) -> None:
        flow, pairs = self.states
        batch.states.extend((flow, None, k, v) for k, v in pairs)


class PostedWrite(Write):
    """Data queued from outside (post, inject, resume, fork), with the job's row if new."""

    __slots__ = ("items",)

    def __init__(self, track: Track, items: list[tuple[int, str, str, str]]) -> None:
        super().__init__(track)
        self.items = items  # (item_id, routine_id, slot, data_json)

    def add_to(self, batch: Batch, new_act_id: Callable[[], int]) -> None:
        track = self.track
        if track.pending_row is not None:  # the job's first write
            (job, baselines), track.pending_row = track.pending_row, None
            batch.jobs.append(job)
            batch.baselines.extend(baselines)
        key, step = track.key, track.step
        batch.rows.extend((None, key, step, *_NO_ACTIVATION, None, *item) for item in self.items)


class DropWrite(Write):
    """Queued data removed from its slot without running (the debugger's drop)."""

    __slots__ = ("item_id",)

    def __init__(self, track: Track, uid: int, item_id: int) -> None:
        super().__init__(track, needs=(uid,))
        self.item_id = item_id

    def add_to(self, batch: Batch, new_act_id: Callable[[], int]) -> None:
        batch.drops.append((self.track.step, self.item_id))


class AttemptsWrite(Write):
    """How many attempts of an activation have begun (so retries survive a restart)."""

    __slots__ = ("begun", "inputs", "routine_id")

    def __init__(self, track: Track, routine_id: str, inputs: str, begun: int) -> None:
        super().__init__(track)
        self.routine_id, self.inputs, self.begun = routine_id, inputs, begun

    def add_to(self, batch: Batch, new_act_id: Callable[[], int]) -> None:
        batch.attempts.append((self.track.key, self.routine_id, self.inputs, self.begun))


class StatusWrite(Write):
    """The job's status (running when resumed; completed, failed or cancelled at the end)."""

    __slots__ = ("error", "finished_at", "on_done", "status")

    def __init__(
        self,
        track: Track,
        status: str,
        finished_at: float | None,
        error: str | None,
        on_done: Callable[[BaseException | None], None] | None = None,
    ) -> None:
        super().__init__(track)
        self.status, self.finished_at, self.error = status, finished_at, error
        # Called once the status is committed (None) or given up (the cause): the job's
        # completion waits for it (see StoreRecorder.job_finished).
        self.on_done = on_done

    def add_to(self, batch: Batch, new_act_id: Callable[[], int]) -> None:
        track = self.track
        if track.pending_row is not None:  # finished before any data was queued
            (job, baselines), track.pending_row = track.pending_row, None
            batch.jobs.append(job)
            batch.baselines.extend(baselines)
        status, error = self.status, self.error
        if track.failure is not None and status != "running":
            status, error = "failed", f"a checkpoint could not be stored: {track.failure!r}"
        batch.statuses.append((status, self.finished_at, error, track.key))
