"""Blocking logic at full pool width: ours against ``concurrent.futures.ThreadPoolExecutor``.

``python bench/blocking.py [--n 2000] [--pools 4 16 64] [--repeats 3]`` runs N activations
whose logic blocks for about 1 ms (a ``time.sleep``, or a read from a localhost socket whose
server answers after 1 ms) on a Runtime of each pool size, and the same N calls on a
ThreadPoolExecutor of that size, alternating, in this one process. It prints the medians and
the ratio executor time / our time (1.0: as fast as a plain pool; the target is >= 0.8 at
pool 16). The runtime learns that the logic blocks from the first few activations
(``routilux/core/_growth.py``); nothing is configured.
"""

from __future__ import annotations

import argparse
import socket
import socketserver
import statistics
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, wait
from pathlib import Path

# At the end: an installed routilux (the compiled build in .venv-compiled) goes first.
sys.path.append(str(Path(__file__).resolve().parent.parent))

from routilux import Flow, Routine, Runtime

BLOCK_S = 0.001


class _SlowEcho(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        while self.request.recv(1):
            time.sleep(BLOCK_S)
            self.request.sendall(b"!")


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256  # 64 clients connecting at once must not wait for a SYN retry


_local = threading.local()


def socket_read(address: tuple[str, int]) -> None:
    """One request-response on this thread's connection (made on first use)."""
    conn = getattr(_local, "conn", None)
    if conn is None:
        conn = _local.conn = socket.create_connection(address)
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    conn.sendall(b"?")
    conn.recv(1)


class Blocks(Routine):
    def __init__(self, work: Callable[[], None]) -> None:
        super().__init__()
        self.add_slot("input")
        self.work = work

    def logic(self, input, policy_message, worker_state):  # type: ignore[no-untyped-def]
        for _ in input:
            self.work()


def ours(work: Callable[[], None], n: int, pool: int) -> float:
    flow = Flow(f"blocking-{pool}-{time.monotonic_ns()}")
    flow.add_routine(Blocks(work), "b")
    with Runtime(thread_pool_size=pool) as runtime:
        runtime.exec(flow)
        started = time.perf_counter()
        for i in range(n):
            runtime.post(flow, "b", "input", {"i": i})
        if not runtime.wait_until_all_jobs_finished(120):
            raise RuntimeError("ours did not finish")
        return time.perf_counter() - started


def executor(work: Callable[[], None], n: int, pool: int) -> float:
    with ThreadPoolExecutor(pool) as tpe:
        started = time.perf_counter()
        futures = [tpe.submit(work) for _ in range(n)]
        wait(futures)
        return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--pools", type=int, nargs="+", default=[4, 16, 64])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    server = _Server(("127.0.0.1", 0), _SlowEcho)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    address = server.server_address[:2]
    works: dict[str, Callable[[], None]] = {
        "1 ms sleep": lambda: time.sleep(BLOCK_S),
        "1 ms socket read": lambda: socket_read(address),  # type: ignore[arg-type]
    }
    import routilux.core.worker

    build = "pure Python" if routilux.core.worker.__file__.endswith(".py") else "compiled"
    print(f"routilux {build}; {args.n} activations, medians of {args.repeats}")
    print(f"{'work':<18} {'pool':>4} {'ours s':>8} {'executor s':>10} {'executor/ours':>14}")
    for label, work in works.items():
        for pool in args.pools:
            mine, theirs = [], []
            for _ in range(args.repeats):
                mine.append(ours(work, args.n, pool))
                theirs.append(executor(work, args.n, pool))
            a, b = statistics.median(mine), statistics.median(theirs)
            print(f"{label:<18} {pool:>4} {a:>8.3f} {b:>10.3f} {b / a:>14.2f}", flush=True)
    server.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
