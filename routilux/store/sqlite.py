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
import logging
import os
import socket
import sqlite3
import threading
import time
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from routilux.core.errors import ConfigurationError, SerializationError
from routilux.store import _schema as sql
from routilux.store._checkpointer import Checkpointer
from routilux.store._writes import Batch
from routilux.store.codec import decode
from routilux.store.errors import (
    CorruptStoreError,
    ForeignStoreError,
    StoreError,
    StoreLockedError,
    StoreReadOnlyError,
)
from routilux.store.records import UNFINISHED, ActivationRow, ItemRow, JobRow

__all__ = ["SqliteStore"]

_log = logging.getLogger("routilux.store")

# Rows per INSERT into the writes view: well under SQLite's limit of 32,766 parameters.
_WRITES_PER_STATEMENT = 500

ITEM_ID_SHIFT = 40
"""Item ids are ``session << 40 | QueuedItem.uid``: unique across processes and restarts."""
KEY_SHIFT = 32
"""Job keys and activation ids are ``session << 32 | n`` (see ``_schema``)."""

LEASE = 30.0
"""Seconds a job's lease lasts without a heartbeat (renewed every third of that)."""


def new_owner_id() -> str:
    """An owner id for leases: ``host:pid:random``, so a process on this host can tell
    whether the owner still lives."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


# Owner ids of the stores open in this process: an owner in this process is alive while
# its store is open (a runtime shut down here leaves its jobs to the next one).
_open_owners: set[str] = set()


def owner_alive(owner: str) -> bool | None:
    """Whether the runtime ``owner`` names still runs: None when it runs on another host."""
    host, _, rest = owner.partition(":")
    pid_text = rest.partition(":")[0]
    if host != socket.gethostname() or not pid_text.isdigit():
        return None
    if int(pid_text) == os.getpid():
        return owner in _open_owners
    try:
        os.kill(int(pid_text), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class SqliteStore:
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

    def __init__(
        self, path: str | os.PathLike[str], *, read_only: bool = False, lease: float = LEASE
    ) -> None:
        self.path = Path(path)
        self.lease = lease
        self.owner = new_owner_id()
        self._lock = threading.Lock()
        self._heartbeat: threading.Thread | None = None
        self._stop = threading.Event()
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
        self.session: int = 0
        self._job_keys = itertools.count(1)
        self._act_ids = itertools.count(1)

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
            cursor = conn.execute(
                "INSERT INTO sessions (opened_at, pid) VALUES (?, ?)", (time.time(), os.getpid())
            )
            self.session = cursor.lastrowid or 0
            # Handed out without a lock: next() on a count is atomic.
            base = self.session << KEY_SHIFT
            self._job_keys = itertools.count(base + 1)
            self._act_ids = itertools.count(base + 1)
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
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
        _open_owners.discard(self.owner)
        self._stop.set()
        heartbeat = self._heartbeat
        if heartbeat is not None and heartbeat is not threading.current_thread():
            heartbeat.join()
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
        if self.read_only:
            raise StoreReadOnlyError(f"{self.path} was opened read-only; cannot record jobs")
        if batch.jobs and self._heartbeat is None:
            self._start_heartbeat()
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
            if rows
        ]
        with self._lock:
            conn = self._conn
            if conn is None:
                raise StoreError(f"{self!r} is closed")
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

    def jobs(self, *, unfinished: bool = False) -> list[JobRow]:
        """Every job in the store (or only the unfinished ones), oldest first."""
        where = f"WHERE j.status IN {UNFINISHED!r}" if unfinished else ""
        rows = self._query(
            "SELECT j.job_id, j.flow_name, j.status, j.metadata, j.created_at, j.finished_at, "
            "j.error, p.job_id, j.parent_step FROM jobs j "
            f"LEFT JOIN jobs p ON p.job_key = j.parent_key {where} ORDER BY j.job_key"
        )
        jobs = []
        for row in rows:
            try:
                jobs.append(_job_row(row))
            except SerializationError as exc:
                # One bad row is reported and skipped; the other jobs stay usable.
                _log.warning("skipped job %s of %s: %s", row[0], self.path, exc)
        return jobs

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
        """``{routine_id: (seq, state_json)}`` of the job's flow as of ``step`` (None: now).

        Worker state belongs to the flow's worker, not to one job: this is what every
        activation committed by then (of any job of the flow) left (see :meth:`flow_state`).
        """
        rows = self._query("SELECT flow_name FROM jobs WHERE job_key = ?", (job_key,))
        if not rows:
            return {}
        cut = None if step is None else self.state_cut(job_key, step)
        values, _ = self.flow_state(rows[0][0], cut)
        return {
            key[len("routine:") :]: (seq, value)
            for key, (seq, value) in values.items()
            if key.startswith("routine:") and value is not None
        }

    def jobs_with_waiting_data(self) -> list[str]:
        """Ids of finished (completed) jobs with data still waiting in a slot."""
        return [
            job_id
            for (job_id,) in self._query(
                "SELECT DISTINCT j.job_id FROM items i JOIN jobs j ON j.job_key = i.job_key "
                "WHERE j.status = 'completed' AND i.consumed_by IS NULL "
                "AND i.dropped_after IS NULL"
            )
        ]

    def pending_attempts(self, job_key: int) -> list[tuple[str, str, int]]:
        """``(routine_id, inputs_json, begun)`` for activations begun but never recorded."""
        return self._query(
            "SELECT t.routine_id, t.inputs, t.begun FROM attempts t WHERE t.job_key = ? "
            "AND NOT EXISTS (SELECT 1 FROM activations a WHERE a.job_key = t.job_key "
            "AND a.routine_id = t.routine_id AND a.inputs = t.inputs)",
            (job_key,),
        )

    # -- leases ----------------------------------------------------------------------------

    def lease_until(self) -> float:
        """When a lease taken now expires."""
        return time.time() + self.lease

    def _start_heartbeat(self) -> None:
        """Renew this owner's leases every third of :attr:`lease` (the caller holds the lock)."""
        self._heartbeat = threading.Thread(
            target=self._beat, name=f"routilux-lease {self.path.name}", daemon=True
        )
        self._heartbeat.start()

    def _beat(self) -> None:
        while not self._stop.wait(self.lease / 3):
            try:
                self.renew_leases()
            except Exception as exc:  # a busy file, say: the next beat tries again
                _log.warning("could not renew the leases in %s: %r", self.path, exc)

    def renew_leases(self) -> None:
        """Extend the lease of every unfinished job this store's owner holds."""
        with self._lock:
            if self._conn is None or self.read_only:
                return
            self._conn.execute(
                f"UPDATE jobs SET lease_until = ? WHERE owner = ? AND status IN {UNFINISHED!r}",
                (self.lease_until(), self.owner),
            )

    def take_over(self, job_id: str) -> str | None:
        """Make this store's owner the owner of ``job_id``, unless a live process owns it.

        Returns:
            None once the job is ours; otherwise why not (its owner runs, or its lease has
            not expired, or another process took it first).
        """
        with self._lock:
            conn = self._conn
            if conn is None:
                raise StoreError(f"{self!r} is closed")
            if self.read_only:
                raise StoreReadOnlyError(f"{self.path} was opened read-only; cannot resume")
            row = conn.execute(
                "SELECT owner, lease_until FROM jobs WHERE job_id = ?", (job_id,)
            ).fetchone()
            if row is None:
                raise ConfigurationError(f"job {job_id!r} is not in {self.path}")
            owner, until = row
            if owner is not None and owner != self.owner:
                alive = owner_alive(owner)
                if alive or (alive is None and until is not None and until > time.time()):
                    how = (
                        "its process runs"
                        if alive
                        else f"its lease runs {until - time.time():.0f}s more"
                    )
                    return f"job {job_id} belongs to {owner} ({how})"
            cursor = conn.execute(
                "UPDATE jobs SET owner = ?, lease_until = ? "
                "WHERE job_id = ? AND owner IS ? AND lease_until IS ?",
                (self.owner, self.lease_until(), job_id, owner, until),
            )
            if cursor.rowcount != 1:
                return f"job {job_id} was taken over by another process meanwhile"
            return None

    def release(self, job_ids: Sequence[str]) -> None:
        """Give up this owner's lease on ``job_ids`` (left resumable by anyone at once)."""
        with self._lock:
            if self._conn is None or self.read_only or not job_ids:
                return
            self._conn.executemany(
                "UPDATE jobs SET owner = NULL, lease_until = NULL WHERE job_id = ? AND owner = ?",
                [(job_id, self.owner) for job_id in job_ids],
            )

    # -- worker state --------------------------------------------------------------------------

    def state_cut(self, job_key: int, step: int) -> int | None:
        """The last state write that a fork of ``job_key`` after ``step`` sees (None: all).

        Every state write committed before the first activation after that step (of any
        job of the flow) belongs to the state then.
        """
        rows = self._query(
            "SELECT act_id FROM activations WHERE job_key = ? AND step = ?", (job_key, step + 1)
        )
        if not rows:
            return None
        later = self._query("SELECT min(seq) FROM state_writes WHERE act_id >= ?", (rows[0][0],))[
            0
        ][0]
        return None if later is None else later - 1

    def flow_state(
        self, flow_name: str, upto: int | None = None
    ) -> tuple[dict[str, tuple[int, str | None]], list[str]]:
        """The stored worker state of ``flow_name``: ``{key: (seq, value_json)}`` (see
        ``_state.py`` for keys) and the shared log's items as JSON, up to write ``upto``."""
        limit, params = ("", (flow_name,)) if upto is None else ("AND seq <= ?", (flow_name, upto))
        latest = self._query(
            "SELECT key, seq, value FROM state_writes WHERE seq IN (SELECT max(seq) FROM "
            f"state_writes WHERE flow_name = ? AND key != 'log+' {limit} GROUP BY key)",
            params,
        )
        values = {key: (seq, value) for key, seq, value in latest}
        reset = values.get("log", (0, None))[0]
        log = [
            value
            for (value,) in self._query(
                "SELECT value FROM state_writes WHERE flow_name = ? AND key = 'log+' "
                f"AND seq > ? {limit} ORDER BY seq",
                (flow_name, reset, *params[1:]),
            )
        ]
        return values, log


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
