"""The executors the executor tests run on: threads (None), processes, and Dask when installed."""

from __future__ import annotations

import importlib.util

import pytest

REMOTE = [
    "processes",
    pytest.param(
        "dask",
        marks=pytest.mark.skipif(
            importlib.util.find_spec("distributed") is None, reason="routilux[dask] not installed"
        ),
    ),
]
"""The remote executors."""

EXECUTORS = [None, *REMOTE]
"""Threads (None), then the remote executors."""
