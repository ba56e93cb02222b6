"""JobState files: atomic saves, strict loads, and a round trip through a runtime."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from routilux import Runtime, SerializationError
from routilux.job_state import JobState, QueuedData
from tests.store.store_flows import fanout_flow, ring_flow


def _state() -> JobState:
    state = JobState("ring", "job-1", "running")
    state.metadata = {"user": "ada"}
    state.queued.append(QueuedData("r3", "inp", {"n": 5}))
    state.routine_states = {"r0": {"runs": 2}}
    return state


def test_a_saved_job_state_loads_back_equal(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    _state().save(path)
    loaded = JobState.load(path)
    assert loaded.serialize() == _state().serialize()
    assert list(tmp_path.iterdir()) == [path]  # no temporary file left behind


def test_a_truncated_file_raises_serialization_error_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    _state().save(path)
    path.write_bytes(path.read_bytes()[:40])
    with pytest.raises(SerializationError, match=r"state\.json is not valid JSON"):
        JobState.load(path)


@pytest.mark.parametrize(
    "payload",
    [
        {"_type": "callable", "callable_type": "function", "module": "os", "name": "system"},
        {"_type": "lambda_expression", "expression": "__import__('os')"},
        {"_type": "NobodyRegisteredThis", "x": 1},
    ],
)
def test_loading_refuses_code_and_unregistered_types_without_importing_them(
    tmp_path: Path, payload: dict[str, str]
) -> None:
    path = tmp_path / "state.json"
    document = _state().serialize()
    document["queued"][0]["data"] = payload
    path.write_text(json.dumps(document))
    with pytest.raises(SerializationError, match=r"state\.json: \$\.queued\[0\]\.data"):
        JobState.load(path)


def test_a_failed_save_leaves_the_existing_file_untouched(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    _state().save(path)
    good = path.read_bytes()
    broken = _state()
    broken.queued.append(QueuedData("r1", "inp", {"when": object()}))
    with pytest.raises(SerializationError, match="state.json"):
        broken.save(path)
    assert path.read_bytes() == good
    assert list(tmp_path.iterdir()) == [path]


def test_a_job_state_from_a_store_restores_and_finishes_the_job(tmp_path: Path) -> None:
    with Runtime(thread_pool_size=1, store=tmp_path / "jobs.db") as runtime:
        flow = ring_flow("ring", None)
        worker = runtime.start_worker(flow)
        worker.pause()
        job = worker.post("r0", "inp", {"n": 9})
        for _ in range(4):
            worker.step(timeout=5)
        assert runtime.store is not None
        JobState.from_store(runtime.store, job.job_id).save(tmp_path / "state.json")
        worker.stop()

    state = JobState.load(tmp_path / "state.json")
    assert [q.data for q in state.queued] == [{"n": 5}]
    assert [h.routine_id for h in state.history] == ["r0", "r1", "r2", "r3"]
    with Runtime(thread_pool_size=1) as runtime:
        restored = state.restore(runtime, ring_flow("ring", None))
        assert restored.wait(5)
        worker = runtime.get_worker(restored.worker_id)
        assert worker.state.get_routine_state("r3") == {"runs": 1}
        assert worker.state.get_routine_state("r4") == {"runs": 1}
        assert str(restored.status) == "completed"


def test_capture_takes_a_paused_jobs_queues_and_states() -> None:
    with Runtime(thread_pool_size=1) as runtime:
        worker = runtime.start_worker(fanout_flow("fan", None))
        worker.pause()
        job = worker.post("src", "inp", {"n": 2})
        worker.step(timeout=5)
        state = JobState.capture(worker, job)
        worker.stop()
    assert sorted((q.routine_id, q.data["i"]) for q in state.queued) == [
        ("double", 0),
        ("double", 1),
        ("inc", 0),
        ("inc", 1),
    ]


def test_capture_names_what_it_needs_when_given_something_else() -> None:
    with Runtime(thread_pool_size=1) as runtime:
        state, job = runtime.post(ring_flow("ring", None), "r0", "inp", {"n": 0})
        assert job.wait(5)
        worker = runtime.get_worker(state.worker_id)
        with pytest.raises(TypeError, match=r"Worker first \(runtime.get_worker"):
            JobState.capture(state, job)  # type: ignore[arg-type]  # the WorkerState
        with pytest.raises(TypeError, match="JobContext .* got str"):
            JobState.capture(worker, job.job_id)  # type: ignore[arg-type]
        assert JobState.capture(worker, job).job_id == job.job_id
