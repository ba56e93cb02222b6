"""Code written for Routilux v2 / 1.x, as its users wrote it, runs unchanged.

Everything here uses upstream's spelling: top-level policy imports, keyword-only logic
parameters, FlowBuilder, ErrorHandler by strategy name with retryable_exceptions, and
``except ValueError`` / ``except RuntimeError`` around what the framework raises.
"""

from __future__ import annotations

import pytest

from routilux import (
    ErrorHandler,
    ErrorStrategy,
    Flow,
    FlowBuilder,
    Routine,
    Runtime,
    all_slots_ready_policy,
    batch_size_policy,
    get_current_job,
    immediate_policy,
)
from routilux.activation_policies import time_interval_policy
from routilux.monitoring.flow_registry import FlowRegistry


class Splitter(Routine):
    def __init__(self):
        super().__init__()
        self.trigger = self.define_slot("trigger")
        self.left = self.define_event("left", ["value"])
        self.right = self.define_event("right", ["value"])
        self.set_activation_policy(immediate_policy())

    def logic(self, *slot_lists, policy_message=None, worker_state=None):
        for point in slot_lists[0]:
            self.emit("left", value=point["value"])
            self.emit("right", value=point["value"] * 10)


class Joiner(Routine):
    def __init__(self):
        super().__init__()
        self.define_slot("a")
        self.define_slot("b")
        self.set_activation_policy(all_slots_ready_policy())

    def logic(self, a_list, b_list, *, policy_message=None, worker_state=None):
        routine_id = "join"
        state = worker_state.get_routine_state(routine_id, {})
        total = state.get("total", 0) + a_list[0]["value"] + b_list[0]["value"]
        worker_state.update_routine_state(routine_id, {"total": total})


class Batcher(Routine):
    def __init__(self):
        super().__init__()
        self.define_slot("items")
        self.set_activation_policy(batch_size_policy(2))

    def logic(self, input_data_list, **kwargs):
        worker_state = kwargs["worker_state"]
        assert kwargs["policy_message"] == {"batch_size": 2}
        with worker_state.lock:
            worker_state.shared_log.append([p["value"] for p in input_data_list])


class Flaky(Routine):
    def __init__(self):
        super().__init__()
        self.define_slot("input")
        self.define_event("output", ["value"])

    def logic(self, input_list, policy_message=None, job_state=None):
        job = get_current_job()
        attempts = job.metadata.setdefault("attempts", 0) + 1
        job.metadata["attempts"] = attempts
        if input_list[0]["fail_with"] == "timeout" and attempts < 3:
            raise TimeoutError("slow upstream")
        if input_list[0]["fail_with"] == "key":
            raise KeyError("missing field")
        self.emit("output", value=attempts)


def fan_out_join_flow():
    return (
        FlowBuilder("fan_out_join")
        .add_routine(Splitter(), "split")
        .add_routine(Joiner(), "join")
        .connect("split", "left", "join", "a")
        .connect("split", "right", "join", "b")
        .validate()
        .build()
    )


def test_a_fan_out_join_with_keyword_only_logic_completes():
    flow = fan_out_join_flow()
    FlowRegistry.get_instance().register_by_name("fan_out_join", flow)
    with Runtime(thread_pool_size=2) as runtime:
        worker_state = runtime.exec("fan_out_join")
        jobs = [runtime.post("fan_out_join", "split", "trigger", {"value": v})[1] for v in (1, 2)]
        assert all(job.wait(timeout=10) for job in jobs)
        assert worker_state.get_routine_state("join") == {"total": 33}


def test_kwargs_logic_gets_the_policy_message_and_worker_state():
    flow = Flow("batches")
    flow.add_routine(Batcher(), "batcher")
    with Runtime() as runtime:
        worker_state = runtime.exec(flow)
        for value in range(4):
            runtime.post(flow, "batcher", "items", {"value": value})
        assert runtime.wait_until_all_jobs_finished(timeout=10)
        assert worker_state.shared_log == [[0, 1], [2, 3]]


def retry_flow():
    return (
        FlowBuilder("retrying")
        .add_routine(
            Flaky(),
            "flaky",
            error_handler=ErrorHandler(
                "retry", max_retries=3, retryable_exceptions=(TimeoutError,)
            ),
        )
        .build()
    )


def test_retry_by_name_retries_only_the_retryable_exceptions():
    flow = retry_flow()
    with Runtime() as runtime:
        runtime.exec(flow)
        _, retried = runtime.post(flow, "flaky", "input", {"fail_with": "timeout"})
        _, failed = runtime.post(flow, "flaky", "input", {"fail_with": "key"})
        assert retried.wait(timeout=10)
        assert failed.wait(timeout=10)
    assert retried.status == "completed"
    assert retried.metadata["attempts"] == 3
    assert failed.status == "failed"
    assert failed.metadata["attempts"] == 1  # KeyError is not retryable: no second attempt


def test_strategies_by_enum_and_name_are_the_same():
    assert ErrorHandler("continue") == ErrorHandler(strategy=ErrorStrategy.CONTINUE)
    assert ErrorHandler("RETRY", retry_backoff=2.0).retry_backoff == 2.0


def test_wiring_and_configuration_errors_are_value_errors():
    flow = Flow("errors")
    flow.add_routine(Splitter(), "split")
    with pytest.raises(ValueError, match="duplicate routine id"):
        flow.add_routine(Splitter(), "split")
    with pytest.raises(ValueError, match="unknown routine 'nowhere'"):
        flow.connect("split", "left", "nowhere", "a")
    with pytest.raises(ValueError, match="unknown error strategy"):
        ErrorHandler("explode")
    with pytest.raises(ValueError, match="must be >= 1"):
        batch_size_policy(0)
    with pytest.raises(ValueError, match="must be > 0"):
        time_interval_policy(-1)
    with pytest.raises(ValueError, match="unknown event 'out'"):
        FlowBuilder("bad").add_routine(Joiner(), "j").connect("j", "out", "j", "a")


def test_state_errors_are_runtime_errors():
    runtime = Runtime()
    runtime.shutdown()
    with pytest.raises(RuntimeError, match="shut down"):
        runtime.exec(fan_out_join_flow())
    with pytest.raises(RuntimeError, match="outside of logic"):
        Splitter().emit("left", value=1)
