"""Flows the CLI tests name as ``cli_flows:NAME`` (this directory is put on PYTHONPATH)."""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

from routilux import Flow, Routine, register_routine


@register_routine
class Relay(Routine):
    """Passes every input on, adding 1 to ``n``."""

    def __init__(self) -> None:
        super().__init__()
        self.add_slot("input")
        self.add_event("output", ["n"])

    def logic(self, input: list[dict[str, Any]], policy_message: Any, worker_state: Any) -> None:
        for point in input:
            self.emit("output", n=point["n"] + 1)


class Fail(Routine):
    """Raises for every input."""

    def __init__(self) -> None:
        super().__init__()
        self.add_slot("input")

    def logic(self, input: list[Any], policy_message: Any, worker_state: Any) -> None:
        raise ValueError(f"refusing {input!r}")


class Gate(Routine):
    """Says it was reached (a file ``reached`` in $CLI_GATE), then waits for a file ``open``.

    A run whose gate is closed never finishes: the test kills it there.
    """

    def __init__(self) -> None:
        super().__init__()
        self.add_slot("input")
        self.add_event("output", ["n"])

    def logic(self, input: list[dict[str, Any]], policy_message: Any, worker_state: Any) -> None:
        gate = Path(os.environ["CLI_GATE"])
        (gate / "reached").touch()
        if not (gate / "open").exists():
            threading.Event().wait(60)  # the test kills the process long before
        for point in input:
            self.emit("output", n=point["n"])


class NoLogic(Routine):
    """A routine nobody gave logic yet: a stub."""

    def __init__(self) -> None:
        super().__init__()
        self.add_slot("input")


def chain(name: str = "chain", length: int = 3) -> Flow:
    """``r0 -> r1 -> ...``."""
    flow = Flow(name)
    for i in range(length):
        flow.add_routine(Relay(), f"r{i}")
        if i:
            flow.connect(f"r{i - 1}", "output", f"r{i}", "input")
    return flow


def failing() -> Flow:
    flow = Flow("failing")
    flow.add_routine(Relay(), "first")
    flow.add_routine(Fail(), "boom")
    flow.connect("first", "output", "boom", "input")
    return flow


def gated() -> Flow:
    flow = Flow("gated")
    flow.add_routine(Relay(), "first")
    flow.add_routine(Gate(), "gate")
    flow.add_routine(Relay(), "last")
    flow.connect("first", "output", "gate", "input")
    flow.connect("gate", "output", "last", "input")
    return flow


def broken() -> Flow:
    flow = Flow("broken")
    flow.add_routine(NoLogic(), "lazy")
    return flow


pipeline = chain("pipeline", 3)
