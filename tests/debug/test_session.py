"""DebugSession: breakpoints, pause / step / resume, snapshots and edits, from plain Python."""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any

import pytest

from routilux import (
    ConfigurationError,
    ErrorHandler,
    ErrorStrategy,
    Flow,
    JobStatus,
    Routine,
    Runtime,
    StateError,
)
from routilux.activation_policies import all_slots_ready_policy, breakpoint_policy
from routilux.debug import Breakpoint
from tests.flows import Collect, Relay, chain


def test_breakpoint_parks_the_activation_with_its_data(runtime: Runtime) -> None:
    flow = chain("c", 3)
    session = runtime.debug(flow)
    bp = session.add_breakpoint("r1")
    state, job = runtime.post(flow, "r0", "input", {"n": 0})
    snap = session.wait_until_paused(5)
    assert snap.routine_id == "r1"
    assert snap.inputs == {"input": [{"n": 1}]}
    assert bp.hits == 1
    assert job.status is JobStatus.RUNNING
    assert state.shared_log == []  # nothing ran early
    session.resume()
    assert job.wait(5)
    assert state.shared_log == [{"n": 3}]


def test_breakpoint_fires_on_an_entry_slot_fed_by_post(runtime: Runtime) -> None:
    flow = chain("c", 2)
    session = runtime.debug(flow)
    session.add_breakpoint("r0")
    runtime.post(flow, "r0", "input", {"n": 7})
    snap = session.wait_until_paused(5)
    assert (snap.routine_id, snap.inputs) == ("r0", {"input": [{"n": 7}]})
    session.resume()
    assert runtime.wait_until_all_jobs_finished(5)


def test_step_runs_exactly_one_activation_and_stays_paused(runtime: Runtime) -> None:
    flow = chain("c", 3)
    session = runtime.debug(flow)
    session.pause()
    state, job = runtime.post(flow, "r0", "input", {"n": 0})
    first = session.step()
    assert first is not None
    assert (first.routine_id, first.inputs, first.emitted) == (
        "r0",
        {"input": [{"n": 0}]},
        [("output", {"n": 1})],
    )
    assert session.is_paused
    assert session.snapshot().queues["r1"]["input"] == [{"n": 1}]
    steps = [session.step() for _ in range(3)]
    assert [s.routine_id for s in steps if s] == ["r1", "r2", "sink"]
    assert session.step() is None  # nothing left
    assert job.status is JobStatus.COMPLETED
    assert state.shared_log == [{"n": 3}]


def stepped_sequence() -> list[tuple[str, Any]]:
    flow = Flow("det")
    flow.add_routine(Relay(), "src")
    for b in ("a", "b", "c"):
        flow.add_routine(Relay(), b)
        flow.connect("src", "output", b, "input")
    join = Collect()
    flow.add_routine(join, "sink")
    for b in ("a", "b", "c"):
        flow.connect(b, "output", "sink", "input")
    with Runtime(thread_pool_size=4) as rt:
        session = rt.debug(flow)
        session.pause()
        for i in range(3):
            rt.post(flow, "src", "input", {"n": i * 10})
        sequence = []
        while (record := session.step()) is not None:
            sequence.append((record.routine_id, record.inputs))
    return sequence


def test_stepping_the_same_flow_twice_gives_the_same_sequence() -> None:
    first, second = stepped_sequence(), stepped_sequence()
    assert len(first) == 3 * (1 + 3 + 3)
    assert first == second


def test_pausing_one_flow_does_not_stall_another(runtime: Runtime) -> None:
    paused_flow, free_flow = chain("paused", 2), chain("free", 2)
    session = runtime.debug(paused_flow)
    session.pause()
    held = [runtime.post(paused_flow, "r0", "input", {"n": i})[1] for i in range(5)]
    free_state, free_job = runtime.post(free_flow, "r0", "input", {"n": 0})
    assert free_job.wait(5)
    assert free_state.shared_log == [{"n": 2}]
    assert all(job.status is JobStatus.PENDING for job in held)
    session.resume()
    assert runtime.wait_until_all_jobs_finished(5)
    assert all(job.status is JobStatus.COMPLETED for job in held)


