"""The SQLite schema of a job store, and the statements on its hot path."""

from __future__ import annotations

import functools

__all__ = [
    "DROP_ITEM",
    "FINISH_JOB",
    "INSERT_BASELINE",
    "INSERT_JOB",
    "INSERT_POST",
    "INSERT_STATE",
    "LATE_SCHEMA",
    "MIGRATIONS",
    "PRAGMAS",
    "SCHEMA",
    "SCHEMA_VERSION",
    "UPSERT_ATTEMPTS",
    "WRITE_COLUMNS",
    "insert_writes",
]

SCHEMA_VERSION = "3"

APPLICATION_ID = 0x52544C58
"""``PRAGMA application_id`` of a routilux store ('RTLX'): marks the file as ours."""

# Small pages: a commit writes each page it changed to the WAL whole, and a checkpoint
# writes it again, while an activation changes a few short rows (new files only: a file
# keeps the page size it was created with). WAL lets readers run beside the one writer;
# synchronous=NORMAL syncs the WAL only at checkpoints. A killed *process* loses nothing
# committed (the WAL is in the OS page cache), a *power loss* may lose the last commits
# before a checkpoint, never consistency. Checkpoints run in a thread of their own (see
# _checkpointer.py), not in a commit.
PRAGMAS = (
    "PRAGMA page_size=1024",
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=NORMAL",
    "PRAGMA busy_timeout=5000",
    "PRAGMA wal_autocheckpoint=0",
)

# Integer keys (job_key, act_id, item_id) keep rows and indexes small. Each process that
# opens the file gets a session number (a row of `sessions`, inserted under the write lock)
# and makes its keys from it (session << 32 | n, items session << 40 | n): keys of two
# processes writing one file never collide, and no commit has to ask the file for one.
SCHEMA = (
    """CREATE TABLE IF NOT EXISTS meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
)""",
    """CREATE TABLE IF NOT EXISTS sessions (
    session INTEGER PRIMARY KEY,
    opened_at REAL NOT NULL,
    pid INTEGER NOT NULL
)""",
    """CREATE TABLE IF NOT EXISTS jobs (
    job_key INTEGER PRIMARY KEY,
    job_id TEXT NOT NULL UNIQUE,
    flow_name TEXT NOT NULL,
    status TEXT NOT NULL,
    metadata TEXT NOT NULL,
    created_at REAL NOT NULL,
    finished_at REAL,
    error TEXT,
    parent_key INTEGER,
    parent_step INTEGER,
    owner TEXT,
    lease_until REAL
)""",
    """CREATE TABLE IF NOT EXISTS activations (
    act_id INTEGER PRIMARY KEY,
    job_key INTEGER NOT NULL,
    step INTEGER NOT NULL,
    worker_seq INTEGER NOT NULL,
    routine_id TEXT NOT NULL,
    inputs TEXT NOT NULL,
    emitted TEXT NOT NULL,
    state TEXT,
    error TEXT,
    fatal INTEGER NOT NULL,
    attempts INTEGER NOT NULL,
    started_at REAL,
    duration REAL
)""",
    """CREATE UNIQUE INDEX IF NOT EXISTS activations_by_step ON activations (job_key, step)""",
    """CREATE TABLE IF NOT EXISTS items (
    item_id INTEGER PRIMARY KEY,
    job_key INTEGER NOT NULL,
    routine_id TEXT NOT NULL,
    slot TEXT NOT NULL,
    data TEXT NOT NULL,
    produced_by INTEGER,
    posted_after INTEGER NOT NULL,
    consumed_by INTEGER,
    dropped_after INTEGER
)""",
    """CREATE INDEX IF NOT EXISTS items_by_job ON items (job_key)""",
    """CREATE TABLE IF NOT EXISTS attempts (
    job_key INTEGER NOT NULL,
    routine_id TEXT NOT NULL,
    inputs TEXT NOT NULL,
    begun INTEGER NOT NULL,
    PRIMARY KEY (job_key, routine_id, inputs)
) WITHOUT ROWID""",
    # Every tracked write to a WorkerState, in commit order (see _state.py): the state a
    # resume or a fork restores is the last value of each key up to a point of this order.
    """CREATE TABLE IF NOT EXISTS state_writes (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    flow_name TEXT NOT NULL,
    act_id INTEGER,
    key TEXT NOT NULL,
    value TEXT
)""",
    """CREATE INDEX IF NOT EXISTS state_by_key ON state_writes (flow_name, key, seq)""",
    """CREATE INDEX IF NOT EXISTS state_by_act ON state_writes (act_id)""",
    """CREATE TABLE IF NOT EXISTS baselines (
    job_key INTEGER NOT NULL,
    routine_id TEXT NOT NULL,
    state TEXT NOT NULL,
    PRIMARY KEY (job_key, routine_id)
) WITHOUT ROWID""",
    # One row per call carries an activation, one item it emitted (or one posted item) and
    # one item it consumed; the trigger writes them to their tables. A round of commits is
    # then one INSERT of many rows, run by SQLite without returning to Python in between
    # (each return waits for the GIL when other threads run Python).
    """CREATE VIEW IF NOT EXISTS writes AS SELECT
    act_id, job_key, step, worker_seq, routine_id, inputs, emitted, state, error, fatal,
    attempts, started_at, duration, NULL AS consumed, NULL AS item_id, NULL AS item_routine,
    NULL AS item_slot, NULL AS item_data
FROM activations WHERE 0""",
    """CREATE TRIGGER IF NOT EXISTS writes_insert INSTEAD OF INSERT ON writes BEGIN
    INSERT OR IGNORE INTO items
        (item_id, job_key, routine_id, slot, data, produced_by, posted_after)
        SELECT NEW.item_id, NEW.job_key, NEW.item_routine, NEW.item_slot, NEW.item_data,
            NEW.act_id, NEW.step
        WHERE NEW.item_id IS NOT NULL;
    UPDATE items SET consumed_by = NEW.act_id WHERE item_id = NEW.consumed;
    INSERT INTO activations
        (act_id, job_key, step, worker_seq, routine_id, inputs, emitted, state, error, fatal,
        attempts, started_at, duration)
        SELECT NEW.act_id, NEW.job_key, NEW.step, NEW.worker_seq, NEW.routine_id, NEW.inputs,
            NEW.emitted, NEW.state, NEW.error, NEW.fatal, NEW.attempts, NEW.started_at,
            NEW.duration
        WHERE NEW.worker_seq IS NOT NULL;
END""",
)

