"""The engine (Runtime without its parts): exec, post, workers, jobs and their lifecycle."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from routilux import (
    ConfigurationError,
    Flow,
    FlowRegistry,
    JobStatus,
    Observer,
    Routine,
    Runtime,
    SlotQueueFullError,
    StateError,
    WorkerStatus,
    get_current_job,
)
from routilux.activation_policies import batch_size_policy
from tests.flows import Collect, Relay, chain


def test_exec_with_entry_params_runs_the_flow_to_the_end(runtime: Runtime) -> None:
    state = runtime.exec(chain("c", 3), entry_params={"n": 0})
    assert runtime.wait_until_all_jobs_finished(5)
    assert state.shared_log == [{"n": 3}]
    assert state.status is WorkerStatus.IDLE
    assert state.jobs_completed == 1


def test_exec_by_registered_name_and_unknown_name(runtime: Runtime) -> None:
    FlowRegistry.get_instance().register_by_name("named", chain("whatever", 1))
    state = runtime.exec("named", entry_params={"n": 1})
    assert runtime.wait_until_all_jobs_finished(5)
    assert state.shared_log == [{"n": 2}]
    with pytest.raises(ConfigurationError, match="unknown flow 'nmaed'"):
        runtime.exec("nmaed")


def test_entry_params_need_exactly_one_entry_slot(runtime: Runtime) -> None:
    flow = Flow("two_entries")
    flow.add_routine(Collect(), "a")
    flow.add_routine(Collect(), "b")
    with pytest.raises(ConfigurationError, match=r"2 entry slots \(a.input, b.input\)"):
        runtime.exec(flow, entry_params={"x": 1})


def test_post_names_unknown_routine_and_slot(runtime: Runtime) -> None:
    flow = chain("c", 1)
    with pytest.raises(ConfigurationError, match="unknown routine 'r9'"):
        runtime.post(flow, "r9", "input", {})
    with pytest.raises(ConfigurationError, match="unknown slot 'inptu'.*did you mean 'input'"):
        runtime.post(flow, "r0", "inptu", {})


def test_posts_without_worker_id_share_the_running_worker(runtime: Runtime) -> None:
    flow = chain("c", 1)
    first, _ = runtime.post(flow, "r0", "input", {"n": 0})
    second, _ = runtime.post(flow, "r0", "input", {"n": 10})
    assert first is second
    assert len(runtime.workers_of("c")) == 1
    assert runtime.wait_until_all_jobs_finished(5)
    assert sorted(p["n"] for p in first.shared_log) == [1, 11]


def test_two_workers_of_one_flow_never_share_queued_data(runtime: Runtime) -> None:
    flow = Flow("held")
    collector = Collect()
    collector.set_activation_policy(batch_size_policy(2))
    flow.add_routine(collector, "sink")
    a = runtime.exec(flow)
    b = runtime.exec(flow)
    runtime.post(flow, "sink", "input", {"w": "a"}, worker_id=a.worker_id)
    runtime.post(flow, "sink", "input", {"w": "b"}, worker_id=b.worker_id)
    assert runtime.wait_until_all_jobs_finished(5)
    # Each worker holds one point; a shared queue would have made a batch of two.
    assert a.shared_log == []
    assert b.shared_log == []
    assert runtime.get_worker(a.worker_id).queued()["sink"]["input"] == [{"w": "a"}]
    assert runtime.get_worker(b.worker_id).queued()["sink"]["input"] == [{"w": "b"}]


def test_post_copies_the_callers_dict(runtime: Runtime) -> None:
    flow = chain("c", 1)
    data = {"n": 1}
    state, job = runtime.post(flow, "r0", "input", data)
    data["n"] = 100
    assert job.wait(5)
    assert state.shared_log == [{"n": 2}]


def test_job_context_is_reachable_from_logic_and_completes_by_itself(runtime: Runtime) -> None:
    seen: list[Any] = []

    class Peek(Routine):
        def __init__(self) -> None:
            super().__init__()
            self.add_slot("x")

        def logic(self, x: Any, pm: Any, ws: Any) -> None:
            job = get_current_job()
            assert job is not None
            seen.append((job.metadata["user"], job.status))

    flow = Flow("peek")
    flow.add_routine(Peek(), "p")
    _, job = runtime.post(flow, "p", "x", {}, metadata={"user": "ada"})
    assert job.wait(5)
    assert job.status is JobStatus.COMPLETED
    assert seen == [("ada", JobStatus.RUNNING)]
    assert get_current_job() is None
    # Per-request data goes in metadata; the job's own attributes are fixed in every build.
    with pytest.raises(AttributeError):
        job.user = "ada"  # type: ignore[attr-defined]


def test_full_slot_rejects_the_post_and_keeps_what_was_queued(runtime: Runtime) -> None:
    class Small(Routine):
        def __init__(self) -> None:
            super().__init__()
            self.add_slot("x", max_queue_length=2)
            self.set_logic(lambda x, pm, ws: None)

    flow = Flow("small")
    flow.add_routine(Small(), "s")
    session = runtime.debug(flow)
    session.pause()
    runtime.post(flow, "s", "x", {"i": 1})
    runtime.post(flow, "s", "x", {"i": 2})
    with pytest.raises(SlotQueueFullError, match=r"slot s.x is full \(2 queued\)"):
        runtime.post(flow, "s", "x", {"i": 3})
    assert session.snapshot().queues["s"]["x"] == [{"i": 1}, {"i": 2}]
    session.resume()
    assert runtime.wait_until_all_jobs_finished(5)


def test_thread_pool_size_bounds_concurrent_activations() -> None:
    running, peak = [0], [0]
    lock = threading.Lock()
    gate = threading.Event()

    class Slow(Routine):
        def __init__(self) -> None:
            super().__init__()
            self.add_slot("x")

        def logic(self, x: Any, pm: Any, ws: Any) -> None:
            with lock:
                running[0] += 1
                peak[0] = max(peak[0], running[0])
            gate.wait(0.05)
            with lock:
                running[0] -= 1

    flow = Flow("slow")
    flow.add_routine(Slow(), "s")
    with Runtime(thread_pool_size=3) as rt:
        for _ in range(12):
            rt.post(flow, "s", "x", {})
        assert rt.wait_until_all_jobs_finished(10)
    assert peak[0] == 3


def test_runtime_refuses_work_after_shutdown() -> None:
    rt = Runtime(thread_pool_size=1)
    rt.shutdown()
    with pytest.raises(StateError, match="shut down"):
        rt.exec(chain("c", 1))


def test_shutdown_cancels_jobs_of_a_paused_worker() -> None:
    rt = Runtime(thread_pool_size=2)
    flow = chain("c", 2)
    session = rt.debug(flow)
    session.pause()
    _, job = rt.post(flow, "r0", "input", {"n": 0})
    rt.shutdown(wait=True, timeout=5)
    assert job.status is JobStatus.CANCELLED


def test_cancel_drops_a_jobs_queued_data(runtime: Runtime) -> None:
    flow = chain("c", 2)
    session = runtime.debug(flow)
    session.pause()
    _, job = runtime.post(flow, "r0", "input", {"n": 0})
    runtime.cancel(job)
    assert job.status is JobStatus.CANCELLED
    assert session.snapshot().queues["r0"]["input"] == []
    session.resume()
    assert runtime.wait_until_all_jobs_finished(5)


def test_dropped_data_is_reported_to_observers_and_its_job_ends(runtime: Runtime) -> None:
    class Drops(Observer):
        def __init__(self) -> None:
            self.seen: list[tuple[str, str, Any]] = []

        def slot_dropped(self, worker: Any, routine_id: str, slot: str, item: Any) -> None:
            self.seen.append((routine_id, slot, item.data))

    observer = Drops()
    runtime.add_observer(observer)
    flow = chain("c", 2)
    session = runtime.debug(flow)
    session.pause()
    _, kept = runtime.post(flow, "r0", "input", {"n": 0})
    _, dropped = runtime.post(flow, "r0", "input", {"n": 7})
    assert session.drop("r0", "input", 1) == {"n": 7}
    assert observer.seen == [("r0", "input", {"n": 7})]
    session.resume()
    assert runtime.wait_until_all_jobs_finished(5)
    assert kept.status is JobStatus.COMPLETED
    assert dropped.status is JobStatus.COMPLETED  # nothing left to run for it


def test_thread_pool_size_must_be_positive() -> None:
    with pytest.raises(ConfigurationError, match="thread_pool_size"):
        Runtime(thread_pool_size=0)


def test_emit_with_legacy_keywords_routes_and_does_not_send_them(runtime: Runtime) -> None:
    class Legacy(Routine):
        def __init__(self) -> None:
            super().__init__()
            self.add_slot("x")
            self.add_event("out")

        def logic(self, x: Any, pm: Any, worker_state: Any) -> None:
            self.emit("out", runtime=runtime, worker_state=worker_state, v=1)

    flow = Flow("legacy")
    flow.add_routine(Legacy(), "l")
    flow.add_routine(Collect(), "sink")
    flow.connect("l", "out", "sink", "input")
    state = runtime.exec(flow, entry_params={})
    assert runtime.wait_until_all_jobs_finished(5)
    assert state.shared_log == [{"v": 1}]


def test_emit_of_an_undeclared_event_fails_the_job_with_a_clear_error(runtime: Runtime) -> None:
    class Typo(Routine):
        def __init__(self) -> None:
            super().__init__()
            self.add_slot("x")
            self.add_event("output")

        def logic(self, x: Any, pm: Any, ws: Any) -> None:
            self.emit("outptu", v=1)

    flow = Flow("typo")
    flow.add_routine(Typo(), "t")
    _, job = runtime.post(flow, "t", "x", {})
    assert job.wait(5)
    assert job.status is JobStatus.FAILED
    assert "did you mean 'output'" in str(job.error.__cause__)  # type: ignore[union-attr]


def test_relay_chain_delivers_every_post_in_order_per_job(runtime: Runtime) -> None:
    flow = chain("c", 5)
    jobs = [runtime.post(flow, "r0", "input", {"n": i})[1] for i in range(50)]
    assert runtime.wait_until_all_jobs_finished(10)
    assert all(j.status is JobStatus.COMPLETED for j in jobs)
    state = runtime.get_worker(jobs[0].worker_id).state
    assert sorted(p["n"] for p in state.shared_log) == [i + 5 for i in range(50)]
    _ = Relay  # the chain is made of Relays


def test_a_stopped_worker_refuses_posts_while_its_logic_still_runs() -> None:
    started, release = threading.Event(), threading.Event()

    class Hold(Routine):
        def __init__(self) -> None:
            super().__init__()
            self.add_slot("x")

        def logic(self, x: Any, pm: Any, ws: Any) -> None:
            started.set()
            release.wait(5)

    flow = Flow("stopping")
    flow.add_routine(Hold(), "h")
    with Runtime(thread_pool_size=1) as rt:
        state, first = rt.post(flow, "h", "x", {})
        assert started.wait(5)
        rt.stop_worker(state.worker_id)  # its drainer is still inside the logic
        with pytest.raises(StateError, match="stopped"):
            rt.post(flow, "h", "x", {}, worker_id=state.worker_id)
        release.set()
        assert first.wait(5)
    assert first.status is JobStatus.CANCELLED


@pytest.mark.parametrize(
    ("timeout", "error", "message"),
    [
        ("5", TypeError, "got str"),
        ([1], TypeError, "got list"),  # the compiled build's own check says so too
        (True, TypeError, "got bool"),
        (float("nan"), ValueError, "got nan"),
    ],
)
def test_waits_refuse_a_timeout_that_is_not_a_number(
    runtime: Runtime, timeout: Any, error: type[Exception], message: str
) -> None:
    _, job = runtime.post(chain("waits", 2), "r0", "input", {"n": 0})
    assert job.wait(5)  # finished: a bad timeout is refused all the same
    with pytest.raises(error, match=message):
        job.wait(timeout)
    with pytest.raises(error, match=message):
        runtime.wait_until_all_jobs_finished(timeout)
    assert job.wait(-1)  # as threading's waits take it: do not wait
    assert job.wait(float("inf"))
