"""Draw a flow as SVG or DOT, and the Jupyter mimebundle that shows it in a notebook."""

from __future__ import annotations

import html
from typing import Literal

from routilux.core.flow import Flow
from routilux.notebook.diagram.dot import flow_digraph
from routilux.notebook.diagram.engines import EngineUnavailable, render_svg
from routilux.notebook.diagram.overlay import (
    BREAKPOINT_COLOUR,
    LAST_COLOUR,
    NEXT_COLOUR,
    STATE_COLOURS,
    DiagramState,
    RoutineState,
    legend_entries,
)

__all__ = [
    "DiagramState",
    "EngineUnavailable",
    "RoutineState",
    "diagram_html",
    "legend_html",
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
    ``routine``, ``state-<state>``, ``next``, ``last`` and ``breakpoint`` as the overlay says.

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
    """The diagram as an HTML fragment: legend and ``<svg>``, or why it cannot be drawn.

    Every view that embeds a diagram in HTML (the widget, the timeline, static snapshots)
    goes through here, so a missing Graphviz reads the same everywhere. The picture
    shrinks to the width of the page, never wider, so no output scrolls sideways.

    Args:
        flow: The flow to draw.
        overlay: Live state to draw on top; see :class:`DiagramState`.

    Returns:
        HTML: a one-row legend of what the overlay shows, then the ``<svg>`` element; or a
        ``<pre>`` with the reason and what to install.
    """
    try:
        svg = fit_to_width(strip_xml_prolog(render(flow, "svg", overlay)))
    except EngineUnavailable as error:
        return f"<pre>{html.escape(str(error))}</pre>"
    return legend_html(overlay or {}) + svg


def fit_to_width(svg: str) -> str:
    """``svg`` styled to shrink to its container's width (keeping its proportions).

    >>> fit_to_width('<svg width="10pt">')
    '<svg style="max-width: 100%; height: auto" width="10pt">'
    """
    return svg.replace("<svg ", '<svg style="max-width: 100%; height: auto" ', 1)


# Inline styles: static HTML ends up in notebooks and docs, where no stylesheet of ours is.
_KEY_STYLE = "display: inline-block; padding: 0 6px; margin: 0 4px 2px 0; border-radius: 3px"
_MARK_BORDERS = {
    "next": f"3px solid {NEXT_COLOUR}",
    "last": f"2px dashed {LAST_COLOUR}",
    "breakpoint": f"2px solid {BREAKPOINT_COLOUR}",
}


def legend_html(overlay: DiagramState) -> str:
    """One short row explaining the colours and marks ``overlay`` shows ('' if none).

    >>> legend_html({})
    ''
    """
    keys = []
    for css, text in legend_entries(overlay):
        if css.startswith("state-"):
            colour = STATE_COLOURS[css.removeprefix("state-")]  # type: ignore[index]
            look = f"background: {colour}; border: 1px solid #868e96"
        else:
            look = f"border: {_MARK_BORDERS[css]}"
        keys.append(f'<span class="routilux-key {css}" style="{_KEY_STYLE}; {look}">{text}</span>')
    if not keys:
        return ""
    return f'<div class="routilux-legend" style="font-size: 12px">{"".join(keys)}</div>'


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
    # Shrinks to the page where the SVG is inlined (documentation pages, static HTML).
    return {"image/svg+xml": fit_to_width(svg), "text/plain": repr(flow)}
