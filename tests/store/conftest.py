"""Store fixtures: ``store_spec`` runs a test against SQLite and against PostgreSQL."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

POSTGRES = os.environ.get(
    "ROUTILUX_TEST_POSTGRES", "postgresql://routilux:routilux@127.0.0.1:5432/routilux_test"
)
"""The database the PostgreSQL runs use (``.ci/run`` creates it); each test gets a schema."""


def postgres_spec() -> Iterator[str]:
    """A fresh schema in the test database, as a store URL; skips when there is no server."""
    try:
        import psycopg
    except ImportError:
        pytest.skip("psycopg is not installed: pip install 'routilux[postgres]'")
    schema = f"t{uuid.uuid4().hex[:12]}"
    try:
        with psycopg.connect(POSTGRES, autocommit=True, connect_timeout=3) as conn:
            conn.execute(f"CREATE SCHEMA {schema}")
    except psycopg.OperationalError as exc:
        pytest.skip(
            f"no PostgreSQL server at {POSTGRES.split('@')[-1]} ({exc}); .ci/run starts one, "
            "or set ROUTILUX_TEST_POSTGRES"
        )
    try:
        yield f"{POSTGRES}?options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(POSTGRES, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")


@pytest.fixture(params=["sqlite", "postgres"])
def store_spec(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Where a test's store lives: a SQLite file, then a PostgreSQL schema."""
    if request.param == "sqlite":
        yield str(tmp_path / "jobs.db")
    else:
        yield from postgres_spec()
