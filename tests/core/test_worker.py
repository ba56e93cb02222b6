"""Worker's public face: inspect(), locked(), and reads that are safe inside it."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from routilux import Flow, JobStatus, Observer, Routine, Runtime
from routilux.activation_policies import batch_size_policy
from routilux.core import HOLD, QueueView, WorkerView
from tests.flows import Collect, chain


class HoldFirst(Observer):
    """Parks the first activation of ``routine_id``, then lets everything run."""

    def __init__(self, routine_id: str) -> None:
        self.routine_id = routine_id
        self.held = False

    def activation_starting(self, worker: Any, record: Any) -> Any:
        if record.routine_id == self.routine_id and not self.held:
            self.held = True
            return HOLD
        return None


def test_inspect_reads_held_activation_queues_jobs_and_counters_together() -> None:
    flow = chain("inspected", 2)
    with Runtime(thread_pool_size=1) as runtime:
        worker = runtime.start_worker(flow)
        worker.add_observer(HoldFirst("r1"))
        _, job = runtime.post(flow, "r0", "input", {"n": 0})
        assert worker.wait_until_quiet(5)
        view = worker.inspect()
        assert isinstance(view, WorkerView)
        assert view.paused
        assert [a.routine_id for a in view.held] == ["r1"]
        assert view.held[0].inputs == {"input": [{"n": 1}]}
        assert view.jobs == (job,)
        assert view.stats["r0"].activations == 1
        assert view.stats["r1"].activations == 0
        assert view.queues["sink"]["input"] == QueueView(0, ())
        worker.resume()
        assert job.wait(5)
        after = worker.inspect()
        assert after.stats["sink"].activations == 1
        assert after.jobs == ()


def test_inspect_copies_at_most_max_items_per_slot_and_tells_the_length() -> None:
    flow = Flow("big")
    sink = Collect()
    sink.set_activation_policy(batch_size_policy(10_000))  # never runs here
    flow.add_routine(sink, "sink")
    with Runtime(thread_pool_size=1) as runtime:
        worker = runtime.start_worker(flow)
        for n in range(500):
            worker.post("sink", "input", {"n": n})
        view = worker.inspect(max_items=3).queues["sink"]["input"]
        assert view.length == 500
        assert [item.data["n"] for item in view.items] == [0, 1, 2]
        assert view.truncated
        assert worker.inspect(max_items=None).queues["sink"]["input"].length == 500
        assert worker.inspect().queued_count == 500
        with pytest.raises(ValueError, match="max_items"):
            worker.inspect(max_items=-1)


def test_reads_inside_locked_do_not_deadlock() -> None:
    flow = chain("locked", 1)
    with Runtime(thread_pool_size=1) as runtime:
        worker = runtime.start_worker(flow)
        worker.pause()
        runtime.post(flow, "r0", "input", {"n": 0})
        finished = threading.Event()

        def read_inside() -> None:
            with worker.locked():
                assert len(worker.jobs) == 1
                assert worker.held == []
                assert worker.inspect().queues["r0"]["input"].length == 1
                assert worker.queued()["r0"]["input"] == [{"n": 0}]
            finished.set()

        reader = threading.Thread(target=read_inside)
        reader.start()
        reader.join(5)
        assert finished.is_set(), "a read inside worker.locked() deadlocked"


def test_a_routine_counts_its_failures() -> None:
    class Fails(Routine):
        def __init__(self) -> None:
            super().__init__()
            self.add_slot("input")

        def logic(self, input: list[Any], policy_message: Any, worker_state: Any) -> None:
            raise ValueError("no")

    flow = Flow("failing")
    flow.add_routine(Fails(), "f")
    with Runtime(thread_pool_size=1) as runtime:
        worker = runtime.start_worker(flow)
        jobs = [worker.post("f", "input", {"n": n}) for n in range(3)]
        assert all(job.wait(5) for job in jobs)
        assert {job.status for job in jobs} == {JobStatus.FAILED}
        stats = worker.inspect().stats["f"]
        assert (stats.activations, stats.failures) == (3, 3)


def test_inspect_copies_at_most_max_jobs_and_counts_them_all() -> None:
    flow = chain("many-jobs", 1)
    with Runtime(thread_pool_size=1) as runtime:
        worker = runtime.start_worker(flow)
        worker.pause()
        jobs = [worker.post("r0", "input", {"n": n}) for n in range(300)]
        view = worker.inspect(max_items=0, max_jobs=5)
        assert view.job_count == 300
        assert view.jobs == tuple(jobs[:5])
        assert len(worker.inspect(max_items=0).jobs) == 300
        with pytest.raises(ValueError, match="max_jobs"):
            worker.inspect(max_jobs=-2)


def test_routine_state_calls_refuse_a_bad_id_or_value_and_change_nothing() -> None:
    with Runtime(thread_pool_size=1) as runtime:
        state, job = runtime.post(chain("states", 1), "r0", "input", {"n": 0})
        assert job.wait(5)
        state.set_routine_state("r0", {"runs": 1})
        with pytest.raises(TypeError, match="a routine's state must be a dict, got int 5"):
            state.set_routine_state("r0", 5)  # type: ignore[arg-type]
        with pytest.raises(TypeError, match="a routine's updates must be a dict, got str"):
            state.update_routine_state("r0", "runs")  # type: ignore[arg-type]
        with pytest.raises(TypeError, match="routine_id must be a non-empty string, got None"):
            state.update_routine_state(None, {"runs": 2})  # type: ignore[arg-type]
        assert state.routine_states == {"r0": {"runs": 1}}


def test_a_post_refuses_a_bad_job_id_or_metadata_and_the_id_of_a_running_job() -> None:
    with Runtime(thread_pool_size=1) as runtime:
        flow = chain("ids", 1)
        worker = runtime.start_worker(flow)
        worker.pause()  # the first job stays unfinished
        _, running = runtime.post(flow, "r0", "input", {"n": 0}, job_id="order-1")
        with pytest.raises(ValueError, match="job_id 'order-1' is taken: an unfinished job"):
            runtime.post(flow, "r0", "input", {"n": 1}, job_id="order-1")
        with pytest.raises(TypeError, match="got int"):  # the compiled build checks first
            runtime.post(flow, "r0", "input", {"n": 1}, job_id=7)  # type: ignore[arg-type]
        with pytest.raises(TypeError, match="dict.* got list"):
            runtime.post(flow, "r0", "input", {"n": 1}, metadata=[("a", 1)])  # type: ignore[arg-type]
        assert [job.job_id for job in worker.jobs] == ["order-1"]
        worker.resume()
        assert running.wait(5)
        _, again = runtime.post(flow, "r0", "input", {"n": 2}, job_id="order-1")  # it finished
        assert again.wait(5)


def test_inject_refuses_a_job_that_is_not_an_unfinished_job_of_the_worker() -> None:
    with Runtime(thread_pool_size=1) as runtime:
        flow = chain("inject", 1)
        worker = runtime.start_worker(flow)
        _, done = runtime.post(flow, "r0", "input", {"n": 0})
        assert done.wait(5)
        worker.pause()
        with pytest.raises(TypeError, match="JobContext .*got int"):  # both builds
            worker.inject("r0", "input", {"n": 1}, 5)  # type: ignore[arg-type]
        with pytest.raises(ValueError, match="is not an unfinished job of worker .* completed"):
            worker.inject("r0", "input", {"n": 1}, done)
        assert worker.queued()["r0"]["input"] == []  # nothing was queued


def test_a_worker_refuses_a_non_observer_and_keeps_working() -> None:
    with Runtime(thread_pool_size=1) as runtime:
        flow = chain("observed", 1)
        worker = runtime.start_worker(flow)
        with pytest.raises(TypeError, match="observer must be an Observer, got int"):
            worker.add_observer(5)  # type: ignore[arg-type]
        worker.refresh_hooks()  # nothing half-added to trip over
        _, job = runtime.post(flow, "r0", "input", {"n": 0})
        assert job.wait(5)
        assert job.status is JobStatus.COMPLETED


def test_cancel_job_takes_a_job_of_the_worker() -> None:
    with Runtime(thread_pool_size=1) as runtime:
        first, second = chain("one", 1), chain("two", 1)
        one, two = runtime.start_worker(first), runtime.start_worker(second)
        two.pause()
        _, waiting = runtime.post(second, "r0", "input", {"n": 0})
        with pytest.raises(
            ValueError, match=f"not a job of worker {one.worker_id} .*{two.worker_id}"
        ):
            one.cancel_job(waiting)
        with pytest.raises(TypeError, match="JobContext.* got str"):
            one.cancel_job(waiting.job_id)  # type: ignore[arg-type]
        assert not waiting.is_finished
        two.cancel_job(waiting)
        assert waiting.wait(5)
        assert waiting.status is JobStatus.CANCELLED
        two.cancel_job(waiting)  # finished: left as it is
        assert runtime.wait_until_all_jobs_finished(5)
