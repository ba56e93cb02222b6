"""Speed of the SQLite store: activations/s, commit latency and cost per activation vs job length.

Run: ``.venv/bin/python bench/store_speed.py [--posts N] [--repeats N] [--pool-size N]
[--breakdown]``; with ``.venv-compiled/bin/python`` it measures the compiled build (as
``pip install`` builds it: ``make compiled-venv``).

- *chain*: a line of 10 routines, N posts of one message each (10 activations per post),
  with the store off and on; activations/s of wall time from the first post to the last
  job finished, and the ratio on / off of each back-to-back pair (the target: 25%).
- *commit*: time spent in each transaction (``write_batch``: one finished activation, or
  several that finished together), p50/p99/max, and activations per transaction.
- *job length*: one job running around a ring of 10 routines for 100, 1,000 and 10,000
  activations; microseconds per activation should not grow with the length.
- ``--breakdown``: instead, the chain with the store cut down step by step (``RUNGS``):
  what following jobs and posts costs, what recording activations costs in Python, and
  what SQLite adds.
"""

from __future__ import annotations

import argparse
import importlib.util
import itertools
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

# The routilux of the Python running this (.venv: pure, .venv-compiled: compiled); the
# checkout's for a Python without one.
if importlib.util.find_spec("routilux") is None:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from routilux import Flow, Routine, Runtime
from routilux.store import recorder
from routilux.store._writes import Batch

BUILD = "compiled" if recorder.__file__.endswith(".so") else "pure Python"
"""Which build of routilux (and of its store's recorder) this measures."""


class Relay(Routine):
    """Passes its input on while ``n > 0`` (n counts down), else stops."""

    def __init__(self) -> None:
        super().__init__()
        self.add_slot("inp")
        self.add_event("out", ["n"])

    def logic(self, inp: list[dict[str, Any]], policy_message: Any, worker_state: Any) -> None:
        for point in inp:
            if point["n"] > 0:
                self.emit("out", n=point["n"] - 1)


def build(name: str, ring: bool) -> Flow:
    flow = Flow(name)
    ids = [flow.add_routine(Relay(), f"r{i}") for i in range(10)]
    for a, b in itertools.pairwise(ids + ids[:1] if ring else ids):
        flow.connect(a, "out", b, "inp")
    return flow


Commit = tuple[float, int]  # seconds, activations written


def timed(fn: Callable[[Batch], None], samples: list[Commit]) -> Callable[[Batch], None]:
    def wrapper(batch: Batch) -> None:
        start = time.perf_counter()
        fn(batch)
        # Rows of the writes view that carry an activation (worker_seq is not NULL).
        samples.append((time.perf_counter() - start, sum(r[3] is not None for r in batch.rows)))

    return wrapper


def chain(posts: int, store: Path | None, commits: list[Commit], pool: int) -> float:
    """Activations/s for ``posts`` posts through the 10-routine line."""
    with Runtime(thread_pool_size=pool, store=store) as runtime:
        if runtime.store is not None:
            runtime.store.write_batch = timed(  # type: ignore[method-assign]
                runtime.store.write_batch, commits
            )
        elapsed = run_line(runtime, posts)
    return posts * 10 / elapsed


def run_line(runtime: Runtime, posts: int) -> float:
    """Seconds from the first of ``posts`` posts through the 10-routine line to the last
    job finished."""
    flow = build("line", ring=False)
    start = time.perf_counter()
    jobs = [runtime.post(flow, "r0", "inp", {"n": 9})[1] for _ in range(posts)]
    for job in jobs:
        job.wait(120)
    return time.perf_counter() - start


# The store cut down, less at each rung (private attributes: a diagnosis, not an API). Each
# rung's cost over the one below is what the parts it adds cost.
RUNGS = {
    "headless": "no store",
    "jobs": "posts and job statuses recorded, not activations; SQLite writes nothing",
    "python": "everything recorded, SQLite writes nothing",
    "full": "the store as it is",
}


