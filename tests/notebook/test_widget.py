"""FlowDebugger without a kernel: clicks drive the session, the diagram follows."""

from __future__ import annotations

import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from routilux import Flow, JobStatus, Routine, Runtime, uninstall_routed_stdout
from routilux.debug import DebugSession
from routilux.notebook import FlowDebugger, SnapshotView, snapshot_html
from routilux.notebook.live.throttle import Throttle
from routilux.notebook.widget.breakpoints import compile_condition
from routilux.notebook.widget.canvas import DiagramCanvas
from routilux.notebook.widget.controls import parse_data
from tests.flows import chain

NODE = re.compile(r'<g id="routine&#45;([^"]+)" class="node ([^"]*)"')


def node_classes(debugger: FlowDebugger) -> dict[str, set[str]]:
    """``{routine_id: {css classes}}`` the diagram's routine nodes have in the browser."""
    canvas = debugger.canvas
    if isinstance(canvas, DiagramCanvas):  # the state the front end applies to its layout
        return {
            canvas.outline[element]["id"]: {"routine", *classes.split()}
            for element, classes in canvas.state["routines"].items()
        }
    return {
        rid: set(classes.replace("&#45;", "-").split()) for rid, classes in NODE.findall(canvas.svg)
    }


def marked(debugger: FlowDebugger, mark: str) -> list[str]:
    """The routines with ``mark`` (``next``, ``last``, ``breakpoint``)."""
    return [rid for rid, classes in node_classes(debugger).items() if mark in classes]


def state_of(debugger: FlowDebugger, routine_id: str) -> str:
    states = [c for c in node_classes(debugger)[routine_id] if c.startswith("state-")]
    assert len(states) == 1
    return states[0].removeprefix("state-")


@pytest.fixture
def session(runtime: Runtime) -> Iterator[DebugSession]:
    with runtime.debug(chain("c", 3)) as debug_session:
        yield debug_session


@pytest.fixture
def debugger(session: DebugSession) -> Iterator[FlowDebugger]:
    widget = FlowDebugger(session, capture_output=False)
    try:
        yield widget
    finally:
        widget.close()


def test_a_step_click_runs_one_activation_and_marks_what_ran_and_what_runs_next(
    session: DebugSession, debugger: FlowDebugger
) -> None:
    session.pause()
    session.post("r0", "input", {"n": 0})
    debugger.wait_idle()
    assert state_of(debugger, "r0") == "queued"
    assert marked(debugger, "next") == marked(debugger, "last") == []

    debugger.controls.step_button.click()
    assert debugger.wait_idle()
    assert [r.routine_id for r in session.history] == ["r0"]
    assert (marked(debugger, "last"), marked(debugger, "next")) == (["r0"], ["r1"])
    assert (state_of(debugger, "r0"), state_of(debugger, "r1")) == ("done", "paused")
    assert "stepped: <b>r0</b> ran (job #1); next to run: <b>r1</b>" in debugger.status.value
    assert "{&#x27;n&#x27;: 1}" in debugger.inspectors.activation.value  # r1's inputs

    debugger.controls.step_button.click()
    assert debugger.wait_idle()
    assert [r.routine_id for r in session.history] == ["r0", "r1"]
    assert (marked(debugger, "last"), marked(debugger, "next")) == (["r1"], ["r2"])
    assert session.is_paused


def test_stepping_to_the_end_says_nothing_is_left_and_stays_paused(
    session: DebugSession, debugger: FlowDebugger
) -> None:
    session.pause()
    job = session.post("r0", "input", {"n": 0})
    for _ in range(4):
        debugger.controls.step_button.click()
    assert debugger.wait_idle()
    assert job.status is JobStatus.COMPLETED
    assert marked(debugger, "next") == []
    assert "nothing left to run; 0 unfinished jobs" in debugger.status.value
    assert session.is_paused


def node_menu(debugger: FlowDebugger, action: str, routine_id: str, name: Any = None) -> None:
    """What the front end sends when an item of a routine's menu is chosen."""
    message = {"type": "action", "action": action, "routine_id": routine_id, "name": name}
    debugger.canvas._handle_custom_msg(message, [])


def test_the_node_menu_toggles_a_breakpoint_before_the_routine(
    session: DebugSession, debugger: FlowDebugger
) -> None:
    click = {"type": "action", "action": "break_before", "routine_id": "r2", "name": None}
    debugger.canvas._handle_custom_msg(click, [])
    assert [(bp.routine_id, bp.kind) for bp in session.breakpoints] == [("r2", "before")]
    debugger.wait_idle()
    assert "breakpoint" in node_classes(debugger)["r2"]
    assert len(debugger.breakpoint_panel.rows.children) == 1

    debugger.canvas._handle_custom_msg(click, [])
    assert session.breakpoints == []
    debugger.wait_idle()
    assert "breakpoint" not in node_classes(debugger)["r2"]


