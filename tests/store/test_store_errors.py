"""A store says accurately what is wrong with a file, and a failed write fails its job."""

from __future__ import annotations

import os
import sqlite3
import stat
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from routilux import (
    ErrorHandler,
    ErrorStrategy,
    Flow,
    Routine,
    Runtime,
    SerializationError,
    SqliteStore,
)
from routilux.store.errors import (
    CommitError,
    CorruptStoreError,
    ForeignStoreError,
    StoreLockedError,
    StoreReadOnlyError,
)
from tests.store.store_flows import Step, ring_flow


def _a_finished_job(path: Path) -> str:
    with Runtime(thread_pool_size=1, store=path) as runtime:
        _, job = runtime.post(ring_flow("ring", None, size=2), "r0", "inp", {"n": 2})
        assert job.wait(5)
    return job.job_id


def test_another_applications_sqlite_file_is_refused_and_left_byte_identical(
    tmp_path: Path,
) -> None:
    path = tmp_path / "app.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)")
    conn.execute("INSERT INTO users (name) VALUES ('ada')")
    conn.commit()
    conn.close()
    before = path.read_bytes()

    with pytest.raises(ForeignStoreError, match="another application.*users"):
        SqliteStore(path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["app.db"]


def test_a_file_that_is_not_sqlite_is_reported_as_corrupt(tmp_path: Path) -> None:
    path = tmp_path / "jobs.db"
    path.write_bytes(b"definitely not a database" * 100)
    with pytest.raises(CorruptStoreError, match="jobs.db"):
        SqliteStore(path)


def test_a_store_locked_by_another_writer_says_so(tmp_path: Path) -> None:
    path = tmp_path / "jobs.db"
    SqliteStore(path).close()
    holder = sqlite3.connect(path, isolation_level=None, timeout=0)
    holder.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(StoreLockedError, match="write lock"):
            # A short busy timeout keeps the test quick; the default waits 5 s.
            _open_with_busy_timeout(path, 50)
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def _open_with_busy_timeout(path: Path, ms: int) -> SqliteStore:
    from routilux.store import _schema

    pragmas = _schema.PRAGMAS
    _schema.PRAGMAS = tuple(
        p if "busy_timeout" not in p else f"PRAGMA busy_timeout={ms}" for p in pragmas
    )
    try:
        return SqliteStore(path)
    finally:
        _schema.PRAGMAS = pragmas


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes read-only files anyway")
def test_a_read_only_store_opens_for_reading(tmp_path: Path) -> None:
    path = tmp_path / "jobs.db"
    job_id = _a_finished_job(path)
    path.chmod(stat.S_IRUSR)
    tmp_path.chmod(stat.S_IRUSR | stat.S_IXUSR)
    try:
        with SqliteStore(path) as store:
            assert store.read_only
            assert len(store.history(job_id)) == 3
    finally:
        tmp_path.chmod(stat.S_IRWXU)
        path.chmod(stat.S_IRUSR | stat.S_IWUSR)


def test_a_store_opened_read_only_reads_and_refuses_to_record(tmp_path: Path) -> None:
    path = tmp_path / "jobs.db"
    job_id = _a_finished_job(path)
    with SqliteStore(path, read_only=True) as store:
        assert [j.job_id for j in store.jobs()] == [job_id]
        assert len(store.history(job_id)) == 3
        with Runtime(thread_pool_size=1, store=store) as runtime:
            _, job = runtime.post(ring_flow("ring", None, size=2), "r0", "inp", {"n": 1})
            assert job.wait(5)
    assert str(job.status) == "failed"
    assert isinstance(job.error, CommitError)
    assert isinstance(job.error.__cause__, StoreReadOnlyError)


def test_a_commit_that_fails_fails_its_job_with_the_cause(
    store_spec: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with Runtime(thread_pool_size=1, store=store_spec) as runtime:
        store = runtime.store
        assert store is not None
        flow = ring_flow("ring", None, size=3)
        _, ok = runtime.post(flow, "r0", "inp", {"n": 0})
        assert ok.wait(5)
        real = store.write_batch

        def failing(batch: Any) -> None:
            if batch.rows and any(row[0] is not None for row in batch.rows):
                raise sqlite3.OperationalError("disk I/O error")
            real(batch)

        monkeypatch.setattr(store, "write_batch", failing)
        _, job = runtime.post(flow, "r0", "inp", {"n": 5})
        assert job.wait(5)

    assert str(job.status) == "failed"
    assert isinstance(job.error, CommitError)
    assert "disk I/O error" in str(job.error)


class _Slow(Routine):
    def __init__(self) -> None:
        super().__init__()
        self.add_slot("inp")

    def logic(self, inp: list[Any], policy_message: Any, worker_state: Any) -> None:
        time.sleep(0.02)  # finishes after post() returned: committed in the background


class _Abort(BaseException):
    pass


def test_a_base_exception_in_a_background_commit_fails_the_job_and_commits_go_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    flow = Flow("slow")
    flow.add_routine(_Slow(), "slow")
    with Runtime(thread_pool_size=1, store=tmp_path / "jobs.db") as runtime:
        store = runtime.store
        assert store is not None
        real = store.write_batch
        broken = [True]

        def failing(batch: Any) -> None:
            in_background = threading.current_thread() is not threading.main_thread()
            if broken[0] and in_background and any(row[3] is not None for row in batch.rows):
                broken[0] = False
                raise _Abort("the committer was hit")
            real(batch)

        monkeypatch.setattr(store, "write_batch", failing)
        _, first = runtime.post(flow, "slow", "inp", {"n": 1})
        assert first.wait(10)  # never left waiting for a commit that will not come
        _, second = runtime.post(flow, "slow", "inp", {"n": 2})
        assert second.wait(10)

    assert not broken[0]
    assert str(first.status) == "failed"
    assert isinstance(first.error, CommitError)
    assert str(second.status) == "completed"  # the committer went on


class _EmitsASet(Routine):
    def __init__(self) -> None:
        super().__init__()
        self.add_slot("inp")
        self.add_event("out", ["value"])

    def logic(self, inp: list[Any], policy_message: Any, worker_state: Any) -> None:
        self.emit("out", value={1, 2})


@pytest.mark.parametrize("strategy", list(ErrorStrategy))
def test_data_the_store_cannot_hold_fails_the_job_under_every_error_strategy(
    store_spec: str, strategy: ErrorStrategy
) -> None:
    flow = Flow("sets")
    maker = _EmitsASet()
    maker.set_error_handler(ErrorHandler(strategy, max_retries=1, retry_delay=0))
    flow.add_routine(maker, "maker")
    flow.add_routine(Step(), "taker")
    flow.connect("maker", "out", "taker", "inp")
    with Runtime(thread_pool_size=1, store=store_spec) as runtime:
        _, job = runtime.post(flow, "maker", "inp", {})
        assert job.wait(5)
        assert runtime.store is not None
        row = runtime.store.job(job.job_id)
    assert (str(job.status), row.status) == ("failed", "failed")
    assert "routine 'maker' emitted to 'taker' slot 'inp'" in str(job.error)


def test_a_dict_with_int_keys_is_refused_rather_than_changed(tmp_path: Path) -> None:
    with (
        Runtime(thread_pool_size=1, store=tmp_path / "jobs.db") as runtime,
        pytest.raises(SerializationError, match=r"\$ has the key 1 \(int\)"),
    ):
        runtime.post(ring_flow("ring", None, size=2), "r0", "inp", {1: 2})


def _circular() -> dict[str, Any]:
    data: dict[str, Any] = {"items": []}
    data["items"].append(data)
    return data


def _nested(depth: int) -> list[Any]:
    data: list[Any] = []
    for _ in range(depth):
        data = [data]
    return data


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (_circular(), "it contains itself (a circular reference)"),
        ({"x": [1, float("nan")]}, "$.x[1] is nan, which JSON cannot hold"),
        ({"when": object()}, "$.when is a builtins.object, not plain data"),
        ({"deep": _nested(5000)}, "nested more than 900 levels deep"),
    ],
    ids=["circular", "nan", "object", "too-deep"],
)
def test_a_post_the_store_cannot_hold_is_refused_saying_why(
    tmp_path: Path, data: Any, problem: str
) -> None:
    with Runtime(thread_pool_size=1, store=tmp_path / "jobs.db") as runtime:
        with pytest.raises(SerializationError) as refused:
            runtime.post(ring_flow("ring", None, size=2), "r0", "inp", data)
        assert problem in str(refused.value)
        assert "data posted to routine 'r0' slot 'inp'" in str(refused.value)
        assert runtime.store is not None
        assert runtime.store.jobs() == []


