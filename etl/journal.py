"""Journal reader: detect each export's format, load it into DuckDB with SQL and validate it with named rules."""

from __future__ import annotations

import codecs
import csv
import re
import tempfile
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from functools import cache
from pathlib import Path
from typing import Any

import duckdb

from etl.contaplus import convert_dbf, dbf_files, is_contaplus
from etl.journal_profiles import (
    CONTAPLUS,
    PORTAL,
    PROFILE_KEY,
    Canonical,
    Profile,
    convert_profile,
    line_breaks_of,
    profiles,
    requested_profile,
)
from etl.problems import Problem, Severity, has_errors
from etl.sources import CompanyInfo, display_name
from etl.yearend import EntryClass, classify_year_end, entry_label
from portal.fmt import date_es, integer, number

MAX_PER_RULE = 200  # problems kept per rule (plus one "y N más" summary)
MAX_LINES_LISTED = 10  # line numbers quoted in one entry-level message
MAX_CASE_BREAKS = 64  # line-number corrections written as a CASE; more use an ASOF join
REJECTS_LIMIT = 100_000  # malformed lines DuckDB records per file
CHUNK_BYTES = 1 << 24
HEAD_BYTES = 1 << 16
UTF8_SAMPLE_BYTES = 1 << 22  # checked up front; the rest is checked by DuckDB while reading
SEPARATORS = (";", "\t", ",")
CP1252_UNDEFINED = re.compile(rb"[\x81\x8d\x8f\x90\x9d]")
BLANK_LINE = re.compile(rb"\n(?=\r?\n)")

# Header aliases per field (normalised: lower case, no accents, '_' between words); matching is exact.
JOURNAL_ALIASES: dict[str, tuple[str, ...]] = {
    "date": ("fecha", "fecha_asiento", "fecha_apunte", "fecha_contable", "f_asiento", "date", "entry_date"),
    "entry": (
        "asiento",
        "n_asiento",
        "no_asiento",
        "n_o_asiento",
        "num_asiento",
        "numero_asiento",
        "numero_de_asiento",
        "nro_asiento",
        "asiento_num",
        "asiento_n",
        "asiento_no",
        "entry",
        "entry_no",
        "entry_number",
        "entry_num",
    ),
    "account": ("cuenta", "subcuenta", "codigo_cuenta", "cod_cuenta", "cuenta_contable", "account", "account_code"),
    "description": ("concepto", "descripcion", "description", "detalle", "texto", "concept", "memo"),
    "debit": ("debe", "debit", "cargo", "importe_debe", "debe_eur"),
    "credit": ("haber", "credit", "abono", "importe_haber", "haber_eur"),
    "type": ("tipo", "tipo_asiento", "tipo_de_asiento", "entry_type", "type"),
}
JOURNAL_REQUIRED = ("date", "entry", "account", "debit", "credit")
FIELD_LABELS = {
    "date": "fecha",
    "entry": "asiento",
    "account": "cuenta",
    "description": "concepto",
    "debit": "debe",
    "credit": "haber",
    "type": "tipo",
    "name": "descripción",
    "amount": "importe",
    "dh_key": "clave debe/haber",
}
# Bits of the working column `_work`: how each amount and the date were written.
COMMA, POINT, THOUSANDS, MULTI_DOT = 1, 2, 4, 8  # debit in bits 0-3, credit in bits 4-7
DATE_SLASH, DATE_ISO, DATE_DASH = 256, 512, 1024
EMPTY = 2048  # a row with no date, entry, account or amounts (";;;;;" lines): dropped
BOTH = 0x11  # a debit bit and its credit twin
DATE_FORMATS = "['%d/%m/%Y', '%Y-%m-%d', '%d-%m-%Y', '%d/%m/%Y %H:%M:%S', '%d/%m/%Y %H:%M', '%Y-%m-%d %H:%M:%S']"
JOURNAL_COLUMNS = (
    "fiscal_year INTEGER, date DATE, entry BIGINT, account VARCHAR, description VARCHAR,"
    " debit DECIMAL(18,2), credit DECIMAL(18,2), entry_type VARCHAR, source_file VARCHAR, source_line INTEGER"
)
# Working column while reading: the shape bits above (EMPTY included) and, from bit 16, the file's index.
WORK_COLUMNS = "_work UINTEGER"
FILE = "(_work >> 16)"
NOT_EMPTY = f"(_work & {EMPTY}) = 0"


@dataclass(frozen=True)
class FileFormat:
    """What was detected for one file, shown to staff ("detectado: ...")."""

    file: str
    encoding: str  # 'utf-8', 'utf-8-sig', 'windows-1252' or 'xlsx'
    separator: str | None  # ';', ',', '\t' (None for xlsx)
    decimal: str  # 'coma', 'punto', 'entero' (no decimals seen), 'número de Excel', 'ambiguo' or 'mixto'
    date_format: str  # 'dd/mm/aaaa', 'dd-mm-aaaa', 'aaaa-mm-dd', 'fecha de Excel', 'mixto' or '' (no dates)
    has_type_column: bool
    rows: int
    profile: str = PORTAL  # 'portal' (the native layout), 'contaplus' or a profile of etl/profiles


@dataclass
class JournalResult:
    """Outcome of reading a company's journal files into table ``journal``."""

    rows_read: int
    problems: list[Problem]
    formats: list[FileFormat]
    classifications: list[EntryClass]


# ---------------------------------------------------------------------------------------------------------------------
# Format detection shared with the chart reader: encoding, header, separator, physical line numbers.


@dataclass
class CsvSource:
    """A delimited text file ready for DuckDB: encoding checked (transcoded when needed) and header mapped."""

    original: Path
    file: str  # display name, for messages
    path: Path  # the UTF-8 file DuckDB reads (a transcoded copy for Windows-1252 files)
    encoding: str
    separator: str
    header: list[str]
    columns: dict[str, int]  # field -> column index
    physical_lines: int = 0
    trailing_blank_lines: int = 0


def prepare_csv(
    path: Path,
    aliases: dict[str, tuple[str, ...]],
    required: Sequence[str],
    workdir: Path,
    *,
    force_cp1252: bool = False,
) -> tuple[CsvSource | None, list[Problem]]:
    """Check a delimited file's encoding and header; None (and the reasons) when it cannot be read.

    UTF-8 is checked here on the first 4 MB and by DuckDB for the rest (it rejects invalid bytes);
    a file that is not UTF-8 is read as Windows-1252 through a transcoded UTF-8 copy.
    """
    name = display_name(path)
    head, size = _head(path)
    bom = head.startswith(codecs.BOM_UTF8)
    first_line = head.split(b"\n", 1)[0].rstrip(b"\r")[len(codecs.BOM_UTF8) if bom else 0 :]
    if size == 0 or not first_line.strip():
        return None, [Problem("empty_file", "el archivo está vacío o no tiene cabecera en la línea 1", file=name)]
    problems: list[Problem] = []
    readable, encoding = path, "utf-8-sig" if bom else "utf-8"
    if force_cp1252 or not _utf8_prefix_ok(path):
        encoding = "windows-1252"
        readable = workdir / f"{_unique()}.utf8.csv"
        problems += _transcode_cp1252(path, readable, name)
    header_text = first_line.decode("cp1252" if encoding == "windows-1252" else "utf-8", errors="replace")
    separator, header, columns, ignored, missing = _map_header(header_text, aliases, required)
    if missing:
        wanted = ", ".join(FIELD_LABELS.get(f, f) for f in missing)
        problems.append(
            Problem(
                "missing_column",
                f"faltan columnas obligatorias: {wanted} (cabecera encontrada: «{header_text.strip()}»)",
                file=name,
                line=1,
            )
        )
        return None, problems
    if ignored:
        message = f"se ignoran las columnas: {', '.join(ignored)}"
        problems.append(Problem("unknown_columns", message, file=name, line=1, severity="warning"))
    return CsvSource(path, name, readable, encoding, separator, header, columns), problems


_counter = iter(range(1 << 62))


def _unique() -> int:
    return next(_counter)


def _head(path: Path) -> tuple[bytes, int]:
    with path.open("rb") as fh:
        return fh.read(HEAD_BYTES), path.stat().st_size


