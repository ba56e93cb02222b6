"""Backpressure: 100,000 posts into a slot bounded at 100 (``on_full="block"``).

``python bench/backpressure.py [--n 100000]`` posts from one thread into a slow-ish consumer
and prints RSS every tenth of the way: with ``on_full="block"`` the producer goes at the
consumer's pace, so memory stays flat, and every item arrives once. ``--unbounded`` runs the
same without a bound, for comparison.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

sys.path.append(str(Path(__file__).resolve().parent.parent))

from routilux import Flow, Routine, Runtime


class Consumer(Routine):
    def __init__(self, bound: int | None) -> None:
        super().__init__()
        if bound is None:
            self.add_slot("input")
        else:
            self.add_slot("input", bound, on_full="block")
        self.count = 0
        self.total = 0

    def logic(self, input, policy_message, worker_state):  # type: ignore[no-untyped-def]
        for point in input:
            self.count += 1
            self.total += point["n"]
            sum(range(50))  # a little work per item, so the queue would grow unbounded


def rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * resource.getpagesize() / 1e6


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--unbounded", action="store_true")
    args = parser.parse_args()
    consumer = Consumer(None if args.unbounded else 100)
    flow = Flow("backpressure")
    flow.add_routine(consumer, "consumer")
    payload = "x" * 200  # so a growing queue shows in RSS
    with Runtime(thread_pool_size=2) as runtime:
        worker = runtime.start_worker(flow)
        print(f"RSS at start {rss_mb():.1f} MB")
        started = time.perf_counter()
        peak_queue = 0
        for n in range(args.n):
            runtime.post(flow, "consumer", "input", {"n": n, "payload": payload})
            if (n + 1) % (args.n // 10) == 0:
                queued = worker.inspect(max_items=0).queues["consumer"]["input"].length
                peak_queue = max(peak_queue, queued)
                print(f"{n + 1:>8} posted  RSS {rss_mb():7.1f} MB  queued {queued:>7}", flush=True)
        runtime.wait_until_all_jobs_finished(300)
        took = time.perf_counter() - started
    expected = args.n * (args.n - 1) // 2
    ok = consumer.count == args.n and consumer.total == expected
    print(f"{args.n} items in {took:.1f} s ({args.n / took:,.0f}/s), all arrived once: {ok}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
