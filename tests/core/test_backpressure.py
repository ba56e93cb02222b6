"""Bounded slots: on_full="raise" | "block" | "drop_oldest", for posts and for emits."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from routilux import (
    ConfigurationError,
    Flow,
    JobStatus,
    Observer,
    Routine,
    Runtime,
    SlotQueueFullError,
)
from routilux.activation_policies import batch_size_policy


class Sink(Routine):
    def __init__(self, bound: int, on_full: str, block_timeout: float | None = None) -> None:
        super().__init__()
        self.add_slot("input", bound, on_full=on_full, block_timeout=block_timeout)

    def logic(self, input: list[Any], policy_message: Any, worker_state: Any) -> None:
        with worker_state.lock:
            worker_state.shared_log.extend(point["n"] for point in input)


class Deepest(Observer):
    """Records the longest queue the slot ever had."""

    def __init__(self) -> None:
        self.deepest = 0

    def slot_received(self, worker: Any, routine_id: str, slot: str, item: Any) -> None:
        self.deepest = max(self.deepest, len(worker.queue(routine_id, slot)))


def test_a_producer_posting_into_a_blocking_slot_goes_at_the_consumers_pace() -> None:
    flow = Flow("paced")
    flow.add_routine(Sink(100, "block"), "sink")
    watch = Deepest()
    with Runtime(thread_pool_size=2) as runtime:
        worker = runtime.start_worker(flow)
        worker.add_observer(watch)
        for n in range(5000):
            runtime.post(flow, "sink", "input", {"n": n})
        assert runtime.wait_until_all_jobs_finished(30)
        assert sorted(worker.state.shared_log) == list(range(5000))
    assert watch.deepest == 100


def test_a_post_that_waits_too_long_names_the_slot_and_loses_nothing() -> None:
    flow = Flow("stuck")
    flow.add_routine(Sink(2, "block", block_timeout=5), "sink")
    with Runtime(thread_pool_size=1) as runtime:
        worker = runtime.start_worker(flow)
        worker.pause()
        first = [runtime.post(flow, "sink", "input", {"n": n})[1] for n in range(2)]
        with pytest.raises(SlotQueueFullError, match=r"sink\.input"):
            runtime.post(flow, "sink", "input", {"n": 2}, timeout=0.05)
        assert worker.queued()["sink"]["input"] == [{"n": 0}, {"n": 1}]
        worker.resume()
        assert all(job.wait(5) for job in first)
        assert runtime.wait_until_all_jobs_finished(5)
        assert sorted(worker.state.shared_log) == [0, 1]


def test_a_waiting_post_goes_in_once_the_paused_consumer_resumes() -> None:
    flow = Flow("resumed")
    flow.add_routine(Sink(1, "block"), "sink")
    with Runtime(thread_pool_size=1) as runtime:
        worker = runtime.start_worker(flow)
        worker.pause()
        runtime.post(flow, "sink", "input", {"n": 0})
        posted = threading.Event()

        def post_one_more() -> None:
            runtime.post(flow, "sink", "input", {"n": 1})
            posted.set()

        poster = threading.Thread(target=post_one_more)
        poster.start()
        assert not posted.wait(0.1)  # waits for room
        worker.resume()
        assert posted.wait(5)
        poster.join(5)
        assert runtime.wait_until_all_jobs_finished(5)
        assert sorted(worker.state.shared_log) == [0, 1]


def test_drop_oldest_keeps_the_newest_and_tells_observers() -> None:
    dropped: list[Any] = []

    class Dropped(Observer):
        def slot_dropped(self, worker: Any, routine_id: str, slot: str, item: Any) -> None:
            dropped.append(item.data["n"])

    flow = Flow("lossy")
    flow.add_routine(Sink(3, "drop_oldest"), "sink")
    with Runtime(thread_pool_size=1) as runtime:
        worker = runtime.start_worker(flow)
        worker.add_observer(Dropped())
        worker.pause()
        jobs = [runtime.post(flow, "sink", "input", {"n": n})[1] for n in range(5)]
        assert [p["n"] for p in worker.queued()["sink"]["input"]] == [2, 3, 4]
        worker.resume()
        assert all(job.wait(5) for job in jobs)
        assert sorted(worker.state.shared_log) == [2, 3, 4]
    assert dropped == [0, 1]


class Burst(Routine):
    """Emits ``count`` items from one activation."""

    def __init__(self) -> None:
        super().__init__()
        self.add_slot("input")
        self.add_event("out", ["n"])

    def logic(self, input: list[Any], policy_message: Any, worker_state: Any) -> None:
        for n in range(input[0]["count"]):
            self.emit("out", n=n)


@pytest.mark.parametrize("pool", [1, 3])
def test_emits_into_a_blocking_slot_wait_for_the_consumer_even_on_one_thread(pool: int) -> None:
    flow = Flow("burst")
    flow.add_routine(Burst(), "burst")
    flow.add_routine(Sink(10, "block"), "sink")
    flow.connect("burst", "out", "sink", "input")
    watch = Deepest()
    with Runtime(thread_pool_size=pool) as runtime:
        worker = runtime.start_worker(flow)
        worker.add_observer(watch)
        _, job = runtime.post(flow, "burst", "input", {"count": 1000})
        assert job.wait(30)
        assert job.status is JobStatus.COMPLETED
        assert worker.state.shared_log == list(range(1000))
    assert watch.deepest <= 10


def test_an_emit_that_waits_too_long_fails_its_job_naming_the_slot() -> None:
    flow = Flow("never-drained")
    flow.add_routine(Burst(), "burst")
    sink = Sink(5, "block", block_timeout=0.05)
    sink.set_activation_policy(batch_size_policy(1000))  # never has enough to run
    flow.add_routine(sink, "sink")
    flow.connect("burst", "out", "sink", "input")
    with Runtime(thread_pool_size=2) as runtime:
        _, job = runtime.post(flow, "burst", "input", {"count": 10})
        assert job.wait(5)
        assert job.status is JobStatus.FAILED
        assert "sink.input" in str(job.error.__cause__)  # type: ignore[union-attr]


def test_an_unknown_on_full_is_refused_with_a_suggestion() -> None:
    routine = Routine()
    with pytest.raises(ConfigurationError, match="drop_oldest"):
        routine.add_slot("x", 3, on_full="drop_old")
