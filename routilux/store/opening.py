"""open_store: a store object from what a user writes (a path, a file URL, a server URL)."""

from __future__ import annotations

import os
from typing import Any

from routilux.core.errors import ConfigurationError
from routilux.store.sqlite import SqliteStore

__all__ = ["open_store", "sqlite_path"]


def open_store(spec: Any) -> Any:
    """The store ``spec`` names, opened (a store object is returned as it is).

    Args:
        spec: A store object; a path or ``"jobs.db"`` (a SQLite file, created on first use);
            ``"sqlite:///relative/jobs.db"`` or ``"sqlite:////absolute/jobs.db"``; or
            ``"postgresql://user@host/db"`` (a :class:`~routilux.store.postgres.PostgresStore`,
            which needs ``pip install routilux[postgres]``).

    Returns:
        The store.

    Raises:
        ConfigurationError: ``spec`` names no kind of store this routilux knows.

    >>> import tempfile, pathlib
    >>> store = open_store(f"sqlite:///{pathlib.Path(tempfile.mkdtemp())}/jobs.db")
    >>> type(store).__name__
    'SqliteStore'
    >>> store.close()
    """
    if hasattr(spec, "write_batch") and hasattr(spec, "history"):
        return spec
    if isinstance(spec, os.PathLike):
        return SqliteStore(spec)
    if not isinstance(spec, str):
        raise TypeError(f"a store is a path, a URL or a store object, not {type(spec).__name__}")
    if spec.startswith(("postgresql://", "postgres://")):
        from routilux.store.postgres import PostgresStore  # the driver is an optional extra

        return PostgresStore(spec)
    path = sqlite_path(spec)
    if path is not None:
        return SqliteStore(path)
    if "://" in spec:
        scheme = spec.split("://", 1)[0]
        raise ConfigurationError(
            f"unknown store URL scheme {scheme!r} in {spec!r}: use a file path, sqlite:/// or "
            "postgresql://"
        )
    return SqliteStore(spec)


def sqlite_path(spec: str) -> str | None:
    """The file a ``sqlite://`` URL names (``sqlite:///jobs.db``: ``jobs.db``), or None for
    a spec that is not such a URL.

    Raises:
        ConfigurationError: The URL has two slashes instead of three.
    """
    if not spec.startswith("sqlite://"):
        return None
    path = spec[len("sqlite://") :]
    if not path.startswith("/"):
        raise ConfigurationError(f"{spec!r}: write sqlite:///jobs.db (three slashes)")
    return path[1:] or "jobs.db"