def test_a_breakpoint_with_a_condition_from_the_list_pauses_only_when_it_holds(
    runtime: Runtime, session: DebugSession, debugger: FlowDebugger
) -> None:
    panel = debugger.breakpoint_panel
    panel.routine.value = "r1"
    panel.condition.value = "data['input'][0]['n'] > 5"
    panel.add_button.click()
    (bp,) = session.breakpoints
    assert bp.condition is not None

    session.post("r0", "input", {"n": 0})
    assert runtime.wait_until_all_jobs_finished(5)
    session.post("r0", "input", {"n": 10})
    snapshot = session.wait_until_paused(5)
    assert (snapshot.routine_id, bp.hits) == ("r1", 1)
    debugger.wait_idle()
    assert marked(debugger, "next") == ["r1"]
    assert state_of(debugger, "r1") == "paused"
    assert (
        f"paused at breakpoint #{bp.id}: before <b>r1</b> runs "
        "if data[&#x27;input&#x27;][0][&#x27;n&#x27;] &gt; 5"
    ) in debugger.status.value
    assert "{&#x27;n&#x27;: 11}" in debugger.inspectors.activation.value
    # The list shows the condition too.
    (row,) = debugger.breakpoint_panel.rows.children
    assert "if data['input'][0]['n'] > 5" in row.children[0].description


def test_unticking_a_breakpoint_in_the_list_disables_it_in_the_session(
    session: DebugSession, debugger: FlowDebugger
) -> None:
    bp = session.add_breakpoint("r1")
    debugger.wait_idle()
    (row,) = debugger.breakpoint_panel.rows.children
    checkbox = row.children[0]
    checkbox.value = False
    assert not bp.enabled
    debugger.wait_idle()
    assert "breakpoint" not in node_classes(debugger)["r1"]


def test_an_invalid_condition_is_reported_and_adds_nothing(
    session: DebugSession, debugger: FlowDebugger
) -> None:
    debugger.breakpoint_panel.condition.value = "data[ >"
    debugger.breakpoint_panel.add_button.click()
    debugger.wait_idle()
    assert session.breakpoints == []
    assert "not a Python expression" in debugger.status.value


def test_post_then_continue_runs_the_job_and_counts_edge_traffic(
    session: DebugSession, debugger: FlowDebugger
) -> None:
    session.pause()
    debugger.controls.data.value = '{"n": 1}'
    debugger.controls.post_button.click()
    debugger.wait_idle()
    (job,) = session.worker.jobs
    assert state_of(debugger, "r0") == "queued"
    debugger.controls.run_button.click()
    debugger.wait_idle()
    assert job.wait(5)
    debugger.wait_idle()
    assert job.status is JobStatus.COMPLETED
    assert session.worker.state.shared_log == [{"n": 4}]
    assert {state_of(debugger, r) for r in ("r0", "r1", "r2", "sink")} == {"done"}
    # Each of the three connections carried one message: its edge is labelled 1.
    assert list(debugger.canvas.state["edges"].values()) == ["1", "1", "1"]


def test_pause_and_stop_buttons_pause_the_worker_and_cancel_its_jobs(
    session: DebugSession, debugger: FlowDebugger
) -> None:
    debugger.controls.pause_button.click()
    debugger.wait_idle()
    assert session.is_paused
    job = session.post("r0", "input", {"n": 0})
    debugger.controls.stop_button.click()
    debugger.wait_idle()
    assert job.status is JobStatus.CANCELLED
    assert "stopped" in debugger.status.value


class Boom(Routine):
    def __init__(self) -> None:
        super().__init__()
        self.add_slot("input")

    def logic(self, input: list[Any], policy_message: Any, worker_state: Any) -> None:
        print("about to fail")
        raise ValueError("boom")


def test_a_failed_activation_is_drawn_failed_and_its_output_shown(runtime: Runtime) -> None:
    flow = Flow("fails")
    flow.add_routine(Boom(), "boom")
    with runtime.debug(flow) as session:
        debugger = FlowDebugger(session)
        try:
            session.pause()
            session.post("boom", "input", 1)
            debugger.controls.step_button.click()
            debugger.wait_idle()
            assert state_of(debugger, "boom") == "failed"
            assert "ValueError" in debugger.inspectors.trace.value
            assert "about to fail" in debugger.inspectors.output.value
        finally:
            debugger.close()
            uninstall_routed_stdout()


