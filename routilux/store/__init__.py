"""Persistence: SQLite checkpoints of jobs, resume after a crash, and forks for time travel.

``Runtime(store="jobs.db")`` records every job; ``runtime.resume()`` and ``runtime.fork()``
use the records. The store itself is ``routilux.SqliteStore``:

>>> import tempfile, pathlib
>>> from routilux import SqliteStore
>>> store = SqliteStore(pathlib.Path(tempfile.mkdtemp()) / "jobs.db")
>>> store.jobs()
[]
>>> store.close()
"""

from routilux.store.errors import (
    CommitError,
    CorruptStoreError,
    ForeignStoreError,
    StoreError,
    StoreLockedError,
    StoreReadOnlyError,
)
from routilux.store.opening import open_store
from routilux.store.recorder import StoreRecorder
from routilux.store.records import ActivationRow, ItemRow, JobRow
from routilux.store.resume import unfinished_jobs
from routilux.store.runtime_support import attach_store

__all__ = [
    "ActivationRow",
    "CommitError",
    "CorruptStoreError",
    "ForeignStoreError",
    "ItemRow",
    "JobRow",
    "StoreError",
    "StoreLockedError",
    "StoreReadOnlyError",
    "StoreRecorder",
    "attach_store",
    "open_store",
    "unfinished_jobs",
]
