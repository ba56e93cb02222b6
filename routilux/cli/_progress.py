"""Following a run from the command line: activation counts, job tallies, a progress line."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import IO, Any

from routilux.core.engine import Engine
from routilux.core.job import JobContext

__all__ = ["ActivationCounter", "Progress", "Tally", "tally"]


class ActivationCounter:
    """Activations the engine booked on a runtime's workers (read from ``Worker.inspect``).

    Nothing is added per activation: the engine keeps these counters anyway.

    Args:
        runtime: The runtime whose workers are counted.
    """

    def __init__(self, runtime: Engine) -> None:
        self.runtime = runtime

    @property
    def activations(self) -> int:
        """Activations finished so far, on every worker."""
        return sum(
            stats.activations
            for worker in self.runtime.workers
            for stats in worker.inspect(max_items=0).stats.values()
        )


@dataclass
class Tally:
    """How a set of jobs ended."""

    completed: int = 0
    failed: int = 0
    cancelled: int = 0
    unfinished: int = 0
    errors: list[tuple[str, str]] = field(default_factory=list)

    @property
    def done(self) -> int:
        return self.completed + self.failed + self.cancelled


def tally(jobs: Sequence[JobContext]) -> Tally:
    """Count ``jobs`` by status; failed jobs' errors are kept as ``(job_id, repr)``."""
    result = Tally()
    for job in jobs:
        status = str(job.status)
        if status == "completed":
            result.completed += 1
        elif status == "failed":
            result.failed += 1
            result.errors.append((job.job_id, repr(job.error)))
        elif status == "cancelled":
            result.cancelled += 1
        else:
            result.unfinished += 1
    return result


class Progress:
    """Redraws one status line on a terminal until stopped.

    Args:
        counter: Where activation counts come from.
        jobs: The jobs being followed.
        stream: The terminal.
        interval: Seconds between redraws.
    """

    def __init__(
        self,
        counter: ActivationCounter,
        jobs: Sequence[JobContext],
        stream: IO[str],
        interval: float = 0.25,
    ) -> None:
        self.counter = counter
        self.jobs = jobs
        self.stream = stream
        self.interval = interval
        self.started = time.perf_counter()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="routilux-progress", daemon=True)

    def __enter__(self) -> Progress:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self._stop.set()
        self._thread.join()
        self.stream.write("\r\x1b[K")  # clear the line: the summary follows
        self.stream.flush()

    def line(self) -> str:
        """The status line as it reads now."""
        elapsed = max(time.perf_counter() - self.started, 1e-9)
        counts = tally(self.jobs)
        activations = self.counter.activations
        return (
            f"{activations} activations ({activations / elapsed:,.0f}/s) | jobs "
            f"{counts.done}/{len(self.jobs)} done, {counts.failed} failed | {elapsed:.1f}s"
        )

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            self.stream.write("\r\x1b[K" + self.line())
            self.stream.flush()