def _utf8_prefix_ok(path: Path) -> bool:
    """The first 4 MB are UTF-8 (a sequence cut at the end of the sample is fine)."""
    with path.open("rb") as fh:
        sample = fh.read(UTF8_SAMPLE_BYTES)
    if sample.isascii():
        return True
    try:
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=False)
    except UnicodeDecodeError:
        return False
    return True


def count_lines(source: CsvSource) -> None:
    """Fill in the physical line count of a prepared file and how many empty lines end it."""
    newlines, ends_with_newline, trailing = _count_lines(source.path)
    source.physical_lines = newlines + (0 if ends_with_newline else 1)
    source.trailing_blank_lines = trailing


def _count_lines(path: Path) -> tuple[int, bool, int]:
    """Newlines in the file (vectorised), whether it ends with one, and how many empty lines end it."""
    newlines, last = 0, b""
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK_BYTES):
            newlines += chunk.count(b"\n")
            last = chunk[-HEAD_BYTES:] if len(chunk) >= HEAD_BYTES else (last + chunk)[-HEAD_BYTES:]
    ends = last.endswith(b"\n")
    pieces = last.split(b"\n")
    if ends:
        pieces.pop()
    trailing = 0
    while len(pieces) > 1 and pieces[-1] in (b"", b"\r"):
        pieces.pop()
        trailing += 1
    return newlines, ends, trailing


def blank_lines(path: Path) -> list[int]:
    """Physical numbers of the empty lines of a file (DuckDB skips them without counting them as rows)."""
    found: list[int] = []
    newlines, tail = 0, b""
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK_BYTES):
            buffer = tail + chunk
            position, count = 0, newlines - tail.count(b"\n")
            for match in BLANK_LINE.finditer(buffer):
                start = match.start()
                count += buffer.count(b"\n", position, start)
                position = start
                end = start + (3 if buffer[start + 1 : start + 2] == b"\r" else 2)
                if end > len(tail):
                    found.append(count + 2)
            newlines += chunk.count(b"\n")
            tail = chunk[-2:]
    return found


def _transcode_cp1252(source: Path, target: Path, name: str) -> list[Problem]:
    """Stream a Windows-1252 file into UTF-8; bytes undefined in Windows-1252 are reported by line."""
    bad_lines: list[int] = []
    newlines = 0
    with source.open("rb") as src, target.open("wb") as dst:
        while chunk := src.read(CHUNK_BYTES):
            try:
                text = chunk.decode("cp1252")
            except UnicodeDecodeError:
                position, count = 0, newlines
                for match in CP1252_UNDEFINED.finditer(chunk):
                    count += chunk.count(b"\n", position, match.start())
                    position = match.start()
                    if not bad_lines or bad_lines[-1] != count + 1:
                        bad_lines.append(count + 1)
                text = chunk.decode("cp1252", errors="replace")
            dst.write(text.encode("utf-8"))
            newlines += chunk.count(b"\n")
    message = "bytes que no son texto válido (ni UTF-8 ni Windows-1252); exporte el archivo de nuevo en UTF-8"
    problems = [Problem("undecodable_bytes", message, file=name, line=line) for line in bad_lines[:MAX_PER_RULE]]
    return problems + _more("undecodable_bytes", len(bad_lines), name)


def normalize_header(name: str) -> str:
    """Header matching key: no accents, lower case, runs of other characters as one '_'."""
    text = unicodedata.normalize("NFKD", name.replace("\ufeff", "").strip().lower())
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return re.sub(r"[^a-z0-9]+", "_", text).strip("_")


def _map_header(
    text: str, aliases: dict[str, tuple[str, ...]], required: Sequence[str]
) -> tuple[str, list[str], dict[str, int], list[str], list[str]]:
    """The separator that yields every required column; else the closest one and what is missing."""
    best: tuple[str, list[str], dict[str, int], list[str], list[str]] | None = None
    for separator in SEPARATORS:
        names = next(csv.reader([text], delimiter=separator, quotechar='"'), [])
        columns, ignored = _match_columns(names, aliases)
        missing = [f for f in required if f not in columns]
        candidate = (separator, names, columns, ignored, missing)
        if not missing:
            return candidate
        if best is None or len(missing) < len(best[4]):
            best = candidate
    assert best is not None
    return best


def _match_columns(names: list[str], aliases: dict[str, tuple[str, ...]]) -> tuple[dict[str, int], list[str]]:
    """Field -> column index for the recognised names; the other non-empty names are ignored."""
    lookup = {alias: name for name, options in aliases.items() for alias in options}
    columns: dict[str, int] = {}
    ignored: list[str] = []
    for index, raw in enumerate(names):
        key = normalize_header(raw)
        found = lookup.get(key)
        if found and found not in columns:
            columns[found] = index
        elif key:
            ignored.append(raw.strip())
    return columns, ignored


def csv_reader_sql(source: CsvSource, rejects: str) -> str:
    """The ``read_csv`` call for a prepared file; bind ``reader_params(source)`` ($path, $delim)."""
    columns = ", ".join(f"'c{i}': 'VARCHAR'" for i in range(len(source.header)))
    return (
        "read_csv($path, delim=$delim, quote='\"', escape='\"', header=false, skip=1, all_varchar=true,"
        f" auto_detect=false, columns={{{columns}}}, ignore_errors=true, store_rejects=true,"
        f" rejects_table='{rejects}_errors', rejects_scan='{rejects}_scan', rejects_limit={REJECTS_LIMIT})"
    )


def reader_params(source: CsvSource) -> dict[str, Any]:
    return {"path": str(source.path), "delim": source.separator}


@dataclass
class Rejects:
    """What DuckDB refused while reading one file."""

    records: list[int]  # DuckDB record numbers of every refused record (whitespace-only lines included)
    problems: list[Problem]
    bad: int  # records reported as bad_line
    encoding: bool  # some bytes were not UTF-8


def read_rejects(con: duckdb.DuckDBPyConnection, source: CsvSource, rejects: str) -> Rejects:
    """Collect and drop DuckDB's reject tables for one read: bad_line problems with physical line numbers."""
    rows = con.execute(
        f"SELECT line, min(line_byte_position), min(csv_line), bool_or(error_type = 'INVALID ENCODING')"
        f" FROM {rejects}_errors GROUP BY line ORDER BY line"
    ).fetchall()
    con.execute(f"DROP TABLE IF EXISTS {rejects}_errors")
    con.execute(f"DROP TABLE IF EXISTS {rejects}_scan")
    encoding = any(row[3] for row in rows)
    bad = [row for row in rows if (row[2] or "").strip() and not row[3]]
    shown = bad[:MAX_PER_RULE]
    lines = _lines_at_bytes(source.path, [row[1] for row in shown])
    problems = []
    for row, line in zip(shown, lines, strict=True):
        text = row[2].rstrip("\r\n")
        found = next(csv.reader([text], delimiter=source.separator), [])
        problems.append(
            Problem(
                "bad_line",
                f"la línea tiene {len(found)} columnas y la cabecera {len(source.header)}"
                f" (¿un «{source.separator}» sin comillas dentro de un texto?): «{text.strip()[:120]}»",
                file=source.file,
                line=line,
            )
        )
    problems += _more("bad_line", len(bad), source.file)
    return Rejects([int(row[0]) for row in rows], problems, len(bad), encoding)


def _lines_at_bytes(path: Path, positions: list[int]) -> list[int]:
    """Physical line numbers of byte offsets (one streaming pass up to the last offset)."""
    wanted = sorted(set(positions))
    found: dict[int, int] = {}
    newlines, offset = 0, 0
    with path.open("rb") as fh:
        while wanted and (chunk := fh.read(CHUNK_BYTES)):
            while wanted and wanted[0] < offset + len(chunk):
                found[wanted[0]] = newlines + chunk.count(b"\n", 0, wanted[0] - offset) + 1
                wanted.pop(0)
            newlines += chunk.count(b"\n")
            offset += len(chunk)
    return [found.get(p, newlines + 1) for p in positions]


