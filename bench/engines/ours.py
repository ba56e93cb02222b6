"""Our engine (the routilux in this repository) building the benchmark topologies."""

from __future__ import annotations

from typing import Any

import routilux
from bench.probe import Message, Probe, pool_size
from bench.scenarios import BURST_CHAIN, CHAIN, CHAIN_LENGTH, FANOUT, FANOUT_JOIN
from routilux import Flow, Routine, Runtime
from routilux.activation_policies import all_slots_ready_policy, immediate_policy

ENTRY = "r0"


def version() -> str:
    core = "compiled core" if compiled() else "pure Python"
    return f"{routilux.__version__}, {core} ({routilux.__file__})"


def compiled() -> bool:
    """Whether the scheduler core is the mypyc-compiled build (see setup.py)."""
    import routilux.core.worker

    return not routilux.core.worker.__file__.endswith(".py")


class OursTopology:
    """A flow running in its own Runtime; posts go to the entry routine's input slot."""

    def __init__(self, flow: Flow) -> None:
        self.flow = flow
        self.runtime = Runtime(thread_pool_size=pool_size())
        self.runtime.exec(flow)  # starts the worker up front, outside the timed region

    def post(self, message: Message) -> None:
        self.runtime.post(self.flow, ENTRY, "input", message)

    def wait_quiet(self, timeout: float) -> bool:
        return self.runtime.wait_until_all_jobs_finished(timeout)

    def close(self) -> None:
        self.runtime.shutdown(wait=True)


def build(shape: str, probe: Probe) -> OursTopology:
    """Wire ``probe`` into the ``shape`` topology (see bench/scenarios.py)."""
    flow = Flow(f"bench-{shape}")
    if shape in (CHAIN, BURST_CHAIN):
        source = _burst(probe) if shape == BURST_CHAIN else _relay(probe)
        flow.add_routine(source, ENTRY)
        for i in range(1, CHAIN_LENGTH):
            last = i == CHAIN_LENGTH - 1
            flow.add_routine(_sink(probe) if last else _relay(probe), f"r{i}")
            flow.connect(f"r{i - 1}", "output", f"r{i}", "input")
    elif shape == FANOUT_JOIN:
        flow.add_routine(_relay(probe), ENTRY)
        flow.add_routine(_join(probe), "join")
        for b in range(FANOUT):
            flow.add_routine(_relay(probe), f"b{b}")
            flow.connect(ENTRY, "output", f"b{b}", "input")
            flow.connect(f"b{b}", "output", "join", f"in{b}")
    else:
        raise ValueError(f"unknown shape {shape!r}")
    return OursTopology(flow)


def _routine(slots: list[str], event: str | None) -> Routine:
    routine = Routine()
    for slot in slots:
        routine.add_slot(slot)
    if event is not None:
        routine.add_event(event, ["id", "hops", "t0"])
    return routine


def _relay(probe: Probe) -> Routine:
    routine = _routine(["input"], "output")
    routine.set_activation_policy(immediate_policy())

    def relay(items: list[Message], policy_message: Any, worker_state: Any) -> None:
        for item in items:
            routine.emit("output", **probe.relay(item))

    routine.set_logic(relay)
    return routine


def _burst(probe: Probe) -> Routine:
    routine = _routine(["input"], "output")
    routine.set_activation_policy(immediate_policy())

    def burst(items: list[Message], policy_message: Any, worker_state: Any) -> None:
        for item in items:
            for message in probe.burst(item["count"]):
                routine.emit("output", **message)

    routine.set_logic(burst)
    return routine


def _sink(probe: Probe) -> Routine:
    routine = _routine(["input"], None)
    routine.set_activation_policy(immediate_policy())

    def sink(items: list[Message], policy_message: Any, worker_state: Any) -> None:
        for item in items:
            probe.arrive(item)

    routine.set_logic(sink)
    return routine


def _join(probe: Probe) -> Routine:
    routine = _routine([f"in{b}" for b in range(FANOUT)], None)
    routine.set_activation_policy(all_slots_ready_policy())

    def join(*args: Any) -> None:
        branch_lists = args[:FANOUT]  # then policy_message, worker_state
        probe.join([items[0] for items in branch_lists])

    routine.set_logic(join)
    return routine
