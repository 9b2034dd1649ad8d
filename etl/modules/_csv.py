"""The ';' files of the module readers: one reader, row errors, typed field parsers and their Spanish messages.

Every module file (docs/sources.md §4–8) is UTF-8 (a BOM is allowed), ';'-separated, with a header line naming its
columns in any order. ``read_table`` checks the encoding, the header and each line's field count, naming the file and
line of each problem; ``parse_rows`` runs a reader's row parser over the lines, turning a ``RowError`` (raised by the
field parsers below with the Spanish reason) into an error of that file and line. Each reader keeps only its own
columns and rules.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import pandas as pd

from etl.problems import Problem
from etl.sources import display_name

MONEY = re.compile(r"-?\d+,\d{2}")
DAY = re.compile(r"\d{2}/\d{2}/\d{4}")


class RowError(ValueError):
    """A bad field of one row: the Spanish reason naming column and value."""


@dataclass(frozen=True)
class Table:
    """One parsed ';' file: its display name and rows (line number as an editor shows it, values by column)."""

    name: str
    rows: list[tuple[int, dict[str, str]]]


# --- field parsers (each raises RowError with the Spanish reason) -------------------------------------------------


def money(column: str, value: str) -> Decimal:
    """'1234,56' -> Decimal('1234.56')."""
    if not MONEY.fullmatch(value):
        raise RowError(f"{column} «{value}» no es un importe (formato 1234,56)")
    return Decimal(value.replace(",", "."))


def day(column: str, value: str, *, required: bool = True) -> date | None:
    """'31/12/2025' -> date; empty -> None when not required."""
    if not value:
        if required:
            raise RowError(f"{column} está vacía")
        return None
    try:
        if not DAY.fullmatch(value):
            raise ValueError(value)
        return datetime.strptime(value, "%d/%m/%Y").date()
    except ValueError:
        raise RowError(f"{column} «{value}» no es una fecha dd/mm/aaaa") from None


def text(column: str, value: str) -> str:
    """A required text."""
    if not value:
        raise RowError(f"{column} está vacío")
    return value


def flag(column: str, value: str) -> bool:
    """'s' -> True, 'n' -> False."""
    if value not in ("s", "n"):
        raise RowError(f"{column} «{value}» debe ser s o n")
    return value == "s"


def one_of(column: str, value: str, allowed: tuple[str, ...]) -> str:
    """A value from a fixed list."""
    if value not in allowed:
        raise RowError(f"{column} «{value}» no es uno de: {', '.join(allowed)}")
    return value


def integer(column: str, value: str, low: int, high: int) -> int:
    """An integer between ``low`` and ``high``."""
    if not value.isdigit() or not low <= int(value) <= high:
        raise RowError(f"{column} «{value}» debe ser un número entero entre {low} y {high}")
    return int(value)


def spanish(value: Decimal) -> str:
    """Decimal('1234.5') -> '1234,50' (as the files write it)."""
    return f"{value:.2f}".replace(".", ",")


# --- reading files ------------------------------------------------------------------------------------------------


def read_table(
    path: Path,
    columns: tuple[str, ...],
    rule: str,
    problems: list[Problem],
    *,
    missing_note: str = "",
    warn_extra: bool = True,
) -> Table | None:
    """The rows of a ';' file with the expected header (any order); None after a file-level error.

    Problems are named ``<rule>_encoding`` and ``<rule>_columns``; ``missing_note`` follows the list of missing
    columns; ``warn_extra`` warns about columns the reader does not read.
    """
    name = display_name(path)
    try:
        content = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError:
        problems.append(Problem(f"{rule}_encoding", "El archivo no está en UTF-8", file=name, line=1))
        return None
    reader = csv.reader(io.StringIO(content, newline=""), delimiter=";")
    header = [h.strip().lower() for h in next(reader, [])]
    missing = [c for c in columns if c not in header]
    if missing:
        message = f"Faltan columnas: {', '.join(missing)}{missing_note}"
        problems.append(Problem(f"{rule}_columns", message, file=name, line=1))
        return None
    extra = [c for c in header if c not in columns]
    if extra and warn_extra:
        message = f"Columnas que no se leen: {', '.join(extra)}"
        problems.append(Problem(f"{rule}_columns", message, file=name, line=1, severity="warning"))
    rows = []
    for values in reader:
        if not any(v.strip() for v in values):
            continue
        if len(values) != len(header):
            message = f"La línea tiene {len(values)} campos y la cabecera {len(header)}"
            problems.append(Problem(f"{rule}_columns", message, file=name, line=reader.line_num))
            continue
        rows.append((reader.line_num, {h: v.strip() for h, v in zip(header, values, strict=True)}))
    return Table(name, rows)


def parse_rows(table: Table, parse: Callable[[dict[str, str]], dict], rule: str, problems: list[Problem]) -> list[dict]:
    """Each row through ``parse``; a RowError becomes an error naming file and line."""
    parsed = []
    for line, values in table.rows:
        try:
            parsed.append({**parse(values), "source_line": line})
        except RowError as exc:
            problems.append(Problem(rule, str(exc), file=table.name, line=line))
    return parsed


def duplicates(
    rows: list[dict], key: Callable[[dict], tuple], file: str, what: str, rule: str, *, show_key: bool = True
) -> list[Problem]:
    """An error for every row repeating an earlier row's key (the key shown in the message with ``show_key``)."""
    seen: dict[tuple, int] = {}
    found = []
    for row in rows:
        k = key(row)
        if k in seen:
            named = f"{what} «{' '.join(map(str, k))}»" if show_key else what
            message = f"{named} repetido (ya en la línea {seen[k]})"
            found.append(Problem(rule, message, file=file, line=row["source_line"]))
        else:
            seen[k] = row["source_line"]
    return found


def store_rows(con: duckdb.DuckDBPyConnection, name: str, ddl: str, rows: list[dict]) -> None:
    """(Re)create table ``name`` from ``ddl`` and insert ``rows`` (dicts keyed by its columns).

    Amounts (``DECIMAL`` columns) travel as exact decimal text that DuckDB casts to the column's type: scanning a
    column of Python Decimals, DuckDB would infer a narrow DECIMAL from the first values and refuse a larger amount
    further down (a 18.675,98 € item after small ones).
    """
    con.execute(f"DROP TABLE IF EXISTS {name}")  # name: an internal constant
    con.execute(ddl)
    described = con.execute(f"DESCRIBE {name}").fetchall()
    columns = [row[0] for row in described]
    exact = {row[0] for row in described if str(row[1]).startswith("DECIMAL")}
    if rows:
        records = [{c: _exact(r[c]) if c in exact else r[c] for c in columns} for r in rows]
        frame = pd.DataFrame(records, columns=columns)  # noqa: F841 - scanned by DuckDB below
        con.execute(f"INSERT INTO {name} SELECT * FROM frame")


def _exact(value: object) -> str | None:
    """An amount as plain decimal text ('18675.98'; never exponent notation), None as None."""
    return None if value is None else format(Decimal(value), "f")
