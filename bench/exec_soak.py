"""Soak: ``exec()`` once per request, as the seed README does, keeps memory bounded.

``python bench/exec_soak.py [--calls 100000]`` runs ``runtime.exec(flow, entry_params=...)``
for every request (each one a new one-request worker) and waits for it, as a request handler
would, and prints RSS at the start, every tenth of the way and at the end, with the rate.
Idle one-request workers are retired (``Runtime(max_idle_workers=...)``), so RSS must stay
flat after warm-up.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from routilux import Flow, Routine, Runtime


class Double(Routine):
    def __init__(self) -> None:
        super().__init__()
        self.add_slot("input")
        self.add_event("output", ["n"])

    def logic(self, input, policy_message, worker_state):  # type: ignore[no-untyped-def]
        for point in input:
            self.emit("output", n=point["n"] * 2)


class Keep(Routine):
    def __init__(self) -> None:
        super().__init__()
        self.add_slot("input")

    def logic(self, input, policy_message, worker_state):  # type: ignore[no-untyped-def]
        worker_state.shared_log.extend(input)


def rss_mb() -> float:
    """Current resident set size (Linux /proc), in MB."""
    with open("/proc/self/statm") as statm:
        pages = int(statm.read().split()[1])
    return pages * resource.getpagesize() / 1e6


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=100_000)
    args = parser.parse_args()
    flow = Flow("soak")
    flow.add_routine(Double(), "double")
    flow.add_routine(Keep(), "keep")
    flow.connect("double", "output", "keep", "input")
    checkpoints = {max(1, args.calls * k // 10) for k in range(1, 11)}
    with Runtime(thread_pool_size=4) as runtime:
        start_rss = rss_mb()
        started = time.perf_counter()
        warm_rss = None
        for n in range(1, args.calls + 1):
            state = runtime.exec(flow, entry_params={"n": n})
            runtime.wait_until_all_jobs_finished(5)
            if state.shared_log != [{"n": 2 * n}]:
                print(f"request {n} answered {state.shared_log!r}", file=sys.stderr)
                return 1
            if n in checkpoints:
                rate = n * 2 / (time.perf_counter() - started)
                warm_rss = warm_rss or rss_mb()
                print(
                    f"{n:>8} calls  RSS {rss_mb():7.1f} MB  {rate:9,.0f} activations/s  "
                    f"{len(runtime.worker_ids)} workers kept",
                    flush=True,
                )
        end_rss = rss_mb()
    print(
        f"RSS {start_rss:.1f} MB at start, {warm_rss:.1f} MB after the first tenth, "
        f"{end_rss:.1f} MB at the end ({end_rss - (warm_rss or start_rss):+.1f} MB)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