def rung(name: str, posts: int, store: Path, pool: int) -> float:
    """Microseconds per activation on the chain with the store cut down to ``name``."""
    with Runtime(thread_pool_size=pool, store=None if name == "headless" else store) as runtime:
        recorder = runtime._recorder
        if name == "jobs" and recorder is not None:
            recorder.activation_finished = lambda worker, record: None  # type: ignore[method-assign]
        if name in ("jobs", "python") and runtime.store is not None:
            runtime.store.write_batch = lambda batch: None  # type: ignore[method-assign]
        return run_line(runtime, posts) / (posts * 10) * 1e6


def breakdown(posts: int, repeats: int, pool: int, tmp: Path) -> None:
    """Where checkpointing's time goes: the chain on each rung, the rungs interleaved."""
    costs: dict[str, list[float]] = {name: [] for name in RUNGS}
    for i in range(repeats):
        for name in RUNGS:
            costs[name].append(rung(name, posts, tmp / f"{name}{i}.db", pool))
    print(
        f"chain, 10 routines, {posts} posts, pool size {pool}, median of {repeats}, "
        f"routilux {BUILD}:"
    )
    below = 0.0
    for name, what in RUNGS.items():
        cost = statistics.median(costs[name])
        print(f"  {name:9} {cost:5.1f} us per activation ({cost - below:+5.1f}): {what}")
        below = cost


def job_length(length: int, store: Path) -> float:
    """Microseconds per activation for one job of ``length`` activations around the ring."""
    with Runtime(thread_pool_size=1, store=store) as runtime:
        flow = build("ring", ring=True)
        start = time.perf_counter()
        _, job = runtime.post(flow, "r0", "inp", {"n": length - 1})
        job.wait(300)
        elapsed = time.perf_counter() - start
    return elapsed / length * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--pool-size", type=int, default=4)
    parser.add_argument(
        "--breakdown", action="store_true", help="where the time goes, instead (see RUNGS)"
    )
    args = parser.parse_args()
    if args.breakdown:
        with tempfile.TemporaryDirectory() as tmp:
            breakdown(args.posts, args.repeats, args.pool_size, Path(tmp))
        return
    with tempfile.TemporaryDirectory() as tmp:
        off: list[float] = []
        on: list[float] = []
        commits: list[Commit] = []
        for i in range(args.repeats):
            off.append(chain(args.posts, None, [], args.pool_size))
            on.append(chain(args.posts, Path(tmp) / f"chain{i}.db", commits, args.pool_size))
        print(
            f"chain, 10 routines, {args.posts} posts, pool size {args.pool_size}, "
            f"median of {args.repeats}, routilux {BUILD}:"
        )
        print(f"  store off: {statistics.median(off):10,.0f} activations/s")
        print(f"  store on:  {statistics.median(on):10,.0f} activations/s")
        # Each repeat runs off then on, back to back: the ratio of a pair is measured at one
        # moment of a shared, noisy machine, so its median is steadier than the medians'.
        ratios = sorted(b / a for a, b in zip(off, on, strict=True))
        print(
            f"  on / off:  {statistics.median(ratios):10.1%} "
            f"(median of {len(ratios)} back-to-back pairs; {ratios[0]:.1%} to {ratios[-1]:.1%})"
        )
        # Transactions that wrote activations (posts and job statuses are smaller ones).
        times = sorted(t for t, n in commits if n)
        written = sum(n for _, n in commits)
        p50, p99 = times[len(times) // 2], times[int(len(times) * 0.99)]
        print(
            f"commit ({len(times):,} transactions for {written:,} activations, "
            f"{written / len(times):.2f} per transaction): "
            f"p50 {p50 * 1e6:.0f} us, p99 {p99 * 1e6:.0f} us, max {times[-1] * 1e3:.1f} ms"
        )
        print("one job of L activations around a 10-routine ring, store on:")
        for length in (100, 1_000, 10_000):
            costs = [
                job_length(length, Path(tmp) / f"ring{length}-{i}.db") for i in range(args.repeats)
            ]
            print(f"  L = {length:>6,}: {statistics.median(costs):6.1f} us per activation")


if __name__ == "__main__":
    main()
