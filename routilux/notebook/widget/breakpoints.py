"""BreakpointPanel: list, enable, remove and add breakpoints (with an optional condition)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import ipywidgets as widgets

from routilux.core.flow import Flow
from routilux.debug.breakpoints import Breakpoint
from routilux.debug.session import DebugSession

__all__ = ["BreakpointPanel", "compile_condition"]


def compile_condition(text: str) -> Callable[[Any, Any], bool] | None:
    """A breakpoint condition from a Python expression over ``data`` and ``state``.

    ``data`` is what the breakpoint sees (inputs per slot for a routine breakpoint) and
    ``state`` the WorkerState. The expression runs in the user's own kernel, exactly like
    code typed into a cell. An empty text means no condition.

    >>> cond = compile_condition("data['input'][0]['n'] > 1")
    >>> cond({"input": [{"n": 2}]}, None), compile_condition("  ") is None
    (True, True)

    Raises:
        SyntaxError: The text is not an expression.
    """
    if not text.strip():
        return None
    code = compile(text.strip(), "<breakpoint condition>", "eval")

    def condition(data: Any, state: Any) -> bool:
        return bool(eval(code, {"data": data, "state": state}))

    condition.__qualname__ = f"condition({text.strip()!r})"
    return condition


class BreakpointPanel:
    """Breakpoint rows plus an "add" row; talks to the session directly (all quick calls).

    Args:
        session: The debug session that owns the breakpoints.
        flow: The debugged flow (its routines fill the list).
        on_change: Called after an edit the session does not announce (enable / disable).
        report: Shows a message to the user.
    """

    def __init__(
        self,
        session: DebugSession,
        flow: Flow,
        on_change: Callable[[], None],
        report: Callable[[str], None],
    ) -> None:
        self._session = session
        self._on_change = on_change
        self._report = report
        self._shown: tuple[tuple[int, bool, int], ...] | None = None
        self.routine = widgets.Dropdown(options=list(flow.routines), description="break at")
        self.when = widgets.Dropdown(
            options=["before", "after"], value="before", layout=widgets.Layout(width="7em")
        )
        self.condition = widgets.Text(
            placeholder="optional condition, e.g. data['input'][0]['n'] > 2",
            layout=widgets.Layout(width="24em"),
        )
        self.add_button = widgets.Button(description="Add", icon="plus")
        self.add_button.add_class("routilux-add-breakpoint")
        self.add_button.on_click(lambda _: self._add())
        self.rows = widgets.VBox()
        add_row = widgets.HBox([self.routine, self.when, self.condition, self.add_button])
        hint = widgets.HTML("<small>Click a routine in the diagram to toggle a breakpoint.</small>")
        self.view = widgets.VBox([self.rows, add_row, hint])
        self.view.add_class("routilux-breakpoints")

    def toggle(self, routine_id: str) -> None:
        """Remove the routine's activation breakpoints, or add a plain "before" one."""
        existing = [
            bp
            for bp in self._session.breakpoints
            if bp.routine_id == routine_id and bp.kind in ("before", "after")
        ]
        try:
            if existing:
                for bp in existing:
                    self._session.remove_breakpoint(bp)
            else:
                self._session.add_breakpoint(routine_id)
        except Exception as exc:  # e.g. a routine id the flow does not know
            self._report(f"cannot toggle a breakpoint on {routine_id!r}: {exc}")

    def refresh(self) -> None:
        """Rebuild the rows when breakpoints were added, removed, toggled or hit."""
        breakpoints = self._session.breakpoints
        shown = tuple((bp.id, bp.enabled, bp.hits) for bp in breakpoints)
        if shown == self._shown:
            return  # new widgets on every refresh would flood the front end
        self._shown = shown
        old_rows = self.rows.children
        self.rows.children = [self._row(bp) for bp in breakpoints]
        for row in old_rows:
            for child in row.children:
                child.close()
            row.close()

    def _row(self, bp: Breakpoint) -> widgets.HBox:
        enabled = widgets.Checkbox(value=bp.enabled, description=str(bp), indent=False)
        hits = widgets.HTML(f"<small>{bp.hits} hit{'s' if bp.hits != 1 else ''}</small>")
        remove = widgets.Button(icon="trash", tooltip="Remove", layout=widgets.Layout(width="3em"))

        def set_enabled(change: dict[str, Any]) -> None:
            bp.enabled = bool(change["new"])
            self._on_change()

        enabled.observe(set_enabled, names="value")
        remove.on_click(lambda _: self._remove(bp))
        row = widgets.HBox([enabled, hits, remove])
        row.add_class("routilux-breakpoint")
        return row

    def _remove(self, bp: Breakpoint) -> None:
        try:
            self._session.remove_breakpoint(bp)
        except Exception as exc:  # already removed from plain Python, say
            self._report(str(exc))

    def _add(self) -> None:
        try:
            condition = compile_condition(self.condition.value)
        except SyntaxError as exc:
            self._report(f"the condition is not a Python expression: {exc.msg}")
            return
        self._session.add_breakpoint(self.routine.value, when=self.when.value, condition=condition)
        self.condition.value = ""
