"""Nothing user code does wedges the runtime: BaseExceptions, raising observers, shutdown
with logic that never returns, nonsense timings, and one worker per request."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from routilux import (
    Decision,
    ErrorHandler,
    ErrorStrategy,
    Flow,
    JobStatus,
    Observer,
    Routine,
    Runtime,
    SlotHandlerError,
)
from routilux.activation_policies import custom_policy, time_interval_policy
from routilux.core.clock import ManualClock
from tests.flows import Collect, chain

FAULTS = [ValueError("bad"), GeneratorExit(), SystemExit(3), KeyboardInterrupt()]
FAULT_IDS = ["ValueError", "GeneratorExit", "SystemExit", "KeyboardInterrupt"]
# The ones the user expects to see again: raised in the thread that waits or steps.
REACHES_THE_WAITER = (KeyboardInterrupt, SystemExit)


class Raises(Routine):
    """Raises ``worker_state.shared_data["fault"]`` for data marked ``boom``, else relays."""

    def __init__(self) -> None:
        super().__init__()
        self.add_slot("input")
        self.add_event("output", ["n"])

    def logic(self, input: list[Any], policy_message: Any, worker_state: Any) -> None:
        for point in input:
            if point.get("boom"):
                raise worker_state.shared_data["fault"]
            self.emit("output", n=point["n"])


def raising_flow(name: str) -> Flow:
    flow = Flow(name)
    flow.add_routine(Raises(), "r")
    flow.add_routine(Collect(), "sink")
    flow.connect("r", "output", "sink", "input")
    return flow


def wait_all(runtime: Runtime, fault: BaseException) -> None:
    """Wait for every job; a fault that reaches the waiter must be raised here, once."""
    if isinstance(fault, REACHES_THE_WAITER):
        with pytest.raises(type(fault)):
            runtime.wait_until_all_jobs_finished(5)
    assert runtime.wait_until_all_jobs_finished(5)


@pytest.mark.parametrize("fault", FAULTS, ids=FAULT_IDS)
def test_a_fault_in_logic_fails_the_job_and_the_worker_goes_on(fault: BaseException) -> None:
    with Runtime(thread_pool_size=1) as runtime:
        flow = raising_flow("faulty")
        state = runtime.exec(flow)
        state.shared_data["fault"] = fault
        _, bad = runtime.post(flow, "r", "input", {"boom": True})
        assert bad.wait(5)
        assert bad.status is JobStatus.FAILED
        assert isinstance(bad.error, SlotHandlerError)
        assert bad.error.__cause__ is fault
        wait_all(runtime, fault)
        # The one pool thread survived and serves the next job.
        _, good = runtime.post(flow, "r", "input", {"n": 7})
        assert good.wait(5)
        assert good.status is JobStatus.COMPLETED
        assert state.shared_log == [{"n": 7}]


@pytest.mark.parametrize("fault", FAULTS, ids=FAULT_IDS)
def test_a_base_exception_is_never_retried_or_skipped(fault: BaseException) -> None:
    flow = raising_flow("strict")
    flow.routines["r"].set_error_handler(ErrorHandler(ErrorStrategy.SKIP))
    with Runtime(thread_pool_size=2) as runtime:
        state = runtime.exec(flow)
        state.shared_data["fault"] = fault
        _, job = runtime.post(flow, "r", "input", {"boom": True})
        assert job.wait(5)
        expected = JobStatus.COMPLETED if isinstance(fault, Exception) else JobStatus.FAILED
        assert job.status is expected
        wait_all(runtime, fault)


@pytest.mark.parametrize("fault", FAULTS, ids=FAULT_IDS)
def test_a_fault_in_a_policy_fails_the_job_and_the_worker_goes_on(fault: BaseException) -> None:
    def policy(slots: Any, worker_state: Any) -> Any:
        items = slots["input"].consume()
        if any(point.get("boom") for point in items):
            raise fault
        return Decision(True, {"input": items})

    flow = raising_flow("bad-policy")
    flow.routines["r"].set_activation_policy(custom_policy(policy))
    with Runtime(thread_pool_size=1) as runtime:
        state = runtime.exec(flow)
        _, bad = runtime.post(flow, "r", "input", {"boom": True})
        assert bad.wait(5)
        assert bad.status is JobStatus.FAILED
        assert bad.error is not None
        assert bad.error.__cause__ is fault
        wait_all(runtime, fault)
        _, good = runtime.post(flow, "r", "input", {"n": 1})
        assert good.wait(5)
        assert good.status is JobStatus.COMPLETED
        assert state.shared_log == [{"n": 1}]


@pytest.mark.parametrize("fault", FAULTS, ids=FAULT_IDS)
def test_step_raises_an_interrupt_in_the_stepping_thread(fault: BaseException) -> None:
    with Runtime(thread_pool_size=1) as runtime:
        flow = raising_flow("stepped")
        state = runtime.exec(flow)
        state.shared_data["fault"] = fault
        worker = runtime.get_worker(state.worker_id)
        worker.pause()
        _, job = runtime.post(flow, "r", "input", {"boom": True})
        if isinstance(fault, REACHES_THE_WAITER):
            with pytest.raises(type(fault)):
                worker.step(5)
        else:
            record = worker.step(5)
            assert record is not None
            assert record.error is fault
        assert job.status is JobStatus.FAILED
        # Raised once, where the user stepped: a later wait does not raise it again.
        worker.resume()
        assert runtime.wait_until_all_jobs_finished(5)
        worker.pause()
        runtime.post(flow, "r", "input", {"n": 2})
        assert worker.step(5) is not None
        assert worker.step(5) is not None
        assert state.shared_log == [{"n": 2}]


HOOKS = [
    "job_started",
    "job_finished",
    "slot_received",
    "activation_starting",
    "activation_finished",
    "event_emitted",
    "error",
    "record_sink",
]


def raising_observer(hook: str, fault: BaseException) -> Observer:
    def raise_it(*args: Any) -> Any:
        raise fault

    if hook == "record_sink":
        namespace: dict[str, Any] = {"record_sink": lambda self: raise_it}
    else:
        namespace = {hook: lambda self, *args: raise_it()}
    return type(f"Broken_{hook}", (Observer,), namespace)()


@pytest.mark.parametrize(
    "fault",
    [RuntimeError("observer bug"), KeyboardInterrupt()],
    ids=["RuntimeError", "KeyboardInterrupt"],
)
@pytest.mark.parametrize("hook", HOOKS)
def test_a_raising_observer_never_breaks_a_post_a_job_or_a_wait(
    hook: str, fault: BaseException, caplog: pytest.LogCaptureFixture
) -> None:
    flow = raising_flow("observed")
    with Runtime(thread_pool_size=2) as runtime:
        runtime.add_observer(raising_observer(hook, fault))
        state = runtime.exec(flow)
        state.shared_data["fault"] = ValueError("logic fails too, for the error hook")
        jobs = [runtime.post(flow, "r", "input", {"n": n})[1] for n in range(20)]
        failing = runtime.post(flow, "r", "input", {"boom": True})[1]
        assert runtime.wait_until_all_jobs_finished(5)
        assert all(job.status is JobStatus.COMPLETED for job in jobs)
        assert failing.status is JobStatus.FAILED
        assert sorted(p["n"] for p in state.shared_log) == list(range(20))
    logged = "raise_it" if hook == "record_sink" else f"Broken_{hook}"
    assert logged in caplog.text


def test_an_observer_whose_wants_raises_is_left_out_and_the_runtime_runs() -> None:
    class Moody(Observer):
        def wants(self, hook: str) -> bool:
            raise KeyboardInterrupt

        def job_finished(self, worker: Any, job: Any) -> None:
            raise AssertionError("not wanted, never called")

    flow = raising_flow("moody")
    with Runtime(thread_pool_size=1) as runtime:
        runtime.add_observer(Moody())
        state, job = runtime.post(flow, "r", "input", {"n": 3})
        assert job.wait(5)
        assert job.status is JobStatus.COMPLETED
        assert state.shared_log == [{"n": 3}]


def test_shutdown_with_a_timeout_returns_while_logic_never_returns(tmp_path: Path) -> None:
    script = tmp_path / "stuck.py"
    script.write_text(
        textwrap.dedent(
            """
            import sys, threading, time
            from routilux import Flow, Routine, Runtime

            class Stuck(Routine):
                def __init__(self):
                    super().__init__()
                    self.add_slot("input")

                def logic(self, input, policy_message, worker_state):
                    threading.Event().wait()  # never returns

            flow = Flow("stuck")
            flow.add_routine(Stuck(), "s")
            runtime = Runtime(thread_pool_size=2)
            runtime.post(flow, "s", "input", {"n": 1})
            time.sleep(0.2)
            started = time.monotonic()
            stuck = runtime.shutdown(wait=True, timeout=1)
            print(f"{time.monotonic() - started:.2f}", [a.routine_id for a in stuck])
            """
        )
    )
    done = subprocess.run(
        [sys.executable, str(script)],
        capture_output=True,
        text=True,
        timeout=30,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert done.returncode == 0, done.stderr
    took, names = done.stdout.split(maxsplit=1)
    assert float(took) < 3
    assert names.strip() == "['s']"
    assert "still running: s" in done.stderr


def test_a_nonsense_retry_after_fails_its_job_and_other_timers_go_on() -> None:
    flow = raising_flow("nan")
    flow.routines["r"].set_activation_policy(
        custom_policy(lambda slots, ws: Decision(False, retry_after=float("nan")))
    )
    gathered = Flow("interval")
    gather = Collect()
    gather.set_activation_policy(time_interval_policy(0.05))
    gathered.add_routine(gather, "sink")
    with Runtime(thread_pool_size=2) as runtime:
        _, bad = runtime.post(flow, "r", "input", {"n": 1})
        assert bad.wait(5)
        assert bad.status is JobStatus.FAILED
        assert "retry_after" in str(bad.error)
        state = runtime.exec(gathered)
        for n in range(3):
            runtime.post(gathered, "sink", "input", {"n": n})
        assert runtime.wait_until_all_jobs_finished(5)
        assert sorted(p["n"] for p in state.shared_log) == [0, 1, 2]


def test_retry_backoff_waits_on_the_runtimes_clock_not_in_a_drainer() -> None:
    attempts: list[int] = []

    class FailsTwice(Routine):
        def __init__(self) -> None:
            super().__init__()
            self.add_slot("input")

        def logic(self, input: list[Any], policy_message: Any, worker_state: Any) -> None:
            attempts.append(len(attempts) + 1)
            if len(attempts) < 3:
                raise ValueError("not yet")

    flow = Flow("backoff")
    routine = FailsTwice()
    routine.set_error_handler(ErrorHandler(ErrorStrategy.RETRY, max_retries=3, retry_delay=10))
    flow.add_routine(routine, "r")
    flow.add_routine(Collect(), "other")
    clock = ManualClock()
    with Runtime(thread_pool_size=1, clock=clock) as runtime:
        _, job = runtime.post(flow, "r", "input", {"n": 1})
        wait_for(lambda: attempts == [1])
        # The one thread is free while the retry waits: another job runs meanwhile.
        _, other = runtime.post(flow, "other", "input", {"n": 2})
        assert other.wait(5)
        assert not job.wait(0.05)
        clock.advance(9.9)
        assert not job.wait(0.05)
        assert attempts == [1]
        clock.advance(0.2)
        wait_for(lambda: attempts == [1, 2])
        clock.advance(10)
        assert job.wait(5)
        assert job.status is JobStatus.COMPLETED
        assert attempts == [1, 2, 3]


def test_exec_once_per_request_keeps_a_bounded_number_of_workers() -> None:
    flow = chain("per-request", 2)
    with Runtime(thread_pool_size=2, max_idle_workers=4) as runtime:
        states = []
        for n in range(200):
            # As a request handler would: start the flow for the request, wait for it.
            states.append(runtime.exec(flow, entry_params={"n": n}))
            assert runtime.wait_until_all_jobs_finished(5)
            assert len(runtime.worker_ids) <= 4 + 1
        # Every request ran, and a retired worker's state stays readable.
        assert sorted(s.shared_log[0]["n"] for s in states) == [n + 2 for n in range(200)]
        kept = runtime.exec(flow)  # no entry_params: a worker kept until shutdown
        for n in range(20):
            runtime.exec(flow, entry_params={"n": n})
        assert kept.worker_id in runtime.worker_ids


def wait_for(condition: Any, timeout: float = 5) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.001)


_ = threading  # threads race in the observer tests through the runtime's own pool
