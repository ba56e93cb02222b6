"""Flow building: add_routine and connect stay constant-time per routine.

Builds a chain of N routines (explicit ids, then ids derived from the class name), and
starts a worker on the explicit-id chain. The per-routine time at the largest N over the
smallest shows whether building is linear (a ratio near 1) or quadratic (a ratio near the
size ratio).

Run: ``PYTHONPATH=. .venv/bin/python bench/flow_build.py [--sizes 1000 10000 30000]``.
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
from pathlib import Path
from typing import Any

sys.path.append(str(Path(__file__).resolve().parent.parent))

from routilux import Flow, Routine, Runtime


class Step(Routine):
    def __init__(self) -> None:
        super().__init__()
        self.add_slot("input")
        self.add_event("output")

    def logic(self, items: list[Any], policy_message: Any, worker_state: Any) -> None:
        pass


def build(n: int, derived_ids: bool) -> tuple[Flow, float]:
    routines = [Step() for _ in range(n)]  # made outside the timed part: only the flow is timed
    start = time.perf_counter()
    flow = Flow(f"chain{n}")
    previous = None
    for i, routine in enumerate(routines):
        rid = flow.add_routine(routine, None if derived_ids else f"r{i}")
        if previous is not None:
            flow.connect(previous, "output", rid, "input")
        previous = rid
    return flow, time.perf_counter() - start


def start_worker(flow: Flow) -> float:
    with Runtime(thread_pool_size=1) as runtime:
        start = time.perf_counter()
        runtime.start_worker(flow)
        return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000, 30000])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    rows = []
    for n in args.sizes:
        explicit = derived = started = float("inf")
        for _ in range(args.repeats):
            gc.collect()
            flow, seconds = build(n, derived_ids=False)
            explicit = min(explicit, seconds)
            started = min(started, start_worker(flow))
            derived = min(derived, build(n, derived_ids=True)[1])
        rows.append((n, explicit, derived, started))
    print(f"{'routines':>9} {'build s':>9} {'us/routine':>11} {'derived ids s':>14} {'start s':>8}")
    for n, explicit, derived, started in rows:
        per_routine = explicit / n * 1e6
        print(f"{n:>9} {explicit:>9.3f} {per_routine:>11.2f} {derived:>14.3f} {started:>8.3f}")
    (n0, e0, d0, _), (n1, e1, d1, _) = rows[0], rows[-1]
    print(
        f"per-routine time, {n1} over {n0}: explicit ids {(e1 / n1) / (e0 / n0):.2f}x, "
        f"derived ids {(d1 / n1) / (d0 / n0):.2f}x (1.0 = linear, {n1 / n0:.0f} = quadratic)"
    )


if __name__ == "__main__":
    main()
