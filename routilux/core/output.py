"""Routed stdout: print() inside logic lands in the buffer of the job that ran it."""

from __future__ import annotations

import io
import sys
import threading
from collections import OrderedDict
from typing import Any, TextIO

from routilux.core._context import current_activation

__all__ = ["get_job_output", "install_routed_stdout", "uninstall_routed_stdout"]

# The seed API names get_job_output(job_id) as a module function, so the buffers live in
# one bounded process-wide table; the oldest jobs' output is dropped first.
MAX_JOBS_KEPT = 1000
_buffers: OrderedDict[str, io.StringIO] = OrderedDict()
_lock = threading.Lock()


class _RoutedStdout(io.TextIOBase):
    """A stdout stand-in that sends writes made inside an activation to that job's buffer."""

    def __init__(self, original: TextIO, echo: bool) -> None:
        self.original = original
        self.echo = echo

    def write(self, text: str) -> int:
        activation = current_activation.get()
        if activation is None or activation.job is None:
            return self.original.write(text)
        job_id = activation.job.job_id
        with _lock:
            buffer = _buffers.get(job_id)
            if buffer is None:
                buffer = _buffers[job_id] = io.StringIO()
                while len(_buffers) > MAX_JOBS_KEPT:
                    _buffers.popitem(last=False)
            buffer.write(text)
        if self.echo:
            self.original.write(text)
        return len(text)

    def flush(self) -> None:
        self.original.flush()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.original, name)


def install_routed_stdout(echo: bool = False) -> None:
    """Route ``print()`` made inside logic to per-job buffers (read with ``get_job_output``).

    Output made outside any activation goes to the real stdout as before. Installing twice
    is harmless. With ``echo=True`` routed output is also written to the real stdout.
    """
    current = sys.stdout
    if isinstance(current, _RoutedStdout):
        current.echo = echo
        return
    sys.stdout = _RoutedStdout(current, echo)


def uninstall_routed_stdout() -> None:
    """Put the original stdout back."""
    if isinstance(sys.stdout, _RoutedStdout):
        sys.stdout = sys.stdout.original


def get_job_output(job_id: str) -> str:
    """Everything printed inside the logic of job ``job_id`` ('' if nothing or unknown)."""
    with _lock:
        buffer = _buffers.get(job_id)
        return buffer.getvalue() if buffer is not None else ""
