"""The floor under checkpointing: how fast can *any* recorder run, on this machine, that
keeps the store's durability promise?

Run: ``.venv/bin/python bench/store_floor.py [--posts N] [--repeats N] [--pool-size N]``;
``.venv-compiled/bin/python`` measures the compiled engine.

The recorder measured here (:class:`LogRecorder`) keeps the promise and nothing else:

- a post is committed before ``post()`` returns (one transaction, in the posting thread);
- each finished activation is one line appended in memory; what gathered is committed as
  **one row** of one table (a text blob): by a background thread every 0.5 ms, as the store
  does, or (*inline*) by the drainer whose line makes 32, the background thread taking only
  the tail;
- a job is done (its ``wait()`` returns) only once its status is committed.

It leaves out everything else the real store does: no ordering of an activation after the
one that produced its inputs, no routine or worker state, no job rows, leases or item ids,
no history that can be read back. So whatever it costs is a lower bound for the store: on
the 10-routine chain of ``bench/store_speed.py``, the store cannot run faster than this.

Five runs per repeat, back to back: the engine alone (*headless*), the floor without SQLite
(*handoffs*: the same threads and waits, nothing written), the floor with either way of
committing rounds (*floor*, *inline*), and the real store (*store*). Ratios are of each run to
the headless run of its repeat.
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

# store_speed: the chain it measures, and which routilux (the pure or the compiled build).
sys.path.insert(0, str(Path(__file__).resolve().parent))
from store_speed import BUILD, run_line
from store_speed import chain as store_chain

from routilux import Runtime
from routilux.core.activation import ActivationRecord
from routilux.core.hooks import Observer
from routilux.core.job import JobContext, get_current_job
from routilux.core.queue import QueuedItem
from routilux.core.worker import Worker
from routilux.store.codec import encode

GATHER = 0.0005
"""Seconds the committer lets activations gather (as the store's committer does)."""

ROUND = 32
"""Lines past which an *inline* recorder's drainer commits them itself."""


class LogRecorder(Observer):
    """Appends a line per post, activation and job end; commits them one blob per round.

    Args:
        path: The SQLite file, or None to write nothing (only the handoffs are paid).
        inline: Whether drainers commit full rounds themselves (else only the background
            thread commits activations).
    """

    needs_produced = True

    def __init__(self, path: Path | None, inline: bool = False) -> None:
        self._inline = inline
        self._db: sqlite3.Connection | None = None
        if path is not None:
            self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")  # as the store: safe from SIGKILL
            self._db.execute("CREATE TABLE log (id INTEGER PRIMARY KEY, body TEXT NOT NULL)")
        self._lines: list[str] = []
        self._done: list[Callable[[], None]] = []  # run once the lines before them commit
        self._holds: dict[str, Callable[[], None]] = {}
        self._lock = threading.Lock()  # guards the lists above
        self._commit_lock = threading.Lock()  # one transaction at a time
        self._wake = threading.Event()
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="floor-commit", daemon=True)
        self._thread.start()

    def close(self) -> None:
        """Commit what is left, stop the background thread and close the file."""
        self._closed = True
        self._wake.set()
        self._thread.join()
        self._commit()
        if self._db is not None:
            self._db.close()

    def _commit(self) -> None:
        with self._commit_lock:
            with self._lock:
                lines, self._lines = self._lines, []
                done, self._done = self._done, []
            if lines and self._db is not None:
                self._db.execute("BEGIN")
                self._db.execute("INSERT INTO log (body) VALUES (?)", ("\n".join(lines),))
                self._db.execute("COMMIT")
        for release in done:
            release()

    def _run(self) -> None:
        while not self._closed:
            self._wake.wait()
            time.sleep(GATHER)
            self._wake.clear()
            self._commit()

    def job_started(self, worker: Worker, job: JobContext) -> None:
        release = worker.hold_completion(job)
        with self._lock:
            self._holds[job.job_id] = release

    def job_finished(self, worker: Worker, job: JobContext) -> None:
        with self._lock:
            self._lines.append(f"S\t{job.job_id}\t{job.status.value}")
            self._done.append(self._holds.pop(job.job_id))
        self._wake.set()

    def slot_received(self, worker: Worker, routine_id: str, slot: str, item: QueuedItem) -> None:
        if item.job is None or get_current_job() is item.job:
            return  # an emit: written with its activation
        line = f"P\t{item.job.job_id}\t{item.uid}\t{routine_id}\t{slot}\t{encode(item.data, '')}"
        with self._lock:
            self._lines.append(line)
        self._commit()  # before post() returns

    def activation_finished(self, worker: Worker, record: ActivationRecord) -> None:
        consumed = ",".join(str(item.uid) for item in record.consumed)
        produced = "\t".join(
            f"{item.uid}\t{target}\t{slot}\t{encode(item.data, '')}"
            for target, slot, item in record.produced
        )
        line = f"A\t{record.job_id}\t{record.seq}\t{record.routine_id}\t{consumed}\t{produced}"
        with self._lock:
            self._lines.append(line)
            full = len(self._lines) >= ROUND
        if full and self._inline and not self._commit_lock.locked():
            self._commit()
        elif not self._wake.is_set():
            self._wake.set()


def chain(posts: int, pool: int, recorder: LogRecorder | None) -> float:
    """Activations/s of ``posts`` posts through the 10-routine line."""
    try:
        with Runtime(thread_pool_size=pool) as runtime:
            if recorder is not None:
                runtime.add_observer(recorder)
            return posts * 10 / run_line(runtime, posts)
    finally:
        if recorder is not None:
            recorder.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=3000)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--pool-size", type=int, default=4)
    args = parser.parse_args()
    names = ("headless", "handoffs", "floor", "inline", "store")
    runs: dict[str, list[float]] = {name: [] for name in names}
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(args.repeats):
            recorders = {
                "headless": None,
                "handoffs": LogRecorder(None),
                "floor": LogRecorder(Path(tmp) / f"floor{i}.db"),
                "inline": LogRecorder(Path(tmp) / f"inline{i}.db", inline=True),
            }
            for name, recorder in recorders.items():
                runs[name].append(chain(args.posts, args.pool_size, recorder))
            store = Path(tmp) / f"store{i}.db"
            runs["store"].append(store_chain(args.posts, store, [], args.pool_size))
    print(
        f"chain, 10 routines, {args.posts} posts, pool size {args.pool_size}, "
        f"{args.repeats} repeats, routilux {BUILD}:"
    )
    for name, rates in runs.items():
        ratios = sorted(r / h for r, h in zip(rates, runs["headless"], strict=True))
        print(
            f"  {name:9} {statistics.median(rates):9,.0f} activations/s, "
            f"{statistics.median(ratios):6.1%} of headless ({ratios[0]:.1%} to {ratios[-1]:.1%})"
        )


if __name__ == "__main__":
    main()
