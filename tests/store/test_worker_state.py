"""Worker state (routine states, shared_data, shared_log) survives resume, fork and restarts."""

from __future__ import annotations

import threading
from typing import Any

from routilux import Flow, Routine, Runtime
from routilux.activation_policies import batch_size_policy


class _First(Routine):
    """Writes ``shared_data["seen"]``, logs ``"a ran"`` and passes its input on."""

    def __init__(self) -> None:
        super().__init__()
        self.add_slot("inp")
        self.add_event("out", ["v"])

    def logic(self, inp: list[Any], policy_message: Any, worker_state: Any) -> None:
        worker_state.shared_data["seen"] = 1
        worker_state.shared_log.append("a ran")
        worker_state.update_routine_state("a", {"runs": 1})
        self.emit("out", v=inp[0]["v"])


class _Second(Routine):
    def __init__(self) -> None:
        super().__init__()
        self.add_slot("inp")

    def logic(self, inp: list[Any], policy_message: Any, worker_state: Any) -> None:
        worker_state.shared_log.append("b ran")


def _two_step() -> Flow:
    flow = Flow("two")
    flow.add_routine(_First(), "a")
    flow.add_routine(_Second(), "b")
    flow.connect("a", "out", "b", "inp")
    return flow


def test_a_fork_starts_with_the_shared_data_log_and_routine_states_of_its_step(
    store_spec: str,
) -> None:
    path = store_spec
    with Runtime(thread_pool_size=1, store=path) as runtime:
        _, job = runtime.post(_two_step(), "a", "inp", {"v": 1})
        assert job.wait(5)
    with Runtime(thread_pool_size=1, store=path) as runtime:
        fork = runtime.fork(job.job_id, 1, flows={"two": _two_step()})
        assert fork.wait(5)
        state = runtime.get_worker(fork.worker_id).state
        after = (dict(state.shared_data), list(state.shared_log), state.routine_states)

    assert after == ({"seen": 1}, ["a ran", "b ran"], {"a": {"runs": 1}})


def test_a_fork_at_step_0_starts_from_the_state_before_the_job(store_spec: str) -> None:
    path = store_spec
    with Runtime(thread_pool_size=1, store=path) as runtime:
        _, job = runtime.post(_two_step(), "a", "inp", {"v": 1})
        assert job.wait(5)
    with Runtime(thread_pool_size=1, store=path) as runtime:
        fork = runtime.fork(job.job_id, 0, flows={"two": _two_step()})
        assert fork.wait(5)
        state = runtime.get_worker(fork.worker_id).state
        assert list(state.shared_log) == ["a ran", "b ran"]  # ran again from nothing


class _Total(Routine):
    """Adds its input to a running total in routine state (the docs' recommended use)."""

    def __init__(self) -> None:
        super().__init__()
        self.add_slot("inp")

    def logic(self, inp: list[Any], policy_message: Any, worker_state: Any) -> None:
        with worker_state.lock:
            n = worker_state.get_routine_state("total", {}).get("n", 0)
            worker_state.update_routine_state("total", {"n": n + inp[0]})


def _total() -> Flow:
    flow = Flow("total")
    flow.add_routine(_Total(), "total")
    return flow


def test_a_resume_keeps_the_state_that_finished_jobs_committed(store_spec: str) -> None:
    path = store_spec
    with Runtime(thread_pool_size=1, store=path) as runtime:
        for _ in range(2):
            _, job = runtime.post(_total(), "total", "inp", 1)
            assert job.wait(5)
        session = runtime.debug("total")
        session.pause()
        _, waiting = runtime.post(_total(), "total", "inp", 1)
        # A shutdown while paused leaves the job resumable, as a crash would.
    with Runtime(thread_pool_size=1, store=path) as runtime:
        assert [j.job_id for j in runtime.unfinished_jobs()] == [waiting.job_id]
        (resumed,) = runtime.resume(flows={"total": _total()})
        assert resumed.wait(5)
        state = runtime.get_worker(resumed.worker_id).state
        assert state.get_routine_state("total") == {"n": 3}


class _Pairs(Routine):
    """Runs on two data points at a time and logs them."""

    def __init__(self) -> None:
        super().__init__()
        self.add_slot("inp")
        self.set_activation_policy(batch_size_policy(2))
        self.ran = threading.Event()

    def logic(self, inp: list[Any], policy_message: Any, worker_state: Any) -> None:
        worker_state.shared_log.append(list(inp))
        self.ran.set()


def _pairs(routine: _Pairs | None = None) -> Flow:
    flow = Flow("pairs")
    flow.add_routine(routine or _Pairs(), "pair")
    return flow


def test_data_waiting_in_a_batch_after_its_job_finished_is_restored_by_resume(
    store_spec: str,
) -> None:
    path = store_spec
    with Runtime(thread_pool_size=1, store=path) as runtime:
        _, first = runtime.post(_pairs(), "pair", "inp", "A")
        assert first.wait(5)
    pairs = _Pairs()
    with Runtime(thread_pool_size=1, store=path) as runtime:
        resumed = runtime.resume(flows={"pairs": _pairs(pairs)})
        assert [job.job_id for job in resumed] == [first.job_id]
        worker = runtime.get_worker(resumed[0].worker_id)
        runtime.post(_pairs(), "pair", "inp", "B", worker_id=worker.worker_id)
        assert pairs.ran.wait(5)
    assert list(worker.state.shared_log) == [["A", "B"]]
    with Runtime(thread_pool_size=1, store=path) as runtime:
        assert runtime.resume(flows={"pairs": _pairs()}) == []  # consumed: nothing waits


def test_a_batch_of_two_jobs_data_marks_both_consumed_in_their_own_jobs(
    store_spec: str,
) -> None:
    flow = _pairs()
    with Runtime(thread_pool_size=1, store=store_spec) as runtime:
        _, first = runtime.post(flow, "pair", "inp", "A")
        assert first.wait(5)  # done, its data waiting for a partner
        _, second = runtime.post(flow, "pair", "inp", "B", worker_id=first.worker_id)
        assert second.wait(5)
        assert runtime.store is not None
        items = {
            item.data: item.consumed_by
            for job in (first, second)
            for item in runtime.store.items(job.job_id)
        }
    assert set(items) == {"A", "B"}
    assert None not in items.values()  # each in its own job's rows, both consumed
    with Runtime(thread_pool_size=1, store=store_spec) as runtime:
        assert runtime.resume(flows={"pairs": _pairs()}) == []


def test_state_written_outside_logic_is_stored_too(store_spec: str) -> None:
    path = store_spec
    with Runtime(thread_pool_size=1, store=path) as runtime:
        state, job = runtime.post(_total(), "total", "inp", 1)
        assert job.wait(5)
        state.shared_data["config"] = {"mode": "fast"}
        del state.shared_data["config"]
        state.shared_data[7] = "seven"
        state.set_routine_state("total", {"n": 10})
    with Runtime(thread_pool_size=1, store=path) as runtime:
        flow = _total()
        runtime.debug(flow).pause()
        runtime.post(flow, "total", "inp", 1)
    with Runtime(thread_pool_size=1, store=path) as runtime:
        (resumed,) = runtime.resume(flows={"total": _total()})
        assert resumed.wait(5)
        state = runtime.get_worker(resumed.worker_id).state
        assert dict(state.shared_data) == {7: "seven"}
        assert state.get_routine_state("total") == {"n": 11}
