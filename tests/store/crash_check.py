"""Kill a job's process with SIGKILL, resume it from the store, and audit the result.

Shared by ``test_crash_resume.py`` (20 kills) and ``bench/store_crash.py`` (100 kills).
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from routilux import Runtime, SqliteStore
from tests.store.store_flows import fanout_flow, read_log

CHILD = Path(__file__).with_name("crash_child.py")
REPO = Path(__file__).resolve().parents[2]
N_ITEMS = 40  # 4 * 40 + 1 = 161 activations per job
PAUSE = 0.001  # seconds per activation: the job runs ~0.15 s, kills land inside it
MAX_DELAY = 0.1  # seconds after the post; most kills land while the job runs
ARGS = (str(N_ITEMS), str(PAUSE))


@dataclass
class Audit:
    """What one crash and resume left behind."""

    committed_before_resume: int = 0
    ran_again: int = 0  # activations running at the crash, run again after resume
    lost: list[str] = field(default_factory=list)
    duplicated: list[str] = field(default_factory=list)
    completed_run_again: list[str] = field(default_factory=list)
    outputs_differ: bool = False
    status: str = ""

    @property
    def ok(self) -> bool:
        return not (
            self.lost or self.duplicated or self.completed_run_again or self.outputs_differ
        ) and (self.status == "completed")


def _key(routine_id: str, inputs: Any) -> str:
    return f"{routine_id}|{json.dumps(inputs, sort_keys=True)}"


def committed_keys(store: SqliteStore, job_id: str) -> list[str]:
    """``routine_id|inputs`` of every activation the store holds for the job."""
    data = {item.item_id: item.data for item in store.items(job_id)}
    return [_key(a.routine_id, [data[i] for i in a.inputs]) for a in store.history(job_id)]


def outputs(store: SqliteStore, job_id: str) -> tuple[list[Any], Any]:
    """The job's leaf results (sorted) and the sink's last recorded state."""
    history = store.history(job_id)
    results = sorted(
        (data["tag"], data["v"]) for a in history for event, data in a.emitted if event == "result"
    )
    states = [a.routine_state for a in history if a.routine_id == "sink"]
    return results, states[-1] if states else None


def reference(tmp: Path) -> tuple[set[str], tuple[list[Any], Any]]:
    """Keys and outputs of the job run once, without a crash."""
    path = tmp / "reference.db"
    with Runtime(thread_pool_size=2, store=path) as runtime:
        _, job = runtime.post(fanout_flow("fanout", None), "src", "inp", {"n": N_ITEMS})
        assert job.wait(30)
        store = runtime.store
        assert store is not None
        return set(committed_keys(store, job.job_id)), outputs(store, job.job_id)


def run_child_and_kill(args: list[str]) -> list[str]:
    """Run ``crash_child.py args``, SIGKILL it once it printed its first line; return that
    line's words."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), *sys.path])}
    child = subprocess.Popen(
        [sys.executable, str(CHILD), *args], stdout=subprocess.PIPE, text=True, env=env
    )
    try:
        assert child.stdout is not None
        words = child.stdout.readline().split()
        child.send_signal(signal.SIGKILL)
    finally:
        child.wait()
        if child.stdout is not None:
            child.stdout.close()
    return words


