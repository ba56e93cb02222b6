"""routilux.Runtime: the engine with its parts; how it takes a store."""

from __future__ import annotations

from pathlib import Path

import pytest

from routilux import Runtime, SqliteStore
from tests.flows import chain


def test_a_store_object_is_used_and_left_open_for_its_owner(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "jobs.db")
    with Runtime(thread_pool_size=1, store=store) as runtime:
        assert runtime.store is store
        _, job = runtime.post(chain("owned", 1), "r0", "input", {"n": 1})
        assert job.wait(5)
    assert [row.job_id for row in store.jobs()] == [job.job_id]  # still open: ours to close
    store.close()


def test_a_store_url_is_opened_and_closed_by_the_runtime(tmp_path: Path) -> None:
    with Runtime(thread_pool_size=1, store=f"sqlite:///{tmp_path}/jobs.db") as runtime:
        _, job = runtime.post(chain("url", 1), "r0", "input", {"n": 1})
        assert job.wait(5)
    with SqliteStore(tmp_path / "jobs.db") as store:
        assert [row.status for row in store.jobs()] == ["completed"]


def test_anything_else_as_a_store_is_refused_by_type() -> None:
    with pytest.raises(TypeError, match="store must be"):
        Runtime(thread_pool_size=1, store=42)  # type: ignore[arg-type]
