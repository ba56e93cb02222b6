"""A driver killed with SIGKILL leaves none of its pool processes behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

DRIVER = textwrap.dedent(
    """
    import os, sys, time
    from routilux import Flow, Routine, Runtime

    class WhereAmI(Routine):
        def __init__(self):
            super().__init__()
            self.add_slot("input")

        def logic(self, input, policy_message, worker_state):
            worker_state.shared_log.append(os.getpid())

    if __name__ == "__main__":
        flow = Flow("orphans")
        where = WhereAmI()
        where.set_executor("processes")
        flow.add_routine(where, "where")
        runtime = Runtime(thread_pool_size=2)
        state = runtime.exec(flow)
        for n in range(20):
            runtime.post(flow, "where", "input", {"n": n})
        runtime.wait_until_all_jobs_finished(60)
        print(" ".join(map(str, sorted(set(state.shared_log)))), flush=True)
        time.sleep(600)  # killed long before
    """
)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # An exited child of a parent that does not reap it is a zombie: it is gone all the same.
    try:
        return " Z " not in Path(f"/proc/{pid}/stat").read_text().split(")", 1)[1][:4]
    except OSError:
        return False


def test_pool_processes_exit_when_their_driver_is_killed(tmp_path: Path) -> None:
    script = tmp_path / "driver.py"
    script.write_text(DRIVER)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), *sys.path])}
    driver = subprocess.Popen(
        [sys.executable, str(script)], stdout=subprocess.PIPE, text=True, env=env
    )
    try:
        assert driver.stdout is not None
        pids = [int(p) for p in driver.stdout.readline().split()]
        assert pids, "the driver's remote routine ran nowhere"
        assert driver.pid not in pids
        assert all(_alive(pid) for pid in pids)
    finally:
        driver.send_signal(signal.SIGKILL)
        driver.wait()
        if driver.stdout is not None:
            driver.stdout.close()
    deadline = time.monotonic() + 30
    while any(_alive(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert [pid for pid in pids if _alive(pid)] == []
