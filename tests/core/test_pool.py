"""DaemonPool: the drainers' threads, which never keep a process alive."""

from __future__ import annotations

import threading
import time

import pytest

from routilux.core._pool import DaemonPool


def test_it_reuses_threads_and_stays_within_its_size() -> None:
    pool = DaemonPool(2, "test")
    busy = 0
    peak = 0
    lock = threading.Lock()
    all_done = threading.Barrier(1 + 1, timeout=5)
    count = 0

    def task() -> None:
        nonlocal busy, peak, count
        with lock:
            busy += 1
            peak = max(peak, busy)
        time.sleep(0.002)
        with lock:
            busy -= 1
            count += 1
            last = count == 20
        if last:
            all_done.wait()

    for _ in range(20):
        pool.submit(task)
    all_done.wait()
    assert peak <= 2
    assert len(pool._threads) <= 2
    assert pool.shutdown(wait=True, timeout=5) == []


def test_shutdown_waits_at_most_its_timeout_for_a_stuck_task() -> None:
    pool = DaemonPool(1, "stuck")
    started = threading.Event()
    pool.submit(lambda: (started.set(), threading.Event().wait()))
    assert started.wait(5)
    began = time.monotonic()
    still = pool.shutdown(wait=True, timeout=0.2)
    assert time.monotonic() - began < 2
    assert still == ["stuck_0"]
    assert all(t.daemon for t in pool._threads)
    with pytest.raises(RuntimeError):
        pool.submit(lambda: None)
