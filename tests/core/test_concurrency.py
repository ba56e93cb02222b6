"""Thread safety under load: many posts from racing threads arrive exactly once."""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any

import pytest

from routilux import Flow, JobStatus, Routine, Runtime
from routilux.activation_policies import all_slots_ready_policy

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
