"""The firm's invoices to one company (list with computed state, totals, fees by month, PDFs), pure."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import duckdb
import pandas as pd

from etl.store import Snapshot

INVOICES, LINES, PDFS = "invoices.parquet", "invoice_lines.parquet", "invoice_pdfs.parquet"
FACTURAE = "invoice_facturae.parquet"  # only in snapshots with invoices read from Facturae XML
STATES = {"paid": "Pagada", "pending": "Pendiente", "overdue": "Vencida"}  # computed, never read from the files
MONEY = ("base", "vat", "withholding", "total")
CENT = Decimal("0.01")
ZERO = Decimal("0.00")


@dataclass(frozen=True)
class InvoiceTotals:
    """Sums of a list of invoices."""

    count: int
    base: Decimal
    vat: Decimal
    withholding: Decimal
    total: Decimal


@dataclass(frozen=True)
class InvoiceSummary:
    """The home card: unpaid invoices (overdue ones included) and how many of them are overdue."""

    pending_count: int
    pending_amount: Decimal
    overdue_count: int


def has_invoices(snapshot: Snapshot) -> bool:
    """True when the snapshot carries the firm's invoices."""
    return snapshot.has(INVOICES)


def invoice_state(due_date: date, paid_date: date | None, today: date) -> str:
    """'paid' when collected, else 'pending' while the due date is today or later, else 'overdue'."""
    if paid_date is not None:
        return "paid"
    return "pending" if due_date >= today else "overdue"


def _money(frame: pd.DataFrame, columns: tuple[str, ...]) -> pd.DataFrame:
    for column in columns:
        frame[column] = [Decimal(v).quantize(CENT) for v in frame[column]]
    return frame


def _dates(frame: pd.DataFrame, columns: tuple[str, ...]) -> pd.DataFrame:
    for column in columns:
        frame[column] = [None if pd.isna(v) else pd.Timestamp(v).date() for v in frame[column]]
    return frame


def years(snapshot: Snapshot) -> list[int]:
    """Years with invoices, newest first."""
    if not has_invoices(snapshot):
        return []
    with duckdb.connect() as con:
        rows = con.execute(
            "SELECT DISTINCT year(issue_date) AS y FROM read_parquet(?) ORDER BY y DESC", [str(snapshot.file(INVOICES))]
        ).fetchall()
    return [int(y) for (y,) in rows]


def invoices(snapshot: Snapshot, today: date, *, year: int | None = None, state: str | None = None) -> pd.DataFrame:
    """The invoices (newest first) with their state on ``today``; optionally of one year and one state."""
    if state is not None and state not in STATES:
        raise ValueError(f"unknown invoice state {state!r}")
    columns = [
        "number",
        "issue_date",
        "concept",
        "base",
        "vat_rate",
        "vat",
        "withholding_rate",
        "withholding",
        "total",
        "due_date",
        "payment_method",
        "paid_date",
        "has_pdf",
        "source",
        "state",
    ]
    if not has_invoices(snapshot):
        return pd.DataFrame(columns=columns)
    with duckdb.connect() as con:
        frame = con.execute(
            "SELECT * EXCLUDE (source_line) FROM read_parquet(?) WHERE (? IS NULL OR year(issue_date) = ?)"
            " ORDER BY issue_date DESC, number DESC",
            [str(snapshot.file(INVOICES)), year, year],
        ).df()
    if "source" not in frame:  # snapshots published before Facturae was read
        frame["source"] = "csv"
    frame = _dates(_money(frame, MONEY), ("issue_date", "due_date", "paid_date"))
    frame["vat_rate"] = [Decimal(v).quantize(CENT) for v in frame["vat_rate"]]
    frame["withholding_rate"] = [Decimal(v).quantize(CENT) for v in frame["withholding_rate"]]
    frame["state"] = [invoice_state(d, p, today) for d, p in zip(frame["due_date"], frame["paid_date"], strict=True)]
    if state is not None:
        frame = frame[frame["state"] == state].reset_index(drop=True)
    return frame[columns]


def totals(frame: pd.DataFrame) -> InvoiceTotals:
    """Count and sums of base, VAT, withholding and total of a list from ``invoices``."""
    sums = {c: sum(frame[c], ZERO) for c in MONEY}
    return InvoiceTotals(len(frame), sums["base"], sums["vat"], sums["withholding"], sums["total"])


def fees_by_month(frame: pd.DataFrame) -> pd.DataFrame:
    """Fees (tax base) and totals per month of issue, from the first month to the last of ``frame``, gaps as zero."""
    if frame.empty:
        return pd.DataFrame(columns=["month", "invoices", "base", "total"])
    firsts = [d.replace(day=1) for d in frame["issue_date"]]
    start, end = min(firsts), max(firsts)
    rows, current = [], start
    while current <= end:
        mine = frame[[f == current for f in firsts]]
        rows.append(
            {
                "month": current,
                "invoices": len(mine),
                "base": sum(mine["base"], ZERO),
                "total": sum(mine["total"], ZERO),
            }
        )
        current = date(current.year + current.month // 12, current.month % 12 + 1, 1)
    return pd.DataFrame(rows, columns=["month", "invoices", "base", "total"])


def lines(snapshot: Snapshot, number: str) -> pd.DataFrame:
    """The concept lines of one invoice, in order."""
    with duckdb.connect() as con:
        frame = con.execute(
            "SELECT line, description, quantity, price, amount FROM read_parquet(?) WHERE number = ? ORDER BY line",
            [str(snapshot.file(LINES)), number],
        ).df()
    frame["quantity"] = [Decimal(v).normalize() for v in frame["quantity"]]
    return _money(frame, ("price", "amount"))


def pdf(snapshot: Snapshot, number: str) -> tuple[str, bytes] | None:
    """(file name, bytes) of an invoice's PDF; None when the firm sent none."""
    if not snapshot.has(PDFS):
        return None
    with duckdb.connect() as con:
        row = con.execute(
            "SELECT file_name, content FROM read_parquet(?) WHERE number = ?", [str(snapshot.file(PDFS)), number]
        ).fetchone()
    return None if row is None else (str(row[0]), bytes(row[1]))


def facturae_xml(snapshot: Snapshot, number: str) -> tuple[str, bytes] | None:
    """(file name, bytes) of the Facturae XML an invoice was read from; None when it came only from the CSV."""
    if not snapshot.has(FACTURAE):
        return None
    with duckdb.connect() as con:
        row = con.execute(
            "SELECT file_name, content FROM read_parquet(?) WHERE number = ?", [str(snapshot.file(FACTURAE)), number]
        ).fetchone()
    return None if row is None else (str(row[0]), bytes(row[1]))


def home_summary(snapshot: Snapshot, today: date) -> InvoiceSummary:
    """Unpaid invoices on ``today`` (count and amount to pay, overdue included) and the overdue count."""
    frame = invoices(snapshot, today)
    unpaid = frame[frame["state"] != "paid"]
    overdue = int((unpaid["state"] == "overdue").sum())
    return InvoiceSummary(len(unpaid), sum(unpaid["total"], ZERO), overdue)
