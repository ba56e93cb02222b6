"""Activation policies: when routines run and which queued data they get."""

from __future__ import annotations

from typing import Any

import pytest

from routilux import ConfigurationError, Decision, Flow, Routine, Runtime
from routilux.activation_policies import (
    all_slots_ready_policy,
    batch_size_policy,
    custom_policy,
    immediate_policy,
    time_interval_policy,
)
from routilux.core.queue import QueuedItem, SlotQueue


def queues(**contents: list[Any]) -> dict[str, SlotQueue]:
    result = {}
    for name, items in contents.items():
        q = SlotQueue("r", name)
        for data in items:
            q.append(QueuedItem(data, None))
        result[name] = q
    return result


def test_immediate_takes_one_point_from_each_nonempty_slot() -> None:
    qs = queues(a=[1, 2], b=[], c=[3])
    decision = immediate_policy()(qs, None)  # type: ignore[arg-type]
    assert decision.activate
    assert decision.data_slice == {"a": [1], "c": [3]}
    assert [len(q) for q in qs.values()] == [1, 0, 0]


def test_immediate_declines_when_every_slot_is_empty() -> None:
    assert not immediate_policy()(queues(a=[]), None).activate  # type: ignore[arg-type]


def test_all_slots_ready_waits_for_every_slot() -> None:
    qs = queues(a=[1], b=[])
    policy = all_slots_ready_policy()
    assert not policy(qs, None).activate  # type: ignore[arg-type]
    qs["b"].append(QueuedItem(2, None))
    assert policy(qs, None).data_slice == {"a": [1], "b": [2]}  # type: ignore[arg-type]


def test_batch_size_takes_exactly_n_from_each_slot() -> None:
    qs = queues(a=[1, 2, 3], b=[4, 5])
    policy = batch_size_policy(2)
    assert policy(qs, None).data_slice == {"a": [1, 2], "b": [4, 5]}  # type: ignore[arg-type]
    assert not policy(qs, None).activate  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError):
        batch_size_policy(0)


class FakeState:
    def __init__(self) -> None:
        self.memory: dict[int, dict[str, Any]] = {}

    def policy_memory(self, policy: object) -> dict[str, Any]:
        return self.memory.setdefault(id(policy), {})


def test_time_interval_runs_at_most_once_per_interval_and_asks_to_be_asked_again() -> None:
    now = [100.0]
    policy = time_interval_policy(10, clock=lambda: now[0])
    state = FakeState()
    qs = queues(a=[1])
    assert policy(qs, state).data_slice == {"a": [1]}  # type: ignore[arg-type]
    qs["a"].append(QueuedItem(2, None))
    qs["a"].append(QueuedItem(3, None))
    now[0] = 104.0
    early = policy(qs, state)  # type: ignore[arg-type]
    assert not early.activate
    assert early.retry_after == pytest.approx(6.0)
    now[0] = 110.0
    assert policy(qs, state).data_slice == {"a": [2, 3]}  # type: ignore[arg-type]


def test_custom_policy_accepts_tuples_and_rejects_nonsense() -> None:
    def pairs(slots: Any, worker_state: Any) -> tuple[bool, dict[str, list[Any]], str]:
        if len(slots["a"]) < 2:
            return False, {}, ""
        return True, {"a": slots["a"].consume(2)}, "pair"

    qs = queues(a=[1, 2, 3])
    decision = custom_policy(pairs)(qs, None)  # type: ignore[arg-type]
    assert decision == Decision(True, {"a": [1, 2]}, "pair")
    with pytest.raises(ConfigurationError, match="expected a Decision"):
        custom_policy(lambda s, w: "yes")(qs, None)  # type: ignore[arg-type]


class Join(Routine):
    def __init__(self) -> None:
        super().__init__()
        self.add_slot("left")
        self.add_slot("right")
        self.set_activation_policy(all_slots_ready_policy())

    def logic(self, left: list[Any], right: list[Any], policy_message: Any, ws: Any) -> None:
        with ws.lock:
            ws.shared_log.append((left[0]["v"], right[0]["v"]))


def test_a_join_pairs_inputs_in_arrival_order_through_the_runtime() -> None:
    flow = Flow("join")
    flow.add_routine(Join(), "join")
    with Runtime(thread_pool_size=2) as rt:
        state = rt.exec(flow)
        for i in range(3):
            rt.post(flow, "join", "left", {"v": f"L{i}"})
        rt.post(flow, "join", "right", {"v": "R0"})
        rt.post(flow, "join", "right", {"v": "R1"})
        assert rt.wait_until_all_jobs_finished(5)
        assert state.shared_log == [("L0", "R0"), ("L1", "R1")]
        # L2 waits in its slot; the job that posted it still completed (nothing runs for it).
        assert rt.get_worker(state.worker_id).queued()["join"] == {
            "left": [{"v": "L2"}],
            "right": [],
        }


