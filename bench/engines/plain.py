"""The baseline: the same topologies as plain threads, one per routine, joined by queues.

No engine at all: each routine is a thread looping on ``queue.Queue.get``, doing the same
probe work as the engines' logic and putting its output on the next routine's queue. The
join takes one item from each of the eight branch queues, as ``all_slots_ready`` does.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable

from bench.probe import Message, Probe
from bench.scenarios import BURST_CHAIN, CHAIN, CHAIN_LENGTH, FANOUT, FANOUT_JOIN

# Put on a routine's queue to stop its thread; every thread forwards it downstream.
_STOP: Message = {"stop": True}


def version() -> str:
    return "queue.Queue + threading"


class PlainTopology:
    """Threads started up front; posting puts on the entry queue."""

    def __init__(self, entry: queue.Queue[Message], threads: list[threading.Thread]) -> None:
        self.entry = entry
        self.threads = threads
        for thread in threads:
            thread.start()

    def post(self, message: Message) -> None:
        self.entry.put(message)

    def wait_quiet(self, timeout: float) -> bool:
        # The stop marker travels behind every message, so joined threads mean all is done.
        self.entry.put(_STOP)
        for thread in self.threads:
            thread.join(timeout)
        return not any(thread.is_alive() for thread in self.threads)

    def close(self) -> None:
        if any(thread.is_alive() for thread in self.threads):
            self.wait_quiet(1.0)


def build(shape: str, probe: Probe) -> PlainTopology:
    """Wire ``probe`` into the ``shape`` topology (see bench/scenarios.py)."""
    if shape in (CHAIN, BURST_CHAIN):
        queues: list[queue.Queue[Message]] = [queue.Queue() for _ in range(CHAIN_LENGTH)]
        source = _burst if shape == BURST_CHAIN else _relay
        threads = [_thread(source, probe, queues[0], [queues[1]])]
        for i in range(1, CHAIN_LENGTH - 1):
            threads.append(_thread(_relay, probe, queues[i], [queues[i + 1]]))
        threads.append(_thread(_sink, probe, queues[-1], []))
        return PlainTopology(queues[0], threads)
    if shape == FANOUT_JOIN:
        entry: queue.Queue[Message] = queue.Queue()
        branch_in: list[queue.Queue[Message]] = [queue.Queue() for _ in range(FANOUT)]
        branch_out: list[queue.Queue[Message]] = [queue.Queue() for _ in range(FANOUT)]
        threads = [_thread(_relay, probe, entry, branch_in)]
        threads += [_thread(_relay, probe, branch_in[b], [branch_out[b]]) for b in range(FANOUT)]
        threads.append(threading.Thread(target=_join, args=(probe, branch_out), daemon=True))
        return PlainTopology(entry, threads)
    raise ValueError(f"unknown shape {shape!r}")


Loop = Callable[[Probe, "queue.Queue[Message]", "list[queue.Queue[Message]]"], None]


def _thread(
    loop: Loop, probe: Probe, inbox: queue.Queue[Message], outboxes: list[queue.Queue[Message]]
) -> threading.Thread:
    return threading.Thread(target=loop, args=(probe, inbox, outboxes), daemon=True)


def _relay(probe: Probe, inbox: queue.Queue[Message], outboxes: list[queue.Queue[Message]]) -> None:
    while (item := inbox.get()) is not _STOP:
        message = probe.relay(item)
        outboxes[0].put(message)
        # Fan-out gives each branch its own copy, as an engine delivers to each slot.
        for outbox in outboxes[1:]:
            outbox.put(dict(message))
    for outbox in outboxes:
        outbox.put(_STOP)


def _burst(probe: Probe, inbox: queue.Queue[Message], outboxes: list[queue.Queue[Message]]) -> None:
    while (item := inbox.get()) is not _STOP:
        for message in probe.burst(item["count"]):
            outboxes[0].put(message)
    outboxes[0].put(_STOP)


def _sink(probe: Probe, inbox: queue.Queue[Message], outboxes: list[queue.Queue[Message]]) -> None:
    while (item := inbox.get()) is not _STOP:
        probe.arrive(item)


def _join(probe: Probe, inboxes: list[queue.Queue[Message]]) -> None:
    while True:
        items = [inbox.get() for inbox in inboxes]
        if any(item is _STOP for item in items):
            return
        probe.join(items)
