"""Inspectors: collapsible views of the paused activation, queues, state, jobs, output, history."""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence
from typing import Any

import ipywidgets as widgets

from routilux.core.activation import ActivationRecord
from routilux.core.flow import Flow
from routilux.debug.session import DebugSession
from routilux.debug.snapshot import Snapshot
from routilux.notebook.live.jobs import JobLabels
from routilux.notebook.snapshot_html import (
    inputs_html,
    jobs_html,
    queues_html,
    trace_html,
    worker_state_html,
)
from routilux.notebook.widget.controls import parse_data

__all__ = ["Inspectors"]

SHARED_DATA = "shared_data"
_MENU_JOBS = 20


def _section(title: str, body: widgets.Widget, dom_class: str, open_: bool) -> widgets.Accordion:
    # One accordion per section, so several can be open at once.
    section = widgets.Accordion(
        children=[body], titles=(title,), selected_index=0 if open_ else None
    )
    section.add_class(dom_class)
    return section


def _set_options(dropdown: widgets.Dropdown, options: list[Any]) -> None:
    # Resetting options loses the user's selection; only do it when the choices changed,
    # and keep the chosen value when it is still offered.
    if list(dropdown.options) != options:
        chosen = dropdown.value
        dropdown.options = options
        if any(value == chosen for _, value in options):
            dropdown.value = chosen
    if dropdown.value is None and options and options[0][1] is not None:
        dropdown.index = 0


