"""Several processes on one store file: own histories, leases, and what resume takes over."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from routilux import Runtime
from routilux.store import open_store
from tests.store.crash_check import CHILD, REPO
from tests.store.store_flows import fanout_flow

JOBS = 20


def _child(*args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), *sys.path])}
    return subprocess.Popen(
        [sys.executable, str(CHILD), *args], stdout=subprocess.PIPE, text=True, env=env
    )


def test_two_processes_posting_into_one_store_keep_every_history_whole(
    store_spec: str, tmp_path: Path
) -> None:
    path, start = store_spec, tmp_path / "start"
    open_store(path).close()  # created once, so neither child creates it
    children = [_child("poster", str(path), str(start), str(JOBS)) for _ in range(2)]
    try:
        for child in children:
            assert child.stdout is not None
            assert child.stdout.readline().split() == ["ready"]
        start.touch()
        results = []
        for child in children:
            assert child.stdout is not None
            results += child.stdout.readline().split()[1:]
    finally:
        for child in children:
            child.wait(60)
            if child.stdout is not None:
                child.stdout.close()

    assert len(results) == 2 * JOBS
    with open_store(path) as store:
        assert len(store.jobs()) == 2 * JOBS
        for result in results:
            job_id, status = result.split(":")
            assert status == "completed"
            assert store.job(job_id).status == "completed"
            history = store.history(job_id)
            assert [a.step for a in history] == list(range(1, 11))
            items = store.items(job_id)
            assert [i.data for i in items] == [{"n": n} for n in range(9, -1, -1)]
            assert [a.inputs for a in history] == [[i.item_id] for i in items]


def test_resume_in_a_second_process_leaves_a_live_processs_jobs_alone(
    store_spec: str, tmp_path: Path
) -> None:
    path, log = store_spec, tmp_path / "run.log"
    child = _child("paused", str(path), str(log), "3")
    try:
        assert child.stdout is not None
        posted = child.stdout.readline().split()[1:]
        assert len(posted) == 3
        with Runtime(thread_pool_size=1, store=path) as runtime:
            assert {j.job_id for j in runtime.unfinished_jobs()} == set(posted)
            assert runtime.resume(flows={"fanout": fanout_flow("fanout", None)}) == []
        child.kill()
        child.wait()
        with Runtime(thread_pool_size=1, store=path) as runtime:
            resumed = runtime.resume(flows={"fanout": fanout_flow("fanout", None)})
            assert sorted(j.job_id for j in resumed) == sorted(posted)
            for job in resumed:
                assert job.wait(10)
            assert runtime.unfinished_jobs() == []
    finally:
        child.kill()
        child.wait()
        if child.stdout is not None:
            child.stdout.close()