def test_time_interval_policy_does_not_leave_the_last_data_behind() -> None:
    class Gather(Routine):
        def __init__(self) -> None:
            super().__init__()
            self.add_slot("x")
            self.set_activation_policy(time_interval_policy(0.05))

        def logic(self, x: list[Any], pm: Any, ws: Any) -> None:
            ws.shared_log.append([p["i"] for p in x])

    flow = Flow("interval")
    flow.add_routine(Gather(), "g")
    with Runtime(thread_pool_size=2) as rt:
        state = rt.exec(flow)
        for i in range(5):
            rt.post(flow, "g", "x", {"i": i})
        assert rt.wait_until_all_jobs_finished(5)
    delivered = [i for batch in state.shared_log for i in batch]
    assert delivered == [0, 1, 2, 3, 4]
    assert len(state.shared_log) < 5  # later points were batched after the interval


NOT_A_COUNT = [
    ("3", TypeError),
    (True, TypeError),
    (2.0, TypeError),
    (0, ValueError),
    (-1, ValueError),
]
NOT_SECONDS = [
    ("3", TypeError),
    (True, TypeError),
    (float("nan"), ValueError),
    (float("inf"), ValueError),
    (-1, ValueError),
]


@pytest.mark.parametrize(("n", "error"), NOT_A_COUNT)
def test_batch_size_must_be_a_positive_integer(n: Any, error: type[Exception]) -> None:
    with pytest.raises(error, match=r"batch_size_policy\(n\)"):
        batch_size_policy(n)


@pytest.mark.parametrize(("seconds", "error"), [*NOT_SECONDS, (0, ValueError)])
def test_interval_must_be_a_finite_positive_number(seconds: Any, error: type[Exception]) -> None:
    with pytest.raises(error, match=r"time_interval_policy\(seconds\)"):
        time_interval_policy(seconds)


@pytest.mark.parametrize(("retry_after", "error"), NOT_SECONDS)
def test_retry_after_must_be_a_finite_non_negative_number(
    retry_after: Any, error: type[Exception]
) -> None:
    with pytest.raises(error, match=r"retry_after"):
        Decision(False, retry_after=retry_after)
    assert Decision(False, retry_after=0).retry_after == 0.0


def test_bad_numbers_are_configuration_errors_too() -> None:
    with pytest.raises(ConfigurationError):
        batch_size_policy("3")  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError):
        time_interval_policy(float("nan"))


def test_built_in_policies_write_themselves_as_data_and_back() -> None:
    from routilux.core.policies import policy_from_spec, policy_to_spec

    for policy in (immediate_policy(), all_slots_ready_policy(), batch_size_policy(4)):
        assert str(policy_from_spec(policy_to_spec(policy))) == str(policy)
    assert policy_to_spec(time_interval_policy(2)) == {"name": "time_interval", "seconds": 2.0}
    assert policy_to_spec(time_interval_policy(2, clock=lambda: 0.0)) is None
    assert policy_to_spec(custom_policy(lambda slots, state: False)) is None
    with pytest.raises(ConfigurationError, match="did you mean 'batch_size'"):
        policy_from_spec({"name": "batch_sise", "n": 2})
    with pytest.raises(ConfigurationError, match="unexpected keyword argument 'size'"):
        policy_from_spec({"name": "batch_size", "size": 2})


def test_a_data_slice_for_a_slot_the_routine_lacks_fails_the_job_before_logic_runs() -> None:
    def misnamed(slots: Any, worker_state: Any) -> tuple[bool, dict[str, list[Any]], None]:
        return True, {"inpt": slots["inp"].consume(1)}, None  # a typo of "inp"

    class One(Routine):
        def __init__(self) -> None:
            super().__init__()
            self.add_slot("inp")
            self.set_activation_policy(custom_policy(misnamed))
            self.ran = False

        def logic(self, inp: list[Any], policy_message: Any, ws: Any) -> None:
            self.ran = True

    flow = Flow("misnamed")
    routine = One()
    flow.add_routine(routine, "one")
    with Runtime(thread_pool_size=1) as rt:
        _, job = rt.post(flow, "one", "inp", {"v": 1})
        assert job.wait(5)
        assert str(job.status) == "failed"
        assert isinstance(job.error, ConfigurationError)
        assert "'inpt', not a slot of routine 'one' (its slots: inp)" in str(job.error)
        assert not routine.ran
