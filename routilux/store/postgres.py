"""PostgresStore: the job store in a PostgreSQL database, for runtimes on several machines.

The same tables, ids, leases and reads as :class:`~routilux.store.SqliteStore` (see
``_base.py``), through one psycopg 3 connection per store. Needs the ``postgres`` extra
(``pip install routilux[postgres]``); ``Runtime(store="postgresql://user@host/db")`` opens
one.

Durability: a batch is one transaction, committed with PostgreSQL's defaults
(``synchronous_commit=on``): once ``write_batch`` returns, the commit survives a crash of this
process, of the server process and of the machine.
"""

from __future__ import annotations

import functools
import os
import re
import threading
import time
from collections.abc import Sequence
from typing import Any

from routilux.core.errors import ConfigurationError
from routilux.store import _schema
from routilux.store._base import LEASE, StoreBase, _open_owners
from routilux.store._writes import Batch
from routilux.store.errors import StoreError

__all__ = ["PostgresStore"]

SCHEMA = (
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    """CREATE TABLE IF NOT EXISTS sessions (
    session BIGSERIAL PRIMARY KEY, opened_at DOUBLE PRECISION NOT NULL, pid INTEGER NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS jobs (
    job_key BIGINT PRIMARY KEY, job_id TEXT NOT NULL UNIQUE, flow_name TEXT NOT NULL,
    status TEXT NOT NULL, metadata TEXT NOT NULL, created_at DOUBLE PRECISION NOT NULL,
    finished_at DOUBLE PRECISION, error TEXT, parent_key BIGINT, parent_step INTEGER,
    owner TEXT, lease_until DOUBLE PRECISION)""",
    """CREATE TABLE IF NOT EXISTS activations (
    act_id BIGINT PRIMARY KEY, job_key BIGINT NOT NULL, step INTEGER NOT NULL,
    worker_seq BIGINT NOT NULL, routine_id TEXT NOT NULL, inputs TEXT NOT NULL,
    emitted TEXT NOT NULL, state TEXT, error TEXT, fatal INTEGER NOT NULL,
    attempts INTEGER NOT NULL, started_at DOUBLE PRECISION, duration DOUBLE PRECISION)""",
    "CREATE UNIQUE INDEX IF NOT EXISTS activations_by_step ON activations (job_key, step)",
    """CREATE TABLE IF NOT EXISTS items (
    item_id BIGINT PRIMARY KEY, job_key BIGINT NOT NULL, routine_id TEXT NOT NULL,
    slot TEXT NOT NULL, data TEXT NOT NULL, produced_by BIGINT, posted_after INTEGER NOT NULL,
    consumed_by BIGINT, dropped_after INTEGER)""",
    "CREATE INDEX IF NOT EXISTS items_by_job ON items (job_key)",
    """CREATE TABLE IF NOT EXISTS attempts (
    job_key BIGINT NOT NULL, routine_id TEXT NOT NULL, inputs TEXT NOT NULL,
    begun INTEGER NOT NULL, PRIMARY KEY (job_key, routine_id, inputs))""",
    """CREATE TABLE IF NOT EXISTS baselines (
    job_key BIGINT NOT NULL, routine_id TEXT NOT NULL, state TEXT NOT NULL,
    PRIMARY KEY (job_key, routine_id))""",
    """CREATE TABLE IF NOT EXISTS state_writes (
    seq BIGSERIAL PRIMARY KEY, flow_name TEXT NOT NULL, act_id BIGINT, key TEXT NOT NULL,
    value TEXT)""",
    "CREATE INDEX IF NOT EXISTS state_by_key ON state_writes (flow_name, key, seq)",
    "CREATE INDEX IF NOT EXISTS state_by_act ON state_writes (act_id)",
)

_INSERT_ITEM = (
    "INSERT INTO items (item_id, job_key, routine_id, slot, data, produced_by, posted_after) "
    "VALUES (%s, %s, %s, %s, %s, %s, %s) ON CONFLICT (item_id) DO NOTHING"
)
_INSERT_ACTIVATION = (
    "INSERT INTO activations (act_id, job_key, step, worker_seq, routine_id, inputs, emitted, "
    "state, error, fatal, attempts, started_at, duration) "
    "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
)
_CONSUME = "UPDATE items SET consumed_by = %s WHERE item_id = %s"
_UPSERT_BASELINE = (
    "INSERT INTO baselines (job_key, routine_id, state) VALUES (%s, %s, %s) "
    "ON CONFLICT (job_key, routine_id) DO UPDATE SET state = excluded.state"
)


@functools.cache
def _pg(statement: str) -> str:
    """A statement written with ``?`` placeholders, as psycopg wants it (``%s``)."""
    return statement.replace("%", "%%").replace("?", "%s")


def _safe(url: str) -> str:
    """``url`` without its password, for messages."""
    return re.sub(r"://([^:/@]+):[^@]*@", r"://\1:***@", url)


