"""Timeline: move through a stored job's checkpoints, see each one, and fork from it."""

from __future__ import annotations

import html
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import ipywidgets as widgets

from routilux.core.flow import Flow
from routilux.core.job import JobContext
from routilux.notebook.live.checkpoints import checkpoint_view
from routilux.notebook.live.jobs import JobLabels
from routilux.notebook.render import diagram_html
from routilux.notebook.snapshot_html import checkpoint_html
from routilux.runtime import Runtime

__all__ = ["Timeline", "timeline_for"]


class Timeline:
    """A panel over the stored jobs of one flow: a step slider, the view there, and a fork.

    Args:
        runtime: A runtime with a store (``Runtime(store=...)``); forks run on it.
        flow: The flow whose jobs are listed; drawn as the diagram and given to fork.
        report: Called with a one-line message after a fork (the debugger's status line).
        open_fork: Called with the forked (paused) job, to put a debugger on it; the
            widget it returns is shown under the timeline.
    """

    def __init__(
        self,
        runtime: Runtime,
        flow: Flow,
        *,
        report: Callable[[str], None] | None = None,
        open_fork: Callable[[JobContext], widgets.Widget | None] | None = None,
    ) -> None:
        store = runtime.store
        if store is None:
            raise ValueError("the timeline needs a runtime with a store: Runtime(store=...)")
        self.runtime = runtime
        self.store = store
        self.flow = flow
        self.report = report
        self.open_fork = open_fork
        self.last_fork: JobContext | None = None
        self.fork_view: widgets.Widget | None = None
        self._holding = False
        self.labels = JobLabels()
        # Wide enough for the label and the end of the id, which is what differs.
        self.job_menu = widgets.Dropdown(
            description="Job", options=[], layout=widgets.Layout(width="auto")
        )
        self.reload_button = widgets.Button(description="Reload", icon="refresh")
        self.slider = widgets.IntSlider(description="Step", min=0, max=0, value=0)
        self.fork_button = widgets.Button(
            description="Fork from here",
            icon="code-fork",
            tooltip="Start a new, paused job from this step and debug it below",
        )
        self.fork_button.add_class("routilux-fork")
        self.diagram = widgets.HTML()
        self.diagram.add_class("routilux-timeline-diagram")
        self.tables = widgets.HTML()
        self.status = widgets.HTML()
        self.fork_area = widgets.VBox()
        self.fork_area.add_class("routilux-fork-area")
        self.view = widgets.VBox(
            [
                widgets.HBox([self.job_menu, self.reload_button]),
                widgets.HBox([self.slider, self.fork_button]),
                self.status,
                self.diagram,
                self.tables,
                self.fork_area,
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
            self.job_menu.options = [(self.labels.option(job_id), job_id) for job_id in jobs]
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
        self.diagram.value = diagram_html(self.flow, overlay)
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
            f"forked job {self.labels.label(job_id)} at step {step}: new job "
            f"{self.labels.label(job.job_id)} on worker {job.worker_id}, paused"
            + (": step it below" if self.open_fork is not None else "; resume it to run")
        )
        if self.open_fork is not None:
            self._show_fork(self.open_fork(job))
        return job

    def _show_fork(self, view: widgets.Widget | None) -> None:
        old = self.fork_view
        self.fork_view = view
        title = widgets.HTML("<b>The forked job</b>")
        self.fork_area.children = [title, view] if view is not None else []
        if old is not None:
            old.close()

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
    runtime: object,
    flow: Flow,
    *,
    report: Callable[[str], None] | None = None,
    open_fork: Callable[[JobContext], widgets.Widget | None] | None = None,
) -> Timeline | None:
    """A :class:`Timeline` when ``runtime`` records into a store, else None (nothing to show)."""
    if isinstance(runtime, Runtime) and runtime.store is not None:
        return Timeline(runtime, flow, report=report, open_fork=open_fork)
    return None
