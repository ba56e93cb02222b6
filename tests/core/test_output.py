"""Routed stdout: print() inside logic lands in the job's buffer."""

from __future__ import annotations

import contextlib
import io
import sys
from collections.abc import Iterator
from typing import Any

from routilux import Flow, Routine, Runtime, get_job_output, install_routed_stdout
from routilux.core.output import uninstall_routed_stdout


@contextlib.contextmanager
def routed() -> Iterator[io.StringIO]:
    """Route stdout on top of a fresh buffer standing in for the terminal.

    Done inside the test body: pytest's own capture resets sys.stdout after fixtures run.
    """
    original = sys.stdout
    terminal = io.StringIO()
    sys.stdout = terminal
    install_routed_stdout()
    try:
        yield terminal
    finally:
        uninstall_routed_stdout()
        sys.stdout = original


class Talker(Routine):
    def __init__(self) -> None:
        super().__init__()
        self.add_slot("x")

    def logic(self, x: list[Any], pm: Any, ws: Any) -> None:
        print(f"hello {x[0]['name']}")


def test_prints_inside_logic_go_to_their_own_jobs() -> None:
    flow = Flow("talk")
    flow.add_routine(Talker(), "t")
    with routed() as terminal, Runtime(thread_pool_size=3) as rt:
        jobs = [rt.post(flow, "t", "x", {"name": n})[1] for n in ("ada", "bob", "cy")]
        assert rt.wait_until_all_jobs_finished(5)
        print("outside")
    assert [get_job_output(j.job_id) for j in jobs] == ["hello ada\n", "hello bob\n", "hello cy\n"]
    assert jobs[0].get_output() == "hello ada\n"
    assert terminal.getvalue() == "outside\n"


def test_installing_twice_keeps_one_wrapper() -> None:
    with routed():
        wrapper = sys.stdout
        install_routed_stdout()
        assert sys.stdout is wrapper
    assert get_job_output("no-such-job") == ""