def test_stepping_while_threads_post_loses_nothing_and_runs_nothing_twice(
    runtime: Runtime,
) -> None:
    flow = chain("race", 2)
    session = runtime.debug(flow)
    session.pause()
    stop = threading.Event()
    posted: list[int] = []

    def poster(offset: int) -> None:
        i = 0
        while not stop.is_set() and i < 300:
            runtime.post(flow, "r0", "input", {"n": offset + i})
            posted.append(offset + i)
            i += 1

    threads = [threading.Thread(target=poster, args=(k * 1000,)) for k in range(3)]
    for t in threads:
        t.start()
    ran: Counter[tuple[str, int]] = Counter()
    for _ in range(400):
        record = session.step()
        if record is not None:
            ran[(record.routine_id, record.inputs["input"][0]["n"])] += 1
    stop.set()
    for t in threads:
        t.join()
    session.resume()
    assert runtime.wait_until_all_jobs_finished(10)
    assert max(ran.values()) == 1
    state = session.worker.state
    assert sorted(p["n"] for p in state.shared_log) == sorted(n + 2 for n in posted)
    assert len(session.history) == min(1000, 3 * len(posted))


def test_a_failing_step_shows_the_error_and_follows_the_error_strategy(runtime: Runtime) -> None:
    class Boom(Routine):
        def __init__(self) -> None:
            super().__init__()
            self.add_slot("x")
            self.add_event("out")

        def logic(self, x: Any, pm: Any, ws: Any) -> None:
            raise ValueError("boom")

    flow = Flow("fails")
    flow.add_routine(Boom(), "boom")
    flow.set_error_handler(ErrorHandler(ErrorStrategy.RETRY, max_retries=2))
    session = runtime.debug(flow)
    session.add_breakpoint("boom")
    _, job = runtime.post(flow, "boom", "x", {})
    assert session.wait_until_paused(5).routine_id == "boom"
    record = session.step()
    assert record is not None
    assert isinstance(record.error, ValueError)
    assert record.attempts == 3
    assert job.status is JobStatus.FAILED
    assert session.history[-1] is record


def test_condition_filters_hits_and_a_raising_condition_is_reported(runtime: Runtime) -> None:
    flow = chain("cond", 1)
    session = runtime.debug(flow)
    bp = session.add_breakpoint("r0", condition=lambda inputs: inputs["input"][0]["n"] == 2)
    broken = session.add_breakpoint("r0", condition=lambda inputs: inputs["missing"])
    for i in range(4):
        runtime.post(flow, "r0", "input", {"n": i})
    snap = session.wait_until_paused(5)
    assert snap.inputs == {"input": [{"n": 2}]}
    assert bp.hits == 1
    assert broken.hits == 0
    assert len(session.condition_errors) == 3
    assert session.condition_errors[0][0] is broken
    session.resume()
    assert runtime.wait_until_all_jobs_finished(5)


def test_condition_with_two_parameters_gets_the_worker_state(runtime: Runtime) -> None:
    flow = chain("cond2", 1)
    session = runtime.debug(flow)
    session.update_worker_state(stop_at=1)
    session.add_breakpoint(
        "r0", condition=lambda inputs, ws: inputs["input"][0]["n"] == ws.shared_data["stop_at"]
    )
    for i in range(3):
        runtime.post(flow, "r0", "input", {"n": i})
    assert session.wait_until_paused(5).inputs == {"input": [{"n": 1}]}
    session.resume()
    assert runtime.wait_until_all_jobs_finished(5)


def test_slot_and_event_breakpoints_pause_with_the_data_in_place(runtime: Runtime) -> None:
    flow = chain("ports", 2)
    session = runtime.debug(flow)
    session.add_breakpoint("r1", slot="input")
    runtime.post(flow, "r0", "input", {"n": 0})
    snap = session.wait_until_paused(5)
    assert snap.queues["r1"]["input"] == [{"n": 1}]
    session.clear_breakpoints()
    session.add_breakpoint("r1", event="output", condition=lambda data: data["n"] == 2)
    session.resume()
    snap = session.wait_until_paused(5)
    assert snap.queues["sink"]["input"] == [{"n": 2}]
    session.resume()
    assert runtime.wait_until_all_jobs_finished(5)


def test_after_breakpoint_pauses_once_the_activation_ran(runtime: Runtime) -> None:
    flow = chain("after", 2)
    session = runtime.debug(flow)
    session.add_breakpoint("r0", when="after")
    runtime.post(flow, "r0", "input", {"n": 0})
    snap = session.wait_until_paused(5)
    assert [r.routine_id for r in snap.trace] == ["r0"]
    assert snap.queues["r1"]["input"] == [{"n": 1}]
    session.resume()
    assert runtime.wait_until_all_jobs_finished(5)


