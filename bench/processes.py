"""CPU-bound logic on threads against the same logic in the process pool.

``python bench/processes.py [--n 200] [--ms 20] [--repeats 3]`` runs N activations of a
pure-Python routine that computes for about ``--ms`` milliseconds, once with the routine on
the runtime's threads and once with ``set_executor("processes")``, alternating, in this one
process. It also times ``multiprocessing.Pool`` on the same work as the reference for what
processes can give on this machine. It prints median wall times, the driver's CPU time, and
the ratios thread time / process time (target: >= 1.6 on 2 cores) and Pool time / ours.
Both routilux runs are timed from the first post with the pool already started (a warm-up
post first), and the cold ratio (pool start included) is printed too.

With ``--dask`` (needs ``routilux[dask]``) it also runs the routine with
``set_executor("dask")`` on a LocalCluster and, as the reference, plain ``client.map`` +
``gather`` of the same work on a LocalCluster of the same shape; it prints wall-time and
driver-CPU ratios (targets of issue 17: speed >= 0.9x of plain, driver CPU <= 2x plain),
medians and each run's pair. The driver's CPU includes the LocalCluster's scheduler, which
runs in this process in both cases. ``bench/dask_sleep.py`` measures remote activations that
wait rather than compute.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

# At the end: an installed routilux (the compiled build in .venv-compiled) goes first.
sys.path.append(str(Path(__file__).resolve().parent.parent))

from routilux import Flow, Routine, Runtime


def spin(rounds: int) -> int:
    """Pure-Python work: holds the GIL throughout."""
    total = 0
    for i in range(rounds):
        total = (total + i * i) % 1_000_003
    return total


def calibrate(ms: float) -> int:
    rounds = 10_000
    while True:
        start = time.perf_counter()
        spin(rounds)
        took = time.perf_counter() - start
        if took > 0.05:
            return int(rounds * ms / 1000 / took)
        rounds *= 2


class Compute(Routine):
    def __init__(self, rounds: int) -> None:
        super().__init__()
        self.add_slot("input")
        self.add_event("output", ["i", "total"])
        self.set_config(rounds=rounds)

    def logic(self, input: list[Any], policy_message: Any, worker_state: Any) -> None:
        for point in input:
            self.emit("output", i=point["i"], total=spin(self.get_config("rounds")))


class Count(Routine):
    def __init__(self) -> None:
        super().__init__()
        self.add_slot("input")

    def logic(self, input: list[Any], policy_message: Any, worker_state: Any) -> None:
        worker_state.shared_log.extend(point["i"] for point in input)


def ours(executor: str | None, n: int, rounds: int) -> tuple[float, float, float]:
    """(warm wall time, cold wall time, driver CPU time) of ``n`` activations."""
    flow = Flow(f"cpu-{executor}-{time.monotonic_ns()}")
    compute = Compute(rounds)
    compute.set_executor(executor)
    flow.add_routine(compute, "compute")
    flow.add_routine(Count(), "count")
    flow.connect("compute", "output", "count", "input")
    with Runtime(thread_pool_size=4) as runtime:
        cold = time.perf_counter()
        state = runtime.exec(flow)
        warm_up = [runtime.post(flow, "compute", "input", {"i": -1 - k})[1] for k in range(4)]
        for job in warm_up:
            job.wait(120)
        cold_part = time.perf_counter() - cold
        cpu = time.process_time()
        started = time.perf_counter()
        for i in range(n):
            runtime.post(flow, "compute", "input", {"i": i})
        if not runtime.wait_until_all_jobs_finished(600):
            raise RuntimeError("ours did not finish")
        wall = time.perf_counter() - started
        cpu = time.process_time() - cpu
        got = sorted(i for i in state.shared_log if i >= 0)
        if got != list(range(n)):
            raise RuntimeError(f"{executor}: {len(got)} of {n} outputs")
    return wall, wall + cold_part, cpu


def pool_reference(n: int, rounds: int, processes: int) -> float:
    with multiprocessing.get_context("spawn").Pool(processes) as pool:
        pool.map(spin, [rounds] * processes)  # started and warm, like ours
        started = time.perf_counter()
        pool.map(spin, [rounds] * n, chunksize=1)
        return time.perf_counter() - started


def dask_reference(n: int, rounds: int, workers: int) -> tuple[float, float]:
    """(wall, driver CPU) of plain ``client.map`` + ``gather`` on a warm LocalCluster."""
    from distributed import Client, LocalCluster

    with (
        LocalCluster(  # type: ignore[no-untyped-call]
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address="127.0.0.1:0",  # a free port: never a clash
        ) as cluster,
        Client(cluster) as client,  # type: ignore[no-untyped-call]
    ):
        client.gather(client.map(spin, [rounds] * workers, pure=False))
        cpu = time.process_time()
        started = time.perf_counter()
        client.gather(client.map(spin, [rounds] * n, pure=False))
        return time.perf_counter() - started, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=200)
    parser.add_argument("--ms", type=float, default=20.0)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--dask", action="store_true", help="also Dask, ours and plain")
    args = parser.parse_args()
    rounds = calibrate(args.ms)
    cores = os.cpu_count() or 1
    print(f"{args.n} activations of ~{args.ms:g} ms pure-Python logic, {cores} cores")
    threads: list[tuple[float, float, float]] = []
    procs: list[tuple[float, float, float]] = []
    pools: list[float] = []
    dasks: list[tuple[float, float, float]] = []
    plain: list[tuple[float, float]] = []
    for _ in range(args.repeats):
        threads.append(ours(None, args.n, rounds))
        procs.append(ours("processes", args.n, rounds))
        pools.append(pool_reference(args.n, rounds, cores))
        if args.dask:
            dasks.append(ours("dask", args.n, rounds))
            plain.append(dask_reference(args.n, rounds, cores))

    def med(rows: list[tuple[float, float, float]], k: int) -> float:
        return statistics.median(row[k] for row in rows)

    print(f"threads:   wall {med(threads, 0):6.2f} s  driver CPU {med(threads, 2):6.2f} s")
    print(
        f"processes: wall {med(procs, 0):6.2f} s  driver CPU {med(procs, 2):6.2f} s"
        f"  (cold, pool start included: {med(procs, 1):.2f} s)"
    )
    print(f"mp.Pool({cores}): wall {statistics.median(pools):6.2f} s")
    print(f"speedup processes / threads (warm): {med(threads, 0) / med(procs, 0):.2f}x")
    print(f"speedup processes / threads (cold): {med(threads, 1) / med(procs, 1):.2f}x")
    print(f"processes vs mp.Pool: {statistics.median(pools) / med(procs, 0):.2f}x of Pool speed")
    if dasks:
        plain_wall = statistics.median(row[0] for row in plain)
        plain_cpu = statistics.median(row[1] for row in plain)
        print(f"dask (ours): wall {med(dasks, 0):6.2f} s  driver CPU {med(dasks, 2):6.2f} s")
        print(f"dask (plain client.map): wall {plain_wall:6.2f} s  driver CPU {plain_cpu:6.2f} s")
        speeds = [p[0] / d[0] for d, p in zip(dasks, plain, strict=True)]
        cpus = [d[2] / p[1] for d, p in zip(dasks, plain, strict=True)]
        print(
            f"dask speed, ours vs plain: {plain_wall / med(dasks, 0):.2f}x"
            f"  (target >= 0.9; per run: {', '.join(f'{x:.2f}' for x in speeds)})"
        )
        print(
            f"dask driver CPU per activation, ours / plain: {med(dasks, 2) / plain_cpu:.2f}x"
            f"  (target <= 2; per run: {', '.join(f'{x:.2f}' for x in cpus)})"
        )


if __name__ == "__main__":
    main()