def line_breaks(
    con: duckdb.DuckDBPyConnection, source: CsvSource, kept: int, rejected_records: list[int]
) -> list[tuple[int, int]]:
    """Corrections turning a kept row's index k (file order, from 0) into its physical line number.

    Normally line = k + 2 (the header is line 1). DuckDB skips empty lines and refused records and
    counts a quoted field spanning lines as one record; each correction (b, extra) means "from row
    index b on, add extra". The expensive look for interior empty lines and multi-line fields only
    runs when the line count does not add up.
    """
    accounted = 1 + kept + len(rejected_records) + source.trailing_blank_lines
    skipped = set(rejected_records)
    multiline: list[tuple[int, int]] = []
    if source.physical_lines > accounted:
        blanks = blank_lines(source.path)
        if source.physical_lines > 1 + kept + len(skipped | set(blanks)):
            multiline = _multiline_rows(con, source)
        skipped |= set(_blank_records(blanks, sorted(skipped), multiline))
    offsets: dict[int, int] = {}
    for ordinal, record in enumerate(sorted(skipped), start=1):
        row = record - ordinal - 1  # rows from this index on come after the skipped record
        offsets[row] = offsets.get(row, 0) + 1
    for row, extra in multiline:
        offsets[row + 1] = offsets.get(row + 1, 0) + extra
    breaks, total = [], 0
    for row in sorted(offsets):
        total += offsets[row]
        if row < kept:
            breaks.append((row, total))
    return breaks


def _blank_records(blanks: list[int], rejected: list[int], multiline: list[tuple[int, int]]) -> list[int]:
    """DuckDB record numbers of empty lines given by physical number (they differ after multi-line rows).

    Walks the events in physical order: an empty line or a refused record is one skipped record; a
    multi-line row (at row index k) starts at physical line k + 2 + skips so far + extra lines so far.
    """
    if not multiline:
        return blanks
    records: list[int] = []
    skips = extra = b = r = m = 0
    while b < len(blanks):
        candidates = [(blanks[b], 0)]
        if r < len(rejected):
            candidates.append((rejected[r] + extra, 1))
        if m < len(multiline):
            candidates.append((multiline[m][0] + 2 + skips + extra, 2))
        physical, kind = min(candidates)
        if kind == 0:
            records.append(physical - extra)
            skips, b = skips + 1, b + 1
        elif kind == 1:
            skips, r = skips + 1, r + 1
        else:
            extra, m = extra + multiline[m][1], m + 1
    return records


def _multiline_rows(con: duckdb.DuckDBPyConnection, source: CsvSource) -> list[tuple[int, int]]:
    """(row index, newlines inside its quoted fields) for the rows spanning several physical lines."""
    counts = " + ".join(
        f"coalesce(length(c{i}) - length(replace(c{i}, chr(10), '')), 0)" for i in range(len(source.header))
    )
    reader = csv_reader_sql(source, "_jnl_rejects")
    con.execute(f"CREATE OR REPLACE TEMP TABLE _jnl AS SELECT {counts} AS n FROM {reader}", reader_params(source))
    rows = con.execute("SELECT rowid, n FROM _jnl WHERE n > 0 ORDER BY rowid").fetchall()
    for table in ("_jnl", "_jnl_rejects_errors", "_jnl_rejects_scan"):
        con.execute(f"DROP TABLE IF EXISTS {table}")
    return [(int(k), int(n)) for k, n in rows]


def line_sql(index: str, breaks: list[tuple[int, int]]) -> str:
    """SQL for the physical line of row index ``index`` given few corrections (a CASE, newest first)."""
    if not breaks:
        return f"({index} + 2)"
    cases = " ".join(f"WHEN {index} >= {row} THEN {extra}" for row, extra in reversed(breaks))
    return f"({index} + 2 + CASE {cases} ELSE 0 END)"


def _scalar(con: duckdb.DuckDBPyConnection, sql: str, params: dict[str, Any] | None = None) -> Any:
    row = con.execute(sql, params or {}).fetchone()
    assert row is not None
    return row[0]


def _more(rule: str, total: int, file: str = "", severity: Severity = "error") -> list[Problem]:
    """The summary problem that stands for the ones not kept."""
    if total <= MAX_PER_RULE:
        return []
    return [Problem(rule, f"… y {integer(total - MAX_PER_RULE)} casos más de este tipo", file=file, severity=severity)]


# ---------------------------------------------------------------------------------------------------------------------
# Excel workbooks: the first sheet becomes a UTF-8 CSV (one line per sheet row) that follows the same path.


@dataclass
class _Workbook:
    """What the conversion of a workbook found."""

    date_cells: bool = False  # some cell was a real date
    number_cells: bool = False  # some amount was a real number (written "=1234.56": exact, no decimal guess)
    problems: list[Problem] = field(default_factory=list)


def xlsx_to_csv(path: Path, target: Path) -> _Workbook:
    """Write the first sheet as CSV, one line per sheet row (row numbers are kept)."""
    import openpyxl  # imported here: only workbooks need it

    found = _Workbook()
    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # a damaged or foreign file: openpyxl raises many kinds
        found.problems.append(
            Problem("unreadable_file", f"no se puede abrir el libro Excel: {exc}", file=display_name(path))
        )
        return found
    try:
        with target.open("w", encoding="utf-8", newline="") as fh:
            writer = csv.writer(fh, delimiter=";", quotechar='"', lineterminator="\n")
            width, amounts = 0, set()
            for row in book.worksheets[0].iter_rows(values_only=True):
                if not width:
                    cells = [_cell_text(value) for value in row]
                    while cells and not cells[-1]:
                        cells.pop()
                    width = max(len(cells), 1)
                    amounts = {i for i, cell in enumerate(cells) if normalize_header(cell) in _amount_headers()}
                else:
                    cells = [_cell_text(value, exact=i in amounts) for i, value in enumerate(row)]
                    found.number_cells |= any(
                        isinstance(row[i], float | int | Decimal) for i in amounts if i < len(row)
                    )
                found.date_cells |= any(isinstance(value, date) for value in row)
                writer.writerow((cells + [""] * width)[:width])
    except Exception as exc:  # read-only sheets are parsed while iterating: a damaged sheet fails here
        message = f"no se puede leer la hoja del libro Excel: {exc}"
        found.problems.append(Problem("unreadable_file", message, file=display_name(path)))
    finally:
        book.close()
    return found


@cache
def _amount_headers() -> frozenset[str]:
    """Headers of amount columns in the native layout and in every profile (their Excel numbers are kept exact)."""
    native = {alias for name in ("debit", "credit") for alias in JOURNAL_ALIASES[name]}
    packages = {
        alias for p in profiles() for f in ("debit", "credit", "amount") for alias in _profile_aliases(p).get(f, ())
    }
    return frozenset(native | packages)


def _profile_aliases(profile: Profile) -> dict[str, tuple[str, ...]]:
    """A profile's headers in the reader's normalised form."""
    return {name: tuple(normalize_header(h) for h in headers) for name, headers in profile.columns.items()}


