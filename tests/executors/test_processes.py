"""Routines that opt into ``executor="processes"`` give the same results as on threads."""

from __future__ import annotations

import os
import sqlite3
from typing import Any

import pytest

from routilux import ErrorHandler, ErrorStrategy, Flow, JobStatus, Routine, Runtime
from routilux.core.errors import ConfigurationError
from tests.executors.kinds import EXECUTORS
from tests.flows import Collect, Relay


class Square(Routine):
    """Emits n*n and the process it ran in."""

    def __init__(self) -> None:
        super().__init__()
        self.add_slot("input")
        self.add_event("output", ["n", "pid"])

    def logic(self, input: list[dict[str, Any]], policy_message: Any, worker_state: Any) -> None:
        for point in input:
            self.emit("output", n=point["n"] * point["n"], pid=os.getpid())


class Split(Routine):
    """Sends each input to two branches."""

    def __init__(self) -> None:
        super().__init__()
        self.add_slot("input")
        self.add_event("left", ["n"])
        self.add_event("right", ["n"])

    def logic(self, input: list[dict[str, Any]], policy_message: Any, worker_state: Any) -> None:
        for point in input:
            self.emit("left", n=point["n"])
            self.emit("right", n=point["n"] + 100)


class Fails(Routine):
    """Raises a LookupError for every input, after counting the attempt in its state."""

    def __init__(self) -> None:
        super().__init__()
        self.add_slot("input")

    def logic(self, input: list[dict[str, Any]], policy_message: Any, worker_state: Any) -> None:
        seen = worker_state.get_routine_state("fails", {}).get("attempts", 0)
        worker_state.update_routine_state("fails", {"attempts": seen + 1})
        raise LookupError(f"no such key {input[0]['n']}")


def _ns(log: list[dict[str, Any]]) -> list[int]:
    return sorted(point["n"] for point in log)


def square_flow(name: str, executor: str | None) -> Flow:
    flow = Flow(name)
    flow.add_routine(Relay(), "first")
    square = Square()
    square.set_executor(executor)
    flow.add_routine(square, "square")
    flow.add_routine(Collect(), "sink")
    flow.connect("first", "output", "square", "input")
    flow.connect("square", "output", "sink", "input")
    return flow


@pytest.mark.parametrize("executor", EXECUTORS)
def test_a_chain_gives_the_same_outputs_on_every_executor(executor: str | None) -> None:
    flow = square_flow(f"square-{executor}", executor)
    with Runtime(thread_pool_size=2) as runtime:
        state = runtime.exec(flow)
        jobs = [runtime.post(flow, "first", "input", {"n": n})[1] for n in range(6)]
        for job in jobs:
            assert job.wait(30)
            assert job.status is JobStatus.COMPLETED
        assert _ns(state.shared_log) == [(n + 1) ** 2 for n in range(6)]
        pids = {point["pid"] for point in state.shared_log}
    assert (os.getpid() in pids) is (executor is None)


@pytest.mark.parametrize("executor", EXECUTORS)
def test_a_fan_out_and_join_gives_the_same_outputs_on_every_executor(
    executor: str | None,
) -> None:
    flow = Flow(f"fan-{executor}")
    split = Split()
    split.set_executor(executor)
    flow.add_routine(split, "split")
    for branch in ("left", "right"):
        relay = Relay()
        relay.set_executor(executor)
        flow.add_routine(relay, branch)
        flow.connect("split", branch, branch, "input")
    flow.add_routine(Collect(), "join")
    flow.connect("left", "output", "join", "input")
    flow.connect("right", "output", "join", "input")
    with Runtime(thread_pool_size=2) as runtime:
        state, job = runtime.post(flow, "split", "input", {"n": 1})
        assert job.wait(30)
        assert job.status is JobStatus.COMPLETED
        assert _ns(state.shared_log) == [2, 102]


