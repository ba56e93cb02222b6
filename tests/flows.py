"""Small routines and flows the tests build on."""

from __future__ import annotations

from typing import Any

from routilux import Flow, Routine


class Relay(Routine):
    """Passes every input on, adding 1 to ``n``."""

    def __init__(self) -> None:
        super().__init__()
        self.add_slot("input")
        self.add_event("output", ["n"])

    def logic(self, input: list[dict[str, Any]], policy_message: Any, worker_state: Any) -> None:
        for point in input:
            self.emit("output", n=point["n"] + 1)


class Collect(Routine):
    """Appends what it receives to ``worker_state.shared_log``."""

    def __init__(self) -> None:
        super().__init__()
        self.add_slot("input")

    def logic(self, input: list[dict[str, Any]], policy_message: Any, worker_state: Any) -> None:
        with worker_state.lock:
            worker_state.shared_log.extend(input)


def chain(name: str, length: int) -> Flow:
    """``r0 -> r1 -> ... -> r{length-1} -> sink``."""
    flow = Flow(name)
    for i in range(length):
        flow.add_routine(Relay(), f"r{i}")
        if i:
            flow.connect(f"r{i - 1}", "output", f"r{i}", "input")
    flow.add_routine(Collect(), "sink")
    flow.connect(f"r{length - 1}", "output", "sink", "input")
    return flow