def crash_and_resume(
    tmp: Path,
    rng: random.Random,
    expected: tuple[set[str], tuple[list[Any], Any]],
    *,
    asynchronous: bool = False,
    remote: bool = False,
) -> Audit:
    """Run the job in a child, SIGKILL it after a random delay, resume it here, audit it.

    With ``asynchronous``, one routine of the flow is ``async def``; with ``remote``, its logic
    runs in a process pool (in the child and in the resuming runtime alike)."""
    kind = "fanout-async" if asynchronous else "fanout-remote" if remote else "fanout"
    store_path, log_before, log_after = tmp / "jobs.db", tmp / "before.log", tmp / "after.log"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), *sys.path])}
    child = subprocess.Popen(
        [sys.executable, str(CHILD), kind, str(store_path), str(log_before), *ARGS],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert child.stdout is not None
        posted = child.stdout.readline().split()
        assert posted[:1] == ["posted"], f"child did not post: {posted}"
        job_id = posted[1]
        time.sleep(rng.uniform(0.0, MAX_DELAY))
        child.send_signal(signal.SIGKILL)
    finally:
        child.wait()
        if child.stdout is not None:
            child.stdout.close()

    audit = Audit()
    with SqliteStore(store_path) as store:  # must open after any kill
        before = set(committed_keys(store, job_id))
    audit.committed_before_resume = len(before)
    with Runtime(thread_pool_size=2, store=store_path) as runtime:
        flow = fanout_flow("fanout", log_after, asynchronous=asynchronous, remote=remote)
        jobs = runtime.resume(flows={"fanout": flow})
        for job in jobs:
            assert job.wait(30)
        store = runtime.store
        assert store is not None
        keys = committed_keys(store, job_id)
        audit.status = store.job(job_id).status
        audit.outputs_differ = outputs(store, job_id) != expected[1]

    ran_before, ran_after = read_log(log_before), read_log(log_after)
    audit.ran_again = len(set(ran_before) & set(ran_after))
    audit.duplicated = sorted({k for k in keys if keys.count(k) > 1})
    audit.duplicated += sorted({k for k in ran_after if ran_after.count(k) > 1})
    audit.lost = sorted(expected[0] - set(keys))
    audit.completed_run_again = sorted(before & set(ran_after))
    return audit


COUNTER_ITEMS = 60
COUNTER_PAUSE = 0.002  # seconds after each count's write: activations overlap


@dataclass
class StateAudit:
    """The worker state a crash and resume of the counter job left behind."""

    committed_before_resume: int = 0
    count: int = 0
    items: list[int] = field(default_factory=list)
    shared_keys: int = 0
    shared_log: list[int] = field(default_factory=list)
    stored_equal: bool = False
    status: str = ""

    @property
    def ok(self) -> bool:
        expected = list(range(COUNTER_ITEMS))
        return (
            self.count == COUNTER_ITEMS
            and sorted(self.items) == expected
            and self.shared_keys == COUNTER_ITEMS
            and sorted(self.shared_log) == expected
            and self.stored_equal
            and self.status == "completed"
        )


def crash_and_resume_counter(tmp: Path, rng: random.Random, store: str | None = None) -> StateAudit:
    """Run the counter job (overlapping read-modify-writes of routine state) in a child,
    SIGKILL it after a random delay, resume it here and read the worker state it ends with.

    ``store`` is a store path or URL (default: a SQLite file in ``tmp``)."""
    from routilux.store import open_store
    from routilux.store._restore import stored_state
    from tests.store.store_flows import counter_flow

    store_path, log = store or str(tmp / "jobs.db"), tmp / "run.log"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), *sys.path])}
    args = [str(COUNTER_ITEMS), str(COUNTER_PAUSE)]
    child = subprocess.Popen(
        [sys.executable, str(CHILD), "counter", str(store_path), str(log), *args],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert child.stdout is not None
        posted = child.stdout.readline().split()
        assert posted[:1] == ["posted"], f"child did not post: {posted}"
        job_id = posted[1]
        time.sleep(rng.uniform(0.0, 0.08))
        child.send_signal(signal.SIGKILL)
    finally:
        child.wait()
        if child.stdout is not None:
            child.stdout.close()

    audit = StateAudit()
    with open_store(store_path) as opened:
        audit.committed_before_resume = len(opened.history(job_id))
    with Runtime(thread_pool_size=4, store=store_path) as runtime:
        jobs = runtime.resume(flows={"counter": counter_flow("counter", None, pause=0.001)})
        for job in jobs:
            assert job.wait(30)
        kept = runtime.store
        assert kept is not None
        audit.status = kept.job(job_id).status
        if jobs:
            live = runtime.get_worker(jobs[0].worker_id).state
            state = live.get_routine_state("count", {"count": 0, "items": []})
            shared, log_items = dict(live.shared_data), list(live.shared_log)
        else:  # finished before the kill: the stored state is all there is
            routines, shared, log_items = stored_state(kept, "counter")
            state = routines.get("count", {"count": 0, "items": []})
        audit.count, audit.items = state["count"], state["items"]
        audit.shared_keys, audit.shared_log = len(shared), log_items
        stored = stored_state(kept, "counter")
        audit.stored_equal = stored == ({"count": state}, shared, log_items)
    return audit
