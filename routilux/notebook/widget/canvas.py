"""DiagramCanvas: the flow's SVG in the browser; clicking a routine asks to toggle a breakpoint."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal, TypedDict

import anywidget
import ipywidgets as widgets
import traitlets

__all__ = ["DiagramCanvas", "StaticDiagram", "ToggleBreakpointMessage"]


class ToggleBreakpointMessage(TypedDict):
    """Sent by the front end when a routine node is clicked."""

    type: Literal["toggle_breakpoint"]
    routine_id: str


# Node ids are "routine-" plus the percent-encoded routine id (see render()).
_ESM = """
function routineIdOf(target, el) {
  const node = target.closest("g.routine");
  if (!node || !el.contains(node) || !node.id.startsWith("routine-")) return null;
  return decodeURIComponent(node.id.slice("routine-".length));
}

function render({ model, el }) {
  const draw = () => { el.innerHTML = model.get("svg"); };
  const onClick = (event) => {
    const routineId = routineIdOf(event.target, el);
    if (routineId !== null) model.send({ type: "toggle_breakpoint", routine_id: routineId });
  };
  draw();
  model.on("change:svg", draw);
  el.addEventListener("click", onClick);
  return () => {
    model.off("change:svg", draw);
    el.removeEventListener("click", onClick);
  };
}

export default { render };
"""

_CSS = """
.routilux-diagram { overflow-x: auto; }
.routilux-diagram svg { max-width: 100%; height: auto; }
.routilux-diagram g.routine { cursor: pointer; }
"""


class DiagramCanvas(anywidget.AnyWidget):
    """Shows :attr:`svg`; a click on a routine calls ``on_toggle(routine_id)`` in the kernel.

    Args:
        on_toggle: Called with the clicked routine's id.
    """

    _esm = _ESM
    _css = _CSS
    svg = traitlets.Unicode("").tag(sync=True)

    def __init__(self, on_toggle: Callable[[str], None], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._on_toggle = on_toggle
        self.add_class("routilux-diagram")
        self.on_msg(self._handle_message)

    def _handle_message(self, _widget: Any, content: Any, _buffers: Any) -> None:
        if isinstance(content, dict) and content.get("type") == "toggle_breakpoint":
            message: ToggleBreakpointMessage = {
                "type": "toggle_breakpoint",
                "routine_id": str(content["routine_id"]),
            }
            self._on_toggle(message["routine_id"])


class StaticDiagram(widgets.HTML):  # type: ignore[misc]  # ipywidgets has no type hints
    """The same picture without clicks, from ipywidgets alone.

    For front ends that cannot load anywidget's module (VS Code or Colab offline, where
    third-party widget code comes from a CDN); breakpoints are then set from the list.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.add_class("routilux-diagram")

    @property
    def svg(self) -> str:
        return str(self.value)

    @svg.setter
    def svg(self, svg: str) -> None:
        self.value = svg
