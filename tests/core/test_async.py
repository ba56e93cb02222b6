"""``async def`` logic is awaited on the runtime's event loop, like sync logic in all else."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import pytest

from routilux import (
    ErrorHandler,
    ErrorStrategy,
    Flow,
    JobStatus,
    Routine,
    Runtime,
    get_current_job,
)
from routilux.activation_policies import all_slots_ready_policy
from tests.flows import Collect


class AsyncFetch(Routine):
    """Awaits a pretend HTTP call, then emits what it got."""

    def __init__(self, delay: float = 0.0) -> None:
        super().__init__()
        self.add_slot("input")
        self.add_event("output", ["n", "job"])
        self.set_config(delay=delay)

    async def logic(self, input: list[Any], policy_message: Any, worker_state: Any) -> None:
        await asyncio.sleep(self.get_config("delay"))
        job = get_current_job()
        for point in input:
            self.emit("output", n=point["n"] * 10, job=job.job_id if job else None)


def fetch_flow(name: str, delay: float = 0.0) -> Flow:
    flow = Flow(name)
    flow.add_routine(AsyncFetch(delay), "fetch")
    flow.add_routine(Collect(), "sink")
    flow.connect("fetch", "output", "sink", "input")
    return flow


def test_async_logic_runs_emits_and_sees_its_job() -> None:
    flow = fetch_flow("fetch")
    with Runtime(thread_pool_size=2) as runtime:
        state, job = runtime.post(flow, "fetch", "input", {"n": 4})
        assert job.wait(5)
        assert job.status is JobStatus.COMPLETED
        assert state.shared_log == [{"n": 40, "job": job.job_id}]


def test_a_hundred_async_activations_wait_at_once_not_in_turn() -> None:
    flow = fetch_flow("many", delay=0.05)
    with Runtime(thread_pool_size=4) as runtime:
        started = time.monotonic()
        jobs = [runtime.post(flow, "fetch", "input", {"n": n})[1] for n in range(100)]
        assert all(job.wait(10) for job in jobs)
        took = time.monotonic() - started
        state = runtime.get_worker(jobs[0].worker_id).state
        assert sorted(p["n"] for p in state.shared_log) == [n * 10 for n in range(100)]
    # In turn, 100 x 50 ms would take 5 s; awaited together they take about one sleep.
    assert took < 2.5


def test_max_concurrency_bounds_how_many_are_awaited_at_once() -> None:
    inside = 0
    peak = 0
    lock = threading.Lock()

    class Counted(Routine):
        def __init__(self) -> None:
            super().__init__()
            self.add_slot("input")

        async def logic(self, input: list[Any], policy_message: Any, worker_state: Any) -> None:
            nonlocal inside, peak
            with lock:
                inside += 1
                peak = max(peak, inside)
            await asyncio.sleep(0.005)
            with lock:
                inside -= 1

    flow = Flow("limited")
    routine = Counted()
    routine.set_max_concurrency(3)
    flow.add_routine(routine, "r")
    with Runtime(thread_pool_size=2) as runtime:
        for n in range(30):
            runtime.post(flow, "r", "input", {"n": n})
        assert runtime.wait_until_all_jobs_finished(10)
    assert peak == 3


def test_async_retry_waits_with_asyncio_and_then_succeeds() -> None:
    attempts: list[str] = []

    class Flaky(Routine):
        def __init__(self) -> None:
            super().__init__()
            self.add_slot("input")
            self.add_event("output", ["n"])

        async def logic(self, input: list[Any], policy_message: Any, worker_state: Any) -> None:
            attempts.append(threading.current_thread().name)
            if len(attempts) < 3:
                raise ConnectionError("try again")
            self.emit("output", n=input[0]["n"])

    flow = Flow("retry")
    flaky = Flaky()
    flaky.set_error_handler(ErrorHandler(ErrorStrategy.RETRY, max_retries=3, retry_delay=0.01))
    flow.add_routine(flaky, "flaky")
    flow.add_routine(Collect(), "sink")
    flow.connect("flaky", "output", "sink", "input")
    with Runtime(thread_pool_size=1) as runtime:
        state, job = runtime.post(flow, "flaky", "input", {"n": 1})
        assert job.wait(5)
        assert job.status is JobStatus.COMPLETED
        assert state.shared_log == [{"n": 1}]
    # Every attempt ran on the event loop's thread, none blocked a drainer.
    assert len(attempts) == 3
    assert {name.endswith("-loop") for name in attempts} == {True}


@pytest.mark.parametrize("fault", [ValueError("no"), KeyboardInterrupt()], ids=["error", "ctrl-c"])
def test_async_logic_that_raises_fails_its_job_and_the_loop_goes_on(fault: BaseException) -> None:
    class Raises(Routine):
        def __init__(self) -> None:
            super().__init__()
            self.add_slot("input")

        async def logic(self, input: list[Any], policy_message: Any, worker_state: Any) -> None:
            if input[0].get("boom"):
                raise fault
            worker_state.shared_log.append(input[0]["n"])

    flow = Flow("raises")
    flow.add_routine(Raises(), "r")
    with Runtime(thread_pool_size=1) as runtime:
        state, bad = runtime.post(flow, "r", "input", {"boom": True})
        assert bad.wait(5)
        assert bad.status is JobStatus.FAILED
        assert bad.error is not None
        assert bad.error.__cause__ is fault
        if isinstance(fault, KeyboardInterrupt):
            with pytest.raises(KeyboardInterrupt):
                runtime.wait_until_all_jobs_finished(5)
        _, good = runtime.post(flow, "r", "input", {"n": 5})
        assert good.wait(5)
        assert state.shared_log == [5]


def test_a_breakpoint_parks_async_logic_and_step_runs_exactly_one_activation() -> None:
    flow = fetch_flow("stepped")
    with Runtime(thread_pool_size=2) as runtime:
        session = runtime.debug(flow)
        session.add_breakpoint("fetch")
        state, job = runtime.post(flow, "fetch", "input", {"n": 2})
        snapshot = session.wait_until_paused(5)
        assert snapshot.routine_id == "fetch"
        assert snapshot.inputs == {"input": [{"n": 2}]}
        record = session.step()
        assert record is not None
        assert record.routine_id == "fetch"
        assert record.emitted == [("output", {"n": 20, "job": job.job_id})]
        assert state.shared_log == []  # the sink has not run: one step, one activation
        record = session.step()
        assert record is not None
        assert record.routine_id == "sink"
        assert state.shared_log == [{"n": 20, "job": job.job_id}]
        session.resume()
        assert job.wait(5)


def join_flow(name: str, asynchronous: bool) -> Flow:
    """source -> (left, right) -> join, with ``left`` async or sync."""

    class Source(Routine):
        def __init__(self) -> None:
            super().__init__()
            self.add_slot("input")
            self.add_event("out", ["n"])

        def logic(self, input: list[Any], policy_message: Any, worker_state: Any) -> None:
            self.emit("out", n=input[0]["n"])

    class SyncSide(Routine):
        def __init__(self, factor: int) -> None:
            super().__init__()
            self.add_slot("input")
            self.add_event("out", ["n"])
            self.set_config(factor=factor)

        def logic(self, input: list[Any], policy_message: Any, worker_state: Any) -> None:
            self.emit("out", n=input[0]["n"] * self.get_config("factor"))

    class AsyncSide(SyncSide):
        async def logic(  # type: ignore[override]
            self, input: list[Any], policy_message: Any, worker_state: Any
        ) -> None:
            await asyncio.sleep(0.001)
            self.emit("out", n=input[0]["n"] * self.get_config("factor"))

    class Join(Routine):
        def __init__(self) -> None:
            super().__init__()
            self.add_slot("left")
            self.add_slot("right")
            self.set_activation_policy(all_slots_ready_policy())

        def logic(self, left: Any, right: Any, policy_message: Any, worker_state: Any) -> None:
            with worker_state.lock:
                worker_state.shared_log.append((left[0]["n"], right[0]["n"]))

    flow = Flow(name)
    flow.add_routine(Source(), "source")
    flow.add_routine(AsyncSide(2) if asynchronous else SyncSide(2), "left")
    flow.add_routine(SyncSide(3), "right")
    flow.add_routine(Join(), "join")
    flow.connect("source", "out", "left", "input")
    flow.connect("source", "out", "right", "input")
    flow.connect("left", "out", "join", "left")
    flow.connect("right", "out", "join", "right")
    return flow


def test_an_async_routine_in_a_fan_out_and_join_gives_what_its_sync_twin_gives() -> None:
    results = []
    for asynchronous in (False, True):
        flow = join_flow(f"join-{asynchronous}", asynchronous)
        with Runtime(thread_pool_size=4) as runtime:
            state = runtime.exec(flow)
            for n in range(50):
                _, job = runtime.post(flow, "source", "input", {"n": n})
                assert job.wait(5)  # one at a time: the join pairs by arrival order
            results.append(sorted(state.shared_log))
    assert results[0] == results[1] == [(2 * n, 3 * n) for n in range(50)]


def test_sync_logic_that_returns_a_coroutine_fails_instead_of_skipping_it() -> None:
    async def later(*args: Any) -> None:
        raise AssertionError("never awaited, never run")

    class Sneaky(Routine):
        def __init__(self) -> None:
            super().__init__()
            self.add_slot("input")

        def logic(self, input: list[Any], policy_message: Any, worker_state: Any) -> Any:
            return later()

    flow = Flow("sneaky")
    flow.add_routine(Sneaky(), "r")
    with Runtime(thread_pool_size=1) as runtime:
        _, job = runtime.post(flow, "r", "input", {"n": 1})
        assert job.wait(5)
        assert job.status is JobStatus.FAILED
        assert "async def" in str(job.error.__cause__)  # type: ignore[union-attr]
