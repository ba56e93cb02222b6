"""A stored job's state right after one step: the diagram overlay and the tables of it."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TypedDict

from routilux.notebook.diagram.overlay import DiagramState, RoutineState
from routilux.store.codec import decode
from routilux.store.records import ActivationRow
from routilux.store.sqlite import SqliteStore

__all__ = ["CheckpointTables", "checkpoint_view"]


class CheckpointTables(TypedDict):
    """A job's state right after one step, as plain data.

    Attributes:
        job_id: The job.
        step: The step (0: before any activation).
        last_step: The job's last recorded step.
        queued: Data waiting then, by routine id and slot, in queue order.
        routine_states: Each routine's state then (routines with no state are left out).
        activation: The activation that made this step, or None at step 0.
    """

    job_id: str
    step: int
    last_step: int
    queued: dict[str, dict[str, list[Any]]]
    routine_states: dict[str, Any]
    activation: ActivationRow | None


def checkpoint_view(
    store: SqliteStore, job_id: str, step: int, *, routine_ids: Iterable[str] = ()
) -> tuple[DiagramState, CheckpointTables]:
    """The diagram overlay and state tables of ``job_id`` right after ``step``.

    Args:
        store: The store holding the job.
        job_id: The job.
        step: A step of its history, 0 to its last step.
        routine_ids: Routines to draw as ``idle`` when nothing else applies (the flow's).

    Returns:
        ``(overlay, tables)``: the overlay marks the routine that made ``step`` as ran last and
        counts the data waiting per slot; the tables hold that data and the states.

    Raises:
        ValueError: ``step`` is outside the job's history.
    """
    key = store.key_of(job_id)
    history = store.history(job_id)
    last = history[-1].step if history else 0
    if not 0 <= step <= last:
        raise ValueError(f"job {job_id} has steps 0..{last}; there is no step {step}")
    done = [a for a in history if a.step <= step]
    queued: dict[str, dict[str, list[Any]]] = {}
    for _, rid, slot, data in store.queued_after(key, step):
        queued.setdefault(rid, {}).setdefault(slot, []).append(decode(data, f"{rid}.{slot}"))
    states = {
        rid: decode(state, f"{rid} state")
        for rid, (_, state) in store.routine_states(key, step).items()
    }
    activation = done[-1] if done and done[-1].step == step else None
    overlay: DiagramState = {
        "routine_states": _routine_states(routine_ids, done, queued),
        "queued": {(rid, s): len(v) for rid, slots in queued.items() for s, v in slots.items()},
        "last": activation.routine_id if activation is not None else None,
    }
    tables: CheckpointTables = {
        "job_id": job_id,
        "step": step,
        "last_step": last,
        "queued": queued,
        "routine_states": states,
        "activation": activation,
    }
    return overlay, tables


def _routine_states(
    routine_ids: Iterable[str],
    done: list[ActivationRow],
    queued: dict[str, dict[str, list[Any]]],
) -> dict[str, RoutineState]:
    # Same precedence as the live diagram: a failure shows over waiting data, which shows
    # over having run, so the eye goes to what still matters at that step.
    latest = {a.routine_id: a for a in done}
    states: dict[str, RoutineState] = dict.fromkeys(routine_ids, "idle")
    for rid, activation in latest.items():
        states[rid] = "failed" if activation.error is not None else "done"
    for rid, slots in queued.items():
        if states.get(rid) != "failed" and any(slots.values()):
            states[rid] = "queued"
    return states