def test_stored_data_comes_back_as_it_was_posted(tmp_path: Path) -> None:
    data = {"text": 'é \u2028 "quoted"', "n": [0, -1, 2**70, 2.5, True, None], "empty": {}}
    with Runtime(thread_pool_size=1, store=tmp_path / "jobs.db") as runtime:
        _, job = runtime.post(ring_flow("ring", None, size=2), "r0", "inp", data)
        assert job.wait(5)
        assert runtime.store is not None
        posted = runtime.store.items(job.job_id)[0]
    assert (posted.produced_by, posted.data) == (None, data)


def test_one_corrupt_job_row_is_skipped_and_the_others_resume(tmp_path: Path) -> None:
    path = tmp_path / "jobs.db"
    with Runtime(thread_pool_size=1, store=path) as runtime:
        flow = ring_flow("ring", None, size=2)
        runtime.debug(flow).pause()
        ids = [runtime.post(flow, "r0", "inp", {"n": 1})[1].job_id for _ in range(3)]
    conn = sqlite3.connect(path)
    conn.execute("UPDATE jobs SET metadata = '{broken' WHERE job_id = ?", (ids[0],))
    conn.execute(
        "UPDATE items SET data = '[nope' WHERE job_key = (SELECT job_key FROM jobs "
        "WHERE job_id = ?)",
        (ids[1],),
    )
    conn.commit()
    conn.close()
    with Runtime(thread_pool_size=1, store=path) as runtime:
        resumed = runtime.resume(flows={"ring": ring_flow("ring", None, size=2)})
        assert [job.job_id for job in resumed] == [ids[2]]
        assert resumed[0].wait(5)
