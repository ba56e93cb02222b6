"""A process routine's activations reach the store exactly like local ones, once each."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from routilux import ErrorHandler, ErrorStrategy, Flow, JobStatus, Routine, Runtime
from tests.flows import Collect
from tests.store.store_flows import ring_flow


def test_a_ring_with_a_process_routine_checkpoints_each_activation_once(tmp_path: Path) -> None:
    flow = ring_flow("remote-ring", None, size=3)
    flow.routines["r1"].set_executor("processes")
    with Runtime(thread_pool_size=1, store=str(tmp_path / "jobs.db")) as runtime:
        _, job = runtime.post(flow, "r0", "inp", {"n": 3})
        assert job.wait(30)
        store = runtime.store
        assert store is not None
        history = store.history(job.job_id)
        items = store.items(job.job_id)

    assert [a.routine_id for a in history] == ["r0", "r1", "r2", "r0"]
    assert [a.emitted for a in history] == [[["out", {"n": n}]] for n in (2, 1, 0)] + [[]]
    # r1's state write was made in a pool process and replayed here, inside its activation.
    assert [a.routine_state for a in history] == [{"runs": 1}] * 3 + [{"runs": 2}]
    assert [a.inputs for a in history] == [[i.item_id] for i in items]


class DiesOnce(Routine):
    """Kills its own process the first time it runs (a marker file says it did)."""

    def __init__(self) -> None:
        super().__init__()
        self.add_slot("input")
        self.add_event("output", ["n"])

    def logic(self, input: list[Any], policy_message: Any, worker_state: Any) -> None:
        marker = Path(self.get_config("marker"))
        if not marker.exists():
            marker.write_text("died")
            os._exit(1)
        self.emit("output", n=input[0]["n"])


def test_a_process_that_dies_mid_activation_emits_nothing_and_retry_runs_it_again(
    tmp_path: Path,
) -> None:
    flow = Flow("dies-once")
    dies = DiesOnce()
    dies.set_config(marker=str(tmp_path / "marker"))
    dies.set_executor("processes")
    dies.set_error_handler(ErrorHandler(ErrorStrategy.RETRY, max_retries=1, retry_delay=0))
    flow.add_routine(dies, "dies")
    flow.add_routine(Collect(), "sink")
    flow.connect("dies", "output", "sink", "input")
    with Runtime(thread_pool_size=2, store=str(tmp_path / "jobs.db")) as runtime:
        state, job = runtime.post(flow, "dies", "input", {"n": 5})
        assert job.wait(60)
        assert job.status is JobStatus.COMPLETED
        assert state.shared_log == [{"n": 5}]
        store = runtime.store
        assert store is not None
        history = store.history(job.job_id)
    assert [(a.routine_id, a.emitted) for a in history] == [
        ("dies", [["output", {"n": 5}]]),
        ("sink", []),
    ]
