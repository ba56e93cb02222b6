"""DiagramCanvas: the flow's layout drawn once in the browser, its live state applied in place."""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import Any, Literal, TypedDict

import anywidget
import ipywidgets as widgets
import traitlets

from routilux.core.flow import Flow
from routilux.notebook.diagram.dot import flow_digraph
from routilux.notebook.diagram.engines import EngineUnavailable, render_svg
from routilux.notebook.diagram.overlay import DiagramState
from routilux.notebook.live.payload import DiagramPayload, diagram_payload, flow_outline
from routilux.notebook.render import diagram_html, legend_html, strip_xml_prolog
from routilux.notebook.widget._canvas_front import CSS, ESM

__all__ = ["NODE_ACTIONS", "DiagramCanvas", "NodeAction", "StaticDiagram"]

NodeAction = Literal["break_before", "break_after", "break_slot", "break_event", "run_to"]
KeyAction = Literal["continue", "step", "pause"]
NODE_ACTIONS: tuple[NodeAction, ...] = (
    "break_before",
    "break_after",
    "break_slot",
    "break_event",
    "run_to",
)
KEY_ACTIONS: tuple[KeyAction, ...] = ("continue", "step", "pause")


class ActionMessage(TypedDict):
    """Sent by the front end when an item of a routine's menu is chosen."""

    type: Literal["action"]
    action: NodeAction
    routine_id: str
    name: str | None  # the slot or event, for break_slot / break_event


class KeyMessage(TypedDict):
    """Sent by the front end for a keyboard shortcut pressed while the widget has focus."""

    type: Literal["key"]
    action: KeyAction


class DiagramCanvas(anywidget.AnyWidget):
    """The live diagram: :attr:`svg` is laid out once; :attr:`routines` (classes),
    :attr:`queued`, :attr:`edges` and :attr:`tips` recolour and relabel it in place, each
    sent to the browser only when it changed.

    A click on a routine opens its menu (breakpoints before / after / on a slot / on an
    event, run to here); the chosen item calls ``on_action``. Keys pressed while the
    debugger has focus call ``on_key`` (F8 or c: continue, F10 or s: step, F6 or p: pause).

    Args:
        flow: The flow drawn.
        on_action: Called with ``(action, routine_id, slot or event name or None)``.
        on_key: Called with the shortcut's action.
    """

    _esm = ESM
    _css = CSS
    svg = traitlets.Unicode("").tag(sync=True)
    routines = traitlets.Dict().tag(sync=True)
    queued = traitlets.Dict().tag(sync=True)
    edges = traitlets.Dict().tag(sync=True)
    tips = traitlets.Dict().tag(sync=True)
    outline = traitlets.Dict().tag(sync=True)
    legend = traitlets.Unicode("").tag(sync=True)

    def __init__(
        self,
        flow: Flow,
        on_action: Callable[[NodeAction, str, str | None], None],
        on_key: Callable[[KeyAction], None],
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self._flow = flow
        self._on_action = on_action
        self._on_key = on_key
        self.add_class("routilux-diagram")
        self.outline = dict(flow_outline(flow))
        # Laid out once, with room left at the slots for the counts the state writes in.
        self.svg = strip_xml_prolog(_layout(flow))
        self.on_msg(self._handle_message)

    def show(self, overlay: DiagramState, tips: dict[str, str] | None = None) -> None:
        """Show ``overlay``; an unchanged one sends nothing to the front end."""
        payload = diagram_payload(self._flow, overlay, tips)
        with self.hold_sync():  # one message for the aspects that changed
            self.routines = payload["routines"]
            self.queued = payload["queued"]
            self.edges = payload["edges"]
            self.tips = payload["tips"]
            self.legend = legend_html(overlay)

    @property
    def state(self) -> DiagramPayload:
        """The diagram's live state as the browser has it."""
        return {
            "routines": self.routines,
            "queued": self.queued,
            "edges": self.edges,
            "tips": self.tips,
        }

    def _handle_message(self, _widget: Any, content: Any, _buffers: Any) -> None:
        if not isinstance(content, dict):
            return
        if content.get("type") == "action" and content.get("action") in NODE_ACTIONS:
            name = content.get("name")
            action: ActionMessage = {
                "type": "action",
                "action": content["action"],
                "routine_id": str(content.get("routine_id")),
                "name": None if name is None else str(name),
            }
            self._on_action(action["action"], action["routine_id"], action["name"])
        elif content.get("type") == "key" and content.get("action") in KEY_ACTIONS:
            key: KeyMessage = {"type": "key", "action": content["action"]}
            self._on_key(key["action"])


def _layout(flow: Flow) -> str:
    try:
        return render_svg(flow_digraph(flow, count_room=True).source)
    except EngineUnavailable as error:
        return f"<pre>{html.escape(str(error))}</pre>"


class StaticDiagram(widgets.HTML):  # type: ignore[misc]  # ipywidgets has no type hints
    """The same picture without clicks, from ipywidgets alone: redrawn whole on a change.

    For front ends that cannot load anywidget's module (VS Code or Colab offline, where
    third-party widget code comes from a CDN); breakpoints are then set from the list.
    """

    def __init__(self, flow: Flow, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._flow = flow
        self._shown: Any = None
        self.add_class("routilux-diagram")

    def show(self, overlay: DiagramState, tips: dict[str, str] | None = None) -> None:
        """Redraw with ``overlay`` unless it is the one shown."""
        key = diagram_payload(self._flow, overlay)
        if key != self._shown:
            self._shown = key
            self.value = diagram_html(self._flow, overlay)

    @property
    def svg(self) -> str:
        return str(self.value)
