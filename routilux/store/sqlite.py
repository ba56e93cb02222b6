"""SqliteStore: an embedded job store in one SQLite file (WAL mode), created on first use.

The store is the single writer of its file: one connection, guarded by a lock, used from
whichever worker thread commits (see ``_commits.py``). Each :meth:`SqliteStore.write_batch`
is one transaction; a background thread copies the WAL into the database file
(``_checkpointer.py``), so no commit pays for that.

Durability: the file runs in WAL mode with ``synchronous=NORMAL``. A commit is in the WAL
(in the operating system's page cache) when ``write_batch`` returns, so a process that is
killed, even with SIGKILL, loses nothing committed. The WAL is synced to disk at
checkpoints only, so a power loss or kernel crash may lose the last commits since the
previous checkpoint; the database stays consistent either way.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
import time
from collections.abc import Sequence
from itertools import chain
from pathlib import Path
from typing import Any

from routilux.core.errors import ConfigurationError
from routilux.store import _schema as sql
from routilux.store._base import LEASE, StoreBase, _open_owners
from routilux.store._checkpointer import Checkpointer
from routilux.store._writes import Batch
from routilux.store.errors import (
    CorruptStoreError,
    ForeignStoreError,
    StoreError,
    StoreLockedError,
    StoreReadOnlyError,
)

__all__ = ["SqliteStore"]

_log = logging.getLogger("routilux.store")

# Rows per INSERT into the writes view: well under SQLite's limit of 32,766 parameters.
_WRITES_PER_STATEMENT = 500


class SqliteStore(StoreBase):
    """Checkpoints of jobs in a SQLite file: jobs, finished activations and queued data.

    Args:
        path: The database file; created (with its directory's WAL files) on first use.
        read_only: Open for reading only (history, jobs); also what happens, with a warning,
            when the file or its directory is not writable.
        lease: Seconds a job's lease lasts without a heartbeat; a runtime whose heartbeat
            stops for that long (or whose process is gone) loses its jobs to ``resume()``.

    Raises:
        CorruptStoreError: The file is not SQLite, or damaged.
        ForeignStoreError: The file is another application's database (it is not changed).
        StoreLockedError: Another process held the write lock past the busy timeout (5 s).

    Use it as a context manager, or call :meth:`close`.
    """

    path: Path

    def __init__(
        self, path: str | os.PathLike[str], *, read_only: bool = False, lease: float = LEASE
    ) -> None:
        self.path = Path(path)
        self._init_common(lease)
        self._lock = threading.Lock()
        self._probe()
        if not read_only and not _writable(self.path):
            _log.warning("%s is not writable: opened read-only", self.path)
            read_only = True
        self.read_only = read_only
        self._checkpointer = Checkpointer(self.path)
        try:
            if read_only:
                uri = f"file:{self.path}?mode=ro"
                self._conn = sqlite3.connect(
                    uri, uri=True, isolation_level=None, check_same_thread=False
                )
            else:
                self._conn = sqlite3.connect(
                    self.path,
                    isolation_level=None,
                    check_same_thread=False,
                    # A statement per size of a round of writes (see _schema.insert_writes).
                    cached_statements=512,
                )
        except sqlite3.Error as exc:
            raise _store_error(self.path, exc, "cannot open") from exc
        try:
            if read_only:
                self._check_read_only()
            else:
                self._setup()
        except sqlite3.Error as exc:
            self._conn.close()
            raise _store_error(self.path, exc, "cannot open") from exc
        except BaseException:
            self._conn.close()
            raise
        _open_owners.add(self.owner)

    def _probe(self) -> None:
        """Refuse, without writing a byte, a file that is not SQLite or not a job store."""
        if not self.path.exists() or self.path.stat().st_size == 0:
            return
        try:
            conn = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True)
        except sqlite3.Error as exc:
            raise _store_error(self.path, exc, "cannot open") from exc
        try:
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
            if not tables:
                return
            schema = None
            if "meta" in tables:
                row = conn.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
                schema = row[0] if row else None
            if schema is None or "jobs" not in tables:
                raise ForeignStoreError(
                    f"{self.path} is an SQLite database of another application (tables: "
                    f"{', '.join(sorted(tables)[:5])}); routilux leaves it as it is"
                )
        except sqlite3.Error as exc:
            raise _store_error(self.path, exc, "cannot read") from exc
        finally:
            conn.close()

    def _check_read_only(self) -> None:
        row = self._conn.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
        if row is None or row[0] != sql.SCHEMA_VERSION:
            version = row[0] if row else None
            raise ConfigurationError(
                f"{self.path} has store schema {version}; this routilux reads "
                f"{sql.SCHEMA_VERSION} and cannot migrate a read-only file"
            )
        self._start_ids(0)

    def _setup(self) -> None:
        conn = self._conn
        for pragma in sql.PRAGMAS:
            conn.execute(pragma)
        conn.execute("BEGIN IMMEDIATE")
        try:
            for statement in sql.SCHEMA:
                conn.execute(statement)
            row = conn.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
            if row is None:
                conn.execute("INSERT INTO meta VALUES ('schema', ?)", (sql.SCHEMA_VERSION,))
                conn.execute(f"PRAGMA application_id = {sql.APPLICATION_ID}")
            else:
                _migrate(conn, row[0], self.path)
            for statement in sql.LATE_SCHEMA:
                conn.execute(statement)
            cursor = conn.execute(
                "INSERT INTO sessions (opened_at, pid) VALUES (?, ?)", (time.time(), os.getpid())
            )
            self._start_ids(cursor.lastrowid or 0)
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise

    def __repr__(self) -> str:
        return f"<SqliteStore {self.path}>"

    def __enter__(self) -> SqliteStore:
        return self

    def close(self) -> None:
        """Close the connection (idempotent)."""
        self._stop_heartbeat()
        self._checkpointer.close()
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None  # type: ignore[assignment]

    @property
    def closed(self) -> bool:
        return self._conn is None

    # -- writes -----------------------------------------------------------------------------

    def write_batch(self, batch: Batch) -> None:
        """Write ``batch`` in one transaction (all of it, or nothing if it raises).

        :class:`~routilux.store.StoreRecorder` builds the batches; see ``_writes.py``.
        """
        if self.read_only:
            raise StoreReadOnlyError(f"{self.path} was opened read-only; cannot record jobs")
        if batch.jobs and self._heartbeat is None:
            self._start_heartbeat()
        post = _one_post(batch)
        # Rows a statement refers to come first: jobs before their items, items before
        # what consumes or drops them, jobs before their statuses.
        steps = [
            (statement, rows)
            for statement, rows in (
                (sql.INSERT_JOB, batch.jobs),
                (sql.INSERT_BASELINE, batch.baselines),
                (None, batch.rows),
                (sql.INSERT_STATE, batch.states),
                (sql.UPSERT_ATTEMPTS, batch.attempts),
                (sql.DROP_ITEM, batch.drops),
                (sql.FINISH_JOB, batch.statuses),
            )
            if rows and post is None
        ]
        with self._lock:
            conn = self._conn
            if conn is None:
                raise StoreError(f"{self!r} is closed")
            # One statement is a transaction of its own: no BEGIN and COMMIT to run.
            if post is not None:
                conn.execute(sql.INSERT_POST, post)
            elif len(steps) == 1 and len(steps[0][1]) <= (
                _WRITES_PER_STATEMENT if steps[0][0] is None else 1
            ):
                _run(conn, *steps[0])
            else:
                conn.execute("BEGIN")
                try:
                    for statement, rows in steps:
                        _run(conn, statement, rows)
                    conn.execute("COMMIT")
                except BaseException:
                    if conn.in_transaction:
                        conn.execute("ROLLBACK")
                    raise
            checkpointer = self._checkpointer
            checkpointer.committed()
            if checkpointer.wants_catch_up:
                # Between transactions, so it reaches the end of the WAL (see _checkpointer).
                busy, _, _ = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
                if not busy:
                    checkpointer.caught_up()

    # -- reads ---------------------------------------------------------------------------

    def _query(self, query: str, params: Sequence[Any] = ()) -> list[Any]:
        with self._lock:
            if self._conn is None:
                raise ConfigurationError(f"{self!r} is closed")
            try:
                return self._conn.execute(query, params).fetchall()
            except sqlite3.Error as exc:
                raise _store_error(self.path, exc, "cannot read") from exc

    def _execute(self, statement: str, params: Sequence[Any] = ()) -> int:
        with self._lock:
            if self._conn is None:
                raise StoreError(f"{self!r} is closed")
            try:
                return self._conn.execute(statement, params).rowcount
            except sqlite3.Error as exc:
                raise _store_error(self.path, exc, "cannot write") from exc


def _one_post(batch: Batch) -> tuple[Any, ...] | None:
    """The values of the ``posts`` view if ``batch`` is a new job's row and its first posted
    item and nothing else (the transaction of a ``post()``), else None."""
    rows = batch.rows
    if len(rows) != 1 or len(batch.jobs) != 1 or batch.baselines or batch.statuses:
        return None
    if batch.states or batch.attempts or batch.drops:
        return None
    row, job = rows[0], batch.jobs[0]
    # (act_id, job_key, step, <10 activation columns>, consumed, item_id, routine, slot, data)
    if row[0] is not None or row[13] is not None or row[14] is None or row[1] != job[0]:
        return None
    return (*job, *row[14:], row[2])


def _run(conn: sqlite3.Connection, statement: str | None, rows: Sequence[Sequence[Any]]) -> None:
    """Run ``statement`` for each row; None: the rows of the writes view, in one statement."""
    if statement is None:
        for start in range(0, len(rows), _WRITES_PER_STATEMENT):
            chunk = rows[start : start + _WRITES_PER_STATEMENT]
            conn.execute(sql.insert_writes(len(chunk)), list(chain.from_iterable(chunk)))
    elif len(rows) == 1:
        conn.execute(statement, rows[0])  # skips executemany's iterator set-up
    else:
        conn.executemany(statement, rows)


def _migrate(conn: sqlite3.Connection, version: str, path: Path) -> None:
    """Bring a store written by an older routilux up to the current schema, in place."""
    while version != sql.SCHEMA_VERSION:
        if version not in sql.MIGRATIONS:
            raise ConfigurationError(
                f"{path} has store schema {version}; this routilux reads {sql.SCHEMA_VERSION}"
            )
        version, statements = sql.MIGRATIONS[version]
        for statement in statements:
            conn.execute(statement)
        conn.execute("UPDATE meta SET value = ? WHERE key = 'schema'", (version,))


def _writable(path: Path) -> bool:
    """Whether the store can write ``path`` (and its WAL files beside it)."""
    if path.exists() and not os.access(path, os.W_OK):
        return False
    directory = path.parent if str(path.parent) else Path(".")
    return not directory.exists() or os.access(directory, os.W_OK | os.X_OK)


def _store_error(path: Path, exc: sqlite3.Error, doing: str) -> StoreError:
    """The accurate error for what SQLite said about ``path``."""
    text = str(exc)
    if "locked" in text or "busy" in text:
        return StoreLockedError(
            f"{doing} job store {path}: another process holds its write lock ({text}); "
            "retry, or give each runtime a store of its own"
        )
    if "readonly" in text or "read-only" in text:
        return StoreReadOnlyError(f"{doing} job store {path}: it is read-only ({text})")
    if "not a database" in text or "malformed" in text or "corrupt" in text:
        return CorruptStoreError(
            f"{path} is not a usable job store (corrupt or not SQLite): {text}"
        )
    return StoreError(f"{doing} job store {path}: {text}")
