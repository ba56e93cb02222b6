"""The WAL is checkpointed off the commit path and stays bounded while a writer never pauses."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from routilux import SqliteStore
from routilux.store._writes import Batch

FRAME = 1024 + 24  # a WAL frame: its header and one (1 KiB) page


def _commit_items(store: SqliteStore, count: int) -> None:
    """``count`` transactions, each adding one queued item (a few WAL frames each)."""
    key = store.new_job_key()
    for _ in range(count):
        batch = Batch()
        uid = store.new_act_id()  # any unused number will do as an item id
        batch.rows.append((None, key, 0, *(None,) * 10, None, uid, "r", "inp", "{}"))
        store.write_batch(batch)


def _checkpoint_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("routilux-checkpoint")]


def _wal_size(store: SqliteStore) -> int:
    return Path(f"{store.path}-wal").stat().st_size


def test_a_checkpoint_asked_of_the_writer_starts_the_wal_over(tmp_path: Path) -> None:
    with SqliteStore(tmp_path / "jobs.db") as store:
        store._checkpointer.every = 10**9  # no background thread: only the writer's
        for _ in range(10):
            store._checkpointer._catch_up = True  # what the thread asks for past its limit
            _commit_items(store, 100)
        bounded = _wal_size(store)
        _commit_items(store, 1_000)
        grown = _wal_size(store)

    assert bounded < 100 * 4 * FRAME  # the WAL of about 100 commits
    assert grown > 1_000 * FRAME


def test_the_wal_stays_bounded_and_the_thread_stops_with_the_store(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "jobs.db")
    checkpointer = store._checkpointer
    checkpointer.every, checkpointer.limit = 20, 200
    sizes = []
    for _ in range(1_000):
        _commit_items(store, 10)
        time.sleep(0)  # lets the thread have the GIL when it wants it, no longer
        sizes.append(_wal_size(store))
    assert len(_checkpoint_threads()) == 1
    store.close()

    assert _checkpoint_threads() == []
    # 10,000 commits of 2 frames or more each: without checkpoints the WAL would hold them
    # all. How far past the limit it gets depends on when the thread gets the GIL.
    assert max(sizes) < 10_000 * FRAME


def test_a_store_with_few_commits_starts_no_thread(tmp_path: Path) -> None:
    with SqliteStore(tmp_path / "jobs.db") as store:
        _commit_items(store, 10)
        assert _checkpoint_threads() == []
