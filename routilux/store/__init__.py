"""Persistence: SQLite checkpoints of jobs, resume after a crash, and forks for time travel.

>>> import tempfile, pathlib
>>> store = SqliteStore(pathlib.Path(tempfile.mkdtemp()) / "jobs.db")
>>> store.jobs()
[]
>>> store.close()
"""

from routilux.store.fork import fork
from routilux.store.recorder import StoreRecorder
from routilux.store.records import ActivationRow, ItemRow, JobRow
from routilux.store.resume import resume, unfinished_jobs
from routilux.store.runtime_support import attach_store
from routilux.store.sqlite import SqliteStore

__all__ = [
    "ActivationRow",
    "ItemRow",
    "JobRow",
    "SqliteStore",
    "StoreRecorder",
    "attach_store",
    "fork",
    "resume",
    "unfinished_jobs",
]
