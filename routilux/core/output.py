"""Routed stdout: print() inside logic lands in the buffer of the job that ran it."""

from __future__ import annotations

import io
import sys
import threading
from collections import OrderedDict
from typing import Any, TextIO

from routilux.core._context import current_activation

__all__ = [
    "RoutedStdout",
    "clear_job_output",
    "get_job_output",
    "install_routed_stdout",
    "uninstall_routed_stdout",
]

# The seed API names get_job_output(job_id) as a module function, so the buffers live in
# one bounded process-wide table; the oldest jobs' output is dropped first.
MAX_JOBS_KEPT = 1000
_buffers: OrderedDict[str, io.StringIO] = OrderedDict()
# How much of each job's output get_job_output(incremental=True) has handed out already.
_read_upto: dict[str, int] = {}
_lock = threading.Lock()


class RoutedStdout(io.TextIOBase):
    """A stdout stand-in that sends writes made inside an activation to that job's buffer.

    Installed by :func:`install_routed_stdout`; writes made outside any activation go to
    the stdout it replaced.
    """

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
                    dropped, _ = _buffers.popitem(last=False)
                    _read_upto.pop(dropped, None)
            buffer.write(text)
        if self.echo:
            self.original.write(text)
        return len(text)

    def flush(self) -> None:
        self.original.flush()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.original, name)


def install_routed_stdout(echo: bool = False) -> RoutedStdout:
    """Route ``print()`` made inside logic to per-job buffers (read with ``get_job_output``).

    Output made outside any activation goes to the real stdout as before. Installing twice
    is harmless. With ``echo=True`` routed output is also written to the real stdout.

    Returns:
        The installed :class:`RoutedStdout`.
    """
    current = sys.stdout
    if isinstance(current, RoutedStdout):
        current.echo = echo
        return current
    routed = RoutedStdout(current, echo)
    sys.stdout = routed
    return routed


def uninstall_routed_stdout() -> None:
    """Put the original stdout back."""
    if isinstance(sys.stdout, RoutedStdout):
        sys.stdout = sys.stdout.original


def get_job_output(job_id: str, incremental: bool = False) -> str:
    """Everything printed inside the logic of job ``job_id`` ('' if nothing or unknown).

    Args:
        job_id: The job.
        incremental: Return only what was printed since the last incremental call for this
            job (earlier Routilux's default; ours is the whole output).

    Returns:
        The text.
    """
    with _lock:
        buffer = _buffers.get(job_id)
        if buffer is None:
            return ""
        text = buffer.getvalue()
        if not incremental:
            return text
        start = _read_upto.get(job_id, 0)
        _read_upto[job_id] = len(text)
        return text[start:]


def clear_job_output(job_id: str) -> None:
    """Forget the output of job ``job_id`` (to free memory once it has been read)."""
    with _lock:
        _buffers.pop(job_id, None)
        _read_upto.pop(job_id, None)
