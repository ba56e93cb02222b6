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
from routilux.notebook.live.payload import diagram_payload, flow_outline
from routilux.notebook.render import diagram_html, legend_html, strip_xml_prolog

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


# Node ids are "routine-" plus the percent-encoded routine id, edge ids "connection-...";
# the payload is keyed by those ids (see routilux.notebook.live.payload).
_ESM = r"""
const SVGNS = "http://www.w3.org/2000/svg";
const KEYS = { F8: "continue", c: "continue", F10: "step", s: "step", F6: "pause", p: "pause" };

function menuItems(outline) {
  const items = [
    ["break_before", null, "Breakpoint before it runs"],
    ["break_after", null, "Breakpoint after it runs"],
    ["run_to", null, "Run to here"],
  ];
  for (const slot of outline.slots) items.push(["break_slot", slot, `Break when ${slot} receives`]);
  for (const ev of outline.events) items.push(["break_event", ev, `Break when ${ev} is emitted`]);
  return items;
}

function render({ model, el }) {
  el.classList.add("routilux-canvas");
  const bar = document.createElement("div");
  bar.className = "routilux-canvas-bar";
  const legend = document.createElement("span");
  legend.className = "routilux-canvas-legend";
  const zoom = document.createElement("span");
  zoom.className = "routilux-zoom";
  const zooms = [["\u2212", "Zoom out", 0.8], ["fit", "Fit to width", 0], ["+", "Zoom in", 1.25]];
  for (const [label, title, factor] of zooms) {
    const b = document.createElement("button");
    b.textContent = label; b.title = title; b.dataset.zoom = String(factor);
    zoom.appendChild(b);
  }
  bar.append(legend, zoom);
  const scroller = document.createElement("div");
  scroller.className = "routilux-canvas-scroll";
  const menu = document.createElement("div");
  menu.className = "routilux-menu";
  menu.hidden = true;
  el.append(bar, scroller, menu);

  let nodes = {}, edges = {}, applied = { routines: {}, queued: {}, edges: {}, tips: {} };
  let scale = 0;  // 0: fit to width
  let naturalWidth = 0;

  const fit = () => {
    const svg = scroller.querySelector("svg");
    if (!svg) return;
    if (scale === 0) {
      // Shrink to the output's width, but never below 75%: text stays >= 12 px and a
      // wider picture scrolls inside the widget (drag to pan) instead.
      const room = scroller.clientWidth || naturalWidth;
      const s = Math.max(0.75, Math.min(1, room / naturalWidth));
      svg.style.width = `${naturalWidth * s}px`;
    } else {
      svg.style.width = `${naturalWidth * scale}px`;
    }
    svg.style.height = "auto";
  };

  const draw = () => {
    scroller.innerHTML = model.get("svg");
    const svg = scroller.querySelector("svg");
    nodes = {}; edges = {};
    applied = { routines: {}, queued: {}, edges: {}, tips: {} };
    if (!svg) return;
    naturalWidth = (parseFloat(svg.getAttribute("width")) || 100) * 4 / 3;  // pt -> px
    svg.removeAttribute("width"); svg.removeAttribute("height");
    svg.querySelectorAll("g.routine").forEach((g) => { nodes[g.id] = g; });
    svg.querySelectorAll("g.connection").forEach((g) => { edges[g.id] = g; });
    // The layout left room after each slot name for its count: show the bare names.
    for (const id of Object.keys(nodes)) setQueued(id, {});
    fit();
    apply();
  };

  const setClasses = (g, classes) => {
    g.setAttribute("class", `node routine ${classes}`.trim());
    let dot = g.querySelector(".routilux-bp-dot");
    const box = g.querySelector("path, polygon");
    if (classes.split(" ").includes("breakpoint") && box) {
      if (!dot) {
        const b = box.getBBox();
        dot = document.createElementNS(SVGNS, "circle");
        dot.setAttribute("class", "routilux-bp-dot");
        dot.setAttribute("cx", b.x + 7); dot.setAttribute("cy", b.y + 7); dot.setAttribute("r", 5);
        g.appendChild(dot);
      }
    } else if (dot) dot.remove();
    let badge = g.querySelector(".routilux-next-badge");
    if (classes.split(" ").includes("next") && box) {
      if (!badge) {
        const b = box.getBBox();
        badge = document.createElementNS(SVGNS, "text");
        badge.setAttribute("class", "routilux-next-badge");
        badge.setAttribute("x", b.x + b.width - 5); badge.setAttribute("y", b.y + 14);
        badge.setAttribute("text-anchor", "end");
        badge.textContent = "\u25b6";
        g.appendChild(badge);
      }
    } else if (badge) badge.remove();
  };

  function setQueued(id, counts) {
    const g = nodes[id];
    const outline = model.get("outline")[id];
    if (!g || !outline) return;
    const texts = g.querySelectorAll("text:not(.routilux-next-badge)");
    outline.slots.forEach((slot, i) => {
      const n = counts[slot] || 0;
      if (texts[i]) texts[i].textContent = n ? `${slot} (${n})` : slot;
    });
  }

  const setEdge = (id, n) => {
    const g = edges[id];
    if (!g) return;
    let label = g.querySelector(".routilux-edge-count");
    if (!n) { if (label) label.remove(); return; }
    if (!label) {
      const path = g.querySelector("path");
      if (!path) return;
      const p = path.getPointAtLength(path.getTotalLength() / 2);
      label = document.createElementNS(SVGNS, "text");
      label.setAttribute("class", "routilux-edge-count");
      label.setAttribute("x", p.x + 4); label.setAttribute("y", p.y - 4);
      g.appendChild(label);
    }
    label.textContent = String(n);
  };

  const setTip = (id, text) => {
    const g = nodes[id];
    if (!g) return;
    let title = g.querySelector("title");
    if (!title) { title = document.createElementNS(SVGNS, "title"); g.prepend(title); }
    if (title.dataset.base === undefined) title.dataset.base = title.textContent;
    title.textContent = text ? `${title.dataset.base}\n${text}` : title.dataset.base;
  };

  // Only what changed since the last payload touches the DOM.
  const apply = () => {
    const state = model.get("state") || {};
    const routines = state.routines || {}, queued = state.queued || {};
    const edgeCounts = state.edges || {}, tips = state.tips || {};
    for (const [id, classes] of Object.entries(routines)) {
      if (applied.routines[id] !== classes && nodes[id]) setClasses(nodes[id], classes);
    }
    for (const id of new Set([...Object.keys(queued), ...Object.keys(applied.queued)])) {
      const now = JSON.stringify(queued[id] || {});
      if (JSON.stringify(applied.queued[id] || {}) !== now) setQueued(id, queued[id] || {});
    }
    for (const id of new Set([...Object.keys(edgeCounts), ...Object.keys(applied.edges)])) {
      if (applied.edges[id] !== edgeCounts[id]) setEdge(id, edgeCounts[id] || 0);
    }
    for (const id of new Set([...Object.keys(tips), ...Object.keys(applied.tips)])) {
      if (applied.tips[id] !== tips[id]) setTip(id, tips[id] || "");
    }
    applied = { routines: { ...routines }, queued, edges: edgeCounts, tips };
    legend.innerHTML = model.get("legend");
  };

  const closeMenu = () => { menu.hidden = true; menu.innerHTML = ""; };
  const openMenu = (id, event) => {
    const outline = model.get("outline")[id];
    if (!outline) return;
    menu.innerHTML = "";
    const head = document.createElement("div");
    head.className = "routilux-menu-head"; head.textContent = outline.id;
    menu.appendChild(head);
    for (const [action, name, text] of menuItems(outline)) {
      const item = document.createElement("button");
      item.className = `routilux-menu-item routilux-${action.replace("_", "-")}`;
      item.textContent = text;
      item.addEventListener("click", (e) => {
        e.stopPropagation();
        model.send({ type: "action", action, routine_id: outline.id, name });
        closeMenu();
      });
      menu.appendChild(item);
    }
    const box = el.getBoundingClientRect();
    menu.style.left = `${event.clientX - box.left + 4}px`;
    menu.style.top = `${event.clientY - box.top + 4}px`;
    menu.hidden = false;
  };

  const onClick = (event) => {
    if (menu.contains(event.target)) return;
    const button = event.target.closest("button[data-zoom]");
    if (button) {
      const factor = parseFloat(button.dataset.zoom);
      const svg = scroller.querySelector("svg");
      const current = svg ? svg.getBoundingClientRect().width / naturalWidth : 1;
      scale = factor === 0 ? 0 : Math.min(3, Math.max(0.2, current * factor));
      fit();
      return;
    }
    const node = event.target.closest("g.routine");
    if (node && scroller.contains(node)) openMenu(node.id, event); else closeMenu();
  };

  // Drag to pan a diagram larger than the widget.
  let drag = null;
  const onDown = (e) => {
    if (e.target.closest("g.routine")) return;
    drag = { x: e.clientX, y: e.clientY, left: scroller.scrollLeft, top: scroller.scrollTop };
  };
  const onMove = (e) => {
    if (!drag) return;
    scroller.scrollLeft = drag.left - (e.clientX - drag.x);
    scroller.scrollTop = drag.top - (e.clientY - drag.y);
  };
  const onUp = () => { drag = null; };

  // Shortcuts like a browser's debugger, while the debugger widget has the focus.
  const onKey = (e) => {
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    if (e.target.closest && e.target.closest("input, textarea, select, [contenteditable]")) return;
    if (e.key === "Escape") { closeMenu(); return; }
    const action = KEYS[e.key];
    if (!action) return;
    e.preventDefault(); e.stopPropagation();
    model.send({ type: "key", action });
  };

  // The whole debugger listens, once this view sits inside it (not yet while rendering).
  let root = null;
  const attachKeys = (tries) => {
    const found = el.closest(".routilux-debugger");
    if (!found) {
      if (tries > 0) requestAnimationFrame(() => attachKeys(tries - 1));
      else { root = el; el.setAttribute("tabindex", "0"); el.addEventListener("keydown", onKey); }
      return;
    }
    root = found;
    if (!root.hasAttribute("tabindex")) root.setAttribute("tabindex", "0");
    root.addEventListener("keydown", onKey);
  };
  attachKeys(120);

  draw();
  model.on("change:svg", draw);
  model.on("change:state", apply);
  model.on("change:legend", apply);
  el.addEventListener("click", onClick);
  scroller.addEventListener("mousedown", onDown);
  window.addEventListener("mousemove", onMove);
  window.addEventListener("mouseup", onUp);
  root.addEventListener("keydown", onKey);
  const resize = new ResizeObserver(() => fit());
  resize.observe(scroller);
  return () => {
    model.off("change:svg", draw);
    model.off("change:state", apply);
    model.off("change:legend", apply);
    el.removeEventListener("click", onClick);
    scroller.removeEventListener("mousedown", onDown);
    window.removeEventListener("mousemove", onMove);
    window.removeEventListener("mouseup", onUp);
    if (root) root.removeEventListener("keydown", onKey);
    resize.disconnect();
  };
}

export default { render };
"""

