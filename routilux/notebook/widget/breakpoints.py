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
    condition.source = text.strip()  # type: ignore[attr-defined]  # shown by Breakpoint
    return condition


Where = tuple[str, str | None]  # ("before" | "after" | "slot" | "event", slot or event name)


def places(flow: Flow, routine_id: str) -> list[tuple[str, Where]]:
    """The menu of places to break at in one routine: before, after, each slot and event.

    >>> from tests.flows import chain
    >>> [text for text, _ in places(chain("f", 1), "r0")]
    ['before it runs', 'after it runs', 'when input receives data', 'when output is emitted']
    """
    routine = flow.routines[routine_id]
    options: list[tuple[str, Where]] = [
        ("before it runs", ("before", None)),
        ("after it runs", ("after", None)),
    ]
    options += [(f"when {s.name} receives data", ("slot", s.name)) for s in routine.slots]
    options += [(f"when {e.name} is emitted", ("event", e.name)) for e in routine.events]
    return options


class BreakpointPanel:
    """Breakpoint rows plus an "add" row; talks to the session directly (all quick calls).

    Args:
        session: The debug session that owns the breakpoints.
        flow: The debugged flow (its routines fill the list).
        on_change: Called after an edit the session does not announce (enable / disable).
        report: Shows a message to the user.
        run_to: Continues to the chosen routine (the widget queues it as a command).
    """

    def __init__(
        self,
        session: DebugSession,
        flow: Flow,
        on_change: Callable[[], None],
        report: Callable[[str], None],
        run_to: Callable[[str], None],
    ) -> None:
        self._session = session
        self._flow = flow
        self._on_change = on_change
        self._report = report
        self._run_to = run_to
        self._shown: tuple[tuple[int, bool, int], ...] | None = None
        self.routine = widgets.Dropdown(
            options=list(flow.routines), description="break at", layout=widgets.Layout(width="auto")
        )
        self.where = widgets.Dropdown(layout=widgets.Layout(width="auto"))
        self.condition = widgets.Text(
            placeholder="optional condition, e.g. data['input'][0]['n'] > 2",
            layout=widgets.Layout(width="22em"),
        )
        self.add_button = widgets.Button(description="Add", icon="plus", tooltip="Add a breakpoint")
        self.add_button.add_class("routilux-add-breakpoint")
        self.run_to_button = widgets.Button(
            description="Run to here",
            icon="forward",
            tooltip="Continue until the chosen routine is about to run",
        )
        self.run_to_button.add_class("routilux-run-to")
        self.add_button.on_click(lambda _: self._add())
        self.run_to_button.on_click(lambda _: self._run_to(str(self.routine.value)))
        self.routine.observe(lambda _: self._fill_places(), names="value")
        self._fill_places()
        self.rows = widgets.VBox()
        add_row = widgets.HBox(
            [self.routine, self.where, self.condition, self.add_button, self.run_to_button],
            layout=widgets.Layout(flex_flow="row wrap"),
        )
        hint = widgets.HTML(
            "<small>Click a routine in the diagram for its breakpoints and Run to here. "
            "A condition is a Python expression over <code>data</code> (the inputs per slot, "
            "or the data point) and <code>state</code> (the WorkerState).</small>"
        )
        self.view = widgets.VBox([self.rows, add_row, hint])
        self.view.add_class("routilux-breakpoints")

    def _fill_places(self) -> None:
        if self.routine.value is not None:
            self.where.options = places(self._flow, self.routine.value)
            self.where.index = 0  # "before it runs"

    def toggle(self, routine_id: str, kind: str = "before", name: str | None = None) -> None:
        """Remove the breakpoints at this place, or add a plain one there.

        Args:
            routine_id: The routine.
            kind: ``before``, ``after``, ``slot`` or ``event``.
            name: The slot or event name for those kinds.
        """
        existing = [
            bp
            for bp in self._session.breakpoints
            if bp.routine_id == routine_id
            and bp.kind == kind
            and name == (bp.slot if kind == "slot" else bp.event if kind == "event" else None)
            and not bp.once
        ]
        try:
            if existing:
                for bp in existing:
                    self._session.remove_breakpoint(bp)
            else:
                self._session.add_breakpoint(routine_id, **_place(kind, name))
        except Exception as exc:  # e.g. a routine id the flow does not know
            self._report(f"cannot toggle a breakpoint on {routine_id!r}: {exc}")

    def refresh(self) -> None:
        """Rebuild the rows when breakpoints were added, removed, toggled or hit."""
        breakpoints = [bp for bp in self._session.breakpoints if not bp.once]
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
        enabled = widgets.Checkbox(
            value=bp.enabled,
            description=str(bp).replace(" (disabled)", ""),
            indent=False,
            tooltip="Enabled",
            layout=widgets.Layout(width="auto"),
        )
        hits = widgets.HTML(f"<small>{bp.hits} hit{'s' if bp.hits != 1 else ''}</small>")
        remove = widgets.Button(icon="trash", tooltip="Remove", layout=widgets.Layout(width="3em"))

        def set_enabled(change: dict[str, Any]) -> None:
            if change["new"]:
                bp.enable()
            else:
                bp.disable()
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
        kind, name = self.where.value
        try:
            self._session.add_breakpoint(
                self.routine.value, condition=condition, **_place(kind, name)
            )
        except Exception as exc:  # a detached session, say
            self._report(f"cannot add the breakpoint: {exc}")
            return
        self.condition.value = ""


def _place(kind: str, name: str | None) -> dict[str, Any]:
    """``add_breakpoint`` keywords for a place."""
    if kind == "slot":
        return {"slot": name}
    if kind == "event":
        return {"event": name}
    return {"when": kind}
