"""RunControls: post data to an entry slot, and Run / Continue, Pause, Step, Stop buttons."""

from __future__ import annotations

import ast
import json
from typing import Any, Protocol

import ipywidgets as widgets

from routilux.core.flow import Flow

__all__ = ["ControlActions", "RunControls", "parse_data"]


class ControlActions(Protocol):
    """What the buttons do; the debugger widget implements it."""

    def post(self, routine_id: str, slot: str, data: Any) -> None: ...
    def resume(self) -> None: ...
    def pause(self) -> None: ...
    def step(self) -> None: ...
    def stop(self) -> None: ...
    def report(self, message: str) -> None: ...


def parse_data(text: str) -> Any:
    """Data typed into a text box: JSON, or a Python literal (``{'n': 1}``, ``None``).

    Literals only, never arbitrary expressions, so a typo cannot run code.

    >>> parse_data('{"n": 1}'), parse_data("{'n': (1, 2)}"), parse_data("")
    ({'n': 1}, {'n': (1, 2)}, None)
    """
    if not text.strip():
        return None
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return ast.literal_eval(text.strip())


def _button(description: str, dom_class: str, tooltip: str, icon: str) -> widgets.Button:
    button = widgets.Button(
        description=description,
        tooltip=tooltip,
        icon=icon,
        layout=widgets.Layout(width="auto"),
    )
    button.add_class(dom_class)
    return button


class RunControls:
    """The control bar. Buttons only queue commands, so the kernel never waits on a click.

    Args:
        flow: The debugged flow (its entry slots fill the post target list).
        actions: What the buttons call.
    """

    def __init__(self, flow: Flow, actions: ControlActions) -> None:
        self._actions = actions
        entries = flow.entry_slots()
        self.target = widgets.Dropdown(
            options=[(f"{rid}.{slot}", (rid, slot)) for rid, slot in entries],
            description="post to",
            layout=widgets.Layout(width="auto"),
        )
        self.data = widgets.Text(
            placeholder='data, e.g. {"n": 1}', layout=widgets.Layout(width="16em")
        )
        self.post_button = _button(
            "Post", "routilux-post", "Post the data as a new job", "paper-plane"
        )
        # The shortcuts work while the debugger has the focus (click on it first).
        self.run_button = _button(
            "Continue", "routilux-continue", "Resume dispatching (F8 or c)", "play"
        )
        self.pause_button = _button(
            "Pause", "routilux-pause", "Dispatch nothing new (F6 or p)", "pause"
        )
        self.step_button = _button(
            "Step",
            "routilux-step",
            "Run the next activation, then show which one runs after it (F10 or s)",
            "step-forward",
        )
        self.stop_button = _button("Stop", "routilux-stop", "Cancel every unfinished job", "stop")
        self.post_button.on_click(lambda _: self._post())
        self.run_button.on_click(lambda _: actions.resume())
        self.pause_button.on_click(lambda _: actions.pause())
        self.step_button.on_click(lambda _: actions.step())
        self.stop_button.on_click(lambda _: actions.stop())
        self.view = widgets.HBox(
            [
                self.run_button,
                self.pause_button,
                self.step_button,
                self.stop_button,
                self.target,
                self.data,
                self.post_button,
            ],
            layout=widgets.Layout(flex_flow="row wrap"),
        )
        self.view.add_class("routilux-controls")

    def _post(self) -> None:
        if self.target.value is None:
            self._actions.report("this flow has no entry slot to post to")
            return
        try:
            data = parse_data(self.data.value)
        except (ValueError, SyntaxError) as exc:
            self._actions.report(f"cannot read the data: {exc}")
            return
        routine_id, slot = self.target.value
        self._actions.post(routine_id, slot, data)
