"""Probe: the per-message work every engine runs, the activation count and the sink checks.

Every engine's routines call the same three methods (``relay``, ``arrive``, ``join``), so
the work per message is identical and the counting and the exactly-once check are written
once. Only the standard library is used: the probe also runs under routilux 1.1.0's venv.
"""

from __future__ import annotations

import os
import queue
import threading
import time
from typing import Any

Message = dict[str, Any]

# The engines' Runtime(thread_pool_size=...); run.py --pool-size sets it for the children.
POOL_SIZE_VARIABLE = "BENCH_POOL_SIZE"
DEFAULT_POOL_SIZE = 4


def pool_size() -> int:
    """The thread pool size the engines' runtimes are built with."""
    return int(os.environ.get(POOL_SIZE_VARIABLE, DEFAULT_POOL_SIZE))


class DeliveryError(AssertionError):
    """Messages were lost, duplicated or took the wrong path: the run is worthless."""


class Probe:
    """Counts activations and checks that each message reached the sink exactly once.

    Args:
        expected: Messages the sink must receive before the run is done.
        hops: How many routines each message must have passed, the sink included.
        branches: For a join sink, how many branch items each join activation pairs.
    """

    def __init__(self, expected: int, hops: int, branches: int = 0) -> None:
        self.expected = expected
        self.hops = hops
        self.branches = branches
        self.done = threading.Event()
        self.latencies: queue.SimpleQueue[float] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._activations = 0
        self._arrived = 0
        self._ids: list[int] = []
        self._branch_ids: list[list[int]] = [[] for _ in range(branches)]
        self._wrong_hops = 0

    # -- called from routine logic -------------------------------------------------------

    def relay(self, message: Message) -> Message:
        """One activation's work: count it and pass the message on one hop further."""
        with self._lock:
            self._activations += 1
        return {"id": message["id"], "hops": message["hops"] + 1, "t0": message["t0"]}

    def burst(self, count: int) -> list[Message]:
        """A source activation that emits ``count`` fresh messages (one job, many emits)."""
        with self._lock:
            self._activations += 1
        return [{"id": i, "hops": 1, "t0": 0.0} for i in range(count)]

    def arrive(self, message: Message) -> None:
        """The sink's activation: do the relay work, then record the arrival."""
        final = self.relay(message)
        self.latencies.put(time.perf_counter() - final["t0"])
        self._record(final["id"], final["hops"])

    def join(self, items: list[Message]) -> None:
        """A join's activation: one item from each branch, recorded per branch."""
        with self._lock:
            self._activations += 1
            for branch, item in enumerate(items):
                self._branch_ids[branch].append(item["id"])
        # A join that got the wrong number of items shows up as a wrong hop count.
        hops = max(item["hops"] for item in items) + 1 if len(items) == self.branches else -1
        self._record(items[0]["id"], hops)

    def _record(self, message_id: int, hops: int) -> None:
        with self._lock:
            self._ids.append(message_id)
            self._arrived += 1
            if hops != self.hops:
                self._wrong_hops += 1
            arrived = self._arrived
        if arrived == self.expected:
            self.done.set()

    # -- called by the driver once the engine is quiet -----------------------------------

    @property
    def activations(self) -> int:
        with self._lock:
            return self._activations

    @property
    def arrived(self) -> int:
        with self._lock:
            return self._arrived

    def verify(self) -> None:
        """Raise DeliveryError unless ids ``0..expected-1`` each arrived exactly once."""
        with self._lock:
            problems = _id_problems("sink", self._ids, self.expected)
            for branch, ids in enumerate(self._branch_ids):
                problems += _id_problems(f"branch {branch}", ids, self.expected)
            if self._wrong_hops:
                problems.append(f"{self._wrong_hops} messages arrived after the wrong hop count")
        if problems:
            raise DeliveryError("; ".join(problems))


def _id_problems(where: str, ids: list[int], expected: int) -> list[str]:
    if len(ids) == expected and sorted(ids) == list(range(expected)):
        return []
    seen = set(ids)
    missing = expected - len(seen & set(range(expected)))
    duplicated = len(ids) - len(seen)
    return [
        f"{where}: {len(ids)} arrivals for {expected} messages "
        f"({missing} missing, {duplicated} duplicated)"
    ]
