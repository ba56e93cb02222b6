"""Static HTML: debugger snapshots and stored checkpoints as tables, for viewers without widgets."""

from __future__ import annotations

import html
import json
import reprlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from routilux.core.activation import ActivationRecord
from routilux.core.flow import Flow
from routilux.core.job import JobContext
from routilux.debug.snapshot import Snapshot
from routilux.notebook.live.activity import activity_from_records
from routilux.notebook.live.checkpoints import CheckpointTables
from routilux.notebook.live.jobs import JobLabels
from routilux.notebook.live.overlay import build_overlay
from routilux.notebook.render import diagram_html

__all__ = [
    "SnapshotView",
    "checkpoint_html",
    "inputs_html",
    "jobs_html",
    "queues_html",
    "snapshot_html",
    "table_html",
    "trace_html",
    "value_html",
    "worker_state_html",
]

# Queued payloads can be large; a table cell shows a bounded, readable prefix.
_short = reprlib.Repr()
_short.maxstring = 80
_short.maxother = 80
_short.maxlist = _short.maxdict = 8
_short.maxlevel = 4


def value_html(value: Any) -> str:
    """A bounded ``repr`` of ``value``, escaped, in a ``<code>`` element."""
    return f"<code>{html.escape(_short.repr(value))}</code>"


def table_html(headers: Sequence[str], rows: Iterable[Sequence[str]], empty: str = "none") -> str:
    """An HTML table; cells are HTML already (escape text with :func:`value_html`)."""
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    if not body:
        return f"<p><em>{html.escape(empty)}</em></p>"
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    return (
        f'<table class="routilux-table"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'
    )


def inputs_html(snapshot: Snapshot) -> str:
    """The parked activation: which routine, and its inputs per slot."""
    if snapshot.routine_id is None:
        return "<p><em>no activation is parked: nothing is next to run</em></p>"
    rows = [(html.escape(slot), value_html(data)) for slot, data in snapshot.inputs.items()]
    title = f"<p>next to run: <b>{html.escape(snapshot.routine_id)}</b>, with</p>"
    return title + table_html(("slot", "inputs"), rows)


def queues_html(snapshot: Snapshot, max_rows: int = 30) -> str:
    """Data waiting in each non-empty slot, oldest first (the first ``max_rows`` slots)."""
    counts = snapshot.queued_counts
    rows = []
    for (rid, slot), n in counts.items():
        items = snapshot.queues.get(rid, {}).get(slot, [])
        more = f" and {n - len(items)} more" if n > len(items) else ""
        rows.append((html.escape(f"{rid}.{slot}"), str(n), value_html(items) + more))
    note = ""
    if len(rows) > max_rows:
        note = f"<p><em>and {len(rows) - max_rows} more slots holding data</em></p>"
        rows = rows[:max_rows]
    table = table_html(("slot", "queued", "data (oldest first)"), rows, empty="all queues empty")
    return table + note


def worker_state_html(snapshot: Snapshot) -> str:
    """The WorkerState: status, shared data and each routine's state."""
    state = snapshot.worker_state
    rows = [("status", value_html(state.get("status")))]
    rows += [
        (html.escape(f"shared_data[{key!r}]"), value_html(v))
        for key, v in state.get("shared_data", {}).items()
    ]
    rows += [
        (html.escape(f"routine {rid}"), value_html(v))
        for rid, v in state.get("routine_states", {}).items()
    ]
    return table_html(("key", "value"), rows)


def jobs_html(
    jobs: Sequence[JobContext],
    labels: JobLabels | None = None,
    max_rows: int = 20,
    total: int | None = None,
) -> str:
    """The unfinished jobs (JobContext): label (full id on hover), status and metadata.

    Args:
        jobs: The jobs, oldest first.
        labels: Names jobs ``#1``, ``#2``...; a view passes its own so that a job keeps
            its number from one redraw to the next.
        max_rows: Jobs listed; the others are counted (a flood of posts stays one line).
        total: How many jobs there are, when ``jobs`` holds only the oldest of them.
    """
    labels = labels or JobLabels(hover_ids=False)
    # A live view also lists the full id, to select and copy; stored HTML leaves it out.
    ids = labels.hover_ids
    rows = [
        (
            labels.html(job.job_id),
            *([f"<code>{html.escape(job.job_id)}</code>"] if ids else []),
            html.escape(str(job.status)),
            value_html(job.metadata),
        )
        for job in jobs[:max_rows]
    ]
    headers = ("job", *(["id"] if ids else []), "status", "metadata")
    table = table_html(headers, rows, empty="no unfinished job")
    count = len(jobs) if total is None else total
    if count > max_rows:
        table += f"<p><em>and {count - max_rows} more unfinished jobs</em></p>"
    return table


