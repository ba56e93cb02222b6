"""The progress line ``routilux run`` redraws on a terminal, and the job tally."""

from __future__ import annotations

import io

from routilux import Runtime
from routilux.cli._progress import ActivationCounter, Progress, tally
from tests.cli.cli_flows import chain, failing


def test_the_progress_line_counts_activations_and_jobs() -> None:
    flow = chain("progress", 3)
    with Runtime(thread_pool_size=2) as runtime:
        jobs = [runtime.post(flow, "r0", "input", {"n": n})[1] for n in range(4)]
        assert all(job.wait(10) for job in jobs)
        line = Progress(ActivationCounter(runtime), jobs, io.StringIO()).line()
    assert line.startswith("12 activations (")
    assert "| jobs 4/4 done, 0 failed |" in line


def test_the_tally_keeps_each_failed_jobs_error() -> None:
    with Runtime(thread_pool_size=2) as runtime:
        jobs = [runtime.post(failing(), "first", "input", {"n": 1})[1]]
        assert jobs[0].wait(10)
    counts = tally(jobs)
    assert (counts.completed, counts.failed, counts.done) == (0, 1, 1)
    [(job_id, error)] = counts.errors
    assert job_id == jobs[0].job_id
    assert "refusing" in error


def test_progress_clears_its_line_when_it_stops_so_the_summary_starts_clean() -> None:
    stream = io.StringIO()
    with Runtime(thread_pool_size=2) as runtime, Progress(ActivationCounter(runtime), [], stream):
        pass
    assert stream.getvalue().endswith("\r\x1b[K")
