"""Timeline: move through a stored job's checkpoints, see each one, and fork from it."""

from __future__ import annotations

import html
import json
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any, TypedDict

import ipywidgets as widgets

from routilux.core.flow import Flow
from routilux.core.job import JobContext
from routilux.notebook._dot_overlay import DiagramState, RoutineState
from routilux.notebook.render import EngineUnavailable, render
from routilux.notebook.snapshot_html import strip_xml_prolog
from routilux.runtime import Runtime
from routilux.store._json import decode
from routilux.store.records import ActivationRow
from routilux.store.sqlite import SqliteStore

__all__ = [
    "CheckpointTables",
    "Timeline",
    "checkpoint_html",
    "checkpoint_view",
    "timeline_for",
]


class CheckpointTables(TypedDict):
    """A job's state right after one step, as plain data.

    Attributes:
        job_id: The job.
        step: The step (0: before any activation).
        last_step: The job's last recorded step.
        queued: Data waiting then, by routine id and slot, in queue order.
        routine_states: Each routine's state then (routines with no state are left out).
        activation: The activation that made this step, or None at step 0.
    """

    job_id: str
    step: int
    last_step: int
    queued: dict[str, dict[str, list[Any]]]
    routine_states: dict[str, Any]
    activation: ActivationRow | None


def checkpoint_view(
    store: SqliteStore, job_id: str, step: int, *, routine_ids: Iterable[str] = ()
) -> tuple[DiagramState, CheckpointTables]:
    """The diagram overlay and state tables of ``job_id`` right after ``step``.

    Args:
        store: The store holding the job.
        job_id: The job.
        step: A step of its history, 0 to its last step.
        routine_ids: Routines to draw as ``idle`` when nothing else applies (the flow's).

    Returns:
        ``(overlay, tables)``: the overlay highlights the routine that made ``step`` and
        counts the data waiting per slot; the tables hold that data and the states.

    Raises:
        ValueError: ``step`` is outside the job's history.
    """
    key = store.key_of(job_id)
    history = store.history(job_id)
    last = history[-1].step if history else 0
    if not 0 <= step <= last:
        raise ValueError(f"job {job_id} has steps 0..{last}; there is no step {step}")
    done = [a for a in history if a.step <= step]
    queued: dict[str, dict[str, list[Any]]] = {}
    for _, rid, slot, data in store.queued_after(key, step):
        queued.setdefault(rid, {}).setdefault(slot, []).append(decode(data, f"{rid}.{slot}"))
    states = {
        rid: decode(state, f"{rid} state")
        for rid, (_, state) in store.routine_states(key, step).items()
    }
    activation = done[-1] if done and done[-1].step == step else None
    overlay: DiagramState = {
        "routine_states": _routine_states(routine_ids, done, queued),
        "queued": {(rid, s): len(v) for rid, slots in queued.items() for s, v in slots.items()},
        "highlight": activation.routine_id if activation is not None else None,
    }
    tables: CheckpointTables = {
        "job_id": job_id,
        "step": step,
        "last_step": last,
        "queued": queued,
        "routine_states": states,
        "activation": activation,
    }
    return overlay, tables


def _routine_states(
    routine_ids: Iterable[str],
    done: list[ActivationRow],
    queued: dict[str, dict[str, list[Any]]],
) -> dict[str, RoutineState]:
    # Same precedence as the live diagram: a failure shows over waiting data, which shows
    # over having run, so the eye goes to what still matters at that step.
    latest = {a.routine_id: a for a in done}
    states: dict[str, RoutineState] = dict.fromkeys(routine_ids, "idle")
    for rid, activation in latest.items():
        states[rid] = "failed" if activation.error is not None else "done"
    for rid, slots in queued.items():
        if states.get(rid) != "failed" and any(slots.values()):
            states[rid] = "queued"
    return states


def checkpoint_html(tables: CheckpointTables) -> str:
    """The tables of :func:`checkpoint_view` as HTML: the activation, queues and states."""
    step, activation = tables["step"], tables["activation"]
    head = f"<b>Step {step} of {tables['last_step']}</b>"
    if activation is None:
        head += " &mdash; before any activation"
    else:
        head += f" &mdash; <code>{html.escape(activation.routine_id)}</code> ran"
        if activation.error is not None:
            head += f", error: <code>{html.escape(activation.error)}</code>"
        emitted = ", ".join(f"{html.escape(e)}: {_json(d)}" for e, d in activation.emitted)
        head += f"; emitted {emitted or 'nothing'}"
    queued_rows = [
        (f"{rid}.{slot}", _json(items))
        for rid, slots in sorted(tables["queued"].items())
        for slot, items in sorted(slots.items())
    ]
    state_rows = [(rid, _json(state)) for rid, state in sorted(tables["routine_states"].items())]
    return (
        f"<div class='routilux-timeline-tables'><p>{head}</p>"
        f"{_table('Waiting in slots', ('slot', 'data'), queued_rows)}"
        f"{_table('Routine states', ('routine', 'state'), state_rows)}</div>"
    )


def _json(value: Any) -> str:
    # Stored data is plain JSON, so json.dumps shows it exactly as it was recorded.
    return f"<code>{html.escape(json.dumps(value, sort_keys=True))}</code>"


def _table(title: str, header: tuple[str, str], rows: list[tuple[str, str]]) -> str:
    if not rows:
        return f"<p><i>{title}: none</i></p>"
    body = "".join(f"<tr><td>{html.escape(a)}</td><td>{b}</td></tr>" for a, b in rows)
    return f"<p>{title}</p><table><tr><th>{header[0]}</th><th>{header[1]}</th></tr>{body}</table>"