@pytest.mark.parametrize("executor", EXECUTORS[1:])
def test_an_exception_in_remote_logic_reaches_the_error_strategy_with_its_type(
    executor: str,
) -> None:
    flow = Flow(f"fails-{executor}")
    fails = Fails()
    fails.set_executor(executor)
    fails.set_error_handler(ErrorHandler(ErrorStrategy.RETRY, max_retries=2, retry_delay=0))
    flow.add_routine(fails, "fails")
    with Runtime(thread_pool_size=2) as runtime:
        state, job = runtime.post(flow, "fails", "input", {"n": 7})
        assert job.wait(30)
        assert job.status is JobStatus.FAILED
        cause = job.error.__cause__
        assert isinstance(cause, LookupError)
        assert "no such key 7" in str(cause)
        # Each attempt's state write was replayed in the driver: three attempts in all.
        assert state.get_routine_state("fails") == {"attempts": 3}


class Holds(Routine):
    """Keeps a database connection on itself, which no process can receive."""

    def __init__(self) -> None:
        super().__init__()
        self.add_slot("input")
        self._conn = sqlite3.connect(":memory:")

    def logic(self, input: list[dict[str, Any]], policy_message: Any, worker_state: Any) -> None:
        pass


def test_an_unpicklable_routine_fails_at_exec_naming_the_attribute() -> None:
    flow = Flow("unpicklable")
    holds = Holds()
    holds.set_executor("processes")
    flow.add_routine(holds, "holds")
    match = r"'holds'.*'_conn' \(sqlite3.Connection\)"
    with Runtime(thread_pool_size=2) as runtime, pytest.raises(ConfigurationError, match=match):
        runtime.exec(flow)
    holds._conn.close()


def test_set_executor_refuses_an_unknown_executor() -> None:
    with pytest.raises(ConfigurationError, match="'processes', 'dask'"):
        Relay().set_executor("gpu")
    with pytest.raises(ConfigurationError, match="'dask://host:port'"):
        Relay().set_executor("dask://")


class Counts(Routine):
    """Adds 1 to a counter in its routine state: read, then write."""

    def __init__(self) -> None:
        super().__init__()
        self.add_slot("input")

    def logic(self, input: list[dict[str, Any]], policy_message: Any, worker_state: Any) -> None:
        runs = worker_state.get_routine_state("counts", {}).get("runs", 0)
        worker_state.set_routine_state("counts", {"runs": runs + 1})
        print(f"run {runs + 1}")


def test_max_concurrency_one_makes_read_modify_write_of_state_exact() -> None:
    flow = Flow("counts")
    counts = Counts()
    counts.set_executor("processes")
    counts.set_max_concurrency(1)
    flow.add_routine(counts, "counts")
    with Runtime(thread_pool_size=2) as runtime:
        state = runtime.exec(flow)
        jobs = [runtime.post(flow, "counts", "input", {"n": n})[1] for n in range(12)]
        for job in jobs:
            assert job.wait(30)
        assert state.get_routine_state("counts") == {"runs": 12}


def test_printed_text_of_remote_logic_is_routed_to_its_job(
    capsys: pytest.CaptureFixture[str],
) -> None:
    flow = Flow("prints")
    counts = Counts()
    counts.set_executor("processes")
    flow.add_routine(counts, "counts")
    with Runtime(thread_pool_size=2) as runtime:
        _, job = runtime.post(flow, "counts", "input", {"n": 0})
        assert job.wait(30)
    assert capsys.readouterr().out == "run 1\n"


def test_inputs_that_cannot_be_pickled_fail_the_job_naming_the_routine_not_hang() -> None:
    flow = square_flow("unpicklable-input", "processes")
    with Runtime(thread_pool_size=2) as runtime:
        state = runtime.exec(flow)
        _, bad = runtime.post(flow, "square", "input", {"n": lambda: 1})
        assert bad.wait(30)
        assert bad.status is JobStatus.FAILED
        assert "'square'" in str(bad.error)
        # The pool survives it: the next job runs.
        _, good = runtime.post(flow, "square", "input", {"n": 3})
        assert good.wait(30)
        assert good.status is JobStatus.COMPLETED
        assert [point["n"] for point in state.shared_log] == [9]


def test_a_missing_extra_is_named_at_exec(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "cloudpickle", None)  # import cloudpickle now fails
    monkeypatch.delitem(sys.modules, "routilux.executors.processes", raising=False)
    with Runtime(thread_pool_size=1) as runtime:
        flow = square_flow("no-extra", "processes")
        with pytest.raises(ConfigurationError, match=r"pip install 'routilux\[processes\]'"):
            runtime.exec(flow)
