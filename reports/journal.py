"""Journal queries over a published snapshot (latest entries with a text and date filter, page by page, and how
many there are) and their CSV export.

Pure functions, no Streamlit: every user value reaches DuckDB as a bound parameter (never formatted into the SQL),
and the Parquet path comes from the snapshot (a server-side path checked by ``etl.store``), also as a parameter.

``recent_entries`` columns: ``date``, ``entry``, ``account``, ``description``, ``debit``, ``credit``,
``entry_type`` (newest entries first, then entry number and file order).
"""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from decimal import Decimal

import duckdb
import pandas as pd

from etl.store import Snapshot
from etl.trial_balance_input import ACCOUNTING_SOURCE
from portal import fmt
from reports.redaction import Redaction

COLUMNS = ["date", "entry", "account", "description", "debit", "credit", "entry_type"]
CSV_HEADERS = ["Fecha", "Asiento", "Cuenta", "Concepto", "Debe", "Haber", "Tipo"]
ENTRY_TYPES = {"normal": "Normal", "apertura": "Apertura", "regularizacion": "Regularización", "cierre": "Cierre"}
MAX_LIMIT = 5000
PAGE_SIZE = 200  # the Diario's lines per page
MAX_TEXT = 200
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")  # Excel would run these text cells as formulas

_FILTERED = """
    FROM read_parquet($path)
    WHERE ($from IS NULL OR date >= $from)
      AND ($to IS NULL OR date <= $to)
      AND ($text IS NULL
           OR strip_accents(lower(coalesce(description, ''))) LIKE '%' || $text || '%' ESCAPE '\\'
           OR account LIKE $text || '%' ESCAPE '\\')
"""
_QUERY = (
    "SELECT date, entry, account, description, CAST(debit AS VARCHAR) AS debit,"
    " CAST(credit AS VARCHAR) AS credit, entry_type"
    + _FILTERED
    + "ORDER BY date DESC, entry DESC, source_file, source_line"
)
# The date of the limit-th newest line that passes the same filters: reading the date column alone is cheap, and
# every line of the page is dated on or after it, so the full query then sorts only those lines (5,000,000-line
# journal: 1.5 s → 0.5 s for the newest 200).
_CUTOFF = "SELECT date" + _FILTERED + "ORDER BY date DESC LIMIT 1 OFFSET $skip"
_COUNT = "SELECT count(*)" + _FILTERED
# With a text and hidden employees: a line found by its concept counts only when its concept may be read (one
# redaction per distinct concept, not per line); a line found by its account always counts.
_COUNT_VISIBLE = (
    "SELECT starts_with(account, $prefix) AS by_account, description, count(*)" + _FILTERED + "GROUP BY ALL"
)
CHUNK = 2048


def _like_literal(text: str) -> str:
    """The text folded like the column (lower case, no accents) with LIKE's wildcards escaped: a literal match."""
    folded = duckdb.execute("SELECT strip_accents(lower($t))", {"t": text}).fetchone()[0]
    return folded.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _filter(snapshot: Snapshot, text: str | None, date_from: date | None, date_to: date | None) -> tuple[str, dict]:
    """The search text as typed (trimmed, bounded) and the bound parameters of ``_FILTERED``."""
    wanted = (text or "").strip()[:MAX_TEXT]
    params = {
        "path": str(snapshot.file("journal")),
        "from": date_from,
        "to": date_to,
        "text": _like_literal(wanted) if wanted else None,
    }
    return wanted, params