# Created after any migration, since they name columns an older file gets from MIGRATIONS.
LATE_SCHEMA = (
    # A job's row and its first posted item, in one statement: so a post (committed before
    # post() returns) is one step for SQLite, with no BEGIN and COMMIT around it.
    """CREATE VIEW IF NOT EXISTS posts AS SELECT
    job_key, job_id, flow_name, status, metadata, created_at, parent_key, parent_step, owner,
    lease_until, NULL AS item_id, NULL AS item_routine, NULL AS item_slot, NULL AS item_data,
    NULL AS item_step
FROM jobs WHERE 0""",
    """CREATE TRIGGER IF NOT EXISTS posts_insert INSTEAD OF INSERT ON posts BEGIN
    INSERT INTO jobs (job_key, job_id, flow_name, status, metadata, created_at, parent_key,
        parent_step, owner, lease_until)
        VALUES (NEW.job_key, NEW.job_id, NEW.flow_name, NEW.status, NEW.metadata,
            NEW.created_at, NEW.parent_key, NEW.parent_step, NEW.owner, NEW.lease_until)
        ON CONFLICT (job_id) DO UPDATE SET status = excluded.status, finished_at = NULL,
            error = NULL, owner = excluded.owner, lease_until = excluded.lease_until;
    INSERT OR IGNORE INTO items (item_id, job_key, routine_id, slot, data, posted_after)
        VALUES (NEW.item_id, NEW.job_key, NEW.item_routine, NEW.item_slot, NEW.item_data,
            NEW.item_step);
END""",
)

# How to bring a file of an older schema version up to SCHEMA_VERSION, one step at a time.
MIGRATIONS = {
    # 2: data removed from a slot with the debugger (Worker.drop) is marked, not re-queued.
    "1": ("2", ("ALTER TABLE items ADD COLUMN dropped_after INTEGER",)),
    # 3: leases (one owner per running job), and state writes (created with the schema).
    "2": (
        "3",
        ("ALTER TABLE jobs ADD COLUMN owner TEXT", "ALTER TABLE jobs ADD COLUMN lease_until REAL"),
    ),
}

INSERT_JOB = (
    "INSERT INTO jobs (job_key, job_id, flow_name, status, metadata, created_at, "
    "parent_key, parent_step, owner, lease_until) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (job_id) DO UPDATE SET status = excluded.status, "
    "finished_at = NULL, error = NULL, owner = excluded.owner, lease_until = excluded.lease_until"
)
INSERT_STATE = "INSERT INTO state_writes (flow_name, act_id, key, value) VALUES (?, ?, ?, ?)"
DROP_ITEM = "UPDATE items SET dropped_after = ? WHERE item_id = ?"
FINISH_JOB = "UPDATE jobs SET status = ?, finished_at = ?, error = ? WHERE job_key = ?"
UPSERT_ATTEMPTS = (
    "INSERT INTO attempts (job_key, routine_id, inputs, begun) VALUES (?, ?, ?, ?) "
    "ON CONFLICT (job_key, routine_id, inputs) DO UPDATE SET begun = excluded.begun"
)
INSERT_BASELINE = "INSERT OR REPLACE INTO baselines (job_key, routine_id, state) VALUES (?, ?, ?)"

WRITE_COLUMNS = 18
"""Columns of the ``writes`` view (see SCHEMA)."""


INSERT_POST = "INSERT INTO posts VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
"""A new job's row and its first item (see the ``posts`` view)."""


@functools.cache
def insert_writes(rows: int) -> str:
    """``INSERT INTO writes`` of ``rows`` rows: one statement, so one step for SQLite."""
    one = "(" + ", ".join("?" * WRITE_COLUMNS) + ")"
    return "INSERT INTO writes VALUES " + ", ".join([one] * rows)
