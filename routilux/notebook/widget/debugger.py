"""FlowDebugger: the live debugger widget (diagram, controls, breakpoints and inspectors)."""

from __future__ import annotations

import html
from typing import Any

import ipywidgets as widgets

from routilux.core.output import get_job_output, install_routed_stdout
from routilux.debug.session import DebugSession
from routilux.debug.snapshot import Snapshot
from routilux.notebook.live.activity import Activity, ActivityTracker
from routilux.notebook.live.commands import CommandRunner
from routilux.notebook.live.overlay import build_overlay
from routilux.notebook.live.throttle import Throttle
from routilux.notebook.render import diagram_html
from routilux.notebook.snapshot_html import SnapshotView, snapshot_html
from routilux.notebook.widget.breakpoints import BreakpointPanel
from routilux.notebook.widget.canvas import DiagramCanvas, StaticDiagram
from routilux.notebook.widget.controls import RunControls
from routilux.notebook.widget.inspectors import Inspectors
from routilux.notebook.widget.timeline import timeline_for

__all__ = ["FlowDebugger"]


# ipywidgets ships no type hints, so mypy sees VBox as Any.
class FlowDebugger(widgets.VBox):  # type: ignore[misc]
    """A debug session you can see and click: display it as the last line of a cell.

    Buttons queue their command on a background thread and return, so the kernel never
    waits for a click nor blocks on a step. Changes reported from worker threads are
    coalesced into at most one redraw per ``refresh_interval``.

    Args:
        session: The session to drive (``runtime.debug("flow")``).
        refresh_interval: Minimum seconds between two redraws.
        capture_output: Route ``print()`` inside logic to per-job buffers (process-wide,
            see :func:`routilux.install_routed_stdout`) so the "Job output" view shows it.
        history_rows: How many recent activations the history table lists.
        clickable_diagram: Draw the diagram with anywidget so a click on a routine toggles
            its breakpoint; False uses a plain ipywidgets HTML view (see :class:`StaticDiagram`).

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
    ) -> None:
        self.session = session
        self.flow = session.worker.flow
        self.history_rows = history_rows
        self.message = ""
        self.throttle = Throttle(self.refresh, refresh_interval)
        self.commands = CommandRunner(on_error=self._command_failed, on_done=self.throttle.request)
        self.activity = ActivityTracker(self.throttle.request)
        self.breakpoint_panel = BreakpointPanel(
            session, self.flow, on_change=self.throttle.request, report=self.report
        )
        self.canvas: DiagramCanvas | StaticDiagram = (
            DiagramCanvas(on_toggle=self.breakpoint_panel.toggle)
            if clickable_diagram
            else StaticDiagram()
        )
        self.controls = RunControls(self.flow, actions=self)
        self.inspectors = Inspectors(
            session, self.flow, report=self.report, on_edit=self.throttle.request
        )
        self.status = widgets.HTML()
        self.status.add_class("routilux-status")
        # Only a runtime with a store has checkpoints to travel through.
        self.timeline = timeline_for(session.runtime, self.flow, report=self.report)
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

    # -- commands (ControlActions) ---------------------------------------------------------

    def step(self) -> None:
        """Run exactly one activation (pausing first if running), in the background."""
        self.commands.submit("step", self._step)

    def resume(self) -> None:
        """Continue dispatching (Run / Continue)."""
        self.commands.submit("continue", self.session.resume)

    def pause(self) -> None:
        """Dispatch nothing new; running activations finish."""
        self.commands.submit("pause", self.session.pause)

    def stop(self) -> None:
        """Cancel every unfinished job of the debugged worker; the pause state stays."""
        self.commands.submit("stop", self._stop)

    def post(self, routine_id: str, slot: str, data: Any) -> None:
        """Post ``data`` to a slot as a new job (held while paused)."""
        self.commands.submit("post", lambda: self.session.post(routine_id, slot, data))

    def report(self, message: str) -> None:
        """Show ``message`` in the status line until the next one."""
        self.message = message
        self.throttle.request()

    # -- lifecycle --------------------------------------------------------------------------

    def wait_idle(self, timeout: float | None = 10.0) -> bool:
        """Wait for queued commands, then redraw now; False if ``timeout`` ran out.

        Handy in scripts and tests; a notebook never needs it.
        """
        done = self.commands.wait_idle(timeout)
        self.throttle.flush()
        return done

    def close(self) -> None:
        """Detach from the session and close every child widget."""
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
            bundle["text/html"] = snapshot_html(self.session.snapshot(), self.flow)
        return bundle

    # -- drawing ------------------------------------------------------------------------------

    def refresh(self) -> None:
        """Redraw everything from the session now (normally called by the throttle)."""
        snapshot = self.session.snapshot()
        activity = self.activity.activity()
        overlay = build_overlay(self.flow, snapshot, activity, self.session.breakpoints)
        self.canvas.svg = diagram_html(self.flow, overlay)
        self.status.value = self._status_html(snapshot, activity)
        self.breakpoint_panel.refresh()
        history = self.session.history[-self.history_rows :]
        self.inspectors.refresh(snapshot, history, self._current_output(snapshot, activity))

    def _status_html(self, snapshot: Snapshot, activity: Activity) -> str:
        if snapshot.routine_id is not None:
            hit = self.session.last_hit
            state = f"paused before <b>{html.escape(snapshot.routine_id)}</b>"
            if hit is not None and hit.routine_id == snapshot.routine_id:
                state += f" (breakpoint #{hit.id})"
        elif snapshot.paused:
            state = "paused"
        else:
            state = "running" if snapshot.jobs else "idle"
        if activity.last is not None:
            last = activity.last
            outcome = "failed" if last.error is not None else "ran"
            state += f"; last: {html.escape(last.routine_id)} {outcome} (#{last.seq})"
        state += f"; {len(snapshot.jobs)} unfinished job(s)"
        message = f' <span class="routilux-message">{html.escape(self.message)}</span>'
        return f"<div>{state}{message if self.message else ''}</div>"

    def _current_output(self, snapshot: Snapshot, activity: Activity) -> str:
        pending = self.session.pending
        record = pending if pending is not None else activity.last
        if record is None or record.job_id is None:
            return ""
        return get_job_output(record.job_id)

    # -- callbacks ----------------------------------------------------------------------------

    def _step(self) -> None:
        record = self.session.step()
        self.message = "nothing to step" if record is None else ""

    def _stop(self) -> None:
        for job in self.session.worker.jobs:
            self.session.runtime.cancel(job)
        self.message = "stopped: unfinished jobs cancelled"

    def _session_changed(self, _what: str, _session: DebugSession) -> None:
        self.throttle.request()

    def _command_failed(self, name: str, error: BaseException) -> None:
        self.message = f"{name} failed: {error}"


def _close_tree(widget: widgets.Widget) -> None:
    for child in getattr(widget, "children", ()):
        _close_tree(child)
    widget.close()
