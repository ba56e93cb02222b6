"""JobLabels: short job names people can tell apart (``#1``, ``#2``), with the full id kept."""

from __future__ import annotations

import html
import threading

__all__ = ["JobLabels"]


class JobLabels:
    """Numbers jobs in the order a view first meets them.

    Job ids begin with a prefix shared by every job of the process, so their first
    characters are the same for all jobs; a per-view sequence number differs at a glance,
    and the full id stays one hover (``title``) away.

    Args:
        hover_ids: Put the full id in a hover title; False for HTML that is stored (in
            notebooks and docs), which must read the same on every run.

    >>> labels = JobLabels()
    >>> labels.label("aaaa0001"), labels.label("aaaa0002"), labels.label("aaaa0001")
    ('#1', '#2', '#1')
    """

    def __init__(self, *, hover_ids: bool = True) -> None:
        self.hover_ids = hover_ids
        self._numbers: dict[str, int] = {}
        self._lock = threading.Lock()

    def label(self, job_id: str | None) -> str:
        """``#n`` for ``job_id`` (numbered on first sight); '' for None."""
        if job_id is None:
            return ""
        with self._lock:
            number = self._numbers.get(job_id)
            if number is None:
                number = self._numbers[job_id] = len(self._numbers) + 1
        return f"#{number}"

    def html(self, job_id: str | None) -> str:
        """The label as HTML, with the full id on hover and selectable to copy."""
        if job_id is None:
            return ""
        if not self.hover_ids:
            return f'<span class="routilux-job">{self.label(job_id)}</span>'
        full = html.escape(job_id)
        return f'<span class="routilux-job" title="job {full}">{self.label(job_id)}</span>'

    def option(self, job_id: str) -> str:
        """How a job reads in a menu: the label and the id's distinguishing end."""
        return f"{self.label(job_id)} (…{job_id[-6:]})"
