"""The debugger's status line: where the run is, what ran last and what runs next, in words."""

from __future__ import annotations

import html

from routilux.core.activation import ActivationRecord
from routilux.debug.breakpoints import Breakpoint
from routilux.debug.snapshot import Snapshot
from routilux.notebook.live.jobs import JobLabels

__all__ = ["status_html"]


def _b(text: str) -> str:
    return f"<b>{html.escape(text)}</b>"


def _hit(bp: Breakpoint) -> str:
    where = {
        "before": f"before {_b(bp.routine_id)} runs",
        "after": f"after {_b(bp.routine_id)} ran",
        "slot": f"{_b(f'{bp.routine_id}.{bp.slot}')} received data",
        "event": f"{_b(bp.routine_id)} emitted {_b(str(bp.event))}",
    }[bp.kind]
    name = "run to here" if bp.once else f"breakpoint #{bp.id}"
    return f"paused at {name}: {where}{html.escape(bp.condition_text)}"


def status_html(
    snapshot: Snapshot,
    *,
    last_hit: Breakpoint | None,
    stepped: ActivationRecord | None,
    labels: JobLabels,
    message: str = "",
) -> str:
    """One line: paused where and why, or running; what the last step ran and what is next.

    Args:
        snapshot: The session now.
        last_hit: The breakpoint that made the current pause, if one did.
        stepped: The activation the last Step ran, while the view is still at that step.
        labels: Job names.
        message: The answer to the last command (an error, say); '' for none.

    Returns:
        HTML for the status line.
    """
    parts = []
    next_up = snapshot.routine_id
    if stepped is not None:
        outcome = "failed" if stepped.error is not None else "ran"
        parts.append(
            f"stepped: {_b(stepped.routine_id)} {outcome} (job {labels.label(stepped.job_id)})"
        )
        if next_up is not None:
            parts.append(f"next to run: {_b(next_up)}")
        elif snapshot.queued_counts:
            parts.append("next: waiting for data to be ready")
        else:
            parts.append("nothing left to run")
    elif last_hit is not None and (snapshot.paused or next_up is not None):
        parts.append(_hit(last_hit))
        if next_up is not None and last_hit.kind != "before":
            parts.append(f"next to run: {_b(next_up)}")
    elif next_up is not None:
        parts.append(f"paused; next to run: {_b(next_up)}")
    elif snapshot.paused:
        parts.append("paused")
    else:
        parts.append("running" if snapshot.jobs or snapshot.running else "idle")
    jobs = len(snapshot.jobs)
    parts.append(f"{jobs} unfinished job{'s' if jobs != 1 else ''}")
    line = "; ".join(parts)
    if message:
        line += f' <span class="routilux-message">{html.escape(message)}</span>'
    return f"<div>{line}</div>"
