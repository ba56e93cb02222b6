"""Runs one job with a store in a child process, for the tests (and bench) to kill.

Usage: ``python crash_child.py fanout STORE LOG N PAUSE`` (``fanout-async``: the same with
async logic in one routine; ``fanout-remote``: with one routine in a process pool) or
``python crash_child.py retry STORE LOG KILL_AT`` or ``python crash_child.py counter STORE LOG
N PAUSE``. Prints ``posted <job_id>`` once the job
is recorded, then ``done <status>`` if it is not killed first.

``python crash_child.py poster STORE START N`` posts N ring jobs (10 activations each) once
the file START exists and prints ``done <job_id>:<status> ...``.

``python crash_child.py paused STORE LOG N [DROP]`` posts ``{"n": 1}`` .. ``{"n": N}`` as N
jobs to a paused worker, drops the DROP-th of them (0 is the first) with the debugger, prints
``posted <job_id> ...`` and waits to be killed: the jobs stay unfinished in the store.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from routilux import Runtime
from tests.store.store_flows import counter_flow, fanout_flow, retry_flow, ring_flow


def paused(store: str, log: Path, n: int, drop: int | None) -> None:
    flow = fanout_flow("fanout", log)
    with Runtime(thread_pool_size=1, store=store) as runtime:
        session = runtime.debug(flow)
        session.pause()
        jobs = [runtime.post(flow, "src", "inp", {"n": i + 1})[1] for i in range(n)]
        if drop is not None:
            session.drop("src", "inp", drop)
        print("posted", *(job.job_id for job in jobs), flush=True)
        time.sleep(60)


def poster(store: str, jobs: int, start: Path) -> None:
    """Post ``jobs`` ring jobs, as fast as it can once ``start`` exists, and wait for them."""
    flow = ring_flow("ring", None, size=5)
    with Runtime(thread_pool_size=2, store=store) as runtime:
        print("ready", flush=True)
        while not start.exists():
            time.sleep(0.001)
        posted = [runtime.post(flow, "r0", "inp", {"n": 9})[1] for _ in range(jobs)]
        for job in posted:
            job.wait(60)
        print("done", *(f"{job.job_id}:{job.status}" for job in posted), flush=True)


def main(argv: list[str]) -> None:
    kind, store, log = argv[0], argv[1], Path(argv[2])
    if kind == "poster":
        poster(store, int(argv[3]), log)
        return
    if kind == "paused":
        paused(store, log, int(argv[3]), int(argv[4]) if len(argv) > 4 else None)
        return
    if kind in ("fanout", "fanout-async", "fanout-remote"):
        flow = fanout_flow(
            "fanout",
            log,
            pause=float(argv[4]),
            asynchronous=kind == "fanout-async",
            remote=kind == "fanout-remote",
        )
        entry, data = "src", {"n": int(argv[3])}
        threads = 2
    elif kind == "counter":
        flow = counter_flow("counter", log, pause=float(argv[4]))
        entry, data = "src", {"n": int(argv[3])}
        threads = 4
    else:
        flow = retry_flow("retry", log, kill_at=int(argv[3]), succeed_at=None)
        entry, data = "flaky", {"x": 1}
        threads = 1
    with Runtime(thread_pool_size=threads, store=store) as runtime:
        _, job = runtime.post(flow, entry, "inp", data)
        print("posted", job.job_id, flush=True)
        job.wait(60)
        print("done", job.status, flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
