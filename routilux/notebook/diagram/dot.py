"""Build the Graphviz DOT description of a flow, optionally with a live-state overlay."""

from __future__ import annotations

import itertools
from urllib.parse import quote as percent_encode

import graphviz
from graphviz.quoting import attr_list, quote

from routilux.core.connection import Connection
from routilux.core.flow import Flow
from routilux.notebook.diagram.labels import event_port, routine_label, slot_port
from routilux.notebook.diagram.overlay import (
    ROUTINE_STATES,
    STATE_COLOURS,
    DiagramState,
    check_overlay,
    routine_classes,
    routine_style,
)

__all__ = ["element_id", "flow_digraph"]

_GRAPH_ATTRIBUTES = {"rankdir": "LR", "nodesep": "0.3", "ranksep": "0.6"}
_NODE_ATTRIBUTES = {
    "shape": "Mrecord",
    "style": "filled",
    "fillcolor": "#ffffff",
    "fontname": "Helvetica",
    "fontsize": "11",
}
_EDGE_ATTRIBUTES = {"fontname": "Helvetica", "fontsize": "10", "arrowsize": "0.7"}


def element_id(kind: str, *parts: str) -> str:
    """A whitespace-free SVG element id, such as ``routine-first`` or ``routine-my%20step``.

    Percent-encoding keeps ids of routines with spaces or quotes valid and reversible.

    >>> element_id("routine", "my step")
    'routine-my%20step'
    """
    return "-".join([kind, *(percent_encode(part, safe="") for part in parts)])


def flow_digraph(flow: Flow, overlay: DiagramState | None = None) -> graphviz.Digraph:
    """Describe ``flow`` as a :class:`graphviz.Digraph`; the same input gives the same DOT.

    Args:
        flow: The flow to draw: one node per routine, one edge per connection.
        overlay: Live state to draw on top (states, breakpoints, queues, edge traffic).

    Returns:
        The digraph; its ``source`` is the DOT text.
    """
    overlay = overlay or {}
    check_overlay(overlay)
    graph = graphviz.Digraph(
        name=graphviz.nohtml(flow.flow_id),
        # Named ids instead of Graphviz's "graph0", which every diagram on a page shares.
        graph_attr={**_GRAPH_ATTRIBUTES, "id": element_id("flow", flow.flow_id)},
        node_attr=_NODE_ATTRIBUTES,
        edge_attr=_EDGE_ATTRIBUTES,
    )
    taken = set(flow.routines)
    _add_routines(graph, flow, overlay)
    _add_entry_markers(graph, flow, taken)
    _add_connections(graph, flow, overlay)
    if "routine_states" in overlay:
        _add_legend(graph, taken)
    return graph


def _add_routines(graph: graphviz.Digraph, flow: Flow, overlay: DiagramState) -> None:
    queued = overlay.get("queued", {})
    breakpoints = overlay.get("breakpoints", set())
    for routine_id, routine in flow.routines.items():
        waiting = {slot.name: queued.get((routine_id, slot.name), 0) for slot in routine.slots}
        label = routine_label(routine_id, routine, waiting, routine_id in breakpoints)
        graph.node(
            _node_name(routine_id),
            label=graphviz.nohtml(label),
            _attributes={
                "id": element_id("routine", routine_id),
                "class": routine_classes(routine_id, overlay),
                **routine_style(routine_id, overlay),
            },
        )


def _add_entry_markers(graph: graphviz.Digraph, flow: Flow, taken: set[str]) -> None:
    """Draw a small dot with a dashed arrow into every slot that no connection feeds."""
    slot_index = {
        (routine_id, slot.name): i
        for routine_id, routine in flow.routines.items()
        for i, slot in enumerate(routine.slots)
    }
    for routine_id, slot in flow.entry_slots():
        marker = _free_name(f"entry:{routine_id}.{slot}", taken)
        graph.node(
            _node_name(marker),
            label="",
            _attributes={
                "id": element_id("entry", routine_id, slot),
                "class": "entry",
                "shape": "point",
                "width": "0.08",
                "tooltip": graphviz.escape(f"post to {routine_id}.{slot}"),
            },
        )
        _append_edge(
            graph,
            tail=quote(_node_name(marker)),
            head=_port_ref(routine_id, slot_port(slot_index[routine_id, slot])),
            attributes={"class": "entry", "style": "dashed", "arrowhead": "vee"},
        )


def _add_connections(graph: graphviz.Digraph, flow: Flow, overlay: DiagramState) -> None:
    edge_counts = overlay.get("edge_counts", {})
    routines = flow.routines
    for connection in flow.connections:
        source, target = routines[connection.source_id], routines[connection.target_id]
        event_index = [e.name for e in source.events].index(connection.event)
        slot_index = [s.name for s in target.slots].index(connection.slot)
        attributes = {"id": _connection_id(connection), "class": "connection"}
        if connection in edge_counts:
            attributes["label"] = str(edge_counts[connection])
        _append_edge(
            graph,
            tail=_port_ref(connection.source_id, event_port(event_index)),
            head=_port_ref(connection.target_id, slot_port(slot_index)),
            attributes=attributes,
        )


_INVISIBLE = {"style": "invis"}


def _add_legend(graph: graphviz.Digraph, taken: set[str]) -> None:
    with graph.subgraph(name="cluster_legend") as legend:
        legend.attr(id="legend", label="state", fontname="Helvetica", fontsize="10", style="dashed")
        # Invisible edges chain the states in lifecycle order: a left-to-right graph then
        # lays them out as one short row instead of a tall column beside the flow.
        names = [graphviz.nohtml(_free_name(f"legend:{state}", taken)) for state in ROUTINE_STATES]
        for earlier, later in itertools.pairwise(names):
            _append_edge(legend, tail=quote(earlier), head=quote(later), attributes=_INVISIBLE)
        for name, state in zip(names, ROUTINE_STATES, strict=True):
            legend.node(
                name,
                label=state,
                _attributes={
                    "id": element_id("legend", state),
                    "class": f"legend state-{state}",
                    "shape": "box",
                    "fillcolor": STATE_COLOURS[state],
                    "fontsize": "9",
                    "height": "0.25",
                },
            )


def _append_edge(
    graph: graphviz.Digraph, *, tail: str, head: str, attributes: dict[str, str]
) -> None:
    # Digraph.edge() reads "a:b" as node a, port b, so a routine id holding a colon would
    # be split; the edge statement is written here from ids quoted whole instead.
    graph.body.append(f"\t{tail} -> {head}{attr_list(attributes=attributes)}\n")


def _port_ref(routine_id: str, port: str) -> str:
    # No compass point: with one, Graphviz writes only the compass into the SVG edge title
    # and the port, which tests and the debugger widget read, would be lost.
    return f"{quote(_node_name(routine_id))}:{port}"


def _node_name(name: str) -> str:
    """``name`` as a DOT node name that is never read as HTML nor ends a quote early.

    DOT has no escape for a backslash, so a name ending in one would escape its closing
    quote; doubling that last backslash keeps the DOT valid (the title then shows two).
    """
    trailing = len(name) - len(name.rstrip("\\"))
    quoted: str = graphviz.nohtml(name + "\\" if trailing % 2 else name)
    return quoted


def _connection_id(connection: Connection) -> str:
    return element_id(
        "connection",
        f"{connection.source_id}.{connection.event}",
        f"{connection.target_id}.{connection.slot}",
    )


def _free_name(candidate: str, taken: set[str]) -> str:
    """``candidate``, primed until no routine or helper node already has the name."""
    while candidate in taken:
        candidate += "'"
    taken.add(candidate)
    return candidate
