"""Checkpointer: copies a store's write-ahead log into the database file, off the commit path.

With SQLite's automatic checkpoints, the commit that takes the WAL past 1,000 pages copies
them all into the database file and syncs it: a stall of milliseconds for one activation,
and a drainer that finishes nothing for that long makes the worker start another thread.
The store turns automatic checkpoints off and this thread does the copying instead, on a
connection of its own (SQLite runs it without the GIL): a PASSIVE checkpoint after every
``every`` commits, which never makes the writer wait.

Under a writer that never pauses, though, these checkpoints never reach the end of the
WAL, and SQLite starts the WAL over only once a checkpoint has: its file would grow for as
long as the load lasts. Past ``limit`` frames the thread asks the writer to run one
checkpoint itself, between two transactions (:attr:`Checkpointer.wants_catch_up`), and
pauses its own until then (two checkpoints at once make one of them give up); that one
reaches the end, so the next transaction starts the WAL from its beginning. Its cost (the
few frames not copied yet, and syncing the files) falls on one commit in many thousands.
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
        limit: WAL frames past which the writer is asked to catch up (see above).
    """

    def __init__(self, path: Path, *, every: int = 200, limit: int = 20_000) -> None:
        self.path = path
        self.every = every
        self.limit = limit
        self._commits = 0
        self._catch_up = False
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

    @property
    def wants_catch_up(self) -> bool:
        """Whether the writer should run a checkpoint between two transactions."""
        return self._catch_up

    def caught_up(self) -> None:
        """The writer's checkpoint reached the end of the WAL: back to checkpointing here."""
        self._catch_up = False

    def _start(self) -> None:
        with self._start_lock:
            if self._thread is None and not self._closed:
                self._thread = threading.Thread(
                    target=self._run, name=f"routilux-checkpoint {self.path.name}", daemon=True
                )
                self._thread.start()

    def _run(self) -> None:
        try:
            conn = sqlite3.connect(self.path, isolation_level=None)
        except sqlite3.Error:
            _log.exception("cannot checkpoint %s", self.path)
            return
        try:
            while True:
                self._wake.wait()
                self._wake.clear()
                if self._closed:
                    return
                if self._catch_up:
                    continue  # the writer's turn: a checkpoint here would make it busy
                try:
                    _, frames, _ = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
                except sqlite3.Error as exc:
                    # Another checkpoint runs, say: the next round tries again.
                    _log.debug("checkpoint of %s skipped: %s", self.path, exc)
                    continue
                if frames > self.limit:
                    self._catch_up = True
        finally:
            conn.close()

    def close(self) -> None:
        """Stop the thread (the store's last connection checkpoints when it closes)."""
        with self._start_lock:
            self._closed = True
            thread = self._thread
        self._wake.set()
        if thread is not None:
            thread.join()
