"""The scheduler under load: racing posts, joins, leaving drainers, stops."""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from typing import Any

import pytest

from routilux import Flow, JobStatus, Routine, Runtime, StateError
from routilux.activation_policies import all_slots_ready_policy
from tests.flows import chain

BRANCHES = 4


class Split(Routine):
    def __init__(self) -> None:
        super().__init__()
        self.add_slot("x")
        for b in range(BRANCHES):
            self.add_event(f"out{b}")

    def logic(self, x: list[Any], pm: Any, ws: Any) -> None:
        for b in range(BRANCHES):
            self.emit(f"out{b}", id=x[0]["id"], branch=b)


class Work(Routine):
    def __init__(self) -> None:
        super().__init__()
        self.add_slot("x")
        self.add_event("out")

    def logic(self, x: list[Any], pm: Any, ws: Any) -> None:
        self.emit("out", id=x[0]["id"], branch=x[0]["branch"])


class Merge(Routine):
    """Fan-in of every branch into one slot: counts what arrives."""

    def __init__(self) -> None:
        super().__init__()
        self.add_slot("x")

    def logic(self, x: list[Any], pm: Any, ws: Any) -> None:
        with ws.lock:
            for point in x:
                ws.shared_log.append((point["id"], point["branch"]))


def fan_out_fan_in() -> Flow:
    flow = Flow("fan")
    flow.add_routine(Split(), "split")
    flow.add_routine(Merge(), "merge")
    for b in range(BRANCHES):
        flow.add_routine(Work(), f"w{b}")
        flow.connect("split", f"out{b}", f"w{b}", "x")
        flow.connect(f"w{b}", "out", "merge", "x")
    return flow