def test_edits_from_the_inspectors_reach_the_session(
    session: DebugSession, debugger: FlowDebugger
) -> None:
    session.pause()
    job = session.post("r0", "input", {"n": 0})
    session.step()
    debugger.wait_idle()
    inspectors = debugger.inspectors
    inspectors.state_updates.value = "{'limit': 3}"
    inspectors.state_button.click()
    assert session.worker.state.shared_data["limit"] == 3
    inspectors.state_target.value = "routine r1"
    inspectors.state_updates.value = '{"seen": true}'
    inspectors.state_button.click()
    assert session.worker.state.get_routine_state("r1") == {"seen": True}
    debugger.wait_idle()
    assert inspectors.job_target.value == job.job_id
    inspectors.job_updates.value = "{'user': 'ada'}"
    inspectors.job_button.click()
    assert job.metadata == {"user": "ada"}
    inspectors.queue_slot.value = ("r1", "input")
    inspectors.drop_button.click()
    assert session.snapshot().queues["r1"]["input"] == []
    inspectors.inject_data.value = "{'n': 41}"
    inspectors.inject_button.click()
    assert session.snapshot().queues["r1"]["input"] == [{"n": 41}]
    debugger.wait_idle()
    assert "limit" in inspectors.worker_state.value
    assert "41" in inspectors.queues.value


def test_a_refused_edit_is_reported_not_raised(debugger: FlowDebugger) -> None:
    debugger.inspectors.queue_slot.value = ("r1", "input")
    debugger.inspectors.drop_button.click()  # nothing queued there
    debugger.wait_idle()
    assert "edit refused" in debugger.status.value


def test_a_fast_flow_is_redrawn_a_few_times_not_once_per_activation(
    runtime: Runtime, session: DebugSession
) -> None:
    debugger = FlowDebugger(session, refresh_interval=0.2, capture_output=False)
    try:
        calls_before = debugger.throttle.calls
        started = time.monotonic()
        for n in range(200):
            session.post("r0", "input", {"n": n})
        assert runtime.wait_until_all_jobs_finished(20)
        elapsed = time.monotonic() - started
        debugger.wait_idle()
        assert len(session.history) == 800
        # One redraw per interval, plus at most: the draw the constructor asked for, the
        # first request's, the one wait_idle() forces and a timer firing as it forces it.
        assert debugger.throttle.calls - calls_before <= elapsed / 0.2 + 4
        assert debugger.throttle.errors == []
        assert session.listener_errors == []
    finally:
        debugger.close()


