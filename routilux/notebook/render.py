"""Draw a flow as SVG or DOT, and the Jupyter mimebundle that shows it in a notebook."""

from __future__ import annotations

from typing import Literal

from routilux.core.flow import Flow
from routilux.notebook._dot import flow_digraph
from routilux.notebook._dot_overlay import DiagramState, RoutineState
from routilux.notebook._engines import EngineUnavailable, render_svg

__all__ = ["DiagramState", "EngineUnavailable", "RoutineState", "mimebundle", "render"]


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
