"""Flow: adding routines, connecting them, validation and entry slots."""

from __future__ import annotations

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