def test_throttle_merges_requests_from_many_threads_into_one_call() -> None:
    calls: list[int] = []
    throttle = Throttle(lambda: calls.append(1), interval=60)
    throttle.flush()  # starts an interval, so every request below has to wait for it
    threads = [threading.Thread(target=throttle.request) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(calls) == 1
    throttle.flush()
    assert len(calls) == 2
    throttle.close()


def test_throttle_keeps_a_failing_callback_from_killing_the_timer() -> None:
    done = threading.Event()

    def fail() -> None:
        done.set()
        raise RuntimeError("display broke")

    throttle = Throttle(fail, interval=0)
    throttle.request()
    assert done.wait(5)
    throttle.flush()
    assert [str(e) for e in throttle.errors] == ["display broke", "display broke"]


def test_data_and_conditions_are_read_from_literals_and_expressions() -> None:
    assert parse_data("[1, 'two']") == [1, "two"]
    with pytest.raises(ValueError, match="malformed"):
        parse_data("__import__('os')")
    condition = compile_condition("state is None and data > 1")
    assert condition is not None
    assert condition(2, None)


def test_without_widgets_the_debugger_and_snapshots_show_html(
    session: DebugSession, debugger: FlowDebugger
) -> None:
    session.add_breakpoint("r1")
    session.post("r0", "input", {"n": 0})
    snapshot = session.wait_until_paused(5)
    bundle = debugger._repr_mimebundle_()
    assert bundle is not None
    assert "application/vnd.jupyter.widget-view+json" in bundle
    for page in (bundle["text/html"], snapshot_html(snapshot, session.worker.flow)):
        assert "<svg" in page
        assert 'class="node routine state&#45;paused next"' in page
        assert "next to run: <b>r1</b>" in page
        assert "Slot queues" in page
    view = debugger.snapshot()
    assert isinstance(view, SnapshotView)
    assert "<table" in view._repr_html_()
    assert "<svg" not in snapshot_html(snapshot)  # no flow given: tables only


def test_closing_the_debugger_detaches_it_from_the_session(session: DebugSession) -> None:
    debugger = FlowDebugger(session, capture_output=False)
    debugger.close()
    session.pause()
    session.post("r0", "input", {"n": 0})
    session.step()
    assert debugger.throttle.errors == []
    assert session.listener_errors == []
    assert debugger.activity.activity().last is None  # no longer observing


def test_diagrams_load_without_ipywidgets_until_the_debugger_is_used() -> None:
    code = (
        "import sys, routilux.notebook as nb;"
        "print('ipywidgets' in sys.modules);"
        "nb.FlowDebugger;"
        "print('ipywidgets' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "True"]


def test_the_plain_html_diagram_follows_steps_too(session: DebugSession) -> None:
    debugger = FlowDebugger(session, capture_output=False, clickable_diagram=False)
    try:
        session.pause()
        session.post("r0", "input", {"n": 0})
        debugger.controls.step_button.click()
        debugger.wait_idle()
        assert (marked(debugger, "last"), marked(debugger, "next")) == (["r0"], ["r1"])
        assert "routilux-diagram" in debugger.canvas._dom_classes
    finally:
        debugger.close()


# -- every debugger action from the widget ---------------------------------------------------


def test_the_node_menu_sets_after_slot_and_event_breakpoints(
    session: DebugSession, debugger: FlowDebugger
) -> None:
    node_menu(debugger, "break_after", "r0")
    node_menu(debugger, "break_slot", "r1", "input")
    node_menu(debugger, "break_event", "r2", "output")
    assert [str(bp).split(" ", 1)[1] for bp in session.breakpoints] == [
        "after r0",
        "r1.input receives",
        "r2.output emitted",
    ]
    debugger.wait_idle()
    assert marked(debugger, "breakpoint") == ["r0", "r1", "r2"]
    assert len(debugger.breakpoint_panel.rows.children) == 3
    node_menu(debugger, "break_slot", "r1", "input")  # the same place again: off
    assert len(session.breakpoints) == 2


def test_a_slot_breakpoint_from_the_list_pauses_with_the_data_and_names_itself(
    session: DebugSession, debugger: FlowDebugger
) -> None:
    panel = debugger.breakpoint_panel
    panel.routine.value = "r1"
    assert [text for text, _ in panel.where.options][2] == "when input receives data"
    panel.where.index = 2
    panel.add_button.click()
    (bp,) = session.breakpoints
    assert (bp.kind, bp.slot) == ("slot", "input")
    session.post("r0", "input", {"n": 0})
    session.wait_until_paused(5)
    debugger.wait_idle()
    assert f"paused at breakpoint #{bp.id}: <b>r1.input</b> received data" in (
        debugger.status.value
    )
    assert session.snapshot().queued_counts == {("r1", "input"): 1}


def test_run_to_here_from_the_node_menu_and_the_list_pauses_before_that_routine(
    session: DebugSession, debugger: FlowDebugger
) -> None:
    session.pause()
    session.post("r0", "input", {"n": 0})
    node_menu(debugger, "run_to", "r2")
    assert debugger.wait_idle()  # the command resumed the worker
    snapshot = session.wait_until_paused(5)
    assert snapshot.routine_id == "r2"
    debugger.wait_idle()
    assert marked(debugger, "next") == ["r2"]
    assert "paused at run to here: before <b>r2</b> runs" in debugger.status.value
    assert debugger.breakpoint_panel.rows.children == ()  # one-shot, not listed

    debugger.breakpoint_panel.routine.value = "sink"
    debugger.breakpoint_panel.run_to_button.click()
    debugger.wait_idle()
    assert session.wait_until_paused(5).routine_id == "sink"


def test_keyboard_shortcuts_step_continue_and_pause(
    runtime: Runtime, session: DebugSession, debugger: FlowDebugger
) -> None:
    def press(action: str) -> None:
        debugger.canvas._handle_custom_msg({"type": "key", "action": action}, [])
        assert debugger.wait_idle()

    press("pause")
    assert session.is_paused
    job = session.post("r0", "input", {"n": 0})
    press("step")
    assert [r.routine_id for r in session.history] == ["r0"]
    press("continue")
    assert job.wait(5)
    debugger.canvas._handle_custom_msg({"type": "key", "action": "reboot"}, [])  # ignored
    assert "F10" in debugger.controls.step_button.tooltip


def test_two_jobs_show_different_ids_everywhere_with_the_full_id_on_hover(
    session: DebugSession, debugger: FlowDebugger
) -> None:
    session.pause()
    first = session.post("r0", "input", {"n": 0})
    second = session.post("r0", "input", {"n": 10})
    assert first.job_id[:8] == second.job_id[:8]  # the per-process prefix
    session.step()
    session.step()
    debugger.wait_idle()
    inspectors = debugger.inspectors
    shown = re.findall(r'title="job ([0-9a-f]+)">(#\d+)<', inspectors.jobs.value)
    assert shown == [(first.job_id, "#1"), (second.job_id, "#2")]
    assert '">#1<' in inspectors.trace.value
    assert '">#2<' in inspectors.trace.value
    labels = [label for label, _ in inspectors.job_target.options]
    assert len(set(labels)) == 2
    assert labels[0].startswith("#1 (")
    assert first.job_id[-6:] in labels[0]


def test_inject_goes_into_the_chosen_job_or_a_new_one(
    session: DebugSession, debugger: FlowDebugger
) -> None:
    session.pause()
    job = session.post("r0", "input", {"n": 0})
    debugger.wait_idle()
    inspectors = debugger.inspectors
    inspectors.queue_slot.value = ("r1", "input")
    inspectors.inject_data.value = "{'n': 5}"
    inspectors.inject_job.value = job.job_id
    inspectors.inject_button.click()
    assert len(session.worker.jobs) == 1  # no new job
    inspectors.inject_job.value = None
    inspectors.inject_button.click()
    assert len(session.worker.jobs) == 2
    assert session.snapshot().queued_counts[("r1", "input")] == 2


def test_drop_defaults_to_a_slot_holding_data(
    session: DebugSession, debugger: FlowDebugger
) -> None:
    session.pause()
    session.post("r0", "input", {"n": 0})
    session.step()  # the data moves on to r1
    debugger.wait_idle()
    assert debugger.inspectors.queue_slot.value == ("r1", "input")
    debugger.inspectors.drop_button.click()
    debugger.wait_idle()
    assert session.snapshot().queued_counts == {}
    assert "dropped {&#x27;n&#x27;: 1}" in debugger.status.value


def test_a_status_message_clears_on_the_next_action(
    session: DebugSession, debugger: FlowDebugger
) -> None:
    debugger.breakpoint_panel.condition.value = "data[ >"
    debugger.breakpoint_panel.add_button.click()
    debugger.wait_idle()
    assert "not a Python expression" in debugger.status.value
    debugger.controls.pause_button.click()
    debugger.wait_idle()
    assert "routilux-message" not in debugger.status.value


def test_the_view_redraws_by_itself_when_a_job_finishes(
    session: DebugSession, debugger: FlowDebugger
) -> None:
    session.pause()
    job = session.post("r0", "input", {"n": 0})
    debugger.wait_idle()
    assert "1 unfinished job" in debugger.status.value
    finished = threading.Event()

    def watch(change: dict[str, Any]) -> None:
        if "0 unfinished jobs" in change["new"]:
            finished.set()

    debugger.status.observe(watch, names="value")
    session.resume()  # from plain Python: nothing tells the widget
    assert job.wait(5)
    assert finished.wait(5)


def test_twenty_thousand_queued_posts_finish_with_the_widget_attached(
    runtime: Runtime, session: DebugSession, debugger: FlowDebugger
) -> None:
    session.pause()
    for n in range(20_000):
        session.worker.post("r0", "input", {"n": n})
    debugger.wait_idle()
    queues = debugger.session.snapshot(debugger.max_items).queues
    assert len(queues["r0"]["input"]) == debugger.max_items  # a bounded copy
    assert "r0.input</td><td>20000</td>" in debugger.inspectors.queues.value
    assert "and 19980 more unfinished jobs" in debugger.inspectors.jobs.value
    assert "20000 unfinished jobs" in debugger.status.value  # all counted, 50 copied
    session.resume()
    assert runtime.wait_until_all_jobs_finished(60)
    assert len(session.worker.state.shared_log) == 20_000


def test_the_debugger_takes_a_session_and_says_how_to_get_one_from_a_flow(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import gc
    import sys

    unraisable: list[Any] = []
    monkeypatch.setattr(sys, "unraisablehook", unraisable.append)
    flow = chain("given", 1)
    with pytest.raises(TypeError, match=r"write FlowDebugger\(runtime.debug\('given'\)\)"):
        FlowDebugger(flow)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="takes a DebugSession .* got NoneType"):
        FlowDebugger(None)  # type: ignore[arg-type]
    gc.collect()  # the refused widgets are closed as they go, and nothing raises then
    assert [repr(u.exc_value) for u in unraisable] == []
    with pytest.raises(TypeError, match="takes a Snapshot"):
        snapshot_html(flow)  # type: ignore[arg-type]