def test_edits_at_a_pause_are_used_when_continuing(runtime: Runtime) -> None:
    class Scale(Routine):
        def __init__(self) -> None:
            super().__init__()
            self.add_slot("x")
            self.add_event("out")

        def logic(self, x: Any, pm: Any, ws: Any) -> None:
            factor = ws.get_routine_state("scale", {}).get("factor", 1)
            self.emit("out", n=x[0]["n"] * factor)

    flow = Flow("edits")
    flow.add_routine(Scale(), "scale")
    flow.add_routine(Collect(), "sink")
    flow.connect("scale", "out", "sink", "input")
    session = runtime.debug(flow)
    session.pause()
    state, job = runtime.post(flow, "scale", "x", {"n": 1})
    runtime.post(flow, "scale", "x", {"n": 2})
    session.update_routine_state("scale", {"factor": 10})
    session.update_job_metadata(job, {"note": "edited"})
    assert session.drop("scale", "x", 1) == {"n": 2}
    session.inject("scale", "x", {"n": 5})
    assert session.snapshot().queues["scale"]["x"] == [{"n": 1}, {"n": 5}]
    session.resume()
    assert runtime.wait_until_all_jobs_finished(5)
    assert sorted(p["n"] for p in state.shared_log) == [10, 50]
    assert job.metadata == {"note": "edited"}


def test_bad_debugger_input_names_the_problem(runtime: Runtime) -> None:
    flow = chain("bad", 1)
    session = runtime.debug(flow)
    with pytest.raises(ConfigurationError, match="unknown routine 'nope'"):
        session.add_breakpoint("nope")
    with pytest.raises(ConfigurationError, match="unknown slot 'inptu'"):
        session.add_breakpoint("r0", slot="inptu")
    with pytest.raises(ConfigurationError, match="unknown event"):
        session.add_breakpoint("r0", event="nope")
    with pytest.raises(ConfigurationError, match="when must be"):
        session.add_breakpoint("r0", when="during")
    with pytest.raises(ConfigurationError, match="no index 3"):
        session.drop("r0", "input", 3)
    with pytest.raises(StateError, match="did not pause"):
        session.wait_until_paused(0.05)


def test_run_to_stops_before_the_named_routine_once(runtime: Runtime) -> None:
    flow = chain("run_to", 3)
    session = runtime.debug(flow)
    session.pause()
    runtime.post(flow, "r0", "input", {"n": 0})
    runtime.post(flow, "r0", "input", {"n": 100})
    snap = session.run_to("r2", timeout=5)
    assert snap is not None
    assert snap.routine_id == "r2"
    assert session.breakpoints == []  # one-shot
    session.resume()
    assert runtime.wait_until_all_jobs_finished(5)


def test_breakpoint_policy_pauses_through_the_debugger(runtime: Runtime) -> None:
    flow = chain("policy", 2)
    flow.get_routine("r1").set_activation_policy(
        breakpoint_policy(condition=lambda inputs: inputs["input"][0]["n"] > 1)
    )
    session = runtime.debug(flow)
    runtime.post(flow, "r0", "input", {"n": 0})  # reaches r1 with n=1: no pause
    runtime.wait_until_all_jobs_finished(5)
    runtime.post(flow, "r0", "input", {"n": 5})
    snap = session.wait_until_paused(5)
    assert (snap.routine_id, snap.inputs) == ("r1", {"input": [{"n": 6}]})
    session.resume()
    assert runtime.wait_until_all_jobs_finished(5)
    assert sorted(p["n"] for p in session.worker.state.shared_log) == [2, 7]


def test_join_waiting_in_a_paused_worker_is_visible_in_queues(runtime: Runtime) -> None:
    class Join(Routine):
        def __init__(self) -> None:
            super().__init__()
            self.add_slot("a")
            self.add_slot("b")
            self.set_activation_policy(all_slots_ready_policy())
            self.set_logic(lambda a, b, pm, ws: None)

    flow = Flow("join_pause")
    flow.add_routine(Join(), "j")
    session = runtime.debug(flow)
    session.pause()
    runtime.post(flow, "j", "a", {"v": 1})
    assert session.snapshot().queued_counts == {("j", "a"): 1}
    assert session.step() is None  # b is empty: the join cannot run
    runtime.post(flow, "j", "b", {"v": 2})
    record = session.step()
    assert record is not None
    assert record.inputs == {"a": [{"v": 1}], "b": [{"v": 2}]}