def _cell_text(value: object, *, exact: bool = False) -> str:
    """A cell as text: dates ISO, numbers with a decimal point; ``exact`` marks amounts exact to the cent."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int | float | Decimal):
        return _number_text(value, exact)
    return str(value).replace("\r", " ").replace("\n", " ").strip()


def _number_text(value: float | Decimal, exact: bool) -> str:
    """A numeric cell; an amount exact to the cent (binary floats round-checked) becomes '=1234.56'."""
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return str(value)
    if not number.is_finite():
        return str(value)
    cents = number.quantize(Decimal("0.01"))
    if abs(number - cents) >= Decimal("0.000001"):
        return f"{number:f}"  # more than two decimals: refused later as text
    if exact:
        return f"={cents:f}"
    return str(int(number)) if number == number.to_integral_value() else f"{cents:f}"


# ---------------------------------------------------------------------------------------------------------------------
# Parsing in SQL: each file is read by DuckDB straight into `journal`, in file order.


def _shape_sql(v: str, excel: bool) -> str:
    """How an amount is written: comma (1), decimal point (2), one thousands dot like 1.500 (4), other dots (8).

    16 = digits only; 32 = an Excel number cell ("=1234.56", see xlsx_to_csv).
    """
    number = f"WHEN starts_with({v}, '=') THEN 32" if excel else ""
    return f"""CASE
        WHEN {v} IS NULL OR {v} = '' THEN 0 {number}
        WHEN contains({v}, ',') THEN {COMMA}
        WHEN {v}[-3] = '.' OR {v}[-2] = '.' THEN {POINT}
        WHEN contains({v}, '.') THEN CASE WHEN strpos({v}, '.') = length({v}) - 3 THEN {THOUSANDS} ELSE {MULTI_DOT} END
        ELSE 16
    END"""


def _amount_sql(v: str, shape: str, excel: bool) -> str:
    """Parse one trimmed amount by its shape (16 = digits only); NULL unless a number with at most 2 decimals."""
    return f"""CASE {shape}
        WHEN 0 THEN 0::DECIMAL(18,2)
        WHEN {COMMA} THEN CASE WHEN length({v}) - strpos({v}, ',') <= 2
            THEN TRY_CAST(CASE WHEN contains({v}, '.') THEN replace(replace({v}, '.', ''), ',', '.')
                               ELSE replace({v}, ',', '.') END AS DECIMAL(18,2)) END
        WHEN {POINT} THEN TRY_CAST({v} AS DECIMAL(18,2))
        WHEN 16 THEN CASE WHEN regexp_full_match({v}, '[-+]?[0-9]+') THEN TRY_CAST({v} AS DECIMAL(18,2)) END
        {f"WHEN 32 THEN TRY_CAST(substr({v}, 2) AS DECIMAL(18,2))" if excel else ""}
        ELSE CASE WHEN regexp_full_match({v}, '[-+]?[0-9]{{1,3}}(\\.[0-9]{{3}})+')
            THEN TRY_CAST(replace({v}, '.', '') AS DECIMAL(18,2)) END
    END"""


TYPE_SQL = """CASE
    WHEN rt IN ('normal', 'apertura', 'regularizacion', 'cierre') THEN rt
    WHEN rt IS NULL OR trim(rt) = '' THEN NULL
    ELSE CASE lower(strip_accents(trim(rt)))
        WHEN 'n' THEN 'normal' WHEN 'normal' THEN 'normal'
        WHEN 'a' THEN 'apertura' WHEN 'apertura' THEN 'apertura'
        WHEN 'r' THEN 'regularizacion' WHEN 'regularizacion' THEN 'regularizacion'
        WHEN 'c' THEN 'cierre' WHEN 'cierre' THEN 'cierre'
        ELSE '?' || trim(rt) END
END"""

# A recognised entry type as a small integer (NULL for none and for an unrecognised '?…'): entries compares them.
TYPE_CODE = (
    "CASE entry_type WHEN 'normal' THEN 1 WHEN 'apertura' THEN 2 WHEN 'regularizacion' THEN 3 WHEN 'cierre' THEN 4 END"
)

# Unmarked lines on the first or last day of a fiscal year keep entry_type NULL: classify_year_end decides them.
ENTRY_TYPE_SQL = """CASE WHEN marked IS NOT NULL THEN marked
    WHEN (month(date) = $m AND day(date) = $d) OR (month(date + 1) = $m AND day(date + 1) = $d) THEN NULL
    ELSE 'normal' END"""


def _insert_sql(source: CsvSource, reader: str, excel: bool) -> str:
    """INSERT one file into ``journal``: parsed values plus the working column (source_line is set later)."""

    def col(name: str) -> str:
        return f"c{source.columns[name]}" if name in source.columns else "NULL"

    return f"""
    INSERT INTO journal
    SELECT (year(date) - CASE WHEN month(date) * 100 + day(date) < $start THEN 1 ELSE 0 END)::INTEGER,
           date, entry, account, description, debit, credit, {ENTRY_TYPE_SQL}, $name, NULL, shape | ($file << 16)
    FROM (
        SELECT CASE WHEN year(ts) BETWEEN 1900 AND 2199 THEN ts::DATE END AS date,
               CASE WHEN en >= 0 THEN en END AS entry,
               acc AS account,
               coalesce(descr, '') AS description,
               {_amount_sql("vd", "sd", excel)} AS debit,
               {_amount_sql("vc", "sc", excel)} AS credit,
               {TYPE_SQL} AS marked,
               ((sd & 15) | ((sc & 15) << 4) | CASE
                    WHEN rd IS NULL THEN 0 WHEN contains(rd, '/') THEN {DATE_SLASH}
                    WHEN strpos(rd, '-') BETWEEN 1 AND 3 THEN {DATE_DASH}
                    WHEN contains(rd, '-') THEN {DATE_ISO} ELSE 0 END
                | CASE WHEN rd IS NULL AND re IS NULL AND coalesce(acc, '') = '' AND sd = 0 AND sc = 0
                       THEN {EMPTY} ELSE 0 END)::UINTEGER AS shape
        FROM (
            SELECT rd, re, acc, descr, vd, vc, rt,
                   try_strptime(rd, {DATE_FORMATS}) AS ts, TRY_CAST(re AS BIGINT) AS en,
                   {_shape_sql("vd", excel)} AS sd, {_shape_sql("vc", excel)} AS sc
            FROM (
                SELECT {col("date")} AS rd, {col("entry")} AS re, trim({col("account")}) AS acc,
                       {col("description")} AS descr, trim({col("debit")}) AS vd, trim({col("credit")}) AS vc,
                       {col("type")} AS rt
                FROM {reader}
            )
        )
    )"""


@dataclass
class _Loaded:
    """One journal file inserted into ``journal``."""

    index: int
    source: CsvSource
    first_rowid: int
    kept: int  # rows DuckDB produced (empty ones included)
    rejects: Rejects
    workbook: _Workbook | None  # for xlsx files
    breaks: list[tuple[int, int]] = field(default_factory=list)
    fmt: FileFormat | None = None
    decimal_fault: str = ""
    detected: dict[str, Any] = field(default_factory=dict)  # FileFormat fields known from a package's format


@dataclass(frozen=True)
class _Unit:
    """One journal file to load: a CSV or workbook, or a DIARIO.DBF (perhaps taken out of a ContaPlus backup)."""

    path: Path  # the file to read (a working copy for a DBF inside a zip)
    name: str  # display name for messages: «empresa/diario.csv», «empresa/copia.zip:EMP/DIARIO.DBF»


def _units(files: Sequence[Path], workdir: Path, problems: list[Problem]) -> list[_Unit]:
    """The files to load, a backup zip standing for each DIARIO.DBF it holds."""
    units = []
    for path in files:
        if is_contaplus(path):
            found, trouble = dbf_files(path, workdir, _counter)
            problems += trouble
            units += [_Unit(dbf, name) for dbf, name in found]
        else:
            units.append(_Unit(path, display_name(path)))
    return units


def _load_file(
    con: duckdb.DuckDBPyConnection,
    unit: _Unit,
    index: int,
    company: CompanyInfo,
    workdir: Path,
    problems: list[Problem],
    wanted: str | None = None,
) -> _Loaded | None:
    """Prepare one journal file and insert it; file-level problems go to ``problems``.

    A DIARIO.DBF is ContaPlus; a CSV or workbook is read in the native layout when its header fits, else in the
    first profile whose columns it has (only profile ``wanted`` when empresa.json names one).
    """
    if unit.path.suffix.lower() == ".dbf":
        canonical, encoding, found = convert_dbf(unit.path, unit.name, workdir / f"{_unique()}.dbf.csv")
        problems += found
        if canonical is None:
            return None
        detected = {"encoding": encoding, "separator": None, "decimal": "número dBase", "date_format": "fecha dBase"}
        return _load_canonical(
            con, canonical, unit, index, company, workdir, problems, {**detected, "profile": CONTAPLUS}
        )
    readable, workbook = unit.path, None
    if unit.path.suffix.lower() == ".xlsx":
        readable = workdir / f"{_unique()}.xlsx.csv"
        workbook = xlsx_to_csv(unit.path, readable)
        if workbook.problems:
            problems += workbook.problems
            return None
    found: list[Problem] = []
    if wanted in (None, PORTAL):
        source, found = _prepared(readable, unit.name, workdir, force_cp1252=False)
        if source is not None:
            return _load_native(con, source, found, readable, unit.name, index, company, workdir, problems, workbook)
        if wanted == PORTAL or not any(p.rule == "missing_column" for p in found):
            problems += found
            return None
    return _load_profile(con, readable, unit, index, company, workdir, problems, workbook, wanted, found)


def _load_native(
    con: duckdb.DuckDBPyConnection,
    source: CsvSource,
    found: list[Problem],
    readable: Path,
    name: str,
    index: int,
    company: CompanyInfo,
    workdir: Path,
    problems: list[Problem],
    workbook: _Workbook | None,
) -> _Loaded | None:
    """Insert a file in the native layout, straight from DuckDB's CSV reader."""
    rejects = _insert_csv(con, source, index, company, excel=workbook is not None)
    if rejects.encoding and source.encoding != "windows-1252" and workbook is None:  # not UTF-8 after 4 MB
        con.execute(f"DELETE FROM journal WHERE {FILE} = $file", {"file": index})
        source, found = _prepared(readable, name, workdir, force_cp1252=True)
        if source is None:
            problems += found
            return None
        rejects = _insert_csv(con, source, index, company, excel=False)
    problems += found + rejects.problems
    first, kept = con.execute(
        f"SELECT coalesce(min(rowid), 0), count(*) FROM journal WHERE {FILE} = $file", {"file": index}
    ).fetchone()
    loaded = _Loaded(index, source, first, kept, rejects, workbook)
    loaded.breaks = line_breaks(con, source, kept, rejects.records)
    return loaded


