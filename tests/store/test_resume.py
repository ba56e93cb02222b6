"""Resuming from a store: failed branches after a fix, and retries that survive a restart."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from routilux import ConfigurationError, Flow, Routine, Runtime, StateError
from routilux.store import open_store
from tests.store.crash_check import CHILD, REPO, run_child_and_kill
from tests.store.store_flows import Discard, fanout_flow, read_log, retry_flow


def _runs(log: Path, routine_id: str) -> int:
    return sum(1 for line in read_log(log) if line.startswith(f"{routine_id}|"))


def test_resuming_a_failed_fanout_after_a_fix_runs_the_completed_branch_once(
    store_spec: str, tmp_path: Path
) -> None:
    store, log = store_spec, tmp_path / "runs.log"
    with Runtime(thread_pool_size=1, store=store) as runtime:
        _, job = runtime.post(fanout_flow("fan", log, broken_at=2), "src", "inp", {"n": 3})
        assert job.wait(10)
        assert str(job.status) == "failed"
    with Runtime(thread_pool_size=1, store=store) as runtime:
        [resumed] = runtime.resume(job.job_id, flows={"fan": fanout_flow("fan", log)})
        assert resumed.wait(10)
        assert str(resumed.status) == "completed"
        assert runtime.store is not None
        results = {
            tuple(data.values())
            for a in runtime.store.history(job.job_id)
            for event, data in a.emitted
            if event == "result"
        }
    runs = read_log(log)
    assert _runs(log, "src") == 1
    assert _runs(log, "inc") == 3  # the branch that had completed ran exactly once per item
    assert _runs(log, "double") == 4  # the failed activation ran again, once
    assert len(set(runs)) == len(runs) - 1  # nothing else ran twice, not even the sink
    assert results == {(f"d{i}", 2 * i) for i in range(3)} | {(f"i{i}", i + 1) for i in range(3)}


def test_resume_without_a_job_id_picks_up_only_unfinished_jobs(store_spec: str) -> None:
    store = store_spec
    with Runtime(thread_pool_size=1, store=store) as runtime:
        _, job = runtime.post(fanout_flow("fan", None), "src", "inp", {"n": 2})
        assert job.wait(10)
        assert runtime.unfinished_jobs() == []
        assert runtime.resume() == []
        with pytest.raises(StateError, match="completed"):
            runtime.resume(job.job_id)


def test_resumed_jobs_of_one_flow_share_one_worker_and_each_runs_once(tmp_path: Path) -> None:
    store, before, after = tmp_path / "jobs.db", tmp_path / "before.log", tmp_path / "after.log"
    words = run_child_and_kill(["paused", str(store), str(before), "3"])
    assert words[:1] == ["posted"], words
    posted = words[1:]

    with Runtime(thread_pool_size=2, store=store) as runtime:
        jobs = runtime.resume(flows={"fanout": fanout_flow("fanout", after)})
        assert [job.job_id for job in jobs] == posted  # oldest first
        for job in jobs:
            assert job.wait(10)
        assert len({job.worker_id for job in jobs}) == 1
        assert runtime.worker_ids == [jobs[0].worker_id]
        assert runtime.store is not None
        statuses = [runtime.store.job(job_id).status for job_id in posted]
        steps = [len(runtime.store.history(job_id)) for job_id in posted]

    assert statuses == ["completed"] * 3
    assert steps == [4 * n + 1 for n in (1, 2, 3)]
    runs = read_log(after)
    assert sorted(line for line in runs if line.startswith("src|")) == [
        f'src|[{{"n": {n}}}]' for n in (1, 2, 3)
    ]
    assert len(runs) == sum(4 * n + 1 for n in (1, 2, 3))
    assert read_log(before) == []


def _run_child_killed_at(store: str, log: Path, kill_at: int) -> str:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), *sys.path])}
    out = subprocess.run(
        [sys.executable, str(CHILD), "retry", str(store), str(log), str(kill_at)],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert out.returncode == -9, out.stderr  # killed by its own SIGKILL
    with open_store(store) as jobs:  # it may die before printing its job id
        [job] = jobs.jobs()
    return job.job_id


@pytest.mark.parametrize(
    ("kill_at", "succeed_at", "total"), [(2, None, 5), (2, 4, 4), (1, None, 5)]
)
def test_retries_survive_a_restart_and_never_exceed_the_attempts_allowed(
    store_spec: str, tmp_path: Path, kill_at: int, succeed_at: int | None, total: int
) -> None:
    store, log = store_spec, tmp_path / "runs.log"
    job_id = _run_child_killed_at(store, log, kill_at)
    assert len(read_log(log)) == kill_at

    flow = retry_flow("retry", log, kill_at=None, succeed_at=succeed_at)
    with Runtime(thread_pool_size=1, store=store) as runtime:
        [job] = runtime.resume(flows={"retry": flow})
        assert job.wait(10)
        assert runtime.store is not None
        [activation] = runtime.store.history(job_id)
    assert len(read_log(log)) == total
    assert activation.attempts == total
    assert str(job.status) == ("completed" if succeed_at else "failed")


class _Late(Routine):
    """Blocks until ``release`` is set, then emits its input; ``returned`` tells it did."""

    def __init__(self, release: threading.Event) -> None:
        super().__init__()
        self.add_slot("inp")
        self.add_event("out", ["x"])
        self.release, self.returned = release, threading.Event()

    def logic(self, inp: list[Any], policy_message: Any, worker_state: Any) -> None:
        self.release.wait(30)
        self.emit("out", x=inp[0]["x"])
        self.returned.set()


def _late_flow(late: _Late) -> Flow:
    flow = Flow("late")
    flow.add_routine(late, "late")
    flow.add_routine(Discard(), "sink")
    flow.connect("late", "out", "sink", "inp")
    return flow


def test_logic_that_returns_after_a_shutdown_is_left_for_resume_and_recorded_once(
    store_spec: str, caplog: pytest.LogCaptureFixture
) -> None:
    free = threading.Event()
    free.set()
    straggler = _Late(threading.Event())  # released only once the runtime has shut down
    runtime = Runtime(thread_pool_size=1, store=store_spec)
    _, job = runtime.post(_late_flow(straggler), "late", "inp", {"x": 1})
    assert len(runtime.shutdown(timeout=0.2)) == 1  # left running
    with caplog.at_level(logging.WARNING, logger="routilux"):
        straggler.release.set()
        assert straggler.returned.wait(10)
        # The hooks run right after logic returns, in the straggler's thread.
        deadline = time.monotonic() + 10
        while "returned after the runtime shut down" not in caplog.text:
            assert time.monotonic() < deadline, caplog.text
            time.sleep(0.01)
    assert "raised" not in caplog.text  # no observer hook failed on the closed store
    with Runtime(thread_pool_size=1, store=store_spec) as runtime:
        assert [row.job_id for row in runtime.unfinished_jobs()] == [job.job_id]
        (resumed,) = runtime.resume(flows={"late": _late_flow(_Late(free))})
        assert resumed.wait(10)
        assert runtime.store is not None
        assert [a.routine_id for a in runtime.store.history(job.job_id)] == ["late", "sink"]


def test_a_post_with_the_id_of_a_stored_job_is_refused_and_its_history_kept(
    store_spec: str,
) -> None:
    with Runtime(thread_pool_size=1, store=store_spec) as runtime:
        _, first = runtime.post(fanout_flow("fan", None), "src", "inp", {"n": 1})
        assert first.wait(10)
        assert runtime.store is not None
        steps = [a.routine_id for a in runtime.store.history(first.job_id)]
    with Runtime(thread_pool_size=1, store=store_spec) as runtime:
        with pytest.raises(ConfigurationError, match="is taken: .* holds a job of that id"):
            runtime.post(fanout_flow("fan", None), "src", "inp", {"n": 1}, job_id=first.job_id)
        session = runtime.debug(fanout_flow("fan", None))  # a post straight to a worker
        with pytest.raises(ConfigurationError, match="is taken: .* holds a job of that id"):
            session.post("src", "inp", {"n": 1}, job_id=first.job_id)
        session.detach()
        assert runtime.store is not None
        assert [a.routine_id for a in runtime.store.history(first.job_id)] == steps
        assert [row.job_id for row in runtime.store.jobs()] == [first.job_id]
        _, mine = runtime.post(fanout_flow("fan", None), "src", "inp", {"n": 1}, job_id="mine")
        assert mine.wait(10)
        assert runtime.store.job("mine").status == "completed"
