"""The seed examples' flows give the same outputs whichever executor runs their logic."""

from __future__ import annotations

import contextlib
import io
import runpy
from pathlib import Path
from typing import Any

import pytest

from routilux import Flow, Runtime
from tests.executors.kinds import EXECUTORS

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


# (script, the flow's name in the script's namespace, entry routine, slot, data)
SEEDS = [
    ("quick_start.py", "flow", "source", "trigger", {"data": "Hello"}),
    ("hello_world.py", "flow", "greeter", "trigger", {}),
]


def _seed_flow(script: str, name: str) -> Flow:
    """The flow the seed script builds (the script runs once, verbatim, on threads)."""
    with contextlib.redirect_stdout(io.StringIO()):
        namespace = runpy.run_path(str(EXAMPLES / script), run_name="seed_example")
    flow = namespace[name]
    assert isinstance(flow, Flow)
    return flow


@pytest.mark.parametrize("executor", EXECUTORS)
@pytest.mark.parametrize(("script", "name", "entry", "slot", "data"), SEEDS)
def test_a_seed_example_gives_the_same_outputs_on_every_executor(
    script: str,
    name: str,
    entry: str,
    slot: str,
    data: dict[str, Any],
    executor: str | None,
    capsys: pytest.CaptureFixture[str],
) -> None:
    flow = _seed_flow(script, name)
    if executor is not None:
        flow.set_remote(True)  # every routine of the seed flow runs its logic there
        assert all(routine.remote is not None for routine in flow.routines.values())
    with Runtime(thread_pool_size=2, executor=executor) as runtime:
        session = runtime.debug(flow)
        _, job = runtime.post(flow, entry, slot, data)
        assert job.wait(60)
        trace = [(r.routine_id, r.inputs, r.emitted, r.error) for r in session.snapshot().trace]
        printed = capsys.readouterr().out  # remote logic's prints are replayed here

    assert str(job.status) == "completed"
    if script == "quick_start.py":
        assert trace == [
            ("source", {"trigger": [{"data": "Hello"}]}, [("output", {"data": "Hello"})], None),
            (
                "processor",
                {"input": [{"data": "Hello"}]},
                [("output", {"result": "Processed: Hello"})],
                None,
            ),
        ]
    else:
        assert trace == [
            ("greeter", {"trigger": [{}]}, [("greeting", {"message": "Hello, World!"})], None)
        ]
        assert printed == "Hello, World!\n"
