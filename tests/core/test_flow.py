"""Flow: adding routines, connecting them, validation and entry slots."""

from __future__ import annotations

from typing import Any

import pytest

from routilux import ConfigurationError, Flow, FlowRegistry, Routine, Runtime
from tests.flows import Collect, Relay


def two_step() -> Flow:
    flow = Flow("two")
    flow.add_routine(Relay(), "a")
    flow.add_routine(Collect(), "b")
    return flow


def test_connect_links_event_to_slot_and_lists_entry_slots() -> None:
    flow = two_step()
    c = flow.connect("a", "output", "b", "input")
    assert (c.source_id, c.event, c.target_id, c.slot) == ("a", "output", "b", "input")
    assert flow.entry_slots() == [("a", "input")]
    assert flow.validate() == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("x", "output", "b", "input"), "unknown routine 'x'"),
        (("a", "outptu", "b", "input"), "unknown event 'outptu'.*did you mean 'output'"),
        (("a", "output", "b", "inp"), "unknown slot 'inp'"),
        (("a", "output", "zz", "input"), "unknown routine 'zz'"),
    ],
)
def test_connect_names_the_unknown_part(args: tuple[str, str, str, str], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        two_step().connect(*args)


def test_duplicate_routine_id_and_duplicate_connection_are_rejected() -> None:
    flow = two_step()
    with pytest.raises(ConfigurationError, match="duplicate routine id 'a'"):
        flow.add_routine(Relay(), "a")
    flow.connect("a", "output", "b", "input")
    with pytest.raises(ConfigurationError, match="duplicate connection"):
        flow.connect("a", "output", "b", "input")


def test_a_routine_object_belongs_to_one_flow() -> None:
    routine = Relay()
    Flow("one").add_routine(routine, "r")
    with pytest.raises(ConfigurationError, match="already belongs to flow 'one'"):
        Flow("two").add_routine(routine, "r")


def test_ids_are_derived_from_the_class_name_when_omitted() -> None:
    flow = Flow("auto")
    assert flow.add_routine(Relay()) == "relay"
    assert flow.add_routine(Relay()) == "relay_2"


def test_starting_an_invalid_flow_raises_with_every_problem() -> None:
    flow = Flow("broken")
    bad = Routine()
    bad.add_slot("a")
    bad.add_slot("b")
    bad.set_logic(lambda only_one: None)
    flow.add_routine(bad, "bad")
    flow.add_routine(Routine(), "empty")  # a stub: a warning, not a problem
    problems = flow.validate()
    assert len(problems) == 1
    assert flow.warnings() == [
        "routine 'empty' is a stub (no logic yet): data sent to it waits in its slots"
    ]
    with Runtime(thread_pool_size=1) as rt, pytest.raises(ConfigurationError, match="cannot start"):
        rt.exec(flow)


def test_registry_finds_flows_by_name_and_explains_unknown_names() -> None:
    registry = FlowRegistry.get_instance()
    flow = two_step()
    registry.register_by_name("my_flow", flow)
    assert registry.get_by_name("my_flow") is flow
    assert "my_flow" in registry.names()
    with pytest.raises(ConfigurationError, match="unknown flow 'my_flwo'.*did you mean 'my_flow'"):
        registry.get_by_name("my_flwo")


def test_configuration_errors_are_value_errors_and_state_errors_runtime_errors() -> None:
    from routilux import StateError

    assert issubclass(ConfigurationError, ValueError)
    assert issubclass(StateError, RuntimeError)
    flow = Flow("errors")
    flow.add_routine(Relay(), "a")
    with pytest.raises(ValueError, match="duplicate routine id 'a'"):
        flow.add_routine(Relay(), "a")
    with pytest.raises(ValueError, match="unknown slot"):
        flow.connect("a", "output", "a", "inptu")


def test_the_same_routine_object_cannot_join_twice() -> None:
    flow = Flow("twice")
    relay = Relay()
    flow.add_routine(relay, "a")
    with pytest.raises(ConfigurationError, match="already in flow 'twice' as 'a'"):
        flow.add_routine(relay, "b")
    with pytest.raises(ConfigurationError, match="already belongs to flow 'twice'"):
        Flow("other").add_routine(relay, "c")


def test_derived_ids_keep_counting_past_ids_taken_by_hand() -> None:
    flow = Flow("ids")
    flow.add_routine(Relay(), "relay_2")
    assert flow.add_routine(Relay()) == "relay"
    assert flow.add_routine(Relay()) == "relay_3"
    assert flow.add_routine(Relay()) == "relay_4"


def test_a_large_flow_builds_and_wires_every_routine() -> None:
    flow = Flow("large")
    for i in range(3000):
        flow.add_routine(Relay(), f"r{i}")
        if i:
            flow.connect(f"r{i - 1}", "output", f"r{i}", "input")
    assert len(flow.routines) == 3000
    assert len(flow.connections) == 2999
    with pytest.raises(ConfigurationError, match="duplicate connection"):
        flow.connect("r0", "output", "r1", "input")


@pytest.mark.parametrize(
    ("call", "suggestion"),
    [
        (lambda: Flow(flow_di="x"), "flow_id"),
        (lambda: Flow("x").add_routine(Relay(), routine_di="a"), "routine_id"),
        (lambda: two_step().connect("a", "output", "b", slto="input"), "slot"),
        (lambda: Flow.from_dict({}, factroy=None), "factory"),
        (lambda: Relay().add_event("e", parms=["x"]), "params"),
    ],
)
def test_misspelt_keywords_name_the_closest_valid_one(call: Any, suggestion: str) -> None:
    with pytest.raises(TypeError, match=f"did you mean '{suggestion}'"):
        call()


def test_a_type_error_raised_inside_the_api_is_left_as_it_is() -> None:
    with pytest.raises(ConfigurationError, match="routine id must be a non-empty string"):
        Flow("x").add_routine(Relay(), routine_id=3)  # type: ignore[arg-type]


def test_adding_something_that_is_not_a_routine_names_what_it_got() -> None:
    flow = Flow("odd")
    with pytest.raises(TypeError, match=r"got the class Relay: write add_routine\(Relay\(\), "):
        flow.add_routine(Relay, "a")  # type: ignore[arg-type]  # the class, not an instance
    with pytest.raises(TypeError, match="takes a Routine .* got dict"):
        flow.add_routine({"class": "Relay"}, "a")  # type: ignore[arg-type]
    assert flow.routines == {}


@pytest.mark.parametrize(
    ("params", "message"),
    [("total", r"not one string: write \['total'\]"), (["n", 3], "non-empty strings, got 3")],
)
def test_event_params_are_a_list_of_names(params: Any, message: str) -> None:
    routine = Relay()
    with pytest.raises(ConfigurationError, match=message):
        routine.add_event("sum", params)
    assert [event.name for event in routine.events] == ["output"]  # nothing half-added