_CSS = """
.routilux-canvas { position: relative; }
.routilux-canvas-bar { display: flex; justify-content: space-between; align-items: center;
  gap: 8px; min-height: 1.6em; }
.routilux-zoom button { font-size: 12px; min-width: 2em; margin-left: 2px; }
.routilux-canvas-scroll { overflow: auto; max-height: 70vh; cursor: grab; }
.routilux-canvas-scroll svg { display: block; max-width: none !important; }
.routilux-canvas g.routine { cursor: pointer; }
.routilux-canvas g.routine.state-queued > path { fill: #fff3bf; }
.routilux-canvas g.routine.state-running > path { fill: #d0ebff; }
.routilux-canvas g.routine.state-paused > path { fill: #ffd8a8; }
.routilux-canvas g.routine.state-failed > path { fill: #ffc9c9; }
.routilux-canvas g.routine.state-done > path { fill: #d3f9d8; }
.routilux-canvas g.routine.last > path { stroke: #1971c2; stroke-width: 2.5px;
  stroke-dasharray: 6 3; }
.routilux-canvas g.routine.breakpoint > path { stroke: #e03131; stroke-width: 2px; }
.routilux-canvas g.routine.next > path { stroke: #e8590c; stroke-width: 4px;
  stroke-dasharray: none; }
.routilux-canvas g.routine.next.breakpoint > path { stroke: #e03131; }
.routilux-canvas .routilux-bp-dot { fill: #e03131; }
.routilux-canvas .routilux-next-badge { fill: #e8590c; font: bold 12px sans-serif; }
.routilux-canvas .routilux-edge-count { fill: #495057; font: 12px sans-serif; }
.routilux-menu { position: absolute; z-index: 10; background: var(--jp-layout-color1, white);
  border: 1px solid #adb5bd; border-radius: 4px; box-shadow: 0 2px 8px rgba(0,0,0,.2);
  padding: 2px 0; display: flex; flex-direction: column; min-width: 14em; }
.routilux-menu[hidden] { display: none; }
.routilux-menu-head { font-weight: bold; padding: 2px 8px; }
.routilux-menu-item { text-align: left; border: none; background: none; padding: 3px 8px;
  font-size: 13px; cursor: pointer; color: inherit; }
.routilux-menu-item:hover { background: #e7f5ff; }
"""


class DiagramCanvas(anywidget.AnyWidget):
    """The live diagram: :attr:`svg` is laid out once, :attr:`state` recolours it in place.

    A click on a routine opens its menu (breakpoints before / after / on a slot / on an
    event, run to here); the chosen item calls ``on_action``. Keys pressed while the
    debugger has focus call ``on_key`` (F8 or c: continue, F10 or s: step, F6 or p: pause).

    Args:
        flow: The flow drawn.
        on_action: Called with ``(action, routine_id, slot or event name or None)``.
        on_key: Called with the shortcut's action.
    """

    _esm = _ESM
    _css = _CSS
    svg = traitlets.Unicode("").tag(sync=True)
    state = traitlets.Dict().tag(sync=True)
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
        self.state = dict(diagram_payload(self._flow, overlay, tips))
        self.legend = legend_html(overlay)

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
