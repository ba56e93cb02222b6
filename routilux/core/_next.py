"""What runs next: decisions over one node's queues, free of threads and locks.

The scheduler calls these with its lock held; tests call them directly on queues they fill
(``tests/core/test_next.py``). Each returns the activation to run, built by
:func:`build_activation`, or says why there is none.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from routilux.core.activation import ActivationRecord
from routilux.core.errors import ConfigurationError
from routilux.core.job import JobContext, JobStatus
from routilux.core.policies import Decision, as_decision

if TYPE_CHECKING:
    from routilux.core._node import Node
    from routilux.core.queue import QueuedItem
    from routilux.core.state import WorkerState

__all__ = ["Outcome", "ask_policy", "build_activation", "take_all_slots_ready", "take_immediate"]

_RETRY_AFTER = Decision._fields.index("retry_after")
_PENDING = JobStatus.PENDING
_RUNNING = JobStatus.RUNNING


def build_activation(
    seq: Iterator[int],
    node: Node,
    job: JobContext,
    inputs: dict[str, list[Any]],
    consumed: list[QueuedItem],
    message: Any = None,
) -> ActivationRecord:
    """The activation of ``node`` on ``consumed``, booked as in flight for its job.

    It runs for the job of its first input (the candidate's ``job`` when that input has no
    job, or one that was stopped meanwhile).
    """
    owner = consumed[0].job if consumed else None
    if owner is None or owner._stopped:
        owner = job
    activation = ActivationRecord(next(seq), node, owner, inputs, consumed, message)
    owner.inflight += 1
    if owner.status is _PENDING:
        owner.status = _RUNNING
    return activation


def take_immediate(node: Node, job: JobContext, seq: Iterator[int]) -> ActivationRecord | None:
    """The built-in immediate policy on a one-slot node: the oldest data point, if any."""
    items = node.queue_list[0]._items
    if not items:
        return None
    item = items.popleft()
    return build_activation(seq, node, job, {node.slot_names[0]: [item.data]}, [item])


def take_all_slots_ready(
    node: Node, job: JobContext, seq: Iterator[int]
) -> ActivationRecord | None:
    """The built-in all-slots-ready policy: one data point from every slot, once all have one."""
    for queue in node.queue_list:
        if not queue._items:
            return None
    consumed = [queue._items.popleft() for queue in node.queue_list]
    inputs = {name: [item.data] for name, item in zip(node.slot_names, consumed, strict=True)}
    return build_activation(seq, node, job, inputs, consumed)


class Outcome:
    """What asking a policy gave: an activation (maybe to hold), a time to ask again, or an
    error that fails the job."""

    __slots__ = ("activation", "error", "hold", "retry_after")

    def __init__(
        self,
        activation: ActivationRecord | None = None,
        hold: bool = False,
        retry_after: float | None = None,
        error: BaseException | None = None,
    ) -> None:
        self.activation = activation
        self.hold = hold
        self.retry_after = retry_after
        self.error = error


_NOTHING = Outcome()


def ask_policy(node: Node, job: JobContext, state: WorkerState, seq: Iterator[int]) -> Outcome:
    """Ask ``node``'s policy whether to run, and on what.

    What the policy consumed and did not use goes back into the queues. A policy that raises
    (anything, ``BaseException`` included) or answers nonsense gives an outcome with an
    error naming it; the queues are left as they were.
    """
    try:
        decision = node.policy(node.queues, state)
        if type(decision) is not Decision:
            decision = as_decision(decision, repr(node.policy))
        # Read untyped: a policy's Decision may carry anything, and the compiled build
        # would otherwise reject a non-float here with a message that names nothing.
        fields: tuple[object, ...] = decision
        asked = fields[_RETRY_AFTER]
        if asked is not None and not _valid_delay(asked):
            raise ConfigurationError(
                f"retry_after must be a finite number of seconds >= 0, got {asked!r}"
            )
        retry_after = None if asked is None else float(asked)  # type: ignore[arg-type]
        if decision.activate and decision.data_slice:
            _check_slice(decision.data_slice, node)
    except BaseException as exc:
        for queue in node.queue_list:
            queue.restore_consumed()
        error = ConfigurationError(
            f"activation policy {node.policy!r} of routine {node.routine_id!r} raised {exc!r}"
        )
        error.__cause__ = exc
        return Outcome(error=error)
    if not decision.activate:
        for queue in node.queue_list:
            queue.restore_consumed()
        return Outcome(retry_after=retry_after) if retry_after is not None else _NOTHING
    if len(node.queue_list) == 1:
        consumed = node.queue_list[0].take_consumed()
    else:
        consumed = [item for queue in node.queue_list for item in queue.take_consumed()]
    data_slice = decision.data_slice or {}
    # In slot order, every slot present: logic gets the lists positionally from it.
    inputs = {name: data_slice.get(name) or [] for name in node.slot_names}
    activation = build_activation(seq, node, job, inputs, consumed, decision.message)
    return Outcome(activation, hold=decision.hold)


def _check_slice(data_slice: dict[str, Any], node: Node) -> None:
    """Refuse a data slice that names a slot ``node`` does not have: its data would never
    reach the logic, and nothing would say so."""
    slot_names = node.slot_names
    for name in data_slice:
        if name in slot_names:
            continue
        unknown = [key for key in data_slice if key not in slot_names]
        raise ConfigurationError(
            f"it returned data for {', '.join(map(repr, sorted(unknown, key=str)))}, not a slot "
            f"of routine {node.routine_id!r} (its slots: {', '.join(node.slot_names)})"
        )


def _valid_delay(value: object) -> bool:
    return (
        isinstance(value, (int, float))
        and not isinstance(value, bool)
        and math.isfinite(value)
        and value >= 0
    )
