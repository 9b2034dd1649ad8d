"""Shared fixtures: an in-memory DuckDB connection with the threads a load uses."""

from __future__ import annotations

from collections.abc import Iterator

import duckdb
import pytest


@pytest.fixture
def con() -> Iterator[duckdb.DuckDBPyConnection]:
    """In-memory DuckDB with 2 threads, as in production (ordering must hold in parallel)."""
    connection = duckdb.connect()
    connection.execute("SET threads = 2")
    yield connection
    connection.close()