def recent_entries(
    snapshot: Snapshot,
    *,
    limit: int = 50,
    text: str | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    hide: Redaction | None = None,
    offset: int = 0,
) -> pd.DataFrame:
    """The latest journal lines of the snapshot, optionally only those whose concept contains ``text`` (case and
    accents ignored) or whose account starts with it, between ``date_from`` and ``date_to`` (both included):
    ``limit`` of them after skipping the ``offset`` newest (a page; ``count_entries`` tells how many there are).

    ``hide``: employees whose names never reach the user; their lines read the redaction's label, and a text search
    never finds a line by a hidden name (only by its account), so a search cannot tie a name to an amount.
    """
    wanted, params = _filter(snapshot, text, date_from, date_to)
    limit = max(0, min(int(limit), MAX_LIMIT))
    offset = max(0, int(offset))
    hide = hide or Redaction()
    with duckdb.connect() as con:
        if not (hide and wanted):
            skip = offset + limit - 1  # the page's last line: every line of the page is dated on or after it
            cutoff = con.execute(_CUTOFF, {**params, "skip": skip}).fetchone() if limit else None
            if cutoff is not None:
                day = cutoff[0].date() if isinstance(cutoff[0], datetime) else cutoff[0]
                params["from"] = day if date_from is None else max(date_from, day)
            rows = con.execute(
                _QUERY + " LIMIT $limit OFFSET $offset", {**params, "limit": limit, "offset": offset}
            ).fetchall()
        else:  # filter on what the user may read: newest first, chunk by chunk, until the page is full
            cursor, prefix, rows = con.execute(_QUERY, params), wanted.casefold(), []
            while len(rows) < offset + limit and (chunk := cursor.fetchmany(CHUNK)):
                shown = hide.apply([r[3] for r in chunk])
                rows += [r for r, d in zip(chunk, shown, strict=True) if d == r[3] or r[2].startswith(prefix)]
            rows = rows[offset : offset + limit]
    frame = pd.DataFrame(rows, columns=COLUMNS)
    frame["date"] = [d.date() if hasattr(d, "date") else d for d in frame["date"]]
    for column in ("debit", "credit"):
        frame[column] = [None if v is None or pd.isna(v) else Decimal(v) for v in frame[column]]
    return hide.frame(frame)


def count_entries(
    snapshot: Snapshot,
    *,
    text: str | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    hide: Redaction | None = None,
) -> int:
    """How many lines ``recent_entries`` finds with the same filters, over all its pages (a line found only by a
    hidden employee's name is not counted, as it is never shown)."""
    wanted, params = _filter(snapshot, text, date_from, date_to)
    hide = hide or Redaction()
    with duckdb.connect() as con:
        if not (hide and wanted):
            return int(con.execute(_COUNT, params).fetchone()[0])
        groups = con.execute(_COUNT_VISIBLE, {**params, "prefix": wanted.casefold()}).fetchall()
    shown = hide.apply([description for _, description, _ in groups])
    return sum(
        n for (by_account, description, n), d in zip(groups, shown, strict=True) if by_account or d == description
    )


def has_entries(snapshot: Snapshot) -> bool:
    """False when the company's accounting was loaded from trial balances (sumas y saldos): its journal lines are
    one synthetic entry per period, so the Diario, the Mayor and every drill-down into entries have nothing to show."""
    return snapshot.manifest.get("accounting_source") != ACCOUNTING_SOURCE


def data_dates(snapshot: Snapshot) -> tuple[date | None, date | None]:
    """First and last date of the snapshot's journal, from its manifest (None when unknown)."""
    first, last = snapshot.manifest.get("first_date"), snapshot.manifest.get("last_date")
    return (date.fromisoformat(first) if first else None, date.fromisoformat(last) if last else None)


def display_rows(frame: pd.DataFrame) -> list[dict]:
    """The rows as the page shows them: Spanish dates and amounts, blank for a zero side, entry types in Spanish."""
    return [
        {
            "Fecha": fmt.date_es(row.date),
            "Asiento": str(row.entry),
            "Cuenta": row.account,
            "Concepto": row.description or "",
            "Debe": _amount(row.debit),
            "Haber": _amount(row.credit),
            "Tipo": ENTRY_TYPES.get(row.entry_type or "normal", row.entry_type or ""),
        }
        for row in frame.itertuples(index=False)
    ]


def _amount(value: Decimal | None) -> str:
    return "" if value is None or value == 0 else fmt.number(value)


def _cell(text: str) -> str:
    """A text cell Excel shows as text: a leading formula character is neutralised with an apostrophe."""
    return "'" + text if text.startswith(FORMULA_START) else text


def to_csv(frame: pd.DataFrame) -> bytes:
    """An Excel-friendly CSV (es-ES): UTF-8 with BOM, ``;`` separator, decimal comma, dd/mm/aaaa dates."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(CSV_HEADERS)
    for row in display_rows(frame):
        writer.writerow(
            [
                row["Fecha"],
                row["Asiento"],
                _cell(row["Cuenta"]),
                _cell(row["Concepto"]),
                row["Debe"].replace(".", ""),
                row["Haber"].replace(".", ""),
                row["Tipo"],
            ]
        )
    return ("\ufeff" + out.getvalue()).encode("utf-8")
