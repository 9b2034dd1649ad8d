"""Shared fixtures: an in-memory DuckDB connection with the threads a load uses; the portal database on both kinds."""

from __future__ import annotations

from collections.abc import Iterator

import duckdb
import pytest

from tests.app_cookies import app_cookie_jars  # noqa: F401  (autouse: every AppTest gets a cookie jar the gate reads)
from tests.pg import db_url, pg_cluster  # noqa: F401  (fixtures: a fresh SQLite or PostgreSQL database per test)


@pytest.fixture
def con() -> Iterator[duckdb.DuckDBPyConnection]:
    """In-memory DuckDB with 2 threads, as in production (ordering must hold in parallel)."""
    connection = duckdb.connect()
    connection.execute("SET threads = 2")
    yield connection
    connection.close()
