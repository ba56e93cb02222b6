"""Draw a flow as SVG or DOT, and the Jupyter mimebundle that shows it in a notebook."""

from __future__ import annotations

import html
from typing import Literal

from routilux.core.flow import Flow
from routilux.notebook.diagram.dot import flow_digraph
from routilux.notebook.diagram.engines import EngineUnavailable, render_svg
from routilux.notebook.diagram.overlay import DiagramState, RoutineState

__all__ = [
    "DiagramState",
    "EngineUnavailable",
    "RoutineState",
    "diagram_html",
    "mimebundle",
    "render",
    "strip_xml_prolog",
]


def render(
    flow: Flow,
    format: Literal["svg", "dot"] = "svg",
    overlay: DiagramState | None = None,
) -> str:
    """Draw ``flow``: routines as nodes with slot and event ports, connections as edges.

    Each routine's SVG element has ``id="routine-<id>"`` (percent-encoded) and CSS classes
    ``routine``, ``state-<state>``, ``breakpoint`` and ``highlight`` as the overlay says.

    Args:
        flow: The flow to draw.
        format: ``"svg"`` for the laid-out picture, ``"dot"`` for the Graphviz source.
        overlay: Live state to draw on top; see :class:`DiagramState`.

    Returns:
        SVG or DOT text.

    Raises:
        EngineUnavailable: ``format="svg"`` but no Graphviz could be run; the error's
            ``dot`` attribute holds the DOT text and its message says what to install.
        ValueError: An unknown format, or an unknown state in the overlay.
    """
    if format not in ("svg", "dot"):
        raise ValueError(f"format must be 'svg' or 'dot', got {format!r}")
    dot: str = flow_digraph(flow, overlay).source
    if format == "dot":
        return dot
    return render_svg(dot)


def strip_xml_prolog(svg: str) -> str:
    """The ``<svg>`` element alone: an XML prolog or DOCTYPE means nothing inside HTML.

    >>> strip_xml_prolog('<?xml version="1.0"?>\\n<!DOCTYPE svg>\\n<svg></svg>')
    '<svg></svg>'
    """
    start = svg.find("<svg")
    return svg[start:] if start >= 0 else svg


def diagram_html(flow: Flow, overlay: DiagramState | None = None) -> str:
    """The diagram as an HTML fragment: the ``<svg>`` element, or why it cannot be drawn.

    Every view that embeds a diagram in HTML (the widget, the timeline, static snapshots)
    goes through here, so a missing Graphviz reads the same everywhere.

    Args:
        flow: The flow to draw.
        overlay: Live state to draw on top; see :class:`DiagramState`.

    Returns:
        An ``<svg>`` element, or a ``<pre>`` holding the install hint and the DOT text.
    """
    try:
        return strip_xml_prolog(render(flow, "svg", overlay))
    except EngineUnavailable as error:
        return f"<pre>{html.escape(str(error))}</pre>"


def mimebundle(flow: Flow, overlay: DiagramState | None = None) -> dict[str, str]:
    """What Jupyter displays for ``flow``: SVG with a text fallback, or DOT and a hint.

    Args:
        flow: The flow to draw.
        overlay: Live state to draw on top; see :class:`DiagramState`.

    Returns:
        ``image/svg+xml`` and ``text/plain`` when Graphviz could run; otherwise only
        ``text/plain`` holding the DOT source and what to install to see the picture.
    """
    try:
        svg = render(flow, "svg", overlay)
    except EngineUnavailable as error:
        return {"text/plain": f"{error.dot}\n{error}"}
    return {"image/svg+xml": svg, "text/plain": repr(flow)}