def trace_html(
    records: Sequence[ActivationRecord], *, timings: bool = True, labels: JobLabels | None = None
) -> str:
    """Recent activations, newest first; ``timings=False`` leaves out how long each took."""
    labels = labels or JobLabels(hover_ids=False)
    for record in records:  # numbered oldest first, as they ran
        labels.label(record.job_id)
    rows = [
        (
            str(r.seq),
            html.escape(r.routine_id),
            labels.html(r.job_id),
            value_html(r.inputs),
            value_html(r.emitted),
            *(["" if r.duration is None else f"{r.duration * 1000:.1f} ms"] if timings else []),
            "" if r.error is None else value_html(r.error),
        )
        for r in reversed(records)
    ]
    headers = ("#", "routine", "job", "inputs", "emitted", *(["took"] if timings else []), "error")
    return table_html(headers, rows, empty="nothing ran yet")


def _section(title: str, body: str, open_: bool = True) -> str:
    summary = f"<summary>{html.escape(title)}</summary>"
    return f"<details{' open' if open_ else ''}>{summary}{body}</details>"


def _diagram(snapshot: Snapshot, flow: Flow) -> str:
    overlay = build_overlay(flow, snapshot, activity_from_records(snapshot.trace), ())
    return diagram_html(flow, overlay)


def snapshot_html(
    snapshot: Snapshot, flow: Flow | None = None, labels: JobLabels | None = None
) -> str:
    """The snapshot as one HTML fragment: diagram (when ``flow`` is given) and tables.

    Args:
        snapshot: What the debug session looked like.
        flow: The debugged flow, to draw the diagram with the snapshot's states.
        labels: Job names to use (a widget's own); by default jobs are numbered in the
            order the snapshot lists them, so the HTML is the same on every run.

    Returns:
        HTML with collapsible sections that needs no JavaScript.
    """
    if not isinstance(snapshot, Snapshot):
        raise TypeError(
            f"snapshot_html() takes a Snapshot (session.snapshot()), got "
            f"{type(snapshot).__name__} {snapshot!r:.60}"
        )
    state = "paused" if snapshot.paused else "running"
    if snapshot.routine_id is not None:
        state += f" before <b>{html.escape(snapshot.routine_id)}</b>"
    parts = [f"<p><b>{html.escape(snapshot.flow_name)}</b>: {state}</p>"]
    if flow is not None:
        parts.append(_diagram(snapshot, flow))
    labels = labels or JobLabels(hover_ids=False)
    # The static view ends up stored in notebooks and docs: no timings and no job ids,
    # so it is the same on every run.
    trace = trace_html(snapshot.trace, timings=False, labels=labels)
    parts += [
        _section("Next to run", inputs_html(snapshot)),
        _section("Slot queues", queues_html(snapshot)),
        _section("WorkerState", worker_state_html(snapshot)),
        _section("Jobs", jobs_html(snapshot.jobs, labels, total=snapshot.unfinished)),
        _section("Recent activations", trace, open_=False),
    ]
    return f'<div class="routilux-snapshot">{"".join(parts)}</div>'


@dataclass(frozen=True)
class SnapshotView:
    """A snapshot with its flow, displayed as :func:`snapshot_html` by Jupyter.

    Attributes:
        snapshot: The debugger snapshot.
        flow: The debugged flow (draws the diagram), or None for tables only.
    """

    snapshot: Snapshot
    flow: Flow | None = None

    def _repr_html_(self) -> str:
        return snapshot_html(self.snapshot, self.flow)


def checkpoint_html(tables: CheckpointTables) -> str:
    """A stored checkpoint's tables as HTML: the activation that made it, queues and states.

    Args:
        tables: What :func:`routilux.notebook.live.checkpoints.checkpoint_view` read.

    Returns:
        A heading line and two tables.
    """
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
        (html.escape(f"{rid}.{slot}"), _json(items))
        for rid, slots in sorted(tables["queued"].items())
        for slot, items in sorted(slots.items())
    ]
    state_rows = [
        (html.escape(rid), _json(state)) for rid, state in sorted(tables["routine_states"].items())
    ]
    return (
        f"<div class='routilux-timeline-tables'><p>{head}</p>"
        "<p>Waiting in slots</p>"
        f"{table_html(('slot', 'data'), queued_rows)}"
        "<p>Routine states</p>"
        f"{table_html(('routine', 'state'), state_rows)}</div>"
    )


def _json(value: Any) -> str:
    # Stored data is plain JSON, so json.dumps shows it exactly as it was recorded.
    return f"<code>{html.escape(json.dumps(value, sort_keys=True))}</code>"