def _load_profile(
    con: duckdb.DuckDBPyConnection,
    readable: Path,
    unit: _Unit,
    index: int,
    company: CompanyInfo,
    workdir: Path,
    problems: list[Problem],
    workbook: _Workbook | None,
    wanted: str | None,
    native: list[Problem],
) -> _Loaded | None:
    """Read a package's export with the first profile whose columns it has; none: say what was found and tried."""
    text = _header_text(readable)
    tried: list[tuple[Profile, list[str]]] = []
    for profile in (p for p in profiles() if wanted in (None, p.name)):
        aliases = _profile_aliases(profile)
        missing = _map_header(text, aliases, profile.required)[4]
        if missing:
            tried.append((profile, missing))
            continue
        canonical, source, found = None, None, []
        for force in (False, True):  # Windows-1252 past the first 4 MB shows up while converting
            source, found = prepare_csv(readable, aliases, profile.required, workdir, force_cp1252=force)
            if source is None:
                break
            try:
                target = workdir / f"{_unique()}.profile.csv"
                canonical = convert_profile(
                    source.path, source.separator, source.header, source.columns, profile, target, unit.name
                )
                break
            except UnicodeDecodeError:
                continue
        problems += [_renamed(p, unit.name) for p in found]
        if canonical is None or source is None:
            return None
        numbers = workbook is not None and workbook.number_cells
        detected = {
            "encoding": "xlsx" if workbook is not None else source.encoding,
            "separator": None if workbook is not None else source.separator,
            "decimal": "número de Excel" if numbers else ("coma" if profile.decimal == "," else "punto"),
            "date_format": "fecha de Excel" if workbook is not None and workbook.date_cells else profile.date_label,
            "profile": profile.name,
        }
        return _load_canonical(con, canonical, unit, index, company, workdir, problems, detected)
    names = next(csv.reader([text], delimiter=_map_header(text, JOURNAL_ALIASES, JOURNAL_REQUIRED)[0]), [])
    columns = ", ".join(f"«{n.strip()}»" for n in names if n.strip()) or "ninguna"
    attempts = "; ".join(f"{p.name} (faltan: {', '.join(FIELD_LABELS.get(f, f) for f in m)})" for p, m in tried)
    if wanted:
        message = f"el diario no tiene las columnas del formato «{wanted}» que indica empresa.json ({PROFILE_KEY}): "
        message += f"{attempts}; columnas encontradas: {columns}"
    else:
        message = (
            "las columnas no corresponden al diario del portal ni al de ningún programa de contabilidad conocido;"
            f" columnas encontradas: {columns}; formatos probados: {PORTAL} (ver el mensaje anterior), {attempts}"
        )
    problems += native
    problems.append(Problem("unknown_journal_format", message, file=unit.name, line=1))
    return None


def _header_text(path: Path) -> str:
    """The first line of a file as text (UTF-8, else Windows-1252)."""
    first = _head(path)[0].split(b"\n", 1)[0].rstrip(b"\r").removeprefix(codecs.BOM_UTF8)
    try:
        return first.decode("utf-8")
    except UnicodeDecodeError:
        return first.decode("cp1252", errors="replace")


def _load_canonical(
    con: duckdb.DuckDBPyConnection,
    canonical: Canonical,
    unit: _Unit,
    index: int,
    company: CompanyInfo,
    workdir: Path,
    problems: list[Problem],
    detected: dict[str, Any],
) -> _Loaded | None:
    """Insert a canonical CSV written from another format; its rows keep the lines (or records) of the source."""
    source, found = _prepared(canonical.path, unit.name, workdir, force_cp1252=False)
    if source is None:
        problems += found
        return None
    rejects = _insert_csv(con, source, index, company, excel=False)
    problems += found + canonical.problems + rejects.problems
    first, kept = con.execute(
        f"SELECT coalesce(min(rowid), 0), count(*) FROM journal WHERE {FILE} = $file", {"file": index}
    ).fetchone()
    loaded = _Loaded(index, source, first, kept, rejects, None, detected=detected)
    loaded.breaks = line_breaks_of(canonical.lines)
    return loaded


def _prepared(
    readable: Path, name: str, workdir: Path, *, force_cp1252: bool
) -> tuple[CsvSource | None, list[Problem]]:
    """prepare_csv for a journal file, with messages naming the original file (not a working copy)."""
    source, found = prepare_csv(readable, JOURNAL_ALIASES, JOURNAL_REQUIRED, workdir, force_cp1252=force_cp1252)
    if source is not None:
        source.file = name
    return source, [_renamed(p, name) for p in found]


def _insert_csv(
    con: duckdb.DuckDBPyConnection, source: CsvSource, index: int, company: CompanyInfo, *, excel: bool
) -> Rejects:
    """Read a prepared file into ``journal`` (counting its lines meanwhile) and collect what DuckDB refused."""
    rejects = f"_jrej_{index}"
    params = {
        **reader_params(source),
        "start": company.fiscal_year_start_month * 100 + company.fiscal_year_start_day,
        "m": company.fiscal_year_start_month,
        "d": company.fiscal_year_start_day,
        "name": source.file,
        "file": index,
    }
    sql = _insert_sql(source, csv_reader_sql(source, rejects), excel)
    with ThreadPoolExecutor(max_workers=1) as pool:  # numpy and DuckDB both release the GIL
        counting = pool.submit(count_lines, source)
        try:
            con.execute(sql, params)
        except duckdb.InvalidInputException:
            # DuckDB's CSV parser gives up on some mixed line ends (a "\r\n" empty line in a "\n" file):
            # retry once on a copy with "\n" line ends only (same line numbers).
            counting.result()
            con.execute(f"DROP TABLE IF EXISTS {rejects}_errors")
            con.execute(f"DROP TABLE IF EXISTS {rejects}_scan")
            normalized = source.path.with_name(f"{_unique()}.lf.csv")
            _normalize_line_ends(source.path, normalized)
            source.path = normalized
            con.execute(sql, {**params, **reader_params(source)})
        counting.result()
    return read_rejects(con, source, rejects)


def _normalize_line_ends(source: Path, target: Path) -> None:
    """Copy a file turning every "\r\n" into "\n" (streaming; a chunk ending in "\r" waits for the next)."""
    with source.open("rb") as src, target.open("wb") as dst:
        pending = b""
        while chunk := src.read(CHUNK_BYTES):
            data = pending + chunk
            pending = b"\r" if data.endswith(b"\r") else b""
            dst.write((data[:-1] if pending else data).replace(b"\r\n", b"\n"))
        dst.write(pending)


def _renamed(problem: Problem, file: str) -> Problem:
    """A problem found in a working copy, named after the original file."""
    return Problem(problem.rule, problem.message, file, problem.line, problem.entry, problem.severity)


def _index_rows(con: duckdb.DuckDBPyConnection, loaded: list[_Loaded]) -> int:
    """Set source_line to each row's index k in its file (0 = first data row), or straight to k + 2.

    DuckDB evaluates ``nextval`` in an ALTER ... USING once per stored row in rowid order (a test
    checks it and ``_file_summaries`` re-checks it on every load), and the rows of one INSERT from
    read_csv take consecutive rowids in file order while preserve_insertion_order is on. So
    k = nextval - (first rowid of the file). An ALTER rewrites one column: far cheaper than UPDATE.
    When no file needs corrections (see line_breaks) the line k + 2 is written at once; returns the
    offset written on top of k (0 or 2).
    """
    if not loaded:
        return 0
    offset = 0 if any(item.breaks for item in loaded) else 2
    firsts = " ".join(f"WHEN {item.index} THEN {item.first_rowid - offset}" for item in loaded)
    con.execute("CREATE OR REPLACE TEMP SEQUENCE _jseq START WITH 0 MINVALUE 0")
    con.execute(f"ALTER TABLE journal ALTER source_line TYPE INTEGER USING nextval('_jseq') - CASE {FILE} {firsts} END")
    con.execute("DROP SEQUENCE _jseq")
    return offset


