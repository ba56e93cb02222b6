"""Kill a job's process with SIGKILL at random moments, resume it, and tally the audits.

Run: ``.venv/bin/python bench/store_crash.py [--kills 100] [--seed N]``

Each kill runs the fan-out job of ``tests/store/crash_check.py`` (161 activations, two
threads) in a child process, kills it after a random delay, reopens the store, resumes the
job in this process and checks: nothing lost, nothing duplicated, no completed activation
run again, final outputs equal to a run that never crashed. Then as many kills of the
counter job (60 activations of one routine overlapping on four threads, each a
read-modify-write of routine state, ``shared_data`` and ``shared_log``): the worker state
after the resume must equal an uncrashed run's. Exits 1 if any audit fails.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.store.crash_check import (
    COUNTER_ITEMS,
    crash_and_resume,
    crash_and_resume_counter,
    reference,
)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=100)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    failures, committed, ran_again = [], [], 0
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        expected = reference(Path(tmp))
        for kill in range(args.kills):
            where = Path(tmp) / f"kill{kill}"
            where.mkdir()
            audit = crash_and_resume(where, random.Random(args.seed * 100_003 + kill), expected)
            committed.append(audit.committed_before_resume)
            ran_again += audit.ran_again
            if not audit.ok:
                failures.append((kill, audit))
    mid_run = sum(1 for c in committed if c < 161)
    print(f"{args.kills} kills in {time.perf_counter() - start:.1f} s (seed {args.seed})")
    print(f"  killed mid-job: {mid_run}; committed before the kill: min {min(committed)}, ")
    print(f"  max {max(committed)} of 161; activations running at a kill, run again: {ran_again}")
    lost = sum(len(a.lost) for _, a in failures)
    duplicated = sum(len(a.duplicated) for _, a in failures)
    repeated = sum(len(a.completed_run_again) for _, a in failures)
    print(f"  lost: {lost}, duplicated: {duplicated}, completed run again: {repeated}")
    differing = sum(a.outputs_differ for _, a in failures)
    print(f"  outputs differing from a run without crash: {differing}")
    for kill, audit in failures:
        print(f"  FAILED kill {kill}: {audit}")
    state_failures = []
    mid, start = 0, time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        for kill in range(args.kills):
            where = Path(tmp) / f"count{kill}"
            where.mkdir()
            state = crash_and_resume_counter(where, random.Random(args.seed * 7_919 + kill))
            mid += state.committed_before_resume < COUNTER_ITEMS + 1
            if not state.ok:
                state_failures.append((kill, state))
    print(f"{args.kills} kills of the counter job in {time.perf_counter() - start:.1f} s")
    print(f"  killed mid-job: {mid}; worker state differing from a run without crash: ")
    print(f"  {len(state_failures)}")
    for kill, state in state_failures:
        print(f"  FAILED kill {kill}: {state}")
    return 1 if failures or state_failures else 0


if __name__ == "__main__":
    sys.exit(main())
