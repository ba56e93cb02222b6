"""State files (JobState, WorkerState): every failure is a SerializationError naming the file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from routilux import Runtime, SerializationError, WorkerState
from routilux.job_state import JobState, QueuedData
from tests.store.store_flows import ring_flow


def _deep(levels: int) -> Any:
    value: Any = 0
    for _ in range(levels):
        value = [value]
    return value


def _self_referencing() -> dict[str, Any]:
    loop: dict[str, Any] = {}
    loop["me"] = loop
    return loop


SAVE_FAULTS = {
    "nan": (float("nan"), r"\$.+ is nan"),
    "infinity": (1e999, r"\$.+ is inf"),
    "self-reference": (_self_referencing(), "contains itself"),
    "deep nesting": (_deep(1_000), "nested more than 900 levels"),
    "huge integer": (10**5000, "over 4,300 digits"),
    "int key": ({1: 2}, r"has the key 1 \(int\)"),
    "object": (object(), "not plain data"),
}


@pytest.mark.parametrize("fault", SAVE_FAULTS)
def test_saving_a_job_state_with_bad_data_names_the_file_and_the_value(
    tmp_path: Path, fault: str
) -> None:
    value, message = SAVE_FAULTS[fault]
    path = tmp_path / "state.json"
    state = JobState("flow", "job")
    state.routine_states = {"r": {"v": value}}
    with pytest.raises(SerializationError, match="state.json") as caught:
        state.save(path)
    assert caught.match(message)
    assert not path.exists()


@pytest.mark.parametrize("fault", SAVE_FAULTS)
def test_saving_a_worker_state_with_bad_data_names_the_file_and_the_value(
    tmp_path: Path, fault: str
) -> None:
    value, message = SAVE_FAULTS[fault]
    path = tmp_path / "state.json"
    state = WorkerState("w", "flow")
    state.shared_data["bad"] = value
    with pytest.raises(SerializationError, match="state.json") as caught:
        state.save(path)
    assert caught.match(message)
    assert not path.exists()


def test_saving_into_a_missing_directory_says_so(tmp_path: Path) -> None:
    path = tmp_path / "nowhere" / "state.json"
    for state in (JobState("flow", "job"), WorkerState("w", "flow")):
        with pytest.raises(SerializationError, match=r"nowhere.*does not exist"):
            state.save(path)


def _job_document() -> dict[str, Any]:
    state = JobState("ring", "job-1", "running")
    state.queued.append(QueuedData("r1", "inp", {"n": 5}))
    return state.serialize()


def _with(change: Any) -> str:
    document = _job_document()
    change(document)
    return json.dumps(document)


LOAD_FAULTS = {
    "non-string type tag": (
        _with(lambda d: d["queued"].__setitem__(0, {"_type": 5})),
        r"_type is 5; a type tag is a string",
    ),
    "deep nesting": (
        _with(lambda d: d["metadata"].__setitem__("x", "NEST")).replace(
            '"NEST"', "[" * 2_000 + "]" * 2_000
        ),
        "nested",
    ),
    "huge integer": (
        _with(lambda d: d["metadata"].__setitem__("x", 0)).replace('"x": 0', '"x": ' + "9" * 5_000),
        "digits",
    ),
    "nan": (
        _with(lambda d: d["metadata"].__setitem__("x", 0)).replace('"x": 0', '"x": NaN'),
        "NaN",
    ),
    "flow name not a string": (
        _with(lambda d: d.__setitem__("flow_name", 5)),
        r"\$.flow_name is int, expected str",
    ),
    "queued not a list": (
        _with(lambda d: d.__setitem__("queued", "x")),
        r"\$.queued is str, expected list",
    ),
    "slot not a string": (
        _with(lambda d: d["queued"][0].__setitem__("slot", ["inp"])),
        r"\$.queued\[0\].slot is list, expected str",
    ),
    "not a job state": ("[1, 2]", "does not hold a JobState"),
    "truncated": (json.dumps(_job_document())[:30], "not valid JSON"),
}


@pytest.mark.parametrize("fault", LOAD_FAULTS)
def test_loading_a_bad_job_state_names_the_file_and_the_problem(tmp_path: Path, fault: str) -> None:
    text, message = LOAD_FAULTS[fault]
    path = tmp_path / "state.json"
    path.write_text(text)
    with pytest.raises(SerializationError, match="state.json") as caught:
        JobState.load(path)
    assert caught.match(message)


def test_loading_a_missing_file_names_it(tmp_path: Path) -> None:
    with pytest.raises(SerializationError, match="missing.json"):
        JobState.load(tmp_path / "missing.json")
    with pytest.raises(SerializationError, match="missing.json"):
        WorkerState.load(tmp_path / "missing.json")


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("shared_data", {"a": 1}, "shared_data is dict, expected list"),
        ("routine_states", {"r": [1]}, r"routine_states.r is list, expected dict"),
        ("jobs_completed", "3", "jobs_completed is str, expected int"),
        ("format", 99, "format 99"),
    ],
)
def test_loading_a_worker_state_with_wrong_fields_says_which(
    tmp_path: Path, field: str, value: Any, message: str
) -> None:
    path = tmp_path / "state.json"
    WorkerState("w", "flow").save(path)
    document = json.loads(path.read_text())
    document[field] = value
    path.write_text(json.dumps(document))
    with pytest.raises(SerializationError, match="state.json") as caught:
        WorkerState.load(path)
    assert caught.match(message)


def test_a_worker_state_saves_and_loads_back_equal(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    state = WorkerState("w", "flow")
    state.set_routine_state("r", {"runs": 2, "seen": ["a"]})
    state.shared_data.update({"k": {"x": 1}, 7: "seven"})
    state.shared_log.extend(["a ran", {"b": 2}])
    state.save(path)
    loaded = WorkerState.load(path)
    assert (loaded.worker_id, loaded.flow_name) == ("w", "flow")
    assert loaded.routine_states == {"r": {"runs": 2, "seen": ["a"]}}
    assert dict(loaded.shared_data) == {"k": {"x": 1}, 7: "seven"}
    assert list(loaded.shared_log) == ["a ran", {"b": 2}]
    assert list(tmp_path.iterdir()) == [path]  # no temporary file left behind


def test_the_seed_resume_snippet_saves_the_worker_state_and_loads_it_back(
    tmp_path: Path,
) -> None:
    path = tmp_path / "state.json"
    flow = ring_flow("ring", None, size=3)
    with Runtime(thread_pool_size=1) as runtime:
        job_state = runtime.exec(flow)
        _, job = runtime.post(flow, "r0", "inp", {"n": 4}, worker_id=job_state.worker_id)
        assert job.wait(5)
        job_state.save(str(path))  # as seed 001 writes it

    saved_state = JobState.load(str(path))
    assert isinstance(saved_state, WorkerState)
    with Runtime(thread_pool_size=1) as runtime:
        fresh = runtime.exec(ring_flow("ring", None, size=3))
        saved_state.copy_into(fresh)
        assert fresh.routine_states == {"r0": {"runs": 2}, "r1": {"runs": 2}, "r2": {"runs": 1}}
