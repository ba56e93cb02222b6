"""Remote activations that wait: in flight at once, whatever the runtime's thread count.

``python bench/dask_sleep.py [--n 1000] [--sleep 1] [--threads 4] [--repeats 3]`` starts a
LocalCluster with enough worker threads for every activation (2 workers, n/2 threads each),
then posts N jobs to a routine that runs ``time.sleep(--sleep)`` on it
(``set_executor("dask://...")``) with ``Runtime(thread_pool_size=--threads)``, and times
them from the first post to the last job's end. As the reference, plain ``client.map`` +
``gather`` of the same sleeps on the same cluster. Target of issue 17: 1,000 activations
of 1 s finish in under 5 s with 4 threads (they would take 250 s if each held a thread).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any

# At the end: an installed routilux (the compiled build in .venv-compiled) goes first.
sys.path.append(str(Path(__file__).resolve().parent.parent))

from routilux import Flow, Routine, Runtime


class Sleep(Routine):
    def __init__(self, seconds: float) -> None:
        super().__init__()
        self.add_slot("input")
        self.set_config(seconds=seconds)

    def logic(self, input: list[Any], policy_message: Any, worker_state: Any) -> None:
        time.sleep(self.get_config("seconds"))


def nap(seconds: float) -> None:
    time.sleep(seconds)


def ours(address: str, n: int, seconds: float, threads: int) -> tuple[float, float]:
    """(wall, driver CPU) of ``n`` sleeping activations on the cluster at ``address``."""
    flow = Flow(f"sleep-{time.monotonic_ns()}")
    sleep = Sleep(seconds)
    sleep.set_executor(f"dask://{address}")
    flow.add_routine(sleep, "sleep")
    with Runtime(thread_pool_size=threads) as runtime:
        runtime.exec(flow)
        _, warm = runtime.post(flow, "sleep", "input", {"i": -1})  # connects the client
        warm.wait(60)
        cpu = time.process_time()
        started = time.perf_counter()
        jobs = [runtime.post(flow, "sleep", "input", {"i": i})[1] for i in range(n)]
        if not runtime.wait_until_all_jobs_finished(300):
            raise RuntimeError("ours did not finish")
        wall = time.perf_counter() - started
        cpu = time.process_time() - cpu
        failed = [job for job in jobs if job.error is not None]
        if failed:
            raise RuntimeError(f"{len(failed)} jobs failed, e.g. {failed[0].error!r}")
    return wall, cpu


def plain(client: Any, n: int, seconds: float) -> float:
    started = time.perf_counter()
    client.gather(client.map(nap, [seconds] * n, pure=False))
    return time.perf_counter() - started


def main() -> None:
    from distributed import Client, LocalCluster

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--sleep", type=float, default=1.0)
    parser.add_argument("--threads", type=int, default=4, help="the runtime's thread_pool_size")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    with (
        LocalCluster(  # type: ignore[no-untyped-call]
            n_workers=2,
            threads_per_worker=(args.n + 1) // 2,
            processes=True,
            host="127.0.0.1",
            dashboard_address="127.0.0.1:0",  # a free port: never a clash
        ) as cluster,
        Client(cluster) as client,  # type: ignore[no-untyped-call]
    ):
        address = cluster.scheduler_address.removeprefix("tcp://")
        plain(client, 2, 0.01)
        walls: list[float] = []
        cpus: list[float] = []
        plains: list[float] = []
        for _ in range(args.repeats):
            wall, cpu = ours(address, args.n, args.sleep, args.threads)
            walls.append(wall)
            cpus.append(cpu)
            plains.append(plain(client, args.n, args.sleep))
    print(
        f"{args.n} remote activations of time.sleep({args.sleep:g}), "
        f"Runtime(thread_pool_size={args.threads}), 2 workers x {(args.n + 1) // 2} threads"
    )
    print(f"ours:  wall {statistics.median(walls):6.2f} s  (runs: {_runs(walls)})")
    print(f"       driver CPU {statistics.median(cpus):6.2f} s")
    print(f"plain client.map + gather: wall {statistics.median(plains):6.2f} s")
    print(f"ours / plain wall: {statistics.median(walls) / statistics.median(plains):.2f}x")


def _runs(values: list[float]) -> str:
    return ", ".join(f"{value:.2f}" for value in values)


if __name__ == "__main__":
    main()
