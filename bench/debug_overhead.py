"""Debugger overhead: the 10-routine chain headless, with no session, and with a session.

Modes, alternated within one invocation so machine noise hits all alike:

- ``core``: ``routilux.core.Runtime``, the engine as the debug package leaves it;
- ``no-session``: ``routilux.Runtime`` (which offers ``debug()``) with nothing attached;
- ``session``: a DebugSession attached, with no breakpoint (its hooks run on every step,
  and it keeps the activation history).

Run: ``.venv/bin/python bench/debug_overhead.py [--posts N] [--repeats R]``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any

# Appended, not inserted: run under .venv-compiled (from another directory) this measures
# the compiled build installed there; under .venv, the source tree.
sys.path.append(str(Path(__file__).resolve().parent.parent))

from routilux.core.runtime import Runtime as CoreRuntime

import routilux
import routilux.core.worker
from routilux import Flow, Routine

CHAIN = 10
MODES = ("core", "no-session", "session")


class Relay(Routine):
    def __init__(self) -> None:
        super().__init__()
        self.add_slot("input")
        self.add_event("output")

    def logic(self, items: list[dict[str, Any]], policy_message: Any, worker_state: Any) -> None:
        for item in items:
            self.emit("output", n=item["n"] + 1)


class Sink(Routine):
    def __init__(self) -> None:
        super().__init__()
        self.add_slot("input")

    def logic(self, items: list[dict[str, Any]], policy_message: Any, worker_state: Any) -> None:
        worker_state.shared_log.extend(items)


def chain() -> Flow:
    flow = Flow("overhead")
    for i in range(CHAIN - 1):
        flow.add_routine(Relay(), f"r{i}")
        if i:
            flow.connect(f"r{i - 1}", "output", f"r{i}", "input")
    flow.add_routine(Sink(), "sink")
    flow.connect(f"r{CHAIN - 2}", "output", "sink", "input")
    return flow


def run(mode: str, posts: int) -> float:
    """Activations per second of one run in ``mode``."""
    flow = chain()
    runtime = CoreRuntime(4) if mode == "core" else routilux.Runtime(4)
    with runtime:
        state = runtime.exec(flow)
        if mode == "session":
            runtime.debug(flow)  # type: ignore[attr-defined]
        start = time.perf_counter()
        for n in range(posts):
            runtime.post(flow, "r0", "input", {"n": n})
        if not runtime.wait_until_all_jobs_finished(120):
            raise SystemExit(f"{mode}: jobs did not finish")
        elapsed = time.perf_counter() - start
    if len(state.shared_log) != posts:
        raise SystemExit(f"{mode}: {len(state.shared_log)} of {posts} messages arrived")
    return posts * CHAIN / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    results: dict[str, list[float]] = {mode: [] for mode in MODES}
    for repeat in range(args.repeats):
        order = MODES[repeat % 3 :] + MODES[: repeat % 3]
        for mode in order:
            results[mode].append(run(mode, args.posts))
    medians = {mode: statistics.median(values) for mode, values in results.items()}
    compiled = not routilux.core.worker.__file__.endswith(".py")
    print(f"routilux {routilux.__version__}, {'compiled core' if compiled else 'pure Python'}")
    for mode in MODES:
        ratio = medians[mode] / medians["core"]
        print(f"{mode:>11}: {medians[mode]:>10,.0f} activations/s  ({ratio:.0%} of core)")
    print(f"session / no-session: {medians['session'] / medians['no-session']:.0%} (target >= 80%)")


if __name__ == "__main__":
    main()
