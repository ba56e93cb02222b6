"""FlowDebugger: the live debugger widget (diagram, controls, breakpoints and inspectors)."""

from __future__ import annotations

import html
import threading
from typing import Any

import ipywidgets as widgets

from routilux.core.activation import ActivationRecord
from routilux.core.flow import Flow
from routilux.core.inspection import WorkerView
from routilux.core.job import JobContext
from routilux.core.output import get_job_output, install_routed_stdout
from routilux.debug.session import DebugSession
from routilux.debug.snapshot import Snapshot
from routilux.notebook.live.activity import ActivityTracker
from routilux.notebook.live.commands import CommandRunner
from routilux.notebook.live.jobs import JobLabels
from routilux.notebook.live.overlay import build_overlay
from routilux.notebook.live.status import status_html
from routilux.notebook.live.throttle import Throttle, Ticker
from routilux.notebook.snapshot_html import SnapshotView, snapshot_html, value_html
from routilux.notebook.widget.breakpoints import BreakpointPanel
from routilux.notebook.widget.canvas import DiagramCanvas, KeyAction, NodeAction, StaticDiagram
from routilux.notebook.widget.controls import RunControls
from routilux.notebook.widget.inspectors import Inspectors
from routilux.notebook.widget.timeline import timeline_for

__all__ = ["FlowDebugger"]

# Jobs a redraw copies (the jobs table and menus show the oldest): the status line counts
# them all, so a worker with 200,000 unfinished jobs is read as fast as one with twenty.
_JOBS_SHOWN = 50