class PostgresStore(StoreBase):
    """Checkpoints of jobs in a PostgreSQL database (same interface as SqliteStore).

    Args:
        url: A libpq connection string, such as ``postgresql://user:pw@host:5432/db``.
        lease: Seconds a job's lease lasts without a heartbeat (see ``SqliteStore``).

    Raises:
        StoreError: The server cannot be reached, or refuses the connection.
        ConfigurationError: psycopg is not installed, or the database holds another schema.
    """

    def __init__(self, url: str, *, lease: float = LEASE) -> None:
        try:
            import psycopg  # the postgres extra
        except ImportError as exc:
            raise ConfigurationError(
                "PostgresStore needs psycopg: pip install 'routilux[postgres]'"
            ) from exc
        self._psycopg = psycopg
        self.url = url
        self.path = _safe(url)
        self._init_common(lease)
        self._lock = threading.Lock()
        try:
            self._conn: Any = psycopg.connect(url, autocommit=True)
        except psycopg.Error as exc:
            raise StoreError(f"cannot connect to job store {self.path}: {exc}") from exc
        try:
            self._setup()
        except BaseException:
            self._conn.close()
            raise
        _open_owners.add(self.owner)

    def _setup(self) -> None:
        conn = self._conn
        with conn.transaction():
            # Two processes creating the tables at once would collide in the catalog.
            conn.execute("SELECT pg_advisory_xact_lock(7262657)")
            for statement in SCHEMA:
                conn.execute(statement)
            row = conn.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
            if row is None:
                conn.execute("INSERT INTO meta VALUES ('schema', %s)", (_schema.SCHEMA_VERSION,))
            elif row[0] != _schema.SCHEMA_VERSION:
                raise ConfigurationError(
                    f"{self.path} has store schema {row[0]}; this routilux reads "
                    f"{_schema.SCHEMA_VERSION}"
                )
            session = conn.execute(
                "INSERT INTO sessions (opened_at, pid) VALUES (%s, %s) RETURNING session",
                (time.time(), os.getpid()),
            ).fetchone()[0]
        self._start_ids(session)

    def __repr__(self) -> str:
        return f"<PostgresStore {self.path}>"

    def __enter__(self) -> PostgresStore:
        return self

    def close(self) -> None:
        """Close the connection (idempotent)."""
        self._stop_heartbeat()
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    @property
    def closed(self) -> bool:
        return self._conn is None

    # -- statements --------------------------------------------------------------------------

    def _query(self, query: str, params: Sequence[Any] = ()) -> list[Any]:
        with self._lock:
            if self._conn is None:
                raise ConfigurationError(f"{self!r} is closed")
            try:
                return list(self._conn.execute(_pg(query), params).fetchall())
            except self._psycopg.Error as exc:
                raise StoreError(f"cannot read job store {self.path}: {exc}") from exc

    def _execute(self, statement: str, params: Sequence[Any] = ()) -> int:
        with self._lock:
            if self._conn is None:
                raise StoreError(f"{self!r} is closed")
            try:
                return int(self._conn.execute(_pg(statement), params).rowcount)
            except self._psycopg.Error as exc:
                raise StoreError(f"cannot write job store {self.path}: {exc}") from exc

    def write_batch(self, batch: Batch) -> None:
        """Write ``batch`` in one transaction (all of it, or nothing if it raises)."""
        if batch.jobs and self._heartbeat is None:
            self._start_heartbeat()
        items, activations, consumed = [], [], []
        for row in batch.rows:
            act_id, key, step = row[0], row[1], row[2]
            if row[14] is not None:  # an item it emitted, or a posted one
                items.append((row[14], key, row[15], row[16], row[17], act_id, step))
            if row[3] is not None:  # the activation itself
                activations.append(row[:13])
            if row[13] is not None:  # an item it consumed
                consumed.append((act_id, row[13]))
        steps = (
            (_pg(_schema.INSERT_JOB), batch.jobs),
            (_UPSERT_BASELINE, batch.baselines),
            (_INSERT_ITEM, items),
            (_INSERT_ACTIVATION, activations),
            (_CONSUME, consumed),
            (_pg(_schema.INSERT_STATE), batch.states),
            (_pg(_schema.UPSERT_ATTEMPTS), batch.attempts),
            (_pg(_schema.DROP_ITEM), batch.drops),
            (_pg(_schema.FINISH_JOB), batch.statuses),
        )
        with self._lock:
            conn = self._conn
            if conn is None:
                raise StoreError(f"{self!r} is closed")
            # One pipeline: the statements go out together, one round trip to the server.
            with conn.pipeline(), conn.transaction(), conn.cursor() as cursor:
                for statement, rows in steps:
                    if len(rows) == 1:
                        cursor.execute(statement, rows[0])
                    elif rows:
                        cursor.executemany(statement, rows)
