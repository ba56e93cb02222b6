"""Drainer growth: logic that blocks gets threads at once; the verdict comes from timing."""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

import pytest

from routilux import Flow, Routine, Runtime
from routilux.core._growth import VOTES_TO_SWITCH, observe
from routilux.core._node import BLOCKING, INLINE


class Sleeps(Routine):
    """Blocks for ``seconds`` per activation, counting how many block at once."""

    def __init__(self, seconds: float) -> None:
        super().__init__()
        self.add_slot("input")
        self.seconds = seconds
        self.inside = 0
        self.peak = 0
        self.lock = threading.Lock()

    def logic(self, input: list[Any], policy_message: Any, worker_state: Any) -> None:
        with self.lock:
            self.inside += 1
            self.peak = max(self.peak, self.inside)
        time.sleep(self.seconds)
        with self.lock:
            self.inside -= 1


def test_logic_that_blocks_for_a_millisecond_gets_the_whole_pool(
    caplog: pytest.LogCaptureFixture,
) -> None:
    routine = Sleeps(0.001)
    flow = Flow("sleepy")
    flow.add_routine(routine, "s")
    with caplog.at_level(logging.ERROR), Runtime(thread_pool_size=8) as runtime:
        worker = runtime.start_worker(flow)
        for n in range(400):
            runtime.post(flow, "s", "input", {"n": n})
        assert runtime.wait_until_all_jobs_finished(30)
        assert worker.nodes["s"].dispatch == BLOCKING
        assert worker.inspect().stats["s"].activations == 400
    assert routine.peak == 8
    assert caplog.text == ""


@pytest.fixture
def node() -> Any:
    """A fresh node of an idle worker, whose blocking verdict the tests feed by hand."""
    flow = Flow("observed")
    flow.add_routine(Sleeps(0), "s")
    with Runtime(thread_pool_size=1) as runtime:
        yield runtime.start_worker(flow).nodes["s"]


def test_one_stalled_activation_does_not_make_tiny_logic_blocking(node: Any) -> None:
    observe(node, wall=0.005, cpu=0.000_01)  # held up once (a GIL switch, say)
    for _ in range(10):
        observe(node, wall=0.000_01, cpu=0.000_01)
    assert node.dispatch == INLINE


def test_the_verdict_switches_after_enough_votes_in_a_row_and_back(node: Any) -> None:
    for _ in range(VOTES_TO_SWITCH - 1):
        observe(node, wall=0.002, cpu=0.000_05)
    assert node.dispatch == INLINE
    observe(node, wall=0.002, cpu=0.000_05)
    assert node.dispatch == BLOCKING
    for _ in range(VOTES_TO_SWITCH):
        observe(node, wall=0.002, cpu=0.002)  # now it computes: back to one thread
    assert node.dispatch == INLINE


def test_after_warm_up_only_one_activation_in_many_is_timed(node: Any) -> None:
    for _ in range(40):
        observe(node, wall=0.000_01, cpu=0.000_01)
    assert node.sample_in > 1