def _file_summaries(con: duckdb.DuckDBPyConnection, loaded: list[_Loaded], offset: int) -> dict[int, tuple]:
    """One scan: per file, rows, shapes and failures of each row rule; checks k = rowid - first rowid."""
    summaries = {row[0]: row for row in con.execute(FILE_SUMMARY_SQL).fetchall()}
    for item in loaded:
        lowest, highest = summaries.get(item.index, (None,) * 11)[-2:]
        expected = offset - item.first_rowid
        if lowest is not None and (lowest, highest) != (expected, expected):
            raise RuntimeError(f"numeración de líneas inconsistente al leer {item.source.file}")
    return summaries


def _lines_from_index(con: duckdb.DuckDBPyConnection, loaded: list[_Loaded]) -> None:
    """Turn each row index into its physical line: k + 2 plus the file's corrections (see line_breaks)."""
    if not any(item.breaks for item in loaded):
        return  # _index_rows wrote k + 2 already
    if all(len(item.breaks) <= MAX_CASE_BREAKS for item in loaded):
        cases = " ".join(f"WHEN {item.index} THEN {line_sql('source_line', item.breaks)}" for item in loaded)
        con.execute(f"ALTER TABLE journal ALTER source_line TYPE INTEGER USING CASE {FILE} {cases} END")
        return
    rows = [(item.index, row, extra) for item in loaded for row, extra in item.breaks]
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE _jbreaks AS
        SELECT unnest($files)::UINTEGER AS file, unnest($rows)::BIGINT AS row, unnest($extra)::BIGINT AS extra
        """,
        {"files": [r[0] for r in rows], "rows": [r[1] for r in rows], "extra": [r[2] for r in rows]},
    )
    con.execute(
        """
        CREATE OR REPLACE TABLE journal AS
        SELECT j.* REPLACE ((j.source_line + 2 + coalesce(b.extra, 0))::INTEGER AS source_line)
        FROM journal j ASOF LEFT JOIN _jbreaks b ON (j._work >> 16) = b.file AND j.source_line >= b.row
        ORDER BY (j._work >> 16), j.source_line
        """
    )
    con.execute("DROP TABLE _jbreaks")
    for item in loaded:  # the rebuilt table has new rowids (still in file order)
        query = f"SELECT coalesce(min(rowid), 0) FROM journal WHERE {FILE} = $file"
        item.first_rowid = _scalar(con, query, {"file": item.index})


# ---------------------------------------------------------------------------------------------------------------------
# Validation rules. Each query returns only offending rows, at most MAX_PER_RULE + 1 of them.

# Per file: rows, shapes, failures of each row rule, and min/max of (row index - rowid) to check the numbering.
FILE_SUMMARY_SQL = f"""
    SELECT {FILE}, count(*) FILTER ({NOT_EMPTY}), coalesce(bit_or(_work & 65535) FILTER ({NOT_EMPTY}), 0),
           count(*) FILTER ({NOT_EMPTY} AND date IS NULL),
           count(*) FILTER ({NOT_EMPTY} AND entry IS NULL),
           count(*) FILTER ({NOT_EMPTY} AND (debit IS NULL OR credit IS NULL)),
           count(*) FILTER ({NOT_EMPTY} AND (_work & {THOUSANDS * BOTH}) <> 0),
           count(*) FILTER ({NOT_EMPTY} AND debit <> 0 AND credit <> 0),
           count(*) FILTER ({NOT_EMPTY} AND starts_with(entry_type, '?')),
           min(source_line - rowid), max(source_line - rowid)
    FROM journal GROUP BY ALL
