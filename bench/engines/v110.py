"""routilux 1.1.0 from PyPI building the benchmark topologies (run it in .bench-venv).

What 1.1.0 needs, read from its source: flows register themselves by ``flow_id`` and
``Runtime.exec``/``post`` take that name; ``post`` without ``worker_id`` starts a new worker
each time, so posts name the worker; a routine without an activation policy never runs (and
there is no ``activation_policies`` module, so the two policies are written here); routines
downstream of the first run in the worker's event-loop thread without an execution context,
so their ``emit`` needs ``worker_state=``; slots hold 1,000 items unless told otherwise.
"""

from __future__ import annotations

import itertools
import time
from importlib.metadata import version as _dist_version
from typing import Any

import routilux
from bench.probe import Message, Probe, pool_size
from bench.scenarios import BURST_CHAIN, CHAIN, CHAIN_LENGTH, FANOUT, FANOUT_JOIN
from routilux.core import Flow, Routine, Runtime

ENTRY = "r0"
# Room for a whole run in every slot, so 1.1.0 never drops data for want of space.
SLOT_CAPACITY = 100_000

_flow_ids = itertools.count(1)

if _dist_version("routilux") != "1.1.0":
    raise ImportError(
        f"bench.engines.v110 needs routilux 1.1.0 (got {_dist_version('routilux')} at "
        f"{routilux.__file__}); run it with .bench-venv/bin/python"
    )


def version() -> str:
    return f"{_dist_version('routilux')} ({routilux.__file__})"


# -- the policies 1.1.0 does not ship: (activate, data_slice, policy_message) --------------


def immediate(slots: dict[str, Any], worker_state: Any) -> tuple[bool, dict[str, list], None]:
    """One data point from each non-empty slot, as our ``immediate_policy()``."""
    data_slice = {}
    for name, slot in slots.items():
        if slot.get_unconsumed_count():
            data_slice[name] = [slot.consume_one_new()]
    return bool(data_slice), data_slice, None


def all_slots_ready(slots: dict[str, Any], worker_state: Any) -> tuple[bool, dict[str, list], None]:
    """One data point from each slot once all have one, as our ``all_slots_ready_policy()``."""
    if not all(slot.get_unconsumed_count() for slot in slots.values()):
        return False, {}, None
    return True, {name: [slot.consume_one_new()] for name, slot in slots.items()}, None


# -- topology --------------------------------------------------------------------------------


class V110Topology:
    """A registered flow with one started worker; posts go to that worker."""

    def __init__(self, flow: Flow) -> None:
        self.flow = flow
        self.runtime = Runtime(thread_pool_size=pool_size())
        self.worker_state = self.runtime.exec(flow.flow_id)

    def post(self, message: Message) -> None:
        self.runtime.post(
            self.flow.flow_id, ENTRY, "input", message, worker_id=self.worker_state.worker_id
        )

    def wait_quiet(self, timeout: float) -> bool:
        # 1.1.0 has no per-job completion; its executor's own "nothing queued or running".
        executor = self.worker_state._executor
        deadline = time.monotonic() + timeout
        while not executor._is_complete():
            if time.monotonic() > deadline:
                return False
            time.sleep(0.005)
        return True

    def close(self) -> None:
        self.runtime.shutdown(wait=True)


def build(shape: str, probe: Probe) -> V110Topology:
    """Wire ``probe`` into the ``shape`` topology (see bench/scenarios.py)."""
    flow = Flow(f"bench-{shape}-{next(_flow_ids)}")
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
    return V110Topology(flow)


def _routine(slots: list[str], event: str | None) -> Routine:
    routine = Routine()
    for slot in slots:
        routine.add_slot(slot, max_queue_length=SLOT_CAPACITY)
    if event is not None:
        routine.add_event(event, ["id", "hops", "t0"])
    return routine


def _relay(probe: Probe) -> Routine:
    routine = _routine(["input"], "output")
    routine.set_activation_policy(immediate)

    def relay(items: list[Message], policy_message: Any, worker_state: Any) -> None:
        for item in items:
            routine.emit("output", worker_state=worker_state, **probe.relay(item))

    routine.set_logic(relay)
    return routine


def _burst(probe: Probe) -> Routine:
    routine = _routine(["input"], "output")
    routine.set_activation_policy(immediate)

    def burst(items: list[Message], policy_message: Any, worker_state: Any) -> None:
        for item in items:
            for message in probe.burst(item["count"]):
                routine.emit("output", worker_state=worker_state, **message)

    routine.set_logic(burst)
    return routine


def _sink(probe: Probe) -> Routine:
    routine = _routine(["input"], None)
    routine.set_activation_policy(immediate)

    def sink(items: list[Message], policy_message: Any, worker_state: Any) -> None:
        for item in items:
            probe.arrive(item)

    routine.set_logic(sink)
    return routine


def _join(probe: Probe) -> Routine:
    routine = _routine([f"in{b}" for b in range(FANOUT)], None)
    routine.set_activation_policy(all_slots_ready)

    def join(*branch_lists: list[Message], policy_message: Any, worker_state: Any) -> None:
        probe.join([items[0] for items in branch_lists])

    routine.set_logic(join)
    return routine