class Timeline:
    """A panel over the stored jobs of one flow: a step slider, the view there, and a fork.

    Args:
        runtime: A runtime with a store (``Runtime(store=...)``); forks run on it.
        flow: The flow whose jobs are listed; drawn as the diagram and given to fork.
        report: Called with a one-line message after a fork (the debugger's status line).
    """

    def __init__(
        self,
        runtime: Runtime,
        flow: Flow,
        *,
        report: Callable[[str], None] | None = None,
    ) -> None:
        store = runtime.store
        if store is None:
            raise ValueError("the timeline needs a runtime with a store: Runtime(store=...)")
        self.runtime = runtime
        self.store = store
        self.flow = flow
        self.report = report
        self.last_fork: JobContext | None = None
        self._holding = False
        self.job_menu = widgets.Dropdown(description="Job", options=[])
        self.reload_button = widgets.Button(description="Reload", icon="refresh")
        self.slider = widgets.IntSlider(description="Step", min=0, max=0, value=0)
        self.fork_button = widgets.Button(description="Fork from here", icon="code-fork")
        self.diagram = widgets.HTML()
        self.tables = widgets.HTML()
        self.status = widgets.HTML()
        self.view = widgets.VBox(
            [
                widgets.HBox([self.job_menu, self.reload_button]),
                widgets.HBox([self.slider, self.fork_button]),
                self.status,
                self.diagram,
                self.tables,
            ]
        )
        self.view.add_class("routilux-timeline")
        # Collapsed at first: the live debugger stays the focus until time travel is wanted.
        self.section = widgets.Accordion(children=[self.view], selected_index=None)
        self.section.set_title(0, "Timeline (stored checkpoints)")
        self.section.observe(self._opened, names="selected_index")
        self.job_menu.observe(self._job_changed, names="value")
        self.slider.observe(self._step_changed, names="value")
        self.reload_button.on_click(lambda _: self.reload())
        self.fork_button.on_click(lambda _: self.fork())
        self.reload()

    @property
    def job_id(self) -> str | None:
        """The job shown, or None when the store has no job of this flow."""
        value: str | None = self.job_menu.value
        return value

    def reload(self) -> None:
        """Read the store again: new jobs join the menu, the shown job's new steps the slider."""
        jobs = [row.job_id for row in self.store.jobs() if row.flow_name == self.flow.flow_id]
        shown = self.job_id
        with self._held():
            self.job_menu.options = jobs
            # Keep the shown job if it is still there; otherwise show the newest.
            self.job_menu.value = shown if shown in jobs else (jobs[-1] if jobs else None)
            self._fit_slider(to_end=self.job_id != shown)
        self.redraw()

    def show(self, job_id: str, step: int) -> None:
        """Show ``job_id`` right after ``step`` (moves the menu and the slider)."""
        with self._held():
            self.job_menu.value = job_id
            self._fit_slider(to_end=False)
            self.slider.value = step
        self.redraw()

    def redraw(self) -> None:
        """Draw the diagram and tables of the shown job at the slider's step."""
        job_id = self.job_id
        self.fork_button.disabled = job_id is None
        if job_id is None:
            self.diagram.value = ""
            self.tables.value = f"<i>no stored job of flow {html.escape(self.flow.flow_id)}</i>"
            return
        overlay, tables = checkpoint_view(
            self.store, job_id, self.slider.value, routine_ids=self.flow.routines
        )
        try:
            self.diagram.value = strip_xml_prolog(render(self.flow, "svg", overlay))
        except EngineUnavailable as error:
            self.diagram.value = f"<pre>{html.escape(str(error))}</pre>"
        self.tables.value = checkpoint_html(tables)

    def fork(self) -> JobContext | None:
        """Start a paused job from the shown step; its id goes to the status line."""
        job_id = self.job_id
        if job_id is None:
            return None
        step = self.slider.value
        try:
            job = self.runtime.fork(job_id, step, flows={self.flow.flow_id: self.flow}, paused=True)
        except Exception as error:  # shown, not raised: a click has no caller to catch it
            self._say(f"fork failed: {error}")
            return None
        self.last_fork = job
        self._say(
            f"forked {job_id} at step {step}: job {job.job_id} on worker {job.worker_id} "
            "(paused; resume it to run)"
        )
        return job

    def _say(self, message: str) -> None:
        self.status.value = f"<div>{html.escape(message)}</div>"
        if self.report is not None:
            self.report(message)

    @contextmanager
    def _held(self) -> Iterator[None]:
        # Moving the menu and the slider together would redraw at every change; the caller
        # redraws once at the end instead.
        self._holding = True
        try:
            yield
        finally:
            self._holding = False

    def _fit_slider(self, *, to_end: bool) -> None:
        job_id = self.job_id
        last = self.store.last_step(self.store.key_of(job_id)) if job_id is not None else 0
        # A slider at its end follows new steps; one moved back stays where it was put.
        to_end = to_end or self.slider.value == self.slider.max
        self.slider.max = last
        if to_end:
            self.slider.value = last

    def _job_changed(self, _change: Any) -> None:
        if not self._holding:
            # A job picked from the menu opens at its end: the state it finished in.
            with self._held():
                self._fit_slider(to_end=True)
            self.redraw()

    def _opened(self, change: Any) -> None:
        # Opening the section reads the store again, so jobs run since then are listed.
        if change["new"] is not None:
            self.reload()

    def _step_changed(self, _change: Any) -> None:
        if not self._holding:
            self.redraw()


def timeline_for(
    runtime: object, flow: Flow, *, report: Callable[[str], None] | None = None
) -> Timeline | None:
    """A :class:`Timeline` when ``runtime`` records into a store, else None (nothing to show)."""
    if isinstance(runtime, Runtime) and runtime.store is not None:
        return Timeline(runtime, flow, report=report)
    return None
