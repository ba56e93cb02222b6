"""Build the Graphviz DOT description of a flow, optionally with a live-state overlay."""

from __future__ import annotations

import functools
from collections import deque
from typing import Literal
from urllib.parse import quote as percent_encode

import graphviz
from graphviz.quoting import attr_list, quote

from routilux.core.connection import Connection
from routilux.core.flow import Flow
from routilux.notebook.diagram.labels import event_port, routine_label, slot_port
from routilux.notebook.diagram.overlay import (
    DiagramState,
    check_overlay,
    routine_classes,
    routine_style,
)

__all__ = ["choose_rankdir", "connection_element_id", "element_id", "flow_digraph"]

Rankdir = Literal["LR", "TB"]

_GRAPH_ATTRIBUTES = {"nodesep": "0.3", "ranksep": "0.5"}
# 12 pt text is 16 px at full size: still 12 px when a notebook scales the picture to 75%.
_NODE_ATTRIBUTES = {
    "shape": "Mrecord",
    "style": "filled",
    "fillcolor": "#ffffff",
    "fontname": "Helvetica",
    "fontsize": "12",
}
_EDGE_ATTRIBUTES = {"fontname": "Helvetica", "fontsize": "11", "arrowsize": "0.7"}

# Rough size of one routine in inches, to pick the orientation before Graphviz lays out
# (a left-to-right routine shows its slots, name and events side by side, so it is wide):
# a rank of a left-to-right graph is a node plus the gap to the next, and so is a node
# side by side with its neighbours in a top-to-bottom one.
_RANK_WIDTH = 2.8
_NODE_WIDTH = 2.0
# About the width of a notebook's output area (in inches at 96 px): wider pictures shrink.
_FITS = 9.0
# Spaces kept free after a slot's name, so the widget can write "name (12)" in place
# without the text spilling out of its box.
_COUNT_ROOM = "\u00a0" * 5


@functools.lru_cache(maxsize=16384)  # the live diagram asks for every routine's id per redraw
def element_id(kind: str, *parts: str) -> str:
    """A whitespace-free SVG element id, such as ``routine-first`` or ``routine-my%20step``.

    Percent-encoding keeps ids of routines with spaces or quotes valid and reversible.

    >>> element_id("routine", "my step")
    'routine-my%20step'
    """
    return "-".join([kind, *(percent_encode(part, safe="") for part in parts)])


def flow_digraph(
    flow: Flow,
    overlay: DiagramState | None = None,
    *,
    rankdir: Rankdir | None = None,
    count_room: bool = False,
) -> graphviz.Digraph:
    """Describe ``flow`` as a :class:`graphviz.Digraph`; the same input gives the same DOT.

    Args:
        flow: The flow to draw: one node per routine, one edge per connection.
        overlay: Live state to draw on top (states, breakpoints, queues, edge traffic).
        rankdir: ``"LR"`` or ``"TB"``; by default :func:`choose_rankdir` picks the one
            that keeps the picture narrow enough to read.
        count_room: Leave room after each slot name for a queued count written later
            (the live widget updates counts in the browser without a new layout).

    Returns:
        The digraph; its ``source`` is the DOT text.
    """
    if not isinstance(flow, Flow):
        raise TypeError(f"a diagram draws a Flow, got {type(flow).__name__} {flow!r:.60}")
    overlay = {} if overlay is None else overlay
    check_overlay(overlay)
    graph = graphviz.Digraph(
        name=graphviz.nohtml(flow.flow_id),
        # Named ids instead of Graphviz's "graph0", which every diagram on a page shares.
        graph_attr={
            **_GRAPH_ATTRIBUTES,
            "rankdir": rankdir or choose_rankdir(flow),
            "id": element_id("flow", flow.flow_id),
        },
        node_attr=_NODE_ATTRIBUTES,
        edge_attr=_EDGE_ATTRIBUTES,
    )
    taken = set(flow.routines)
    _add_routines(graph, flow, overlay, count_room)
    _add_entry_markers(graph, flow, taken)
    _add_connections(graph, flow, overlay)
    return graph


def choose_rankdir(flow: Flow) -> Rankdir:
    """Left to right when the flow's longest path fits a notebook's width, else whichever
    direction gives the narrower picture (a long chain reads best top to bottom).

    >>> from routilux import Flow
    >>> choose_rankdir(Flow("empty"))
    'LR'
    """
    levels = _levels(flow)
    if not levels:
        return "LR"
    ranks = max(levels.values()) + 1
    breadth = max(list(levels.values()).count(level) for level in set(levels.values()))
    if ranks * _RANK_WIDTH <= _FITS or ranks * _RANK_WIDTH <= breadth * _NODE_WIDTH:
        return "LR"
    return "TB"


def _levels(flow: Flow) -> dict[str, int]:
    """Each routine's rank: its longest distance from a routine nothing feeds (cycles cut)."""
    targets: dict[str, set[str]] = {rid: set() for rid in flow.routines}
    fed: set[str] = set()
    for c in flow.connections:
        if c.source_id != c.target_id:
            targets[c.source_id].add(c.target_id)
            fed.add(c.target_id)
    roots = [rid for rid in flow.routines if rid not in fed] or list(flow.routines)[:1]
    level = dict.fromkeys(roots, 0)
    queue = deque(roots)
    # Longest path by relaxation, bounded so that a cycle cannot keep it going.
    budget = len(flow.routines) * (len(flow.connections) + 1)
    while queue and budget > 0:
        rid = queue.popleft()
        for target in sorted(targets[rid]):
            budget -= 1
            if level.get(target, -1) < level[rid] + 1 <= len(flow.routines):
                level[target] = level[rid] + 1
                queue.append(target)
    for rid in flow.routines:
        level.setdefault(rid, 0)
    return level


def _add_routines(
    graph: graphviz.Digraph, flow: Flow, overlay: DiagramState, count_room: bool
) -> None:
    queued = overlay.get("queued", {})
    breakpoints = overlay.get("breakpoints", set())
    for routine_id, routine in flow.routines.items():
        waiting = {slot.name: queued.get((routine_id, slot.name), 0) for slot in routine.slots}
        label = routine_label(
            routine_id,
            routine,
            waiting,
            routine_id in breakpoints,
            room=_COUNT_ROOM if count_room else "",
        )
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
        attributes = {"id": connection_element_id(connection), "class": "connection"}
        if connection in edge_counts:
            approximate = "\u2248" if overlay.get("approximate") else ""
            attributes["label"] = f"{approximate}{edge_counts[connection]}"
        _append_edge(
            graph,
            tail=_port_ref(connection.source_id, event_port(event_index)),
            head=_port_ref(connection.target_id, slot_port(slot_index)),
            attributes=attributes,
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


def connection_element_id(connection: Connection) -> str:
    """The SVG element id of a connection's edge."""
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
