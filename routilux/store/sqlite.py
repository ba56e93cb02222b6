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

import itertools
import os
import sqlite3
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from routilux.core.errors import ConfigurationError, SerializationError
from routilux.store import _schema as sql
from routilux.store._checkpointer import Checkpointer
from routilux.store._json import decode
from routilux.store._writes import Batch
from routilux.store.records import UNFINISHED, ActivationRow, ItemRow, JobRow

__all__ = ["SqliteStore"]

# Rows per INSERT into the writes view: well under SQLite's limit of 32,766 parameters.
_WRITES_PER_STATEMENT = 500

ITEM_ID_SHIFT = 40
"""Item ids are ``session << 40 | QueuedItem.uid``: unique across restarts of the process."""


class SqliteStore:
    """Checkpoints of jobs in a SQLite file: jobs, finished activations and queued data.

    Args:
        path: The database file; created (with its directory's WAL files) on first use.

    Use it as a context manager, or call :meth:`close`.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._checkpointer = Checkpointer(self.path)
        try:
            self._conn = sqlite3.connect(
                self.path,
                isolation_level=None,
                check_same_thread=False,
                # A statement per size of a round of writes (see _schema.insert_writes).
                cached_statements=512,
            )
        except sqlite3.Error as exc:
            raise SerializationError(f"cannot open job store {self.path}: {exc}") from exc
        try:
            self._setup()
        except sqlite3.DatabaseError as exc:
            self._conn.close()
            raise SerializationError(
                f"{self.path} is not a usable job store (corrupt or not SQLite): {exc}"
            ) from exc

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
            else:
                _migrate(conn, row[0], self.path)
            cursor = conn.execute(
                "INSERT INTO sessions (opened_at, pid) VALUES (?, ?)", (time.time(), os.getpid())
            )
            self.session: int = cursor.lastrowid or 0
            # Handed out without a lock: next() on a count is atomic.
            self._job_keys = itertools.count(_max_plus_one(conn, "SELECT max(job_key) FROM jobs"))
            self._act_ids = itertools.count(
                _max_plus_one(conn, "SELECT max(act_id) FROM activations")
            )
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    def __repr__(self) -> str:
        return f"<SqliteStore {self.path}>"

    def __enter__(self) -> SqliteStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection (idempotent)."""
        self._checkpointer.close()
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None  # type: ignore[assignment]

    @property
    def closed(self) -> bool:
        return self._conn is None

    # -- ids -------------------------------------------------------------------------------

    def item_id(self, uid: int) -> int:
        """The durable id of a queued item with ``uid`` (resumed items already carry one)."""
        return uid if uid >> ITEM_ID_SHIFT else (self.session << ITEM_ID_SHIFT) | uid

    def new_job_key(self) -> int:
        """A ``job_key`` no job in the file has."""
        return next(self._job_keys)

    def new_act_id(self) -> int:
        """An ``act_id`` no activation in the file has."""
        return next(self._act_ids)

    # -- writes -----------------------------------------------------------------------------

    def write_batch(self, batch: Batch) -> None:
        """Write ``batch`` in one transaction (all of it, or nothing if it raises).

        :class:`~routilux.store.StoreRecorder` builds the batches; see ``_writes.py``.
        """
        # Rows a statement refers to come first: jobs before their items, items before
        # what consumes or drops them, jobs before their statuses.
        steps = [
            (statement, rows)
            for statement, rows in (
                (sql.INSERT_JOB, batch.jobs),
                (sql.INSERT_BASELINE, batch.baselines),
                (None, batch.rows),
                (sql.UPSERT_ATTEMPTS, batch.attempts),
                (sql.DROP_ITEM, batch.drops),
                (sql.FINISH_JOB, batch.statuses),
            )
            if rows
        ]
        with self._lock:
            conn = self._conn
            if len(steps) == 1 and len(steps[0][1]) <= (
                _WRITES_PER_STATEMENT if steps[0][0] is None else 1
            ):
                # One statement is a transaction of its own: no BEGIN and COMMIT to run.
                _run(conn, *steps[0])
            else:
                conn.execute("BEGIN")
                try:
                    for statement, rows in steps:
                        _run(conn, statement, rows)
                    conn.execute("COMMIT")
                except BaseException:
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
            return self._conn.execute(query, params).fetchall()

    def jobs(self, *, unfinished: bool = False) -> list[JobRow]:
        """Every job in the store (or only the unfinished ones), oldest first."""
        where = f"WHERE j.status IN {UNFINISHED!r}" if unfinished else ""
        rows = self._query(
            "SELECT j.job_id, j.flow_name, j.status, j.metadata, j.created_at, j.finished_at, "
            "j.error, p.job_id, j.parent_step FROM jobs j "
            f"LEFT JOIN jobs p ON p.job_key = j.parent_key {where} ORDER BY j.job_key"
        )
        return [_job_row(row) for row in rows]

    def job(self, job_id: str) -> JobRow:
        """The job ``job_id``; ConfigurationError if the store does not know it."""
        rows = self._query(
            "SELECT j.job_id, j.flow_name, j.status, j.metadata, j.created_at, j.finished_at, "
            "j.error, p.job_id, j.parent_step FROM jobs j "
            "LEFT JOIN jobs p ON p.job_key = j.parent_key WHERE j.job_id = ?",
            (job_id,),
        )
        if not rows:
            raise ConfigurationError(f"job {job_id!r} is not in {self.path}")
        return _job_row(rows[0])

    def job_key(self, job_id: str) -> int | None:
        rows = self._query("SELECT job_key FROM jobs WHERE job_id = ?", (job_id,))
        return rows[0][0] if rows else None

    def last_step(self, job_key: int) -> int:
        rows = self._query("SELECT max(step) FROM activations WHERE job_key = ?", (job_key,))
        return rows[0][0] or 0

    def history(self, job_id: str) -> list[ActivationRow]:
        """The job's finished activations (its checkpoints), in step order."""
        key = self.key_of(job_id)
        rows = self._query(
            "SELECT step, routine_id, inputs, emitted, state, error, fatal, attempts, "
            "started_at, duration, worker_seq FROM activations WHERE job_key = ? ORDER BY step",
            (key,),
        )
        where = f"job {job_id!r} history"
        return [
            ActivationRow(
                step=r[0],
                routine_id=r[1],
                inputs=decode(r[2], where),
                emitted=decode(r[3], where),
                routine_state=decode(r[4], where),
                error=r[5],
                fatal=bool(r[6]),
                attempts=r[7],
                started_at=r[8],
                duration=r[9],
                worker_seq=r[10],
            )
            for r in rows
        ]

    def items(self, job_id: str) -> list[ItemRow]:
        """Every data point queued for the job, in the order it was queued."""
        key = self.key_of(job_id)
        rows = self._query(
            "SELECT i.item_id, i.routine_id, i.slot, i.data, p.step, c.step, i.dropped_after "
            "FROM items i LEFT JOIN activations p ON p.act_id = i.produced_by "
            "LEFT JOIN activations c ON c.act_id = i.consumed_by "
            "WHERE i.job_key = ? ORDER BY i.item_id",
            (key,),
        )
        where = f"job {job_id!r} items"
        return [ItemRow(r[0], r[1], r[2], decode(r[3], where), r[4], r[5], r[6]) for r in rows]

    def raw_rows(self, job_id: str) -> dict[str, list[tuple[Any, ...]]]:
        """The job's rows exactly as stored (for audits and byte-for-byte comparisons)."""
        key = self.key_of(job_id)
        return {
            table: self._query(f"SELECT * FROM {table} WHERE job_key = ? ORDER BY {order}", (key,))
            for table, order in (
                ("jobs", "job_key"),
                ("activations", "act_id"),
                ("items", "item_id"),
                ("attempts", "routine_id, inputs"),
                ("baselines", "routine_id"),
            )
        }

    def key_of(self, job_id: str) -> int:
        key = self.job_key(job_id)
        if key is None:
            raise ConfigurationError(f"job {job_id!r} is not in {self.path}")
        return key

    # -- what resume and fork need -----------------------------------------------------------

    def queued_after(self, job_key: int, step: int | None) -> list[tuple[int, str, str, str]]:
        """``(item_id, routine_id, slot, data_json)`` waiting after ``step`` (None: now).

        Data consumed by an activation whose error failed the job counts as waiting (so
        resuming runs that activation again) and data it emitted does not. Data dropped with
        the debugger waits only until the step it was dropped after.
        """
        if step is None:
            return self._query(
                "SELECT i.item_id, i.routine_id, i.slot, i.data FROM items i "
                "LEFT JOIN activations c ON c.act_id = i.consumed_by "
                "LEFT JOIN activations p ON p.act_id = i.produced_by "
                "WHERE i.job_key = ? AND (c.act_id IS NULL OR c.fatal) "
                "AND i.dropped_after IS NULL AND NOT coalesce(p.fatal, 0) ORDER BY i.item_id",
                (job_key,),
            )
        return self._query(
            "SELECT i.item_id, i.routine_id, i.slot, i.data FROM items i "
            "LEFT JOIN activations c ON c.act_id = i.consumed_by "
            "LEFT JOIN activations p ON p.act_id = i.produced_by "
            "WHERE i.job_key = ? AND (c.act_id IS NULL OR c.step > ?) "
            "AND (i.dropped_after IS NULL OR i.dropped_after > ?) "
            "AND (CASE WHEN p.act_id IS NULL THEN i.posted_after <= ? ELSE p.step <= ? END) "
            "ORDER BY i.item_id",
            (job_key, step, step, step, step),
        )

    def routine_states(self, job_key: int, step: int | None) -> dict[str, tuple[int, str]]:
        """``{routine_id: (act_id, state_json)}`` as of ``step`` (None: latest).

        A routine that has not run in the job yet keeps its baseline (the state a fork
        started with), with act_id 0.
        """
        limit = "" if step is None else "AND step <= ?"
        params: tuple[Any, ...] = (job_key,) if step is None else (job_key, step)
        latest = self._query(
            "SELECT routine_id, act_id, state FROM activations WHERE act_id IN ("
            "SELECT max(act_id) FROM activations WHERE job_key = ? AND state IS NOT NULL "
            f"{limit} GROUP BY routine_id)",
            params,
        )
        states = {
            rid: (0, state)
            for rid, state in self._query(
                "SELECT routine_id, state FROM baselines WHERE job_key = ?", (job_key,)
            )
        }
        states.update({rid: (act_id, state) for rid, act_id, state in latest})
        return states

    def pending_attempts(self, job_key: int) -> list[tuple[str, str, int]]:
        """``(routine_id, inputs_json, begun)`` for activations begun but never recorded."""
        return self._query(
            "SELECT t.routine_id, t.inputs, t.begun FROM attempts t WHERE t.job_key = ? "
            "AND NOT EXISTS (SELECT 1 FROM activations a WHERE a.job_key = t.job_key "
            "AND a.routine_id = t.routine_id AND a.inputs = t.inputs)",
            (job_key,),
        )


def _run(conn: sqlite3.Connection, statement: str | None, rows: Sequence[Sequence[Any]]) -> None:
    """Run ``statement`` for each row; None: the rows of the writes view, in one statement."""
    if statement is None:
        for start in range(0, len(rows), _WRITES_PER_STATEMENT):
            chunk = rows[start : start + _WRITES_PER_STATEMENT]
            conn.execute(sql.insert_writes(len(chunk)), [v for row in chunk for v in row])
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
        version, statement = sql.MIGRATIONS[version]
        conn.execute(statement)
        conn.execute("UPDATE meta SET value = ? WHERE key = 'schema'", (version,))


def _max_plus_one(conn: sqlite3.Connection, query: str) -> int:
    value = conn.execute(query).fetchone()[0]
    return (value or 0) + 1


def _job_row(row: Sequence[Any]) -> JobRow:
    return JobRow(
        job_id=row[0],
        flow_name=row[1],
        status=row[2],
        metadata=decode(row[3], f"job {row[0]!r} metadata"),
        created_at=row[4],
        finished_at=row[5],
        error=row[6],
        parent_job_id=row[7],
        parent_step=row[8],
    )