# ipywidgets ships no type hints, so mypy sees VBox as Any.
class FlowDebugger(widgets.VBox):  # type: ignore[misc]
    """A debug session you can see and click: display it as the last line of a cell.

    Buttons queue their command on a background thread and return, so the kernel never
    waits for a click nor blocks on a step. The view follows the worker at a steady pace
    (``refresh_interval``) and redraws only what changed: it reads the worker through one
    bounded copy (``max_items`` queued data points per slot) and counts activations from
    the worker's record feed, so watching costs the flow little.

    Args:
        session: The session to drive (``runtime.debug("flow")``).
        refresh_interval: Minimum seconds between two redraws.
        capture_output: Route ``print()`` inside logic to per-job buffers (process-wide,
            see :func:`routilux.install_routed_stdout`) so the "Job output" view shows it.
        history_rows: How many recent activations the history table lists.
        clickable_diagram: Draw the diagram with anywidget (a click on a routine opens its
            breakpoint menu, keys step and continue); False uses a plain ipywidgets HTML
            view (see :class:`StaticDiagram`).
        max_items: Queued data points shown per slot.
        timeline: Add the timeline of stored checkpoints when the runtime has a store.

    Example::

        session = runtime.debug("pipeline")
        session.add_breakpoint("processor")
        FlowDebugger(session)          # last line of the cell: the widget appears
    """

    def __init__(
        self,
        session: DebugSession,
        *,
        refresh_interval: float = 0.1,
        capture_output: bool = True,
        history_rows: int = 20,
        clickable_diagram: bool = True,
        max_items: int = 5,
        timeline: bool = True,
    ) -> None:
        if not isinstance(session, DebugSession):
            hint = (
                f": write FlowDebugger(runtime.debug({session.flow_id!r}))"
                if isinstance(session, Flow)
                else ""
            )
            raise TypeError(
                f"FlowDebugger takes a DebugSession (runtime.debug(flow)), got "
                f"{type(session).__name__}{hint}"
            )
        self.session = session
        self.flow = session.worker.flow
        self.history_rows = history_rows
        self.max_items = max_items
        self.message = ""
        self.labels = JobLabels()
        self._stepped: ActivationRecord | None = None
        self._dirty = True
        self._seen: tuple[Any, ...] | None = None
        self._lock = threading.Lock()
        self.throttle = Throttle(self._tick, refresh_interval)
        self.commands = CommandRunner(on_error=self._command_failed, on_done=self._changed)
        self.activity = ActivityTracker()
        self.breakpoint_panel = BreakpointPanel(
            session, self.flow, on_change=self._changed, report=self.report, run_to=self.run_to
        )
        self.canvas: DiagramCanvas | StaticDiagram = (
            DiagramCanvas(self.flow, on_action=self._node_action, on_key=self._key)
            if clickable_diagram
            else StaticDiagram(self.flow)
        )
        self.controls = RunControls(self.flow, actions=self)
        self.inspectors = Inspectors(session, self.flow, report=self.report, on_edit=self._changed)
        self.status = widgets.HTML()
        self.status.add_class("routilux-status")
        # Only a runtime with a store has checkpoints to travel through.
        self.timeline = (
            timeline_for(session.runtime, self.flow, report=self.report, open_fork=self._open_fork)
            if timeline
            else None
        )
        super().__init__(
            [
                self.status,
                self.controls.view,
                self.canvas,
                self.breakpoint_panel.view,
                self.inspectors.view,
                *([self.timeline.section] if self.timeline is not None else []),
            ]
        )
        self.add_class("routilux-debugger")
        if capture_output:
            install_routed_stdout()
        session.worker.add_observer(self.activity)
        session.add_listener(self._session_changed)
        self.refresh()
        self.ticker = Ticker(self.throttle.request, refresh_interval)

    # -- commands (ControlActions) ---------------------------------------------------------

    def step(self) -> None:
        """Run the next activation (pausing first if running), then park the one after it."""
        self._submit("step", self._step)

    def resume(self) -> None:
        """Continue dispatching."""
        self._submit("continue", self.session.resume)

    def pause(self) -> None:
        """Dispatch nothing new; running activations finish."""
        self._submit("pause", self.session.pause)

    def stop(self) -> None:
        """Cancel every unfinished job of the debugged worker; the pause state stays."""
        self._submit("stop", self._stop)

    def run_to(self, routine_id: str) -> None:
        """Continue until ``routine_id`` is about to run (a one-shot breakpoint)."""
        self._submit("run to here", lambda: self.session.run_to(routine_id))

    def post(self, routine_id: str, slot: str, data: Any) -> None:
        """Post ``data`` to a slot as a new job (held while paused)."""
        self._submit("post", lambda: self._post(routine_id, slot, data))

    def report(self, message: str) -> None:
        """Show ``message`` in the status line until the next action."""
        self.message = message
        self._changed()

    # -- lifecycle --------------------------------------------------------------------------

    def wait_idle(self, timeout: float | None = 10.0) -> bool:
        """Wait for queued commands, then redraw now; False if ``timeout`` ran out.

        Handy in scripts and tests; a notebook never needs it.
        """
        done = self.commands.wait_idle(timeout)
        self._dirty = True
        self.throttle.flush()
        return done

    def close(self) -> None:
        """Detach from the session and close every child widget."""
        if not hasattr(self, "ticker"):  # __init__ refused its arguments: nothing to undo
            super().close()
            return
        self.ticker.close()
        self.session.remove_listener(self._session_changed)
        self.session.worker.remove_observer(self.activity)
        self.throttle.close()
        self.commands.close()
        for child in self.children:
            _close_tree(child)
        super().close()

    def snapshot(self) -> SnapshotView:
        """The session's state now, displayed as static HTML (diagram and tables)."""
        return SnapshotView(self.session.snapshot(), self.flow)

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any] | None:
        # Viewers without a widget manager (nbconvert, GitHub, nbval) fall back to HTML.
        bundle: dict[str, Any] | None = super()._repr_mimebundle_(**kwargs)
        if bundle is not None:
            bundle["text/html"] = snapshot_html(self.session.snapshot(self.max_items), self.flow)
        return bundle

    # -- drawing ------------------------------------------------------------------------------

    def refresh(self, view: WorkerView | None = None) -> None:
        """Redraw everything from the session now (normally the throttle calls it).

        Args:
            view: A read of the worker to draw (``worker.inspect(max_items)``); read now
                when None.
        """
        worker = self.session.worker
        view = view if view is not None else worker.inspect(self.max_items, _JOBS_SHOWN)
        snapshot = Snapshot.from_view(view, worker.state, self.session.history_store.recent(20))
        activity = self.activity.activity()
        running = frozenset(
            r.routine_id
            for r in self.session.worker.running_activations()
            if r.duration is None and r.error is None
        )
        overlay = build_overlay(
            self.flow, snapshot, activity, self.session.breakpoints, running=running
        )
        tips = {}
        if snapshot.routine_id is not None:
            tips[snapshot.routine_id] = f"next to run, with inputs {_plain(snapshot.inputs)}"
        self.canvas.show(overlay, tips)
        self.status.value = status_html(
            snapshot,
            last_hit=self.session.last_hit,
            stepped=self._stepped,
            labels=self.labels,
            message=self.message,
        )
        self.breakpoint_panel.refresh()
        history = self.session.history[-self.history_rows :]
        output = self._current_output(activity.last)
        self.inspectors.refresh(snapshot, history, output, self.labels)

    def _tick(self) -> None:
        # Called by the throttle, at most once per interval: redraw if anything changed.
        # One bounded read of the worker serves both the check and the redraw, so the
        # worker's lock is taken once per tick.
        view = self.session.worker.inspect(self.max_items, _JOBS_SHOWN)
        seen = _fingerprint(view)
        with self._lock:
            if not self._dirty and seen == self._seen:
                return
            self._dirty = False
            self._seen = seen
        self.refresh(view)

    def _changed(self) -> None:
        self._dirty = True
        self.throttle.request()

    def _current_output(self, last: ActivationRecord | None) -> str:
        pending = self.session.pending
        record = pending if pending is not None else last
        if record is None or record.job_id is None:
            return ""
        return get_job_output(record.job_id)

    # -- callbacks ----------------------------------------------------------------------------

    def _submit(self, name: str, command: Any) -> None:
        # A new action clears the answer to the last one, and what the last step ran.
        self.message = ""
        self._stepped = None
        self.commands.submit(name, command)

    def _step(self) -> None:
        record = self.session.step(stop_at_next=True)
        if record is None:
            self.message = "nothing to step: no activation is ready"
            return
        self._stepped = record

    def _post(self, routine_id: str, slot: str, data: Any) -> None:
        job = self.session.post(routine_id, slot, data)
        self.message = f"posted job {self.labels.label(job.job_id)} to {routine_id}.{slot}"

    def _stop(self) -> None:
        for job in self.session.worker.jobs:
            self.session.runtime.cancel(job)
        self.message = "stopped: unfinished jobs cancelled"

    def _node_action(self, action: NodeAction, routine_id: str, name: str | None) -> None:
        self.message = ""
        if action == "run_to":
            self.run_to(routine_id)
            return
        kind = {
            "break_before": "before",
            "break_after": "after",
            "break_slot": "slot",
            "break_event": "event",
        }[action]
        self.breakpoint_panel.toggle(routine_id, kind, name)

    def _open_fork(self, job: JobContext) -> FlowDebugger:
        # The fork runs on a worker of its own: a second debugger, shown in the timeline.
        session = DebugSession(self.session.runtime, self.flow, worker_id=job.worker_id)
        return FlowDebugger(session, capture_output=False, max_items=self.max_items, timeline=False)

    def _key(self, action: KeyAction) -> None:
        {"continue": self.resume, "step": self.step, "pause": self.pause}[action]()

    def _session_changed(self, _what: str, _session: DebugSession) -> None:
        self._changed()

    def _command_failed(self, name: str, error: BaseException) -> None:
        self.message = f"{name} failed: {error}"


def _fingerprint(view: WorkerView) -> tuple[Any, ...]:
    """What the view shows, cheaply compared: counts and ids, not data."""
    return (
        view.paused,
        view.running,
        tuple(r.seq for r in view.held),
        # The count and the ends, not every job: thousands may be queued.
        view.job_count,
        view.jobs[0].job_id if view.jobs else None,
        view.jobs[-1].job_id if view.jobs else None,
        tuple((s.activations, s.failures) for s in view.stats.values()),
        tuple(q.length for slots in view.queues.values() for q in slots.values()),
    )


def _plain(value: Any) -> str:
    """``value_html`` without the markup: for SVG hover titles."""
    return html.unescape(value_html(value).removeprefix("<code>").removesuffix("</code>"))


def _close_tree(widget: widgets.Widget) -> None:
    for child in getattr(widget, "children", ()):
        _close_tree(child)
    widget.close()
