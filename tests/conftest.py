"""Shared fixtures: a runtime that always shuts down, and small routines to build flows."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from routilux import FlowRegistry, Runtime


@pytest.fixture
def runtime() -> Iterator[Runtime]:
    rt = Runtime(thread_pool_size=4)
    try:
        yield rt
    finally:
        rt.shutdown(wait=False)


@pytest.fixture(autouse=True)
def _clean_registry() -> Iterator[None]:
    yield
    FlowRegistry.get_instance().clear()
