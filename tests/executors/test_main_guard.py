"""A script that starts worker processes without a ``__main__`` guard is told the fix in one
line, instead of a bootstrapping traceback from every child (and never hangs)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.executors.kinds import REMOTE

ROOT = Path(__file__).resolve().parents[2]

FLOW = """\
from routilux import Flow, Routine, Runtime


class Double(Routine):
    def __init__(self):
        super().__init__()
        self.add_slot("input")

    def logic(self, input, policy_message, worker_state):
        worker_state.shared_log.append(input[0]["n"] * 2)


flow = Flow("guarded")
double = Double()
double.set_executor({executor!r})
flow.add_routine(double, "double")
"""

RUN = """\
with Runtime(thread_pool_size=2) as runtime:
    state, job = runtime.post(flow, "double", "input", {"n": 21})
    job.wait(60)
    print("result", list(state.shared_log), job.status)
"""


def run_script(path: Path, source: str) -> subprocess.CompletedProcess[str]:
    path.write_text(source)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return subprocess.run(
        [sys.executable, str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        cwd=path.parent,
    )


@pytest.mark.parametrize("executor", REMOTE)
def test_a_script_without_a_main_guard_gets_the_fix_in_one_line(
    executor: str, tmp_path: Path
) -> None:
    script = tmp_path / "unguarded.py"
    done = run_script(script, FLOW.format(executor=executor) + RUN)
    assert done.returncode != 0
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("routilux.core.errors.ConfigurationError: ")
    assert f"imports {script} again" in last
    assert 'if __name__ == "__main__":' in last
    assert "bootstrapping" not in done.stderr
    assert "result" not in done.stdout


def test_the_same_script_with_the_guard_runs(tmp_path: Path) -> None:
    run = "if __name__ == '__main__':\n" + textwrap.indent(RUN, "    ")
    done = run_script(tmp_path / "guarded.py", FLOW.format(executor="processes") + run)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "result [42] completed"
