"""Attaching a store to an engine: ``Runtime(store=...)`` does it, :func:`attach_store` too."""

from __future__ import annotations

import os

from routilux.core.engine import Engine
from routilux.store.opening import open_store
from routilux.store.recorder import StoreRecorder
from routilux.store.sqlite import SqliteStore

__all__ = ["StoreLike", "attach_store"]

StoreLike = SqliteStore | str | os.PathLike[str]


def attach_store(runtime: Engine, store: StoreLike) -> StoreRecorder:
    """Record everything ``runtime``'s workers do into ``store`` (a store, a file path or a
    URL: see :func:`~routilux.store.open_store`)."""
    recorder = StoreRecorder(open_store(store))
    runtime.add_observer(recorder)
    return recorder
