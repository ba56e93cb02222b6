"""What the SQLite store records for a job, and how it opens."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

from routilux import ConfigurationError, Flow, Routine, Runtime, SerializationError, SqliteStore
from tests.flows import Collect
from tests.store.store_flows import Step, ring_flow


def test_the_store_is_created_on_first_use_in_wal_mode(tmp_path: Path) -> None:
    path = tmp_path / "new" / "jobs.db"
    path.parent.mkdir()
    with SqliteStore(path):
        pass
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    finally:
        conn.close()


def test_a_file_that_is_not_a_store_raises_serialization_error_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "jobs.db"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(SerializationError, match="jobs.db"):
        SqliteStore(path)
    assert path.read_bytes() == b"this is not sqlite" * 100


def test_each_activation_is_one_checkpoint_with_inputs_outputs_and_state(store_spec: str) -> None:
    with Runtime(thread_pool_size=1, store=store_spec) as runtime:
        _, job = runtime.post(
            ring_flow("ring", None, size=3), "r0", "inp", {"n": 3}, metadata={"u": 1}
        )
        assert job.wait(5)
        store = runtime.store
        assert store is not None
        history = store.history(job.job_id)
        items = store.items(job.job_id)
        row = store.job(job.job_id)

    assert [a.step for a in history] == [1, 2, 3, 4]
    assert [a.routine_id for a in history] == ["r0", "r1", "r2", "r0"]
    assert [a.emitted for a in history] == [[["out", {"n": n}]] for n in (2, 1, 0)] + [[]]
    assert [a.routine_state for a in history] == [{"runs": 1}] * 3 + [{"runs": 2}]
    assert [(i.data, i.produced_by, i.consumed_by) for i in items] == [
        ({"n": 3}, None, 1),
        ({"n": 2}, 1, 2),
        ({"n": 1}, 2, 3),
        ({"n": 0}, 3, 4),
    ]
    assert [a.inputs for a in history] == [[i.item_id] for i in items]
    assert (row.status, row.metadata, row.flow_name) == ("completed", {"u": 1}, "ring")


class _EmitsSeveral(Routine):
    """Emits to an event with two targets, to one with none, and to the first again."""

    def __init__(self) -> None:
        super().__init__()
        self.add_slot("inp")
        self.add_event("wide", ["text", "nested"])
        self.add_event("unheard", ["x"])

    def logic(self, inp: list[Any], policy_message: Any, worker_state: Any) -> None:
        self.emit("wide", text="crème brûlée", nested=[1, {"k": None, "q": '"quoted"'}])
        self.emit("unheard", x=1.5)
        self.emit("wide", text="", nested=[])


def test_the_history_keeps_every_emit_and_every_target_gets_its_data(store_spec: str) -> None:
    flow = Flow("several")
    flow.add_routine(_EmitsSeveral(), "src")
    flow.add_routine(Collect(), "left")
    flow.add_routine(Collect(), "right")
    flow.connect("src", "wide", "left", "input")
    flow.connect("src", "wide", "right", "input")
    with Runtime(thread_pool_size=1, store=store_spec) as runtime:
        _, job = runtime.post(flow, "src", "inp", {})
        assert job.wait(10)
        store = runtime.store
        assert store is not None
        [src, *sinks] = store.history(job.job_id)
        items = store.items(job.job_id)

    first = {"text": "crème brûlée", "nested": [1, {"k": None, "q": '"quoted"'}]}
    second: dict[str, Any] = {"text": "", "nested": []}
    assert src.emitted == [["wide", first], ["unheard", {"x": 1.5}], ["wide", second]]
    assert sorted(a.routine_id for a in sinks) == ["left", "left", "right", "right"]
    emitted = [(i.routine_id, i.data) for i in items if i.produced_by is not None]
    assert sorted(emitted, key=repr) == sorted(
        [("left", first), ("right", first), ("left", second), ("right", second)], key=repr
    )


class _EmitsAnObject(Routine):
    def __init__(self) -> None:
        super().__init__()
        self.add_slot("inp")
        self.add_event("out", ["value"])

    def logic(self, inp: list[Any], policy_message: Any, worker_state: Any) -> None:
        self.emit("out", value=object())


def test_data_that_is_not_json_fails_the_job_with_an_error_naming_the_routine(
    tmp_path: Path,
) -> None:
    flow = Flow("objects")
    flow.add_routine(_EmitsAnObject(), "maker")
    flow.add_routine(Step(), "taker")
    flow.connect("maker", "out", "taker", "inp")
    with Runtime(thread_pool_size=1, store=tmp_path / "jobs.db") as runtime:
        with pytest.raises(SerializationError, match="routine 'maker' slot 'inp'"):
            runtime.post(flow, "maker", "inp", {"bad": {1, 2}})
        _, job = runtime.post(flow, "maker", "inp", {})
        assert job.wait(5)
    assert str(job.status) == "failed"
    assert isinstance(job.error.__cause__, SerializationError)
    assert "routine 'maker' emitted to 'taker' slot 'inp'" in str(job.error.__cause__)


def test_a_store_reopened_after_a_run_lists_no_unfinished_jobs(tmp_path: Path) -> None:
    with Runtime(thread_pool_size=1, store=tmp_path / "jobs.db") as runtime:
        _, job = runtime.post(ring_flow("ring", None), "r0", "inp", {"n": 5})
        assert job.wait(5)
    with SqliteStore(tmp_path / "jobs.db") as store:
        assert [j.job_id for j in store.jobs()] == [job.job_id]
        assert store.jobs(unfinished=True) == []


def test_a_store_of_schema_1_is_migrated_in_place_and_keeps_its_jobs(tmp_path: Path) -> None:
    path = tmp_path / "jobs.db"
    with Runtime(thread_pool_size=1, store=path) as runtime:
        _, job = runtime.post(ring_flow("ring", None, size=2), "r0", "inp", {"n": 1})
        assert job.wait(5)
    conn = sqlite3.connect(path)
    try:  # what routilux wrote before dropped data was recorded
        conn.execute("DROP TRIGGER posts_insert")
        conn.execute("DROP VIEW posts")
        conn.execute("ALTER TABLE items DROP COLUMN dropped_after")
        conn.execute("ALTER TABLE jobs DROP COLUMN owner")
        conn.execute("ALTER TABLE jobs DROP COLUMN lease_until")
        conn.execute("UPDATE meta SET value = '1' WHERE key = 'schema'")
        conn.commit()
    finally:
        conn.close()

    with SqliteStore(path) as store:
        assert [i.dropped_after for i in store.items(job.job_id)] == [None, None]
        assert len(store.history(job.job_id)) == 2
    with SqliteStore(path) as store:  # opens again without migrating twice
        assert store.jobs()[0].status == "completed"


def test_a_post_is_one_statement_for_sqlite(tmp_path: Path) -> None:
    """A post commits before post() returns: one statement, no BEGIN and COMMIT around it."""
    flow = ring_flow("ring", None, size=2)
    with Runtime(thread_pool_size=1, store=tmp_path / "jobs.db") as runtime:
        runtime.get_worker(runtime.exec(flow).worker_id).pause()  # the job waits, unrun
        assert isinstance(runtime.store, SqliteStore)
        statements: list[str] = []
        runtime.store._conn.set_trace_callback(statements.append)
        _, job = runtime.post(flow, "r0", "inp", {"n": 1}, metadata={"who": "test"})
        runtime.store._conn.set_trace_callback(None)
        row = runtime.store.job(job.job_id)
        items = runtime.store.items(job.job_id)
    # (SQLite traces the statement again for each statement of the trigger it runs.)
    assert {s.split(" (")[0] for s in statements} == {"INSERT INTO posts VALUES"}
    assert (row.flow_name, row.status, row.metadata) == ("ring", "running", {"who": "test"})
    assert [(i.routine_id, i.slot, i.data, i.produced_by) for i in items] == [
        ("r0", "inp", {"n": 1}, None)
    ]


def test_a_store_of_an_unknown_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "jobs.db"
    with SqliteStore(path):
        pass
    conn = sqlite3.connect(path)
    try:
        conn.execute("UPDATE meta SET value = '99' WHERE key = 'schema'")
        conn.commit()
    finally:
        conn.close()
    with pytest.raises(ConfigurationError, match="schema 99"):
        SqliteStore(path)
