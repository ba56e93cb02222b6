"""Errors of the job store, one per way a store file can be unusable or a write can fail.

All are :class:`~routilux.core.errors.SerializationError`, so code that caught that before
still does.
"""

from __future__ import annotations

from routilux.core.errors import SerializationError

__all__ = [
    "CommitError",
    "CorruptStoreError",
    "ForeignStoreError",
    "StoreError",
    "StoreLockedError",
    "StoreReadOnlyError",
]


class StoreError(SerializationError):
    """A job store could not be opened, read or written."""


class StoreLockedError(StoreError):
    """Another process holds the store's write lock for longer than the busy timeout."""


class StoreReadOnlyError(StoreError):
    """The store was opened read-only (the file or its directory is not writable)."""


class ForeignStoreError(StoreError):
    """The file is an SQLite database of another application; it is left untouched."""


class CorruptStoreError(StoreError):
    """The file is not an SQLite database, or its content is damaged."""


class CommitError(StoreError):
    """A checkpoint could not be committed; the job it belongs to fails with this error."""
