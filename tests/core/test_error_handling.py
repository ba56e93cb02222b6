"""Error strategies: STOP, CONTINUE, RETRY and SKIP, per flow and per routine."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from routilux import (
    ConfigurationError,
    ErrorHandler,
    ErrorStrategy,
    Flow,
    JobStatus,
    Routine,
    Runtime,
    SlotHandlerError,
)
from tests.flows import Collect, Relay


class Flaky(Routine):
    """Fails its first ``failures`` attempts (counted in worker state), then emits."""

    def __init__(self) -> None:
        super().__init__()
        self.add_slot("x")
        self.add_event("out")
        self.set_config(failures=2)

    def logic(self, x: list[Any], pm: Any, ws: Any) -> None:
        calls = ws.get_routine_state("flaky", {}).get("calls", 0) + 1
        ws.update_routine_state("flaky", {"calls": calls})
        if calls <= self.get_config("failures"):
            raise ValueError(f"attempt {calls} failed")
        self.emit("out", v=x[0]["v"])


def flaky_flow(name: str, handler: ErrorHandler | None, *, per_routine: bool = False) -> Flow:
    flow = Flow(name)
    flaky = Flaky()
    flow.add_routine(flaky, "flaky")
    flow.add_routine(Collect(), "sink")
    flow.connect("flaky", "out", "sink", "input")
    if per_routine:
        flaky.set_error_handler(handler)
    else:
        flow.set_error_handler(handler)
    return flow


def run_one(flow: Flow) -> tuple[Any, Any]:
    with Runtime(thread_pool_size=2) as rt:
        state, job = rt.post(flow, "flaky", "x", {"v": 1})
        assert rt.wait_until_all_jobs_finished(5)
    return state, job


def test_stop_is_the_default_and_fails_the_job_with_the_cause() -> None:
    state, job = run_one(flaky_flow("stop", None))
    assert job.status is JobStatus.FAILED
    assert isinstance(job.error, SlotHandlerError)
    assert isinstance(job.error.__cause__, ValueError)
    assert "routine 'flaky' raised" in str(job.error)
    assert state.shared_log == []
    assert state.jobs_failed == 1


def test_retry_runs_the_logic_again_until_it_succeeds() -> None:
    state, job = run_one(flaky_flow("retry", ErrorHandler(ErrorStrategy.RETRY, max_retries=3)))
    assert job.status is JobStatus.COMPLETED
    assert state.get_routine_state("flaky")["calls"] == 3
    assert state.shared_log == [{"v": 1}]


def test_retry_gives_up_after_max_retries_and_fails_the_job() -> None:
    handler = ErrorHandler(ErrorStrategy.RETRY, max_retries=1)
    state, job = run_one(flaky_flow("retry_fail", handler, per_routine=True))
    assert job.status is JobStatus.FAILED
    assert state.get_routine_state("flaky")["calls"] == 2
    assert "after 2 attempts" in str(job.error)


def test_continue_records_the_error_and_completes_the_job() -> None:
    state, job = run_one(flaky_flow("continue", ErrorHandler(ErrorStrategy.CONTINUE)))
    assert job.status is JobStatus.COMPLETED
    assert len(job.errors) == 1
    assert state.shared_log == []


def test_skip_drops_the_activation_quietly() -> None:
    state, job = run_one(flaky_flow("skip", ErrorHandler(ErrorStrategy.SKIP)))
    assert job.status is JobStatus.COMPLETED
    assert job.errors == []
    assert state.shared_log == []


def test_a_routine_handler_overrides_the_flow_handler() -> None:
    flow = flaky_flow("override", ErrorHandler(ErrorStrategy.STOP))
    flow.get_routine("flaky").set_error_handler(ErrorHandler(ErrorStrategy.RETRY, max_retries=5))
    _, job = run_one(flow)
    assert job.status is JobStatus.COMPLETED


def test_retry_waits_with_backoff_between_attempts() -> None:
    handler = ErrorHandler(ErrorStrategy.RETRY, retry_delay=0.5, retry_backoff=2.0)
    assert [handler.delay_before(a) for a in (2, 3, 4)] == [0.5, 1.0, 2.0]
    with pytest.raises(ConfigurationError):
        ErrorHandler(ErrorStrategy.RETRY, max_retries=-1)


def test_a_failing_routine_never_kills_the_worker_or_hangs_waiting() -> None:
    class Boom(Routine):
        def __init__(self) -> None:
            super().__init__()
            self.add_slot("x")

        def logic(self, x: list[Any], pm: Any, ws: Any) -> None:
            if x[0]["i"] % 2:
                raise RuntimeError("odd")
            with ws.lock:
                ws.shared_log.append(x[0]["i"])

    flow = Flow("boom")
    flow.add_routine(Boom(), "b")
    with Runtime(thread_pool_size=2) as rt:
        jobs = [rt.post(flow, "b", "x", {"i": i})[1] for i in range(40)]
        assert rt.wait_until_all_jobs_finished(5)
        statuses = [j.status for j in jobs]
        assert statuses.count(JobStatus.FAILED) == 20
        assert sorted(rt.get_worker(jobs[0].worker_id).state.shared_log) == list(range(0, 40, 2))
        # The same worker still takes work afterwards.
        _, later = rt.post(flow, "b", "x", {"i": 100})
        assert later.wait(5)
        assert later.status is JobStatus.COMPLETED
    assert threading.active_count() < 10


def test_stop_drops_the_failed_jobs_data_but_not_other_jobs() -> None:
    class FailOnFirst(Routine):
        def __init__(self) -> None:
            super().__init__()
            self.add_slot("x")
            self.add_event("a")
            self.add_event("b")

        def logic(self, x: list[Any], pm: Any, ws: Any) -> None:
            self.emit("a", v=x[0]["v"])
            if x[0]["v"] == "bad":
                raise ValueError("bad input")
            self.emit("b", v=x[0]["v"])

    flow = Flow("partial")
    flow.add_routine(FailOnFirst(), "src")
    flow.add_routine(Collect(), "sink")
    flow.connect("src", "b", "sink", "input")
    flow.connect("src", "a", "sink", "input")
    with Runtime(thread_pool_size=1) as rt:
        state, bad = rt.post(flow, "src", "x", {"v": "bad"})
        _, good = rt.post(flow, "src", "x", {"v": "good"})
        assert rt.wait_until_all_jobs_finished(5)
    assert bad.status is JobStatus.FAILED
    assert good.status is JobStatus.COMPLETED
    assert state.shared_log == [{"v": "good"}, {"v": "good"}]


def test_strategies_are_taken_by_name_in_any_case() -> None:
    assert ErrorHandler("retry").strategy is ErrorStrategy.RETRY
    assert ErrorHandler("SKIP").strategy is ErrorStrategy.SKIP
    with pytest.raises(ConfigurationError, match="unknown error strategy 'explode'"):
        ErrorHandler("explode")
    with pytest.raises(TypeError, match="strategy must be"):
        ErrorHandler(3)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("options", "error", "name"),
    [
        ({"max_retries": True}, TypeError, "max_retries"),
        ({"max_retries": "3"}, TypeError, "max_retries"),
        ({"max_retries": -1}, ValueError, "max_retries"),
        ({"retry_delay": float("nan")}, ValueError, "retry_delay"),
        ({"retry_delay": float("inf")}, ValueError, "retry_delay"),
        ({"retry_delay": -0.5}, ValueError, "retry_delay"),
        ({"retry_backoff": 0.5}, ValueError, "retry_backoff"),
        ({"retry_backoff": float("nan")}, ValueError, "retry_backoff"),
        ({"retryable_exceptions": "ValueError"}, TypeError, "retryable_exceptions"),
        ({"retryable_exceptions": (ValueError, int)}, TypeError, "retryable_exceptions"),
        ({"retryable_exceptions": ()}, TypeError, "retryable_exceptions"),
    ],
)
def test_bad_retry_settings_are_refused_naming_the_parameter(
    options: dict[str, Any], error: type[Exception], name: str
) -> None:
    with pytest.raises(error, match=name):
        ErrorHandler("retry", **options)


def test_unknown_keywords_are_refused_naming_the_closest_valid_one() -> None:
    with pytest.raises(TypeError, match="'max_retry'; did you mean 'max_retries'"):
        ErrorHandler("retry", max_retry=2)


def test_backoff_is_a_deprecated_spelling_of_retry_backoff() -> None:
    with pytest.warns(DeprecationWarning, match="use retry_backoff"):
        handler = ErrorHandler("retry", retry_delay=1.0, backoff=2.0)
    assert handler.retry_backoff == 2.0
    with pytest.warns(DeprecationWarning, match="use retry_backoff"):
        assert handler.backoff == 2.0


def test_should_retry_honours_strategy_attempts_and_exception_types() -> None:
    handler = ErrorHandler("retry", max_retries=2, retryable_exceptions=OSError)
    assert handler.should_retry(ConnectionError(), 1)
    assert handler.should_retry(ConnectionError(), 2)
    assert not handler.should_retry(ConnectionError(), 3)
    assert not handler.should_retry(ValueError(), 1)
    assert not ErrorHandler("continue").should_retry(OSError(), 1)


def test_handlers_are_immutable_values() -> None:
    handler = ErrorHandler("retry", max_retries=2)
    assert handler == ErrorHandler(ErrorStrategy.RETRY, max_retries=2)
    assert len({handler, ErrorHandler("retry", max_retries=2)}) == 1
    with pytest.raises(AttributeError, match="immutable"):
        handler.max_retries = 5  # type: ignore[misc]
    assert "retryable_exceptions=(Exception,)" in repr(handler)


def test_only_retryable_exceptions_are_retried_in_a_flow() -> None:
    flow = flaky_flow("typed", ErrorHandler("retry", max_retries=5, retryable_exceptions=OSError))
    state, job = run_one(flow)
    assert job.status is JobStatus.FAILED
    assert state.get_routine_state("flaky") == {"calls": 1}  # ValueError: not retried


def test_is_critical_of_earlier_versions_warns_that_it_has_no_effect() -> None:
    with pytest.warns(DeprecationWarning, match="is_critical=.*no effect"):
        handler = ErrorHandler("retry", is_critical=True)
    assert handler == ErrorHandler("retry")


def test_set_error_handler_refuses_what_is_not_a_handler_before_any_logic_fails() -> None:
    flow = Flow("handled")
    routine = Relay()
    flow.add_routine(routine, "r")
    for target in (flow, routine):
        with pytest.raises(TypeError, match=r"takes an ErrorHandler, such as .* got str 'retry'"):
            target.set_error_handler("retry")  # type: ignore[arg-type]
        assert target.error_handler is None
    routine.set_error_handler(ErrorHandler(ErrorStrategy.SKIP))
    assert routine.error_handler is not None