@pytest.mark.slow
def test_ten_thousand_posts_from_racing_threads_arrive_exactly_once() -> None:
    posters, per_poster = 8, 1250  # 10,000 posts, 40,000 deliveries at the merge
    flow = fan_out_fan_in()
    jobs: list[Any] = []
    jobs_lock = threading.Lock()
    start = threading.Barrier(posters)
    with Runtime(thread_pool_size=6) as rt:
        state = rt.exec(flow)

        def post_many(poster: int) -> None:
            start.wait()
            mine = [
                rt.post(flow, "split", "x", {"id": poster * per_poster + i})[1]
                for i in range(per_poster)
            ]
            with jobs_lock:
                jobs.extend(mine)

        threads = [threading.Thread(target=post_many, args=(p,)) for p in range(posters)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert rt.wait_until_all_jobs_finished(120)
    arrivals = Counter(state.shared_log)
    expected = {(i, b) for i in range(posters * per_poster) for b in range(BRANCHES)}
    assert set(arrivals) == expected
    assert max(arrivals.values()) == 1
    assert len(jobs) == posters * per_poster
    assert all(job.status is JobStatus.COMPLETED for job in jobs)


class Pair(Routine):
    def __init__(self) -> None:
        super().__init__()
        for b in range(BRANCHES):
            self.add_slot(f"in{b}")
        self.set_activation_policy(all_slots_ready_policy())

    def logic(self, *args: Any) -> None:
        *slot_lists, _policy_message, ws = args
        with ws.lock:
            ws.shared_log.append(tuple(sorted(p[0]["branch"] for p in slot_lists)))


@pytest.mark.slow
def test_join_under_concurrent_posts_loses_and_duplicates_nothing() -> None:
    flow = Flow("join_load")
    flow.add_routine(Split(), "split")
    flow.add_routine(Pair(), "join")
    for b in range(BRANCHES):
        flow.add_routine(Work(), f"w{b}")
        flow.connect("split", f"out{b}", f"w{b}", "x")
        flow.connect(f"w{b}", "out", "join", f"in{b}")
    with Runtime(thread_pool_size=4) as rt:
        state = rt.exec(flow)
        threads = [
            threading.Thread(
                target=lambda k=k: [
                    rt.post(flow, "split", "x", {"id": k * 500 + i}) for i in range(500)
                ]
            )
            for k in range(4)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert rt.wait_until_all_jobs_finished(60)
        leftovers = rt.get_worker(state.worker_id).queued()["join"]
    assert len(state.shared_log) == 2000
    assert set(state.shared_log) == {tuple(range(BRANCHES))}
    assert all(q == [] for q in leftovers.values())


def _post_in_bursts(rt: Runtime, flow: Flow, first_id: int, count: int, seed: int) -> list[Any]:
    """Post ``count`` messages in short bursts with pauses between, so the drainer keeps
    running out of work and leaving while new posts come in."""
    rng = random.Random(seed)
    jobs = []
    for i in range(count):
        try:
            jobs.append(rt.post(flow, "r0", "input", {"n": first_id + i})[1])
        except StateError:
            break  # the worker was stopped under us: the test checks what was accepted
        if rng.random() < 0.05:
            time.sleep(rng.choice([0, 0.0001, 0.001]))
    return jobs


@pytest.mark.slow
@pytest.mark.parametrize("pool", [1, 3])
def test_posts_racing_with_drainers_that_leave_all_complete(pool: int) -> None:
    flow = chain(f"bursts{pool}", 3)
    results: list[list[Any]] = [[] for _ in range(4)]
    with Runtime(thread_pool_size=pool) as rt:
        state = rt.exec(flow)

        def poster(k: int) -> None:
            results[k] = _post_in_bursts(rt, flow, k * 1000, 1000, seed=k)

        threads = [threading.Thread(target=poster, args=(k,)) for k in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert rt.wait_until_all_jobs_finished(30), "a post was left behind in no queue"
    jobs = [job for mine in results for job in mine]
    assert len(jobs) == 4000
    assert all(job.status is JobStatus.COMPLETED for job in jobs)
    # Each message passed the three relays once (chain adds 1 per hop).
    assert sorted(point["n"] for point in state.shared_log) == sorted(
        k * 1000 + i + 3 for k in range(4) for i in range(1000)
    )


@pytest.mark.slow
def test_stop_racing_with_posts_leaves_no_job_unfinished() -> None:
    flow = chain("stop_race", 3)
    results: list[list[Any]] = [[] for _ in range(3)]
    with Runtime(thread_pool_size=2) as rt:
        state = rt.exec(flow)
        worker = rt.get_worker(state.worker_id)

        def poster(k: int) -> None:
            results[k] = _post_in_bursts(rt, flow, k * 5000, 5000, seed=10 + k)

        threads = [threading.Thread(target=poster, args=(k,)) for k in range(3)]
        for t in threads:
            t.start()
        time.sleep(0.02)
        worker.stop()
        for t in threads:
            t.join()
        jobs = [job for mine in results for job in mine]
        # Accepted posts end completed (ran before the stop) or cancelled; none hang.
        assert all(job.wait(5) for job in jobs)
        assert {job.status for job in jobs} <= {JobStatus.COMPLETED, JobStatus.CANCELLED}
        assert rt.wait_until_all_jobs_finished(5)
        assert all(q == [] for slots in worker.queued().values() for q in slots.values())


def test_a_post_that_meets_a_leaving_drainer_still_runs() -> None:
    """Force the narrowest race of lock-free posting: a post lands in the inbox after the
    drainer found nothing to do, but before it stopped counting itself as running."""
    flow = chain("leaving", 1)
    with Runtime(thread_pool_size=1) as rt:
        state = rt.exec(flow)
        worker = rt.get_worker(state.worker_id)
        raced: list[Any] = []  # the racing post's job

        def post_racing() -> None:
            raced.append(rt.post(flow, "r0", "input", {"n": 10})[1])

        def race() -> None:
            if raced:
                return
            # The drainer holds the lock here and still counts itself: a post now takes
            # the lock-free path (pool size 1: the drainer is at the maximum).
            poster = threading.Thread(target=post_racing)
            poster.start()
            poster.join(5)
            assert not poster.is_alive(), "the racing post waited for the lock"

        worker._leaving_probe = race
        _, first = rt.post(flow, "r0", "input", {"n": 0})
        assert first.wait(5)
        # The first job can finish before the racing post is made: wait for that job itself.
        deadline = time.monotonic() + 5
        while not raced and time.monotonic() < deadline:
            time.sleep(0.001)
        assert raced, "the race was never set up"
        assert raced[0].wait(5), "the racing post was never run"
        assert raced[0].status is JobStatus.COMPLETED
    assert sorted(point["n"] for point in state.shared_log) == [1, 11]