"""


class _Checker:
    """Runs the named rules against ``journal`` and keeps the problems, capped per rule."""

    def __init__(self, con: duckdb.DuckDBPyConnection, company: CompanyInfo) -> None:
        self.con = con
        self.company = company
        self.problems: list[Problem] = []

    def capped(
        self, rule: str, sql: str, params: dict[str, Any], build: Callable[[tuple], Problem], file: str = ""
    ) -> None:
        """Run a rule query (ordered) and keep its first problems plus a summary of the rest."""
        rows = self.con.execute(f"{sql} LIMIT {MAX_PER_RULE + 1}", params).fetchall()
        self.problems += [build(row) for row in rows[:MAX_PER_RULE]]
        if len(rows) > MAX_PER_RULE:
            total = _scalar(self.con, f"SELECT count(*) FROM ({sql})", params)
            self.problems += _more(rule, total, file)

    # -- per file -----------------------------------------------------------------------------------------------------

    def file(self, item: _Loaded, summary: tuple) -> None:
        """File format, decimal convention and the row rules of one file (details only when something failed)."""
        _, rows, bits, bad_date, bad_entry, bad_amount, three_decimals, both_sides, bad_type = summary[:9]
        source = item.source
        decimal, item.decimal_fault = _decimal_format(bits)
        book = item.workbook
        if book is not None and book.number_cells and decimal == "entero":
            decimal = "número de Excel"
        item.fmt = FileFormat(
            source.file,
            "xlsx" if book is not None else source.encoding,
            None if book is not None else source.separator,
            decimal,
            _date_format(bits, book is not None and book.date_cells),
            "type" in source.columns,
            rows,
        )
        if item.detected:
            item.fmt = replace(item.fmt, **item.detected)
        if rows == 0 and not item.rejects.bad:
            self.problems.append(
                Problem("empty_file", "el archivo no contiene apuntes (solo la cabecera)", file=source.file)
            )
        self.decimals(item)
        if bad_date or bad_entry or bad_amount:
            self.raw_rows(item, bad_date, bad_entry, bad_amount)
        if three_decimals and decimal == "punto":
            self.rows(
                item,
                "bad_amount",
                "j.debit, j.credit, j._work",
                f"(j._work & {THOUSANDS * BOTH}) <> 0",
                lambda r: _three_decimals_message(r[3], r[4], r[5]),
            )
        if both_sides:
            self.rows(
                item,
                "both_sides",
                "j.debit, j.credit",
                "j.debit <> 0 AND j.credit <> 0",
                lambda r: (
                    f"la línea tiene importe en el debe ({number(r[3])}) y en el haber ({number(r[4])});"
                    " cada línea debe ir a un solo lado"
                ),
            )
        if bad_type:
            self.rows(
                item,
                "bad_entry_type",
                "j.entry_type",
                "starts_with(j.entry_type, '?')",
                lambda r: (
                    f"tipo de asiento «{r[3][1:]}» no reconocido"
                    " (use N, A, R, C o normal, apertura, regularización, cierre)"
                ),
            )

    def rows(
        self,
        item: _Loaded,
        rule: str,
        columns: str,
        condition: str,
        message: Callable[[tuple], str],
        join: str = "",
    ) -> None:
        """Per-line problems of one file for one rule: (line, fiscal year, entry, *columns)."""
        file = item.source.file
        sql = (
            f"SELECT j.source_line, j.fiscal_year, j.entry, {columns} FROM journal j {join}"
            f" WHERE (j._work >> 16) = $file AND (j._work & {EMPTY}) = 0 AND ({condition}) ORDER BY j.rowid"
        )
        self.capped(
            rule,
            sql,
            {"file": item.index},
            lambda r: Problem(rule, message(r), file=file, line=r[0], entry=_label(r[1], r[2])),
            file,
        )

    def raw_rows(self, item: _Loaded, bad_date: int, bad_entry: int, bad_amount: int) -> None:
        """Rules whose message quotes the text as written: the file is read again (only when they failed)."""
        source = item.source

        def col(name: str) -> str:
            return f"c{source.columns[name]}" if name in source.columns else "NULL"

        self.con.execute(
            f"""CREATE OR REPLACE TEMP TABLE _jraw AS
                SELECT {col("date")} AS rd, {col("entry")} AS re, {col("debit")} AS rdebit, {col("credit")} AS rcredit
                FROM {csv_reader_sql(source, "_jraw_rejects")}""",
            reader_params(source),
        )
        for table in ("_jraw_rejects_errors", "_jraw_rejects_scan"):
            self.con.execute(f"DROP TABLE IF EXISTS {table}")
        join = f"JOIN _jraw r ON r.rowid = j.rowid - {item.first_rowid}"
        if bad_date:
            self.rows(item, "bad_date", "r.rd", "j.date IS NULL", lambda r: _bad_date_message(r[3]), join)
        if bad_entry:
            self.rows(item, "bad_entry", "r.re", "j.entry IS NULL", lambda r: _bad_entry_message(r[3]), join)
        if bad_amount:
            self.rows(
                item,
                "bad_amount",
                "r.rdebit, r.rcredit, j.debit IS NULL, j.credit IS NULL",
                "j.debit IS NULL OR j.credit IS NULL",
                lambda r: _bad_amount_message(r[3], r[4], r[5], r[6]),
                join,
            )
        self.con.execute("DROP TABLE _jraw")

    def decimals(self, item: _Loaded) -> None:
        """The file's decimal convention cannot be trusted: say why, with an example line."""
        if not item.decimal_fault:
            return
        name = {"file": item.index}
        first = f"FROM journal WHERE {FILE} = $file AND ({{}}) ORDER BY rowid LIMIT 1"
        if item.decimal_fault == "ambiguo":
            line, debit, credit = self.con.execute(
                "SELECT source_line, debit, credit " + first.format(f"(_work & {THOUSANDS * BOTH}) <> 0"), name
            ).fetchone()
            example = _thousands_text(debit if debit != 0 else credit)
            message = (
                f"no se puede saber si el punto de los importes es de miles o decimal (p. ej. «{example}»):"
                " exporte el diario con dos decimales (1.500,00 o 1500.00)"
            )
        else:
            comma_line = _scalar(
                self.con, "SELECT source_line " + first.format(f"(_work & {(COMMA | MULTI_DOT) * BOTH}) <> 0"), name
            )
            line, debit, credit = self.con.execute(
                "SELECT source_line, debit, credit " + first.format(f"(_work & {POINT * BOTH}) <> 0"), name
            ).fetchone()
            example = f"{debit if debit != 0 else credit:f}"
            message = (
                f"el archivo mezcla importes con coma decimal (p. ej. línea {comma_line}) y con punto decimal"
                f" (p. ej. «{example}» en la línea {line}): exporte todo el diario con el mismo formato"
            )
        self.problems.append(Problem("ambiguous_decimal", message, file=item.source.file, line=line))

    # -- on the whole journal -----------------------------------------------------------------------------------------

    def accounts(self, chart_accounts: bool) -> None:
        """bad_account per line; account_not_in_chart per account (its first line named)."""
        con = self.con
        invalid = "NOT regexp_full_match(coalesce(account, ''), '[1-9][0-9]{2,}')"
        con.execute("CREATE OR REPLACE TEMP TABLE _jaccounts AS SELECT account FROM journal GROUP BY account")
        if _scalar(con, f"SELECT count(*) FROM _jaccounts WHERE {invalid}"):
            self.capped(
                "bad_account",
                f"SELECT source_file, source_line, fiscal_year, entry, account FROM journal"
                f" WHERE {invalid} ORDER BY source_file, source_line",
                {},
                lambda r: Problem("bad_account", _bad_account_message(r[4]), r[0], r[1], _label(r[2], r[3])),
            )
        if chart_accounts:
            self.capped(
                "account_not_in_chart",
                f"""SELECT first(j.source_file ORDER BY j.source_file, j.source_line),
                           first(j.source_line ORDER BY j.source_file, j.source_line),
                           first(j.fiscal_year ORDER BY j.source_file, j.source_line),
                           first(j.entry ORDER BY j.source_file, j.source_line), j.account, count(*)
                    FROM journal j
                    WHERE j.account IN (
                        SELECT account FROM _jaccounts WHERE NOT ({invalid})
                        EXCEPT SELECT account FROM accounts)
                    GROUP BY j.account ORDER BY j.account""",
                {},
                lambda r: Problem(
                    "account_not_in_chart",
                    f"la cuenta {r[4]} no está en el plan de cuentas (plan_cuentas.csv);"
                    f" aparece en {integer(r[5])} línea{'s' if r[5] != 1 else ''}, la primera es la indicada",
                    r[0],
                    r[1],
                    _label(r[2], r[3]),
                ),
            )
        con.execute("DROP TABLE _jaccounts")

    def entries(self, with_types: bool, incomplete: bool) -> None:
        """Entry rules: several dates, unbalanced, mixed types (one aggregate, offenders only)."""
        con = self.con
        types = f", min({TYPE_CODE}) AS t0, max({TYPE_CODE}) AS t1" if with_types else ", NULL AS t0, NULL AS t1"
        complete = "bool_and(debit IS NOT NULL AND credit IS NOT NULL)" if incomplete else "true"
        con.execute(
            f"""
            CREATE OR REPLACE TEMP TABLE _jentries AS
            SELECT * FROM (
                SELECT fiscal_year, entry, min(date) AS d0, max(date) AS d1, sum(debit - credit) AS difference,
                       {complete} AS complete {types}
                FROM journal WHERE fiscal_year IS NOT NULL AND entry IS NOT NULL
                GROUP BY fiscal_year, entry
            ) WHERE d0 <> d1 OR difference <> 0{" OR t0 <> t1" if with_types else ""}
            """
        )
        rules = [
            ("entry_multiple_dates", "d0 <> d1"),
            ("unbalanced_entry", "d0 = d1 AND complete AND difference <> 0"),
        ]
        if with_types:
            rules.append(("bad_entry_type", "d0 = d1 AND t0 <> t1"))
        for rule, condition in rules:
            if _scalar(con, f"SELECT count(*) FROM _jentries WHERE {condition}"):
                self._entry_rule(rule, condition)
        con.execute("DROP TABLE _jentries")

    def _entry_rule(self, rule: str, condition: str) -> None:
        """Messages for the first offending entries, listing their lines (grouped by date for several dates)."""
        picked = f"SELECT fiscal_year, entry FROM _jentries WHERE {condition} ORDER BY ALL LIMIT {MAX_PER_RULE}"
        group = "j.fiscal_year, j.entry" + (", j.date" if rule == "entry_multiple_dates" else "")
        rows = self.con.execute(
            f"""
            SELECT {group}, sum(j.debit), sum(j.credit), count(*),
                   list(j.source_file ORDER BY j.source_file, j.source_line)[1:{MAX_LINES_LISTED}],
                   list(j.source_line ORDER BY j.source_file, j.source_line)[1:{MAX_LINES_LISTED}],
                   list(DISTINCT j.entry_type) FILTER (j.entry_type IS NOT NULL)
            FROM journal j SEMI JOIN ({picked}) p ON j.fiscal_year = p.fiscal_year AND j.entry = p.entry
            GROUP BY {group} ORDER BY {group}
            """
        ).fetchall()
        grouped: dict[tuple[int, int], list[tuple]] = {}
        for row in rows:
            grouped.setdefault((row[0], row[1]), []).append(row)
        for (year, entry), parts in grouped.items():
            label = entry_label(year, entry)
            first = parts[0]
            files, lines, count = first[-3], first[-2], first[-4]
            if rule == "entry_multiple_dates":
                dates = "; ".join(f"{date_es(p[2])} ({_lines_text(p[-3], p[-2], p[-4])})" for p in parts)
                message = (
                    f"asiento {label} con varias fechas: {dates}; un número de asiento solo puede tener una fecha"
                    " en un ejercicio (¿número de asiento repetido?)"
                )
            elif rule == "unbalanced_entry":
                debit, credit = first[2], first[3]
                message = (
                    f"asiento {label} descuadrado: debe {number(debit)} ≠ haber {number(credit)}"
                    f" (diferencia {number(abs(debit - credit))}) — {_lines_text(files, lines, count)}"
                )
            else:
                kinds = ", ".join(sorted(first[-1]))
                message = (
                    f"asiento {label} con tipos distintos en sus líneas ({kinds}) — {_lines_text(files, lines, count)}"
                )
            self.problems.append(Problem(rule, message, files[0], lines[0], label))
        self.problems += _more(rule, _scalar(self.con, f"SELECT count(*) FROM _jentries WHERE {condition}"))

    def dates(self) -> None:
        """Dates outside the declared fiscal years, or (when none are declared) after the current fiscal year."""
        company = self.company
        if company.fiscal_years:
            years = list(company.fiscal_years)
            declared = ", ".join(str(y) for y in years)
            rows = self.con.execute(
                """
                SELECT source_file, fiscal_year, count(*), min(date), max(date),
                       first(source_line ORDER BY source_line), first(entry ORDER BY source_line)
                FROM journal WHERE fiscal_year IS NOT NULL AND NOT list_contains($years, fiscal_year)
                GROUP BY source_file, fiscal_year ORDER BY source_file, fiscal_year
                """,
                {"years": years},
            ).fetchall()
            for file, year, count, first, last, line, entry in rows[:MAX_PER_RULE]:
                self.problems.append(
                    Problem(
                        "date_outside_fiscal_years",
                        f"{integer(count)} línea{'s' if count != 1 else ''} con fecha del ejercicio {year}"
                        f" ({date_es(first)} a {date_es(last)}), que no está entre los ejercicios declarados"
                        f" en empresa.json ({declared}); la primera es la indicada",
                        file,
                        line,
                        _label(year, entry),
                    )
                )
            return
        limit = company.fiscal_year_bounds(company.fiscal_year_of(date.today()))[1]
        self.capped(
            "date_outside_fiscal_years",
            "SELECT source_file, source_line, fiscal_year, entry, date FROM journal WHERE date > $limit"
            " ORDER BY source_file, source_line",
            {"limit": limit},
            lambda r: Problem(
                "date_outside_fiscal_years",
                f"fecha {date_es(r[4])} posterior al final del ejercicio en curso ({date_es(limit)})",
                r[0],
                r[1],
                _label(r[2], r[3]),
            ),
        )


