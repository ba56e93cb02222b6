"""Flows as data: Flow.to_dict / from_dict, serialize / deserialize, load_flow, save_flow."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, ClassVar

import pytest

from routilux import (
    ConfigurationError,
    ErrorHandler,
    Flow,
    Routine,
    RoutineFactory,
    Runtime,
    SerializationError,
    batch_size_policy,
    load_flow,
    save_flow,
)


class Source(Routine):
    created: ClassVar[int] = 0

    def __init__(self) -> None:
        super().__init__()
        Source.created += 1
        self.add_slot("trigger")
        self.add_event("out", ["n"])

    def logic(self, trigger: list[Any], policy_message: Any, worker_state: Any) -> None:
        for point in trigger:
            self.emit("out", n=point["n"] * self.get_config("factor", 1))


class Sink(Routine):
    created: ClassVar[int] = 0

    def __init__(self) -> None:
        super().__init__()
        Sink.created += 1
        self.add_slot("inp")

    def logic(self, inp: list[Any], *, worker_state: Any, **_: Any) -> None:
        with worker_state.lock:
            worker_state.shared_log.extend(p["n"] for p in inp)


@pytest.fixture
def factory() -> RoutineFactory:
    f = RoutineFactory()
    f.register(Source)
    f.register(Sink, name="Collector")
    return f


def spec() -> dict[str, Any]:
    return {
        "flow_id": "numbers",
        "error_handler": {"strategy": "continue"},
        "routines": {
            "src": {"class": "Source", "config": {"factor": 10}},
            "sink": {
                "class": "Collector",
                "policy": {"name": "batch_size", "n": 2},
                "error_handler": {
                    "strategy": "retry",
                    "max_retries": 2,
                    "retryable_exceptions": ["TimeoutError"],
                },
            },
        },
        "connections": [{"from": "src.out", "to": "sink.inp"}],
    }


def run(flow: Flow) -> list[Any]:
    with Runtime(thread_pool_size=2) as runtime:
        state = runtime.exec(flow)
        for n in (1, 2, 3, 4):
            runtime.post(flow, "src", "trigger", {"n": n})
        assert runtime.wait_until_all_jobs_finished(timeout=10)
        return sorted(state.shared_log)


def test_a_spec_dict_builds_the_flow_it_describes(factory: RoutineFactory) -> None:
    flow = Flow.from_dict(spec(), factory)
    assert flow.flow_id == "numbers"
    assert [str(c) for c in flow.connections] == ["src.out -> sink.inp"]
    sink = flow.get_routine("sink")
    assert str(sink.activation_policy) == "batch_size(2)"
    assert sink.error_handler == ErrorHandler(
        "retry", max_retries=2, retryable_exceptions=(TimeoutError,)
    )
    assert flow.error_handler == ErrorHandler("continue")
    assert run(flow) == [10, 20, 30, 40]


def test_to_dict_and_from_dict_round_trip(factory: RoutineFactory) -> None:
    flow = Flow.from_dict(spec(), factory)
    again = Flow.from_dict(flow.to_dict(factory), factory)
    assert again.to_dict(factory) == flow.to_dict(factory)
    assert run(again) == run(flow)


@pytest.mark.parametrize("suffix", [".json", ".yaml", ".yml"])
def test_a_flow_saved_to_a_file_loads_back_the_same(
    factory: RoutineFactory, tmp_path: Path, suffix: str
) -> None:
    if suffix != ".json":
        pytest.importorskip("yaml")
    flow = Flow.from_dict(spec(), factory)
    path = tmp_path / f"flow{suffix}"
    save_flow(flow, path, factory=factory)
    loaded = load_flow(path, factory=factory)
    assert loaded.to_dict(factory) == flow.to_dict(factory)
    assert run(loaded) == [10, 20, 30, 40]


def test_serialize_and_deserialize_carry_a_type_tag(factory: RoutineFactory) -> None:
    flow = Flow.from_dict(spec(), factory)
    document = json.loads(json.dumps(flow.serialize(factory)))
    assert document["_type"] == "Flow"
    assert Flow.deserialize(document, factory).to_dict(factory) == flow.to_dict(factory)
    with pytest.raises(SerializationError, match="not a serialized Flow"):
        Flow.deserialize(spec(), factory)


def test_every_problem_of_a_spec_is_listed_with_its_place_and_nothing_is_created(
    factory: RoutineFactory,
) -> None:
    bad = {
        "flow_id": "bad",
        "routines": {
            "a": {"class": "Sourc"},
            "b": {"class": "os.system"},
            "c": {"config": {}},
            "d": {"class": "Source", "confg": {}},
        },
        "connections": [{"from": "a.out", "to": "nowhere.inp"}, {"from": "a.out"}],
    }
    before = Source.created, Sink.created
    with pytest.raises(ConfigurationError) as caught:
        Flow.from_dict(bad, factory)
    message = str(caught.value)
    assert "6 problems" in message
    assert (
        "routines.a.class: 'Sourc' is not a registered routine class; did you mean 'Source'?"
        in message
    )
    assert "routines.b.class: 'os.system' is a dotted path; specs never import code" in message
    assert "routines.c.class: missing" in message
    assert "routines.d: unknown field 'confg'; did you mean 'config'?" in message
    assert "connections[0].to: unknown routine 'nowhere'" in message
    assert "connections[1].to: missing" in message
    assert (Source.created, Sink.created) == before
    assert isinstance(caught.value, ValueError)


def test_a_dotted_path_is_never_imported(factory: RoutineFactory) -> None:
    spec = {"routines": {"r": {"class": "tests.compat.never_imported.Boom"}}}
    with pytest.raises(ConfigurationError, match="dotted path"):
        Flow.from_dict(spec, factory)
    assert "tests.compat.never_imported" not in sys.modules


def test_an_unknown_port_is_reported_after_the_classes_are_checked(
    factory: RoutineFactory,
) -> None:
    s = spec()
    s["connections"] = [{"from": "src.outt", "to": "sink.inp"}]
    with pytest.raises(ConfigurationError, match=r"connections\[0\]: unknown event 'outt'"):
        Flow.from_dict(s, factory)


def test_bad_files_get_a_serialization_error_naming_the_file(tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    with pytest.raises(SerializationError, match="broken.json is not valid JSON"):
        load_flow(broken)
    with pytest.raises(SerializationError, match="cannot read flow spec"):
        load_flow(tmp_path / "missing.yaml")
    with pytest.raises(ConfigurationError, match="unknown spec format '.txt'"):
        load_flow(tmp_path / "flow.txt")


def test_bad_yaml_gets_a_serialization_error_naming_the_file(tmp_path: Path) -> None:
    pytest.importorskip("yaml")
    yaml_file = tmp_path / "bad.yaml"
    yaml_file.write_text("routines: [unclosed")
    with pytest.raises(SerializationError, match="bad.yaml is not valid YAML"):
        load_flow(yaml_file)


def test_yaml_without_pyyaml_says_which_extra_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "flow.yaml"
    path.write_text("routines: {}\n")
    monkeypatch.setitem(sys.modules, "yaml", None)  # import yaml now raises ImportError
    with pytest.raises(ConfigurationError, match=r"routilux\[yaml\]"):
        load_flow(path)


def test_a_yaml_file_cannot_build_objects(tmp_path: Path, factory: RoutineFactory) -> None:
    pytest.importorskip("yaml")
    path = tmp_path / "evil.yaml"
    path.write_text("routines: !!python/object/apply:os.system ['true']\n")
    with pytest.raises(SerializationError, match="not valid YAML"):
        load_flow(path, factory=factory)


def test_flows_that_cannot_be_written_as_specs_say_why(factory: RoutineFactory) -> None:
    flow = Flow("unwritable")
    loose = Routine()
    loose.add_slot("x")
    loose.set_logic(lambda x, pm, ws: None)
    flow.add_routine(loose, "loose")
    source = Source()
    source.set_activation_policy(batch_size_policy(3))
    source.set_error_handler(ErrorHandler("retry", retryable_exceptions=(Custom,)))
    flow.add_routine(source, "src")
    with pytest.raises(SerializationError) as caught:
        flow.to_dict(factory)
    message = str(caught.value)
    assert "routines.loose: class Routine is not registered" in message
    assert "retryable_exceptions: Custom is not a built-in exception" in message


class Custom(Exception):
    pass


def test_the_process_wide_factory_is_used_by_default() -> None:
    default = RoutineFactory.get_instance()
    default.register(Source, name="TestSpecSource")
    try:
        flow = load_flow({"routines": {"s": "TestSpecSource"}})
        assert isinstance(flow.get_routine("s"), Source)
        assert flow.to_dict()["routines"] == {"s": {"class": "TestSpecSource"}}
    finally:
        default.unregister("TestSpecSource")


def test_a_loaded_flow_draws_the_same_diagram(factory: RoutineFactory, tmp_path: Path) -> None:
    pytest.importorskip("graphviz")  # the notebook extra
    pytest.importorskip("yaml")
    from routilux.notebook import render

    flow = Flow.from_dict(spec(), factory)
    path = tmp_path / "flow.yaml"
    save_flow(flow, path, factory=factory)
    loaded = load_flow(path, factory=factory)
    assert render(loaded, format="dot") == render(flow, format="dot")


@pytest.mark.parametrize(
    ("routines", "connections", "problem"),
    [
        ({"a": {"class": "Unknown"}}, [], "routines.a.class: 'Unknown' is not a registered"),
        ({"a": {"class": "tests.compat.test_spec.Source"}}, [], "routines.a.class: 'tests"),
        ({"a": {"config": {"factor": 2}}}, [], "routines.a.class: missing"),
        ({"a": "Source"}, [{"from": "a.out", "to": "b.inp"}], "connections[0].to: unknown routine"),
        ({"a": "Source"}, [{"from": "a-out", "to": "a.trigger"}], "connections[0].from: must look"),
    ],
    ids=["unregistered", "dotted-path", "missing-class", "unknown-end", "malformed-end"],
)
def test_each_kind_of_bad_spec_is_one_clear_error_and_creates_nothing(
    factory: RoutineFactory, routines: dict[str, Any], connections: list[Any], problem: str
) -> None:
    before = Source.created
    with pytest.raises(ConfigurationError, match="1 problem:") as caught:
        Flow.from_dict({"routines": routines, "connections": connections}, factory)
    assert problem in str(caught.value)
    assert Source.created == before


def test_a_routine_id_with_a_dot_cannot_be_written(factory: RoutineFactory) -> None:
    flow = Flow("dotted")
    flow.add_routine(Source(), "a.b")
    with pytest.raises(SerializationError, match=r"routines.a.b: an id with '\.'"):
        flow.to_dict(factory)


def test_deserialize_on_an_empty_flow_fills_it_as_upstream_did(factory: RoutineFactory) -> None:
    document = Flow.from_dict(spec(), factory).serialize(factory)
    flow = Flow()
    assert flow.deserialize(document, factory) is flow
    assert flow.flow_id == "numbers"
    assert flow.get_routine("src").flow is flow
    assert flow.to_dict(factory) == Flow.deserialize(document, factory).to_dict(factory)
    with pytest.raises(RuntimeError, match="already has routines"):
        flow.deserialize(document, factory)
