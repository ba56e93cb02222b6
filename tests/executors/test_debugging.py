"""The debugger gates process routines in the driver: breakpoints, step() and event breakpoints
behave as they do for routines on threads."""

from __future__ import annotations

import os
from typing import Any

import pytest

from routilux import Flow, JobStatus, Routine, Runtime
from tests.executors.kinds import REMOTE
from tests.flows import Collect, Relay, chain


def remote_chain(name: str, executor: str = "processes") -> Flow:
    """``r0 -> r1 -> r2 -> sink`` with ``r1`` on ``executor``."""
    flow = chain(f"{name}-{executor}", 3)
    flow.routines["r1"].set_executor(executor)
    return flow


@pytest.mark.parametrize("executor", REMOTE)
def test_a_breakpoint_parks_a_remote_routine_with_its_inputs(executor: str) -> None:
    flow = remote_chain("bp-remote", executor)
    with Runtime(thread_pool_size=2) as runtime:
        session = runtime.debug(flow)
        session.add_breakpoint("r1")
        state, job = runtime.post(flow, "r0", "input", {"n": 0})
        snap = session.wait_until_paused(10)
        assert (snap.routine_id, snap.inputs) == ("r1", {"input": [{"n": 1}]})
        assert state.shared_log == []
        session.resume()
        assert job.wait(30)
        assert job.status is JobStatus.COMPLETED
        assert state.shared_log == [{"n": 3}]


@pytest.mark.parametrize("executor", REMOTE)
def test_step_runs_one_remote_activation_remotely_and_step_local_runs_it_here(
    executor: str,
) -> None:
    class WhereAmI(Routine):
        def __init__(self) -> None:
            super().__init__()
            self.add_slot("input")
            self.add_event("output", ["n", "pid"])

        def logic(self, input: list[Any], policy_message: Any, worker_state: Any) -> None:
            self.emit("output", n=input[0]["n"], pid=os.getpid())

    flow = Flow(f"step-remote-{executor}")
    flow.add_routine(Relay(), "r0")
    where = WhereAmI()
    where.set_executor(executor)
    flow.add_routine(where, "where")
    flow.add_routine(Collect(), "sink")
    flow.connect("r0", "output", "where", "input")
    flow.connect("where", "output", "sink", "input")
    with Runtime(thread_pool_size=2) as runtime:
        session = runtime.debug(flow)
        session.pause()
        _, job = runtime.post(flow, "r0", "input", {"n": 0})
        assert session.step().routine_id == "r0"
        record = session.step(timeout=30)  # on the executor, exactly this one
        assert record is not None
        assert record.routine_id == "where"
        [(event, data)] = record.emitted
        assert (event, data["n"]) == ("output", 1)
        assert data["pid"] != os.getpid()
        assert session.is_paused
        assert session.snapshot().queues["sink"]["input"] == [data]
        assert session.step().routine_id == "sink"
        assert session.step() is None
        assert job.status is JobStatus.COMPLETED

        _, again = runtime.post(flow, "r0", "input", {"n": 5})
        assert session.step().routine_id == "r0"
        here = session.step(local=True)  # the same inputs, run in this process
        assert here is not None
        assert here.inputs == {"input": [{"n": 6}]}
        assert here.emitted == [("output", {"n": 6, "pid": os.getpid()})]
        assert session.step().routine_id == "sink"
        assert again.status is JobStatus.COMPLETED


@pytest.mark.parametrize("executor", REMOTE)
def test_an_event_breakpoint_fires_when_a_remote_routine_s_emit_is_replayed(
    executor: str,
) -> None:
    flow = remote_chain("event-remote", executor)
    with Runtime(thread_pool_size=2) as runtime:
        session = runtime.debug(flow)
        session.add_breakpoint("r1", event="output", condition=lambda data: data["n"] == 2)
        state, job = runtime.post(flow, "r0", "input", {"n": 0})
        snap = session.wait_until_paused(30)
        assert snap.queues["r2"]["input"] == [{"n": 2}]
        session.resume()
        assert job.wait(30)
        assert state.shared_log == [{"n": 3}]


def test_a_process_routine_s_activation_is_recorded_with_what_it_emitted() -> None:
    flow = remote_chain("history-remote")
    with Runtime(thread_pool_size=2) as runtime:
        session = runtime.debug(flow)
        _, job = runtime.post(flow, "r0", "input", {"n": 0})
        assert job.wait(30)
        records = [r for r in session.snapshot().trace if r.routine_id == "r1"]
        assert [(r.inputs, r.emitted, r.error) for r in records] == [
            ({"input": [{"n": 1}]}, [("output", {"n": 2})], None)
        ]
