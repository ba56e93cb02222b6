"""Logic calling conventions: positional, keyword-only, **kwargs; refused forms; stubs."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from typing import Any

import pytest

from routilux import ConfigurationError, Flow, Routine, Runtime


def routine_with(logic: Any, slots: int = 1) -> Routine:
    r = Routine()
    for i in range(slots):
        r.add_slot(f"s{i}")
    r.add_event("out")
    r.routine_id = "r"
    r.set_logic(logic)
    return r


def test_positional_logic_is_called_as_it_is_with_no_adapter() -> None:
    def logic(s0: Any, policy_message: Any, worker_state: Any) -> None:
        pass

    assert routine_with(logic).resolve_logic() is logic


def test_a_logic_method_is_returned_bound_with_no_adapter() -> None:
    class Sub(Routine):
        def __init__(self) -> None:
            super().__init__()
            self.add_slot("x")

        def logic(self, x: Any, policy_message: Any, worker_state: Any) -> None:
            pass

    sub = Sub()
    assert sub.resolve_logic() == sub.logic


@pytest.mark.parametrize(
    "logic",
    [
        lambda s0, s1, *, policy_message=None, worker_state=None: (
            s0,
            s1,
            policy_message,
            worker_state,
        ),
        lambda *lists, policy_message=None, worker_state=None: (
            *lists,
            policy_message,
            worker_state,
        ),
        lambda s0, s1, **kw: (s0, s1, kw["policy_message"], kw["worker_state"]),
    ],
    ids=["keyword-only", "varargs-then-keywords", "kwargs"],
)
def test_keyword_style_logic_gets_message_and_state_by_keyword(logic: Any) -> None:
    call = routine_with(logic, slots=2).resolve_logic()
    assert call is not None
    assert call([1], [2], "message", "state") == ([1], [2], "message", "state")


def test_keyword_only_job_state_is_the_worker_state_and_warns_with_the_preferred_name() -> None:
    def logic(s0: Any, *, job_state: Any = None) -> Any:
        return job_state

    with pytest.warns(DeprecationWarning, match="preferred name is 'worker_state'"):
        call = routine_with(logic).resolve_logic()
    assert call is not None
    assert call([1], "message", "state") == "state"


def test_a_keyword_adapter_keeps_the_logic_name_for_tracebacks() -> None:
    def my_logic(s0: Any, *, worker_state: Any) -> None:
        pass

    call = routine_with(my_logic).resolve_logic()
    assert call is not my_logic
    assert getattr(call, "__wrapped__", None) is my_logic
    assert getattr(call, "__name__", None) == "my_logic"


@pytest.mark.parametrize(
    ("logic", "match"),
    [
        (lambda *args, **kwargs: None, "ambiguous"),
        (lambda s0, policy_message, *, worker_state: None, "ambiguous"),
        (lambda s0, *, worker_state, retries: None, "cannot take 1 slot lists"),
        (lambda s0, s1, s2, **kwargs: None, "cannot take 1 slot lists"),
        (lambda: None, r"cannot be called as logic\(\*1 slot lists"),
    ],
    ids=["args-kwargs", "mixed", "unknown-required-keyword", "too-many-slots", "no-params"],
)
def test_signatures_that_fit_no_form_are_refused_showing_the_accepted_forms(
    logic: Any, match: str
) -> None:
    r = routine_with(logic)
    with pytest.raises(ConfigurationError, match=match) as caught:
        r.resolve_logic()
    assert "accepted forms" in str(caught.value)
    assert r.validate_logic() == str(caught.value)


def gen_logic(s0: Any, policy_message: Any, worker_state: Any) -> Iterator[Any]:
    yield s0


async def async_generator_logic(s0: Any, policy_message: Any, worker_state: Any) -> Any:
    yield s0


class GeneratorCallable:
    def __call__(self, s0: Any, policy_message: Any, worker_state: Any) -> Iterator[Any]:
        yield s0


@pytest.mark.parametrize(
    ("logic", "match"),
    [
        (gen_logic, "generator function"),
        (functools.partial(gen_logic), "generator function"),
        (GeneratorCallable(), "generator function"),
        (async_generator_logic, "async generator function"),
    ],
    ids=["generator", "partial-generator", "generator-callable", "async-generator"],
)
def test_generator_logic_is_refused_when_the_flow_starts(logic: Any, match: str) -> None:
    flow = Flow("refused")
    routine = routine_with(logic)
    routine.routine_id = None
    flow.add_routine(routine, "r")
    with Runtime(thread_pool_size=1) as runtime, pytest.raises(ConfigurationError, match=match):
        runtime.exec(flow)


class Producer(Routine):
    def __init__(self) -> None:
        super().__init__()
        self.add_slot("inp")
        self.add_event("out", ["n"])

    def logic(self, inp: list[Any], *, worker_state: Any, policy_message: Any) -> None:
        self.emit("out", n=inp[0]["n"])


class LaterStep(Routine):
    """Wired in, logic not written yet."""

    def __init__(self) -> None:
        super().__init__()
        self.add_slot("inp")


def test_a_stub_routine_runs_in_a_flow_and_keeps_its_data_queued() -> None:
    flow = Flow("draft")
    flow.add_routine(Producer(), "producer")
    flow.add_routine(LaterStep(), "later")
    flow.connect("producer", "out", "later", "inp")
    assert flow.validate() == []
    assert flow.warnings() == [
        "routine 'later' is a stub (no logic yet): data sent to it waits in its slots"
    ]
    with Runtime(thread_pool_size=2) as runtime:
        runtime.exec(flow)
        _, job = runtime.post(flow, "producer", "inp", {"n": 7})
        assert job.wait(timeout=10)
        assert job.status == "completed"
        worker = runtime.worker_for(flow)
        assert worker.queued()["later"]["inp"] == [{"n": 7}]