def _decimal_format(bits: int) -> tuple[str, str]:
    """The file's decimal convention from the shapes of all its amounts, and a fault when it is unusable."""
    both = bits | (bits >> 4)
    comma = bool(both & (COMMA | MULTI_DOT))
    point = bool(both & POINT)
    if comma and point:
        return "mixto", "mixto"
    if comma:
        return "coma", ""
    if point:
        return "punto", ""
    if both & THOUSANDS:
        return "ambiguo", "ambiguo"
    return "entero", ""


def _date_format(bits: int, date_cells: bool) -> str:
    """The date style(s) seen in the file."""
    seen = ((DATE_SLASH, "dd/mm/aaaa"), (DATE_DASH, "dd-mm-aaaa"), (DATE_ISO, "aaaa-mm-dd"))
    styles = [label for bit, label in seen if bits & bit]
    if date_cells and styles == ["aaaa-mm-dd"]:
        return "fecha de Excel"
    if len(styles) > 1:
        return "mixto"
    return styles[0] if styles else ""


def _label(year: int | None, entry: int | None) -> str | None:
    return entry_label(year, entry) if year is not None and entry is not None else None


def _lines_text(files: list[str], lines: list[int], count: int) -> str:
    """'líneas 12, 13' (file:line when the entry spans files), with the total when some were left out."""
    if len(set(files)) == 1:
        listed = ", ".join(str(n) for n in lines)
    else:
        listed = ", ".join(f"{f}:{n}" for f, n in zip(files, lines, strict=True))
    more = f" … ({integer(count)} en total)" if count > len(lines) else ""
    return f"línea{'s' if count != 1 else ''} {listed}{more}"


def _bad_date_message(raw: str | None) -> str:
    if raw is None or not raw.strip():
        return "falta la fecha"
    return f"fecha «{raw.strip()}» no válida (se admite dd/mm/aaaa, d/m/aaaa, dd-mm-aaaa o aaaa-mm-dd)"


def _bad_entry_message(raw: str | None) -> str:
    if raw is None or not raw.strip():
        return "falta el número de asiento"
    return f"número de asiento «{raw.strip()}» no válido: debe ser un número entero"


def _bad_amount_message(raw_debit: str | None, raw_credit: str | None, bad_debit: bool, bad_credit: bool) -> str:
    parts = []
    for bad, raw, label in ((bad_debit, raw_debit, "debe"), (bad_credit, raw_credit, "haber")):
        if bad:
            text = (raw or "").strip()
            parts.append(f"importe del {label} «{text}» no válido{_amount_reason(text)}")
    return "; ".join(parts)


def _amount_reason(raw: str) -> str:
    """Why an amount was refused, when it can be told."""
    if "," in raw and len(raw) - raw.index(",") - 1 > 2:
        return ": tiene más de dos decimales"
    if "," not in raw and raw.count(".") == 1 and len(raw) - raw.index(".") - 1 > 3:
        return ": tiene más de dos decimales"
    return " (formatos admitidos: 1.234,56 · 1234,56 · 1234.56 · -12,50)"


def _three_decimals_message(debit: Decimal, credit: Decimal, shape: int) -> str:
    debit_side = bool(shape & THOUSANDS)
    value, side = (debit, "debe") if debit_side else (credit, "haber")
    return (
        f"importe del {side} «{_thousands_text(value)}» con tres decimales: el archivo usa punto decimal"
        " y los importes deben tener como mucho dos decimales"
    )


def _thousands_text(value: Decimal) -> str:
    """An integer amount written with '.' thousands, as it was read (1500 -> '1.500')."""
    return f"{int(value):,}".replace(",", ".")


def _bad_account_message(account: str | None) -> str:
    text = (account or "").strip()
    if not text:
        return "falta la cuenta"
    if not text.isdigit():
        return f"cuenta «{text}» no válida: solo puede tener dígitos"
    if len(text) < 3:
        return f"cuenta «{text}» no válida: necesita al menos 3 dígitos"
    return f"cuenta «{text}» no válida: no puede empezar por 0"


# ---------------------------------------------------------------------------------------------------------------------
# The reader.


@contextmanager
def insertion_order(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """rowid follows file order only while preserve_insertion_order is on: force it for the read."""
    previous = _scalar(con, "SELECT current_setting('preserve_insertion_order')")
    con.execute("SET preserve_insertion_order = true")
    try:
        yield
    finally:
        con.execute(f"SET preserve_insertion_order = {'true' if previous else 'false'}")


def read_journal(
    con: duckdb.DuckDBPyConnection, files: Sequence[Path], company: CompanyInfo, *, chart_accounts: bool = False
) -> JournalResult:
    """Read the journal files into table ``journal``, run every rule and, when clean, classify year-end entries."""
    problems: list[Problem] = []
    loaded: list[_Loaded] = []
    con.execute(f"CREATE OR REPLACE TABLE journal ({JOURNAL_COLUMNS}, {WORK_COLUMNS})")
    checker = _Checker(con, company)
    wanted, named = requested_profile(files[0].parent) if files else (None, [])
    problems += named
    with tempfile.TemporaryDirectory(prefix="journal-") as tmp, insertion_order(con):
        workdir = Path(tmp)
        for index, unit in enumerate(_units(files, workdir, problems)):
            item = _load_file(con, unit, index, company, workdir, problems, wanted)
            if item is not None:
                loaded.append(item)
        offset = _index_rows(con, loaded)
        summaries = _file_summaries(con, loaded, offset)
        _lines_from_index(con, loaded)
        for item in loaded:
            checker.file(item, summaries.get(item.index, (item.index, 0, 0, 0, 0, 0, 0, 0, 0)))
    con.execute(f"DELETE FROM journal WHERE (_work & {EMPTY}) <> 0")
    con.execute("ALTER TABLE journal DROP COLUMN _work")
    rows_read = sum(s[1] for s in summaries.values()) + sum(i.rejects.bad for i in loaded)
    checker.accounts(chart_accounts)
    incomplete = any(s[5] for s in summaries.values())
    checker.entries(any(i.fmt is not None and i.fmt.has_type_column for i in loaded), incomplete)
    checker.dates()
    problems += checker.problems
    classifications: list[EntryClass] = []
    if has_errors(problems):
        con.execute("UPDATE journal SET entry_type = 'normal' WHERE entry_type IS NULL OR starts_with(entry_type, '?')")
    else:
        classifications, year_end = classify_year_end(con, company)
        problems += year_end
    formats = [i.fmt for i in loaded if i.fmt is not None]
    return JournalResult(rows_read, problems, formats, classifications)