def test_a_snapshot_shows_as_html_tables_without_the_widget(runtime: Runtime) -> None:
    # The tables are the notebook layer's static HTML (no widget, no kernel needed); the
    # compiled build's test venv has no notebook extra, and there a snapshot shows as text.
    pytest.importorskip("graphviz")
    flow = chain("html", 2)
    session = runtime.debug(flow)
    session.add_breakpoint("r1")
    runtime.post(flow, "r0", "input", {"n": 0})
    html = session.wait_until_paused(5)._repr_html_()
    assert "paused before <b>r1</b>" in html
    assert "{&#x27;n&#x27;: 1}" in html  # the parked inputs, escaped
    session.resume()
    assert runtime.wait_until_all_jobs_finished(5)


def test_a_breakpoint_added_while_a_one_shot_breakpoint_fires_is_kept(runtime: Runtime) -> None:
    flow = chain("race", 2)
    session = runtime.debug(flow)
    added: list[Breakpoint] = []
    adders: list[threading.Thread] = []

    def add_from_another_thread() -> None:
        def add() -> None:
            added.append(session.add_breakpoint("r0", condition=lambda inputs: False))

        adder = threading.Thread(target=add)
        adders.append(adder)
        adder.start()
        # Long enough for an unguarded add to land; a guarded one waits for the rewrite.
        adder.join(0.2)

    class RacingList(list):  # type: ignore[type-arg]
        """Lets another thread add a breakpoint at the worst moment: while the worker
        thread reads the list to take the fired one-shot breakpoint off it."""

        def __iter__(self) -> Any:
            if one_shot.hits and not added:  # it fired: this read is the rewrite
                add_from_another_thread()
            return super().__iter__()

    session.run_to("r1")
    [one_shot] = session.breakpoints
    session._breakpoints = RacingList(session._breakpoints)
    runtime.post(flow, "r0", "input", {"n": 0})
    assert session.wait_until_paused(5).routine_id == "r1"
    session.resume()
    assert runtime.wait_until_all_jobs_finished(5)
    [adder] = adders
    adder.join(5)  # a guarded add ends once the rewrite released the list
    assert len(added) == 1
    assert session.breakpoints == added


def test_detaching_one_session_keeps_another_sessions_breakpoint_hold(runtime: Runtime) -> None:
    flow = chain("two", 2)
    holder = runtime.debug(flow)
    other = runtime.debug(flow)
    assert holder.worker is other.worker
    holder.add_breakpoint("r1")
    other.add_breakpoint("sink")
    runtime.post(flow, "r0", "input", {"n": 0})
    assert holder.wait_until_paused(5).routine_id == "r1"

    other.detach()

    assert other.breakpoints == []
    assert holder.is_paused
    assert holder.pending is not None
    assert holder.pending.routine_id == "r1"
    holder.resume()
    assert runtime.wait_until_all_jobs_finished(5)
    assert other.breakpoints == []  # its "sink" breakpoint left with it: nothing held there


def test_detaching_the_session_that_holds_lets_the_worker_run_on(runtime: Runtime) -> None:
    flow = chain("own", 2)
    holder = runtime.debug(flow)
    bystander = runtime.debug(flow)
    holder.add_breakpoint("r1")
    _, job = runtime.post(flow, "r0", "input", {"n": 0})
    holder.wait_until_paused(5)

    holder.detach()

    assert job.wait(5)
    assert not bystander.is_paused


@pytest.mark.parametrize("raised", [KeyboardInterrupt, SystemExit, ValueError])
def test_a_condition_or_listener_raising_anything_never_wedges_a_step_or_a_wait(
    runtime: Runtime, raised: type[BaseException]
) -> None:
    flow = chain("hostile", 2)
    session = runtime.debug(flow)

    def hostile(*_: Any) -> bool:
        raise raised("from user code")

    session.add_listener(hostile)
    session.add_breakpoint("r0", condition=hostile)
    session.add_breakpoint("r1")
    _, job = runtime.post(flow, "r0", "input", {"n": 0})
    assert session.wait_until_paused(5).routine_id == "r1"
    record = session.step()
    assert record is not None
    assert record.routine_id == "r1"
    session.resume()
    assert job.wait(5)
    assert [type(e) for _, e in session.condition_errors] == [raised]
    assert session.listener_errors
    assert all(type(e) is raised for e in session.listener_errors)
