"""Data dropped from a slot with the debugger is recorded, so a resume never runs it."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from routilux import Flow, Routine, Runtime, SqliteStore
from tests.store.crash_check import run_child_and_kill
from tests.store.store_flows import Step, fanout_flow, read_log


def test_data_dropped_before_a_crash_never_runs_after_the_resume(tmp_path: Path) -> None:
    store, before, after = tmp_path / "jobs.db", tmp_path / "before.log", tmp_path / "after.log"
    # Two jobs posted to a paused worker; the second one's data is dropped; then SIGKILL.
    words = run_child_and_kill(["paused", str(store), str(before), "2", "1"])
    assert words[:1] == ["posted"], words
    kept, dropped = words[1:]
    with SqliteStore(store) as jobs:
        assert {row.job_id for row in jobs.jobs(unfinished=True)} == {kept, dropped}
        [item] = jobs.items(dropped)
        assert (item.data, item.dropped_after, item.consumed_by) == ({"n": 2}, 0, None)

    with Runtime(thread_pool_size=1, store=store) as runtime:
        resumed = runtime.resume(flows={"fanout": fanout_flow("fanout", after)})
        assert sorted(job.job_id for job in resumed) == sorted([kept, dropped])
        for job in resumed:
            assert job.wait(10)
            assert str(job.status) == "completed"
        assert runtime.store is not None
        assert runtime.store.history(dropped) == []
        assert len(runtime.store.history(kept)) == 4 * 1 + 1

    assert read_log(before) == []
    runs = read_log(after)
    assert [line for line in runs if line.startswith("src|")] == ['src|[{"n": 1}]']
    assert len(runs) == 5  # the kept job only: src, double, inc and two sink runs


class _EmitThenWait(Routine):
    """Emits its input on, then blocks until ``go`` is set (so its commit comes later)."""

    def __init__(self, emitted: threading.Event, go: threading.Event) -> None:
        super().__init__()
        self.add_slot("inp")
        self.add_event("out", ["n"])
        self.emitted, self.go = emitted, go

    def logic(self, inp: list[Any], policy_message: Any, worker_state: Any) -> None:
        self.emit("out", n=inp[0]["n"])
        self.emitted.set()
        assert self.go.wait(10)


def test_data_dropped_before_its_producer_commits_is_marked_once_it_commits(
    tmp_path: Path,
) -> None:
    emitted, go = threading.Event(), threading.Event()
    flow = Flow("late")
    flow.add_routine(_EmitThenWait(emitted, go), "a")
    flow.add_routine(Step(), "b")
    flow.connect("a", "out", "b", "inp")
    with Runtime(thread_pool_size=1, store=tmp_path / "jobs.db") as runtime:
        session = runtime.debug(flow)
        _, job = runtime.post(flow, "a", "inp", {"n": 3})
        assert emitted.wait(10)
        session.pause()
        # Still running "a": the dropped data is not in the store yet.
        assert session.drop("b", "inp", 0) == {"n": 3}
        go.set()
        session.resume()
        assert job.wait(10)
        assert runtime.store is not None
        history = runtime.store.history(job.job_id)
        items = runtime.store.items(job.job_id)
        key = runtime.store.key_of(job.job_id)
        assert runtime.store.queued_after(key, None) == []
        assert [row[3] for row in runtime.store.queued_after(key, 1)] == []
        assert [row[3] for row in runtime.store.queued_after(key, 0)] == ['{"n":3}']

    assert [a.routine_id for a in history] == ["a"]
    assert [(i.data, i.produced_by, i.consumed_by, i.dropped_after) for i in items] == [
        ({"n": 3}, None, 1, None),
        ({"n": 3}, 1, None, 1),
    ]
