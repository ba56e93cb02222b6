"""Routine: ports, configuration, logic and its signature check."""

from __future__ import annotations

import pytest

from routilux import ConfigurationError, Routine, StateError
from routilux.activation_policies import batch_size_policy


def test_slots_and_events_keep_definition_order_and_aliases_work() -> None:
    r = Routine()
    r.define_slot("b")
    r.add_slot("a")
    r.define_event("out", ["x", "y"])
    assert [s.name for s in r.slots] == ["b", "a"]
    assert r.get_event("out").params == ("x", "y")


def test_duplicate_slot_or_event_names_are_rejected() -> None:
    r = Routine()
    r.add_slot("in")
    r.add_event("out")
    with pytest.raises(ConfigurationError, match="already has a slot named 'in'"):
        r.add_slot("in")
    with pytest.raises(ConfigurationError, match="already has an event named 'out'"):
        r.add_event("out")


def test_unknown_slot_error_suggests_the_closest_name() -> None:
    r = Routine()
    r.add_slot("input")
    with pytest.raises(ConfigurationError, match="did you mean 'input'"):
        r.get_slot("inptu")


def test_config_is_stored_and_read_back_with_defaults() -> None:
    r = Routine()
    r.set_config(timeout=30, name="x")
    assert r.get_config("timeout") == 30
    assert r.get_config("missing", 7) == 7
    r.config["timeout"] = 0  # a copy: changing it changes nothing
    assert r.get_config("timeout") == 30


def test_logic_that_cannot_take_the_slots_is_reported() -> None:
    r = Routine()
    r.add_slot("a")
    r.add_slot("b")
    r.routine_id = "join"
    r.set_logic(lambda a, policy_message, worker_state: None)
    problem = r.validate_logic()
    assert problem is not None
    assert "join" in problem
    assert "2 slot lists" in problem


def test_logic_with_varargs_or_matching_arity_passes_the_check() -> None:
    r = Routine()
    r.add_slot("a")
    r.set_logic(lambda *args: None)
    assert r.validate_logic() is None
    r.set_logic(lambda a, pm, ws: None)
    assert r.validate_logic() is None


def test_a_logic_method_on_a_subclass_is_used() -> None:
    class Sub(Routine):
        def __init__(self) -> None:
            super().__init__()
            self.add_slot("x")

        def logic(self, x, policy_message, worker_state):  # type: ignore[no-untyped-def]
            return None

    assert Sub().get_logic() is not None
    assert Sub().validate_logic() is None


def test_routine_without_logic_is_a_stub_not_a_problem() -> None:
    r = Routine()
    r.routine_id = "lonely"
    assert r.is_stub
    assert r.validate_logic() is None
    assert r.resolve_logic() is None


def test_emit_outside_logic_says_how_to_fix_it() -> None:
    r = Routine()
    r.add_event("out")
    with pytest.raises(StateError, match="outside of logic"):
        r.emit("out", x=1)


def test_bad_policy_and_logic_values_are_rejected() -> None:
    r = Routine()
    with pytest.raises(ConfigurationError):
        r.set_logic("not callable")  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError):
        r.set_activation_policy(3)  # type: ignore[arg-type]
    r.set_activation_policy(batch_size_policy(2))
    assert str(r.activation_policy) == "batch_size(2)"


def test_a_misspelt_slot_keyword_is_an_error_naming_the_right_one() -> None:
    r = Routine()
    with pytest.raises(TypeError, match="'max_queue_lenght'; did you mean 'max_queue_length'"):
        r.add_slot("x", max_queue_lenght=5)
    assert r.slots == []


def test_handler_and_merge_strategy_of_old_slots_warn_that_they_do_nothing() -> None:
    r = Routine()
    with pytest.warns(DeprecationWarning, match="has no effect"):
        r.add_slot("x", handler=print)
    with pytest.warns(DeprecationWarning, match="has no effect"):
        r.add_slot("y", merge_strategy="append")


@pytest.mark.parametrize(
    ("length", "error"),
    [(0, ValueError), (-1, ValueError), ("3", TypeError), (True, TypeError), (1.5, TypeError)],
)
def test_queue_lengths_must_be_positive_integers(length: object, error: type) -> None:
    with pytest.raises(error, match="max_queue_length"):
        Routine().add_slot("x", max_queue_length=length)  # type: ignore[arg-type]


def test_emit_with_runtime_outside_logic_goes_to_the_flows_running_worker() -> None:
    from routilux import Flow, Runtime
    from tests.flows import Collect

    source = Routine()
    source.add_event("out")
    flow = Flow("emit_runtime")
    flow.add_routine(source, "source")
    flow.add_routine(Collect(), "sink")
    flow.connect("source", "out", "sink", "input")
    with Runtime(thread_pool_size=1) as runtime:
        state = runtime.exec(flow)
        source.emit("out", runtime=runtime, n=1)
        assert runtime.wait_until_all_jobs_finished(timeout=10)
        assert state.shared_log == [{"n": 1}]
