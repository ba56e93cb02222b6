"""Checkpointer: copies a store's write-ahead log into the database file, off the commit path.

With SQLite's automatic checkpoints, the commit that takes the WAL past 1,000 pages copies
them all into the database file and syncs it: a stall of milliseconds for one activation,
and a drainer that finishes nothing for that long makes the worker start another thread.
The store turns automatic checkpoints off and this thread does the copying instead, on a
connection of its own (SQLite runs it without the GIL):

- a PASSIVE checkpoint after every ``every`` commits: it never makes the writer wait;
- under a writer that never pauses, passive checkpoints never catch up with the end of
  the WAL, so the WAL is never started over and its file keeps growing; past ``limit``
  frames a RESTART checkpoint waits for the writer's current transaction and makes the
  next one start the WAL from its beginning: one short wait every ``limit`` frames.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from pathlib import Path

__all__ = ["Checkpointer"]

_log = logging.getLogger("routilux.store")


class Checkpointer:
    """Checkpoints the WAL of the SQLite file at ``path`` in a background thread.

    Args:
        path: The database file.
        every: Commits between two checkpoints.
        limit: WAL frames past which the WAL is restarted (see the module docstring).
    """

    def __init__(self, path: Path, *, every: int = 200, limit: int = 20_000) -> None:
        self.path = path
        self.every = every
        self.limit = limit
        self._commits = 0
        self._wake = threading.Event()
        self._closed = False
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()

    def committed(self) -> None:
        """Count one commit of the store's writer (which calls this under its own lock)."""
        self._commits += 1
        if self._commits >= self.every:
            self._commits = 0
            if self._thread is None:
                self._start()
            self._wake.set()

    def _start(self) -> None:
        with self._start_lock:
            if self._thread is None and not self._closed:
                self._thread = threading.Thread(
                    target=self._run, name=f"routilux-checkpoint {self.path.name}", daemon=True
                )
                self._thread.start()

    def _run(self) -> None:
        conn = sqlite3.connect(self.path, isolation_level=None)
        try:
            conn.execute("PRAGMA busy_timeout=5000")
            while True:
                self._wake.wait()
                self._wake.clear()
                if self._closed:
                    return
                self._checkpoint(conn)
        except sqlite3.Error:
            _log.exception("checkpoints of %s stopped", self.path)
        finally:
            conn.close()

    def _checkpoint(self, conn: sqlite3.Connection) -> None:
        try:
            _, frames, _ = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
            if frames > self.limit:
                conn.execute("PRAGMA wal_checkpoint(RESTART)").fetchone()
        except sqlite3.OperationalError as exc:
            # Busy or locked: the next round tries again; the WAL only grows meanwhile.
            _log.debug("checkpoint of %s skipped: %s", self.path, exc)

    def close(self) -> None:
        """Stop the thread (the store's last connection checkpoints when it closes)."""
        with self._start_lock:
            self._closed = True
            thread = self._thread
        self._wake.set()
        if thread is not None:
            thread.join()
