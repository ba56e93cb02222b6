"""The timeline shows a stored job as it was after step k, and forks a new job from there."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from routilux import Flow, Routine, Runtime
from routilux.notebook import FlowDebugger
from routilux.notebook.live.checkpoints import checkpoint_view
from routilux.notebook.snapshot_html import checkpoint_html
from routilux.notebook.widget.timeline import Timeline
from tests.flows import chain

NODE_START = re.compile(r'<g id="routine&#45;([^"]+)" class="node ([^"]*)"')


class CountingRelay(Routine):
    """Passes ``n + 1`` on and keeps, as its routine state, every ``n`` it saw."""

    def __init__(self) -> None:
        super().__init__()
        self.add_slot("input")
        self.add_event("output", ["n"])

    def logic(self, input: list[dict[str, Any]], policy_message: Any, worker_state: Any) -> None:
        seen = worker_state.get_routine_state(self.routine_id, {}).get("seen", [])
        worker_state.set_routine_state(self.routine_id, {"seen": seen + [p["n"] for p in input]})
        for point in input:
            self.emit("output", n=point["n"] + 1)


def counting_chain(name: str) -> Flow:
    """``r1 -> r2 -> r3 -> r4``: four relays that remember what they saw."""
    flow = Flow(name)
    for i in range(1, 5):
        flow.add_routine(CountingRelay(), f"r{i}")
        if i > 1:
            flow.connect(f"r{i - 1}", "output", f"r{i}", "input")
    return flow


@pytest.fixture
def store_runtime(tmp_path: Path) -> Iterator[Runtime]:
    runtime = Runtime(thread_pool_size=1, store=tmp_path / "jobs.db")
    with runtime:
        yield runtime


@pytest.fixture
def finished(store_runtime: Runtime) -> tuple[Flow, str]:
    """A completed run of the counting chain: one item posted to r1, four steps."""
    flow = counting_chain("counting")
    _, job = store_runtime.post(flow, "r1", "input", {"n": 0})
    assert job.wait(10)
    return flow, job.job_id


@pytest.fixture
def timeline(store_runtime: Runtime, finished: tuple[Flow, str]) -> Timeline:
    return Timeline(store_runtime, finished[0])


def node_texts(svg: str) -> dict[str, tuple[set[str], str]]:
    """``{routine_id: (css classes, the node's SVG text)}`` for each routine node."""
    starts = list(NODE_START.finditer(svg))
    nodes = {}
    for match, following in zip(starts, [*starts[1:], None], strict=True):
        end = following.start() if following is not None else len(svg)
        classes = set(match.group(2).replace("&#45;", "-").split())
        nodes[match.group(1)] = (classes, svg[match.end() : end])
    return nodes


def job_ids(timeline: Timeline) -> tuple[str, ...]:
    """The jobs the menu offers (each shown as its label and the end of its id)."""
    return tuple(job_id for _, job_id in timeline.job_menu.options)


def highlighted(svg: str) -> list[str]:
    return [rid for rid, (classes, _) in node_texts(svg).items() if "last" in classes]


def waiting_slots(svg: str) -> dict[str, list[str]]:
    """Slots drawn with a count, e.g. ``{"r3": ["input (1)"]}``."""
    found = {
        rid: re.findall(r">(\w+ \(\d+\))<", text) for rid, (_, text) in node_texts(svg).items()
    }
    return {rid: slots for rid, slots in found.items() if slots}


def test_after_step_two_the_item_waits_in_the_third_relays_slot(
    store_runtime: Runtime, finished: tuple[Flow, str]
) -> None:
    flow, job_id = finished
    assert store_runtime.store is not None
    overlay, tables = checkpoint_view(store_runtime.store, job_id, 2, routine_ids=flow.routines)

    assert tables["queued"] == {"r3": {"input": [{"n": 2}]}}
    assert tables["routine_states"] == {"r1": {"seen": [0]}, "r2": {"seen": [1]}}
    assert tables["activation"] is not None
    assert (tables["activation"].step, tables["activation"].routine_id) == (2, "r2")
    assert (tables["step"], tables["last_step"]) == (2, 4)
    assert overlay["queued"] == {("r3", "input"): 1}
    assert overlay["last"] == "r2"
    assert overlay["routine_states"] == {"r1": "done", "r2": "done", "r3": "queued", "r4": "idle"}


@pytest.mark.parametrize(
    ("step", "waiting", "states"),
    [
        (0, {"r1": {"input": [{"n": 0}]}}, {}),
        (1, {"r2": {"input": [{"n": 1}]}}, {"r1": {"seen": [0]}}),
        (3, {"r4": {"input": [{"n": 3}]}}, {f"r{i}": {"seen": [i - 1]} for i in (1, 2, 3)}),
        (4, {}, {f"r{i}": {"seen": [i - 1]} for i in (1, 2, 3, 4)}),
    ],
)
def test_every_step_shows_exactly_what_waited_and_each_state_after_that_many_activations(
    store_runtime: Runtime,
    finished: tuple[Flow, str],
    step: int,
    waiting: dict[str, Any],
    states: dict[str, Any],
) -> None:
    assert store_runtime.store is not None
    overlay, tables = checkpoint_view(store_runtime.store, finished[1], step)
    assert tables["queued"] == waiting
    assert tables["routine_states"] == states
    assert overlay["last"] == (f"r{step}" if step else None)


def test_a_step_outside_the_history_is_refused(
    store_runtime: Runtime, finished: tuple[Flow, str]
) -> None:
    assert store_runtime.store is not None
    with pytest.raises(ValueError, match="steps 0..4"):
        checkpoint_view(store_runtime.store, finished[1], 5)


def test_the_tables_html_names_the_activation_and_the_waiting_data(
    store_runtime: Runtime, finished: tuple[Flow, str]
) -> None:
    assert store_runtime.store is not None
    _, tables = checkpoint_view(store_runtime.store, finished[1], 2)
    text = checkpoint_html(tables)
    assert "Step 2 of 4" in text
    assert "<code>r2</code> ran" in text
    assert "r3.input" in text
    assert "{&quot;n&quot;: 2}" in text


def test_the_timeline_opens_at_the_end_of_the_newest_job_of_its_flow(
    timeline: Timeline, finished: tuple[Flow, str]
) -> None:
    assert job_ids(timeline) == (finished[1],)
    assert (timeline.slider.max, timeline.slider.value) == (4, 4)
    assert highlighted(timeline.diagram.value) == ["r4"]
    assert waiting_slots(timeline.diagram.value) == {}


def test_moving_the_slider_moves_the_highlight_and_the_queued_counts(timeline: Timeline) -> None:
    timeline.slider.value = 2
    assert highlighted(timeline.diagram.value) == ["r2"]
    assert waiting_slots(timeline.diagram.value) == {"r3": ["input (1)"]}
    assert "Step 2 of 4" in timeline.tables.value

    timeline.slider.value = 0
    assert highlighted(timeline.diagram.value) == []
    assert waiting_slots(timeline.diagram.value) == {"r1": ["input (1)"]}


@pytest.mark.parametrize("k", [0, 2, 4])
def test_fork_from_here_runs_exactly_the_activations_after_k_and_leaves_the_parent_alone(
    store_runtime: Runtime, finished: tuple[Flow, str], timeline: Timeline, k: int
) -> None:
    store = store_runtime.store
    assert store is not None
    parent_id = finished[1]
    parent_rows = store.raw_rows(parent_id)
    parent_history = store.history(parent_id)
    timeline.slider.value = k

    timeline.fork_button.click()
    child = timeline.last_fork
    assert child is not None
    assert f"at step {k}: new job #2 on worker {child.worker_id}" in timeline.status.value
    worker = store_runtime.get_worker(child.worker_id)
    assert worker is not None
    assert worker.is_paused
    worker.resume()
    assert child.wait(10)

    child_history = store.history(child.job_id)
    assert len(child_history) == 4 - k
    assert [(a.routine_id, a.emitted) for a in child_history] == [
        (a.routine_id, a.emitted) for a in parent_history[k:]
    ]
    assert store.raw_rows(parent_id) == parent_rows
    assert (store.job(child.job_id).parent_job_id, store.job(child.job_id).parent_step) == (
        parent_id,
        k,
    )


def test_reload_lists_a_fork_and_show_moves_to_any_job_and_step(
    store_runtime: Runtime, finished: tuple[Flow, str], timeline: Timeline
) -> None:
    timeline.slider.value = 1
    child = timeline.fork()
    assert child is not None
    timeline.reload()
    assert job_ids(timeline) == (finished[1], child.job_id)
    # The shown job stays put when others appear.
    assert (timeline.job_id, timeline.slider.value) == (finished[1], 1)

    timeline.show(child.job_id, 0)
    assert (timeline.job_id, timeline.slider.max) == (child.job_id, 0)
    assert waiting_slots(timeline.diagram.value) == {"r2": ["input (1)"]}


def test_the_debugger_mounts_a_collapsed_timeline_only_when_the_runtime_has_a_store(
    store_runtime: Runtime, runtime: Runtime
) -> None:
    for target, name in ((store_runtime, "stored"), (runtime, "plain")):
        target.registry.register(chain(name, 2))
    with store_runtime.debug("stored") as stored, runtime.debug("plain") as plain:
        with_store = FlowDebugger(stored, capture_output=False)
        without = FlowDebugger(plain, capture_output=False)
        try:
            assert with_store.timeline is not None
            assert with_store.timeline.section in with_store.children
            assert with_store.timeline.section.selected_index is None
            assert without.timeline is None
        finally:
            with_store.close()
            without.close()


def test_fork_from_the_debuggers_timeline_opens_a_debugger_on_the_fork_that_steps(
    store_runtime: Runtime, finished: tuple[Flow, str]
) -> None:
    flow, parent_id = finished
    with store_runtime.debug(flow) as session:
        debugger = FlowDebugger(session, capture_output=False)
        try:
            timeline = debugger.timeline
            assert timeline is not None
            timeline.reload()
            timeline.show(parent_id, 2)
            child = timeline.fork()
            assert child is not None
            fork = timeline.fork_view
            assert isinstance(fork, FlowDebugger)
            assert fork in timeline.fork_area.children
            assert fork.session.worker.worker_id == child.worker_id
            assert "step it below" in timeline.status.value
            fork.controls.step_button.click()
            assert fork.wait_idle()
            assert [r.routine_id for r in fork.session.history] == ["r3"]  # r1, r2: before it
            assert "next to run: <b>r4</b>" in fork.status.value
            fork.controls.run_button.click()
            assert fork.wait_idle()
            assert child.wait(10)
        finally:
            debugger.close()
