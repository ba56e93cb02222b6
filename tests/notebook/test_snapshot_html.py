"""The static snapshot view: the same HTML on every run, so notebooks can store it."""

from __future__ import annotations

from routilux import Runtime
from routilux.notebook import snapshot_html
from routilux.notebook.snapshot_html import trace_html
from tests.flows import chain


def test_static_snapshot_html_has_no_timings_but_the_live_trace_does(runtime: Runtime) -> None:
    flow = chain("static", 2)
    session = runtime.debug(flow)
    session.add_breakpoint("sink")
    runtime.post(flow, "r0", "input", {"n": 0}, job_id="fixed-job")
    snapshot = session.wait_until_paused(5)
    static = snapshot_html(snapshot, flow)
    assert "paused before <b>sink</b>" in static
    assert " ms<" not in static
    assert "took" not in static
    assert " ms<" in trace_html(session.history)
    session.resume()
    assert runtime.wait_until_all_jobs_finished(5)
