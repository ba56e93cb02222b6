"""Pictures of a flow for files: SVG and DOT from the notebook renderer, PNG from its SVG."""

from __future__ import annotations

import re

from routilux.core.flow import Flow

__all__ = ["FORMATS", "draw"]

FORMATS = ("svg", "png", "dot")

# Graphviz sizes its SVG in points; resvg takes only unitless (pixel) root sizes.
_ROOT_SIZE = re.compile(r'(<svg\b[^>]*?\b(?:width|height))="([\d.]+)pt"')


def draw(flow: Flow, fmt: str) -> bytes:
    """``flow`` drawn as ``fmt`` (``svg``, ``png`` or ``dot``).

    Args:
        flow: The flow.
        fmt: The file format.

    Returns:
        The file's bytes.

    Raises:
        ValueError: An unknown format.
        ImportError: The packages that draw are missing; the message names the extra.
        RuntimeError: No Graphviz could lay the flow out (``EngineUnavailable``).
    """
    if fmt not in FORMATS:
        raise ValueError(f"cannot draw a flow as {fmt!r}: use one of .svg, .png, .dot")
    try:
        from routilux.notebook import render
    except ImportError as error:
        raise ImportError(
            f'drawing flows needs Graphviz packages ({error}): pip install "routilux[cli]"'
        ) from error
    if fmt == "dot":
        return render(flow, "dot").encode()
    svg = render(flow, "svg")
    if fmt == "svg":
        return svg.encode()
    try:
        import resvg_py  # PNG without Cairo or a system Graphviz: resvg ships in its wheel
    except ImportError as error:
        raise ImportError('PNG output needs resvg-py: pip install "routilux[cli]"') from error
    in_pixels = _ROOT_SIZE.sub(lambda m: f'{m[1]}="{float(m[2]) * 4 / 3:.2f}"', svg)
    in_pixels = _ROOT_SIZE.sub(lambda m: f'{m[1]}="{float(m[2]) * 4 / 3:.2f}"', in_pixels)
    png: bytes = bytes(resvg_py.svg_to_bytes(svg_string=in_pixels, background="white", zoom=2))
    return png
