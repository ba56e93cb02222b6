"""The SQLite schema of a job store, and the statements on its hot path."""

from __future__ import annotations

__all__ = [
    "CONSUME_ITEM",
    "DROP_ITEM",
    "FINISH_JOB",
    "INSERT_ACTIVATION",
    "INSERT_BASELINE",
    "INSERT_ITEM",
    "INSERT_JOB",
    "MIGRATIONS",
    "PRAGMAS",
    "SCHEMA",
    "SCHEMA_VERSION",
    "UPSERT_ATTEMPTS",
]

SCHEMA_VERSION = "2"

# WAL lets readers run beside the one writer; synchronous=NORMAL syncs the WAL only at
# checkpoints. A killed *process* loses nothing committed (the WAL is in the OS page cache),
# a *power loss* may lose the last commits before a checkpoint, never consistency.
PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=NORMAL",
    "PRAGMA busy_timeout=5000",
)

# Integer keys (job_key, act_id, item_id) keep rows and indexes small; the store hands them
# out itself because it is the only writer of its file.
SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS sessions (
    session INTEGER PRIMARY KEY,
    opened_at REAL NOT NULL,
    pid INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS jobs (
    job_key INTEGER PRIMARY KEY,
    job_id TEXT NOT NULL UNIQUE,
    flow_name TEXT NOT NULL,
    status TEXT NOT NULL,
    metadata TEXT NOT NULL,
    created_at REAL NOT NULL,
    finished_at REAL,
    error TEXT,
    parent_key INTEGER,
    parent_step INTEGER
);
CREATE TABLE IF NOT EXISTS activations (
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
);
CREATE UNIQUE INDEX IF NOT EXISTS activations_by_step ON activations (job_key, step);
CREATE TABLE IF NOT EXISTS items (
    item_id INTEGER PRIMARY KEY,
    job_key INTEGER NOT NULL,
    routine_id TEXT NOT NULL,
    slot TEXT NOT NULL,
    data TEXT NOT NULL,
    produced_by INTEGER,
    posted_after INTEGER NOT NULL,
    consumed_by INTEGER,
    dropped_after INTEGER
);
CREATE INDEX IF NOT EXISTS items_by_job ON items (job_key);
CREATE TABLE IF NOT EXISTS attempts (
    job_key INTEGER NOT NULL,
    routine_id TEXT NOT NULL,
    inputs TEXT NOT NULL,
    begun INTEGER NOT NULL,
    PRIMARY KEY (job_key, routine_id, inputs)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS baselines (
    job_key INTEGER NOT NULL,
    routine_id TEXT NOT NULL,
    state TEXT NOT NULL,
    PRIMARY KEY (job_key, routine_id)
) WITHOUT ROWID;
"""

# How to bring a file of an older schema version up to SCHEMA_VERSION, one step at a time.
MIGRATIONS = {
    # 2: data removed from a slot with the debugger (Worker.drop) is marked, not re-queued.
    "1": ("2", "ALTER TABLE items ADD COLUMN dropped_after INTEGER"),
}

INSERT_JOB = (
    "INSERT INTO jobs (job_key, job_id, flow_name, status, metadata, created_at, "
    "parent_key, parent_step) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (job_id) DO UPDATE SET status = excluded.status, "
    "finished_at = NULL, error = NULL"
)
INSERT_ITEM = (
    "INSERT OR IGNORE INTO items (item_id, job_key, routine_id, slot, data, produced_by, "
    "posted_after) VALUES (?, ?, ?, ?, ?, ?, ?)"
)
CONSUME_ITEM = "UPDATE items SET consumed_by = ? WHERE item_id = ?"
DROP_ITEM = "UPDATE items SET dropped_after = ? WHERE item_id = ?"
INSERT_ACTIVATION = (
    "INSERT INTO activations (act_id, job_key, step, worker_seq, routine_id, inputs, emitted, "
    "state, error, fatal, attempts, started_at, duration) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
FINISH_JOB = "UPDATE jobs SET status = ?, finished_at = ?, error = ? WHERE job_key = ?"
UPSERT_ATTEMPTS = (
    "INSERT INTO attempts (job_key, routine_id, inputs, begun) VALUES (?, ?, ?, ?) "
    "ON CONFLICT (job_key, routine_id, inputs) DO UPDATE SET begun = excluded.begun"
)
INSERT_BASELINE = "INSERT OR REPLACE INTO baselines (job_key, routine_id, state) VALUES (?, ?, ?)"