class Inspectors:
    """Read-outs refreshed from snapshots, and the edits the debugger allows.

    Args:
        session: The debug session edits go to.
        flow: The debugged flow.
        report: Shows a message to the user.
        on_edit: Called after an edit, so the views refresh.
    """

    def __init__(
        self,
        session: DebugSession,
        flow: Flow,
        report: Callable[[str], None],
        on_edit: Callable[[], None],
    ) -> None:
        self._session = session
        self._report = report
        self._on_edit = on_edit
        slots = [
            (f"{rid}.{s.name}", (rid, s.name)) for rid, r in flow.routines.items() for s in r.slots
        ]
        self.activation = widgets.HTML()
        self.queues = widgets.HTML()
        self.queue_slot = widgets.Dropdown(options=slots, description="slot")
        self._slot_chosen = False  # until the user picks a slot, follow the data
        self._following = False
        self.queue_slot.observe(self._slot_picked, names="value")
        self.queue_index = widgets.BoundedIntText(value=0, min=0, max=10**9, description="index")
        self.drop_button = widgets.Button(
            description="Drop", icon="trash", tooltip="Remove the data point at index"
        )
        self.inject_data = widgets.Text(placeholder="data to inject")
        self.inject_job = widgets.Dropdown(
            options=[("a new job", None)], description="into", layout=widgets.Layout(width="auto")
        )
        self.inject_button = widgets.Button(
            description="Inject", icon="plus", tooltip="Queue the data in the slot"
        )
        self.worker_state = widgets.HTML()
        self.state_target = widgets.Dropdown(
            options=[SHARED_DATA, *(f"routine {rid}" for rid in flow.routines)],
            description="update",
        )
        self.state_updates = widgets.Text(placeholder="{'key': value} merged in")
        self.state_button = widgets.Button(description="Apply", icon="check")
        self.jobs = widgets.HTML()
        self.job_target = widgets.Dropdown(options=[], description="job")
        self.job_updates = widgets.Text(placeholder="metadata {'key': value} merged in")
        self.job_button = widgets.Button(description="Apply", icon="check")
        self.output = widgets.HTML()
        self.trace = widgets.HTML()
        self.drop_button.on_click(lambda _: self._edit(self._drop))
        self.inject_button.on_click(lambda _: self._edit(self._inject))
        self.state_button.on_click(lambda _: self._edit(self._update_state))
        self.job_button.on_click(lambda _: self._edit(self._update_job))
        queue_edits = widgets.HBox([self.queue_slot, self.queue_index, self.drop_button])
        inject = widgets.HBox([self.inject_data, self.inject_job, self.inject_button])
        state_edit = widgets.HBox([self.state_target, self.state_updates, self.state_button])
        job_edit = widgets.HBox([self.job_target, self.job_updates, self.job_button])
        self.view = widgets.VBox(
            [
                _section("Next to run", self.activation, "routilux-inputs", True),
                _section(
                    "Slot queues",
                    widgets.VBox([self.queues, queue_edits, inject]),
                    "routilux-queues",
                    True,
                ),
                _section(
                    "WorkerState",
                    widgets.VBox([self.worker_state, state_edit]),
                    "routilux-worker-state",
                    False,
                ),
                _section(
                    "Jobs (JobContext)", widgets.VBox([self.jobs, job_edit]), "routilux-jobs", False
                ),
                _section("Job output", self.output, "routilux-output", True),
                _section("Recent activations", self.trace, "routilux-trace", True),
            ]
        )

    def refresh(
        self,
        snapshot: Snapshot,
        history: Sequence[ActivationRecord],
        output: str,
        labels: JobLabels,
    ) -> None:
        """Show ``snapshot``; unchanged values send nothing to the front end."""
        self.activation.value = inputs_html(snapshot)
        self.queues.value = queues_html(snapshot)
        self.worker_state.value = worker_state_html(snapshot)
        self.trace.value = trace_html(history, labels=labels)
        self.jobs.value = jobs_html(snapshot.jobs, labels)
        # The oldest jobs only: a menu of thousands helps nobody and costs every redraw.
        jobs = [(labels.option(job.job_id), job.job_id) for job in snapshot.jobs[:_MENU_JOBS]]
        _set_options(self.job_target, jobs)
        _set_options(self.inject_job, [("a new job", None), *jobs])
        self._follow_data(snapshot)
        text = html.escape(output) if output else "<em>nothing printed</em>"
        self.output.value = f'<pre style="max-height: 14em; overflow: auto">{text}</pre>'

    def _follow_data(self, snapshot: Snapshot) -> None:
        # Drop and Inject act on the chosen slot; until the user picks one, it is the
        # first slot holding data, so the first Drop has something to drop.
        counts = snapshot.queued_counts
        if self._slot_chosen or counts.get(self.queue_slot.value, 0):
            return
        for key in counts:
            if any(value == key for _, value in self.queue_slot.options):
                self._following = True
                try:
                    self.queue_slot.value = key
                finally:
                    self._following = False
                return

    def _slot_picked(self, _change: Any) -> None:
        if not self._following:
            self._slot_chosen = True

    def _edit(self, edit: Callable[[], None]) -> None:
        try:
            edit()
        except Exception as exc:  # a bad literal, a finished job, an index out of range...
            self._report(f"edit refused: {exc}")
            return
        self._on_edit()

    def _slot(self) -> tuple[str, str]:
        routine_id, slot = self.queue_slot.value
        return routine_id, slot

    def _drop(self) -> None:
        dropped = self._session.drop(*self._slot(), self.queue_index.value)
        self._report(f"dropped {dropped!r}")

    def _inject(self) -> None:
        job_id = self.inject_job.value
        job = None
        if job_id is not None:
            job = next((j for j in self._session.worker.jobs if j.job_id == job_id), None)
            if job is None:
                raise ValueError("that job has finished; pick another or a new job")
        self._session.inject(*self._slot(), parse_data(self.inject_data.value), job)
        self._report(f"injected into {self._slot()[0]}.{self._slot()[1]}")

    def _updates(self, text: str) -> dict[str, Any]:
        updates = parse_data(text)
        if not isinstance(updates, dict):
            raise ValueError("type a dict of the keys to set")
        return updates

    def _update_state(self) -> None:
        updates = self._updates(self.state_updates.value)
        target = self.state_target.value
        if target == SHARED_DATA:
            self._session.update_worker_state(**updates)
        else:
            self._session.update_routine_state(target.removeprefix("routine "), updates)

    def _update_job(self) -> None:
        if self.job_target.value is None:
            raise ValueError("no unfinished job")
        self._session.update_job_metadata(
            self.job_target.value, self._updates(self.job_updates.value)
        )
