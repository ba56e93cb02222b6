"""What runs next (routilux/core/_next.py): decisions over queues, without threads."""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator
from typing import Any

import pytest

from routilux import Flow, JobContext, Routine
from routilux.activation_policies import (
    all_slots_ready_policy,
    batch_size_policy,
    custom_policy,
    immediate_policy,
)
from routilux.core import Engine
from routilux.core._next import ask_policy, take_all_slots_ready, take_immediate
from routilux.core._node import ALL_SLOTS_READY, IMMEDIATE_ONE_SLOT, Node
from routilux.core.errors import ConfigurationError
from routilux.core.queue import QueuedItem
from routilux.core.state import WorkerState


class Slots(Routine):
    def __init__(self, *names: str) -> None:
        super().__init__()
        for name in names:
            self.add_slot(name)

    def logic(self, *args: Any) -> None:
        pass


@pytest.fixture(autouse=True)
def engine() -> Iterator[Engine]:
    with Engine(1) as engine:
        ENGINES.append(engine)
        yield engine
        ENGINES.pop()


ENGINES: list[Engine] = []


def node_of(routine: Routine) -> Node:
    """``routine``'s node in a fresh, idle worker: nothing runs unless a test asks."""
    flow = Flow(f"next-{id(routine)}")
    flow.add_routine(routine, "r")
    return ENGINES[-1].start_worker(flow).nodes["r"]


def node_with(policy: Any, contents: dict[str, list[tuple[Any, JobContext]]]) -> Node:
    """A node whose slots hold ``contents`` (data with the job it belongs to)."""
    routine = Slots(*contents)
    routine.set_activation_policy(policy)
    node = node_of(routine)
    for slot, points in contents.items():
        for data, job in points:
            node.queues[slot].append(QueuedItem(data, job))
    return node


def snapshot(node: Node) -> dict[str, list[Any]]:
    return {name: q.peek() for name, q in node.queues.items()}


def describe(activation: Any) -> tuple[Any, ...] | None:
    if activation is None:
        return None
    return (
        activation.routine_id,
        activation.inputs,
        [item.data for item in activation.consumed],
        activation.job,
    )


def job(name: str) -> JobContext:
    return JobContext("next", "w", job_id=name)


FILLINGS: list[dict[str, list[Any]]] = [
    {"a": []},
    {"a": [1]},
    {"a": [1, 2, 3]},
    {"a": [1], "b": []},
    {"a": [1, 2], "b": [10]},
    {"a": [], "b": [10, 20]},
    {"a": [1, 2], "b": [10, 20], "c": [100]},
]


# The inline forms: immediate on one slot, all-slots-ready on any number of slots.
CASES = [(immediate_policy, f) for f in FILLINGS if len(f) == 1] + [
    (all_slots_ready_policy, f) for f in FILLINGS
]


@pytest.mark.parametrize(
    ("make_policy", "filling"), CASES, ids=lambda c: getattr(c, "__name__", str(c))
)
def test_every_inline_decision_matches_its_policy_object(
    make_policy: Any, filling: dict[str, list[Any]]
) -> None:
    """The scheduler decides built-in policies inline; the policy objects must agree."""
    jobs = [job("j1"), job("j2")]
    contents = {
        slot: [(data, jobs[i % 2]) for i, data in enumerate(points)]
        for slot, points in filling.items()
    }
    fast_node = node_with(make_policy(), contents)
    slow_node = node_with(make_policy(), contents)
    candidate = job("candidate")
    if fast_node.fast_policy is IMMEDIATE_ONE_SLOT:
        fast = take_immediate(fast_node, candidate, itertools.count(1))
    elif fast_node.fast_policy is ALL_SLOTS_READY:
        fast = take_all_slots_ready(fast_node, candidate, itertools.count(1))
    else:
        raise AssertionError(f"no inline form for {fast_node.policy} on {list(filling)}")
    outcome = ask_policy(slow_node, candidate, WorkerState("w", "next"), itertools.count(1))
    assert outcome.error is None
    assert describe(fast) == describe(outcome.activation)
    assert snapshot(fast_node) == snapshot(slow_node)


def test_an_activation_runs_for_the_job_of_its_first_input() -> None:
    first, other = job("first"), job("other")
    node = node_with(immediate_policy(), {"a": [(1, first), (2, other)]})
    activation = take_immediate(node, other, itertools.count(7))
    assert activation is not None
    assert activation.job is first
    assert activation.seq == 7
    assert first.inflight == 1
    assert str(first.status) == "running"


def test_an_input_whose_job_was_stopped_runs_for_the_candidates_job() -> None:
    stopped, candidate = job("stopped"), job("candidate")
    stopped._stopped = True
    node = node_with(all_slots_ready_policy(), {"a": [(1, stopped)], "b": [(2, stopped)]})
    activation = take_all_slots_ready(node, candidate, itertools.count(1))
    assert activation is not None
    assert activation.job is candidate


def test_a_policy_that_declines_leaves_the_queues_as_they_were() -> None:
    node = node_with(batch_size_policy(3), {"a": [(1, job("j")), (2, job("j"))]})
    outcome = ask_policy(node, job("j"), WorkerState("w", "next"), itertools.count(1))
    assert outcome.activation is None
    assert outcome.error is None
    assert snapshot(node) == {"a": [1, 2]}


@pytest.mark.parametrize("raised", [ValueError("bad"), KeyboardInterrupt(), SystemExit(3)])
def test_a_raising_policy_gives_an_error_naming_it_and_keeps_the_data(
    raised: BaseException,
) -> None:
    def explode(slots: Any, worker_state: Any) -> Any:
        slots["a"].consume()
        raise raised

    node = node_with(custom_policy(explode), {"a": [(1, job("j"))]})
    outcome = ask_policy(node, job("j"), WorkerState("w", "next"), itertools.count(1))
    assert outcome.activation is None
    assert isinstance(outcome.error, ConfigurationError)
    assert "explode" in str(outcome.error)
    assert "'r'" in str(outcome.error)
    assert outcome.error.__cause__ is raised
    assert snapshot(node) == {"a": [1]}


@pytest.mark.parametrize("bad", [math.nan, math.inf, -1.0, "3", True])
def test_a_nonsense_retry_after_is_an_error_not_a_timer(bad: Any) -> None:
    def later(slots: Any, worker_state: Any) -> Any:
        from routilux import Decision

        return Decision(False, retry_after=bad)

    node = node_with(custom_policy(later), {"a": [(1, job("j"))]})
    outcome = ask_policy(node, job("j"), WorkerState("w", "next"), itertools.count(1))
    assert outcome.retry_after is None
    assert outcome.error is not None
    assert "retry_after" in str(outcome.error)
