"""Widget overhead: flows run headless and with a FlowDebugger attached, in the same process.

Scenarios, each run headless and with the widget (no breakpoint), alternating so machine
noise hits both alike; throughput is activations per second from the first post until
every job finished, and the figure that matters is widget / headless:

- ``chain10``: a line of 10 routines, one post per message (target >= 50%);
- ``flow1000``: a line of 1,000 routines, one post per message (target >= 30%);
- ``stall``: the 10-routine chain with 20,000 posts queued at once while paused, then
  resumed: it must finish with the widget attached.

The widget runs without a kernel (its redraws go nowhere), which is what it costs the
engine: building what it shows and handing it to the front end.

Run: ``PYTHONPATH=. .venv/bin/python bench/widget_overhead.py [--repeats R] [--quick]``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.append(str(Path(__file__).resolve().parent.parent))

import routilux
from routilux import Flow, Routine
from routilux.notebook import FlowDebugger


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


def chain(name: str, length: int) -> Flow:
    """``r0 -> ... -> r{length-2} -> sink``: ``length`` activations per post."""
    flow = Flow(name)
    for i in range(length - 1):
        flow.add_routine(Relay(), f"r{i}")
        if i:
            flow.connect(f"r{i - 1}", "output", f"r{i}", "input")
    flow.add_routine(Sink(), "sink")
    flow.connect(f"r{length - 2}", "output", "sink", "input")
    return flow


def run(flow: Flow, posts: int, *, widget: bool, paused_start: bool = False) -> float:
    """Activations per second of one run; checks every message reached the sink."""
    length = len(flow.routines)
    with routilux.Runtime(4) as runtime:
        state = runtime.exec(flow)
        session = runtime.debug(flow) if widget or paused_start else None
        debugger = FlowDebugger(session, capture_output=False) if widget and session else None
        if paused_start and session is not None:
            session.pause()
        start = time.perf_counter()
        for n in range(posts):
            runtime.post(flow, "r0", "input", {"n": n})
        if paused_start and session is not None:
            session.resume()
        if not runtime.wait_until_all_jobs_finished(120):
            raise SystemExit(f"{flow.flow_id}: jobs did not finish within 120 s")
        elapsed = time.perf_counter() - start
        if debugger is not None:
            debugger.close()
    if len(state.shared_log) != posts:
        raise SystemExit(f"{flow.flow_id}: {len(state.shared_log)} of {posts} messages arrived")
    return posts * length / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="fewer posts, one repeat")
    args = parser.parse_args()
    repeats = 1 if args.quick else args.repeats
    scenarios = {
        "chain10": (chain("chain10", 10), 500 if args.quick else 3000, False),
        "flow1000": (chain("flow1000", 1000), 5 if args.quick else 20, False),
        "stall": (chain("stall", 10), 20_000, True),
    }
    print(f"routilux {routilux.__version__}; medians of {repeats} run(s)")
    for name, (flow, posts, paused_start) in scenarios.items():
        rates: dict[bool, list[float]] = {False: [], True: []}
        for repeat in range(repeats):
            for widget in (False, True) if repeat % 2 == 0 else (True, False):
                rates[widget].append(run(flow, posts, widget=widget, paused_start=paused_start))
        headless, attached = statistics.median(rates[False]), statistics.median(rates[True])
        print(
            f"{name:>9} ({posts:,} posts): headless {headless:>9,.0f} act/s, "
            f"widget {attached:>9,.0f} act/s = {attached / headless:.0%} of headless"
        )


if __name__ == "__main__":
    main()
