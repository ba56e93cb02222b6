"""Seed 001's save-and-resume snippet: exec() returns a state, it is saved, loaded, and a
new exec() starts from it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from routilux import ConfigurationError, Flow, FlowRegistry, Routine, Runtime


class Count(Routine):
    """Adds each input to a running total in its routine state and logs it."""

    def __init__(self) -> None:
        super().__init__()
        self.add_slot("input")

    def logic(self, input: list[Any], policy_message: Any, worker_state: Any) -> None:
        with worker_state.lock:
            total = worker_state.get_routine_state("count", {"total": 0})["total"]
            total += sum(point["n"] for point in input)
            worker_state.set_routine_state("count", {"total": total})
            worker_state.shared_log.append(total)
            worker_state.shared_data["last"] = input[-1]["n"]


@pytest.fixture
def my_flow() -> Flow:
    flow = Flow("my_flow")
    flow.add_routine(Count(), "count")
    FlowRegistry.get_instance().register_by_name("my_flow", flow)
    return flow


def test_the_seed_snippet_saves_and_resumes_a_worker_state(tmp_path: Path, my_flow: Flow) -> None:
    path = tmp_path / "state.json"
    runtime = Runtime(thread_pool_size=10)
    job_state = runtime.exec("my_flow")
    for n in (1, 2, 3):
        runtime.post("my_flow", "count", "input", {"n": n})
    assert runtime.wait_until_all_jobs_finished(5)

    # Save job state
    job_state.save(str(path))

    # Resume from saved state
    from routilux.job_state import JobState

    saved_state = JobState.load(str(path))
    resumed = runtime.exec("my_flow", job_state=saved_state)
    assert resumed is not job_state
    assert resumed.get_routine_state("count") == {"total": 6}
    assert list(resumed.shared_log) == [1, 3, 6]
    assert dict(resumed.shared_data) == {"last": 3}
    runtime.post("my_flow", "count", "input", {"n": 4}, worker_id=resumed.worker_id)
    assert runtime.wait_until_all_jobs_finished(5)
    assert resumed.get_routine_state("count") == {"total": 10}
    runtime.shutdown()


def test_worker_state_keyword_and_a_state_of_another_flow(tmp_path: Path, my_flow: Flow) -> None:
    other = Flow("other")
    other.add_routine(Count(), "count")
    with Runtime(thread_pool_size=1) as runtime:
        state = runtime.exec(other, entry_params={"n": 5})
        assert runtime.wait_until_all_jobs_finished(5)
        state.save(tmp_path / "other.json")
        from routilux import WorkerState

        loaded = WorkerState.load(tmp_path / "other.json")
        again = runtime.exec(other, worker_state=loaded, entry_params={"n": 1})
        assert runtime.wait_until_all_jobs_finished(5)
        assert again.get_routine_state("count") == {"total": 6}
        with pytest.raises(ConfigurationError, match="belongs to flow 'other'"):
            runtime.exec("my_flow", worker_state=loaded)
        with pytest.raises(ConfigurationError, match="not both"):
            runtime.exec(other, worker_state=loaded, job_state=loaded)
        with pytest.raises(TypeError, match="WorkerState or a JobState"):
            runtime.exec(other, worker_state={"shared_log": []})  # type: ignore[arg-type]
