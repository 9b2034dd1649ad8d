"""The module readers (taxes, labour, treasury, invoices, case files, documents): one registry the load runs.

Each reader reads its module's files of one company folder (docs/sources.md §4–8) into DuckDB tables of the
load's connection, after the journal (table ``journal``) and the chart (table ``accounts``) are in place, and
returns its problems and the Parquet files it adds to the snapshot. A module with no files adds nothing. Readers
find and open their files only through ``etl.sources.source_file`` / ``source_files``, which never follow a symlink.
Errors reject the whole company's load (the previous snapshot stays published); warnings are shown to staff.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from etl.problems import Problem
from etl.sources import CompanyInfo


@dataclass
class ModuleOutput:
    """What one module reader produced: problems, and the snapshot's Parquet files as SQL over its tables."""

    problems: list[Problem] = field(default_factory=list)
    # Parquet file name (e.g. 'tax_filings.parquet') -> SELECT over the reader's DuckDB tables.
    tables: dict[str, str] = field(default_factory=dict)
    manifest: dict[str, object] = field(default_factory=dict)  # small facts for the manifest (counts, warnings)


@dataclass(frozen=True)
class ModuleReader:
    """One module's reader: its input files (hashed so a change reloads) and its read function."""

    name: str  # the module's folder under the company folder ('impuestos', 'laboral', ...)
    inputs: Callable[[Path], list[Path]]  # company folder -> every file the reader reads (sorted)
    read: Callable[[duckdb.DuckDBPyConnection, Path, CompanyInfo], ModuleOutput]


def readers() -> tuple[ModuleReader, ...]:
    """The registered readers, in load order (imported here so each module's code stays in its own file)."""
    from etl.modules import cases, documents, invoices, labour, taxes, treasury, vat_books

    return (
        taxes.READER,
        vat_books.READER,
        labour.READER,
        treasury.READER,
        invoices.READER,
        cases.READER,
        documents.READER,
    )
