"""Forking a stored job at step k runs exactly what came after k and leaves the parent alone."""

from __future__ import annotations

from pathlib import Path

import pytest

from routilux import ConfigurationError, Runtime
from tests.store.store_flows import read_log, ring_flow


@pytest.fixture
def parent(store_spec: str) -> tuple[str, str]:
    """A finished 100-activation job in a store."""
    store = store_spec
    with Runtime(thread_pool_size=1, store=store) as runtime:
        _, job = runtime.post(ring_flow("ring", None), "r0", "inp", {"n": 99})
        assert job.wait(10)
        assert runtime.store is not None
        assert len(runtime.store.history(job.job_id)) == 100
    return store, job.job_id


@pytest.mark.parametrize("k", [0, 1, 37, 99, 100])
def test_a_fork_at_step_k_runs_exactly_the_activations_after_k(
    parent: tuple[str, str], tmp_path: Path, k: int
) -> None:
    store, parent_id = parent
    log = tmp_path / "fork.log"
    with Runtime(thread_pool_size=1, store=store) as runtime:
        assert runtime.store is not None
        before = runtime.store.raw_rows(parent_id)
        parent_history = runtime.store.history(parent_id)
        child = runtime.fork(parent_id, k, flows={"ring": ring_flow("ring", log)})
        assert child.wait(10)
        child_history = runtime.store.history(child.job_id)
        after = runtime.store.raw_rows(parent_id)
        child_row = runtime.store.job(child.job_id)

    assert after == before
    assert [(a.routine_id, a.emitted) for a in child_history] == [
        (a.routine_id, a.emitted) for a in parent_history[k:]
    ]
    assert len(read_log(log)) == 100 - k
    assert (child_row.parent_job_id, child_row.parent_step, child_row.status) == (
        parent_id,
        k,
        "completed",
    )
    # Routine states carry on from step k: every routine's run count matches the parent's.
    if k < 100:
        assert child_history[-1].routine_state == parent_history[-1].routine_state


def test_a_fork_started_paused_steps_one_activation_at_a_time(parent: tuple[str, str]) -> None:
    store, parent_id = parent
    with Runtime(thread_pool_size=1, store=store) as runtime:
        assert runtime.store is not None
        parent_history = runtime.store.history(parent_id)
        child = runtime.fork(parent_id, 50, flows={"ring": ring_flow("ring", None)}, paused=True)
        worker = runtime.get_worker(child.worker_id)
        first = worker.step(timeout=5)
        second = worker.step(timeout=5)
        assert first is not None
        assert second is not None
        assert [first.routine_id, second.routine_id] == [
            parent_history[50].routine_id,
            parent_history[51].routine_id,
        ]
        assert first.inputs == {"inp": [{"n": 49}]}
        worker.resume()
        assert child.wait(10)
        assert len(runtime.store.history(child.job_id)) == 50


def test_forking_outside_the_history_is_refused(parent: tuple[str, str]) -> None:
    store, parent_id = parent
    with (
        Runtime(thread_pool_size=1, store=store) as runtime,
        pytest.raises(ConfigurationError, match=r"steps 0\.\.100"),
    ):
        runtime.fork(parent_id, 101, flows={"ring": ring_flow("ring", None)})


@pytest.mark.parametrize("step", ["1", 1.5, True, None])
def test_a_step_that_is_not_a_whole_number_is_refused(
    parent: tuple[str, str], step: object
) -> None:
    store, parent_id = parent
    with Runtime(thread_pool_size=1, store=store) as runtime:
        with pytest.raises(TypeError, match="step must be an integer"):
            runtime.fork(parent_id, step, flows={"ring": ring_flow("ring", None)})  # type: ignore[arg-type]
        assert runtime.store is not None
        assert [row.job_id for row in runtime.store.jobs()] == [parent_id]  # nothing forked
