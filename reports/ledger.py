"""Fichas de mayor (ledger cards): account search, one account's lines in a date range with carried opening
balance, running balance, totals and paging, and every line of one entry (asiento).

Opening balance of a range starting on ``start``: for balance accounts (groups 1–5) every line before ``start``
(earlier cierres and aperturas cancel out, and books that never close still carry their balance); for P&L accounts
(groups 6–7) only the lines of the same fiscal year before ``start``. With the usual year-end entries both are the
balance of that fiscal year's lines from its apertura up to the day before ``start``.

``Ledger.rows`` columns: ``date``, ``fiscal_year``, ``entry``, ``description``, ``debit``, ``credit``,
``balance`` (running, opening included), ``entry_type``. ``find_accounts`` columns: ``account``, ``name``.
``entry_lines`` columns: ``date``, ``account``, ``name``, ``description``, ``debit``, ``credit``, ``entry_type``.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

import pandas as pd

from etl.store import Snapshot
from reports.statements import (
    ZERO,
    account_names,
    account_totals,
    calendar_of,
    connection,
    month_end,
    month_index,
    monthly_balances,
)

ROW_COLUMNS = ["date", "fiscal_year", "entry", "description", "debit", "credit", "balance", "entry_type"]
ENTRY_COLUMNS = ["date", "account", "name", "description", "debit", "credit", "entry_type"]
MAX_PAGE_SIZE = 1000


@dataclass(frozen=True)
class Ledger:
    """One page of an account's ledger card and the figures of the whole range."""

    snapshot_id: str
    account: str
    name: str
    start: date
    end: date
    opening: Decimal  # balance (debit − credit) carried from before ``start``
    total_debit: Decimal  # over the whole range, not just this page
    total_credit: Decimal
    closing: Decimal  # opening + total_debit − total_credit
    line_count: int
    page: int  # 1-based
    page_size: int
    rows: pd.DataFrame

    @property
    def pages(self) -> int:
        """Number of pages of the range (at least 1)."""
        return max(1, -(-self.line_count // self.page_size))


def _fold(text: str) -> str:
    """Lower case without accents, for searching names ('Bancos' matches 'bancos', 'Depósitos' 'depositos')."""
    return "".join(c for c in unicodedata.normalize("NFKD", text.casefold()) if not unicodedata.combining(c))


def find_accounts(snapshot: Snapshot, text: str, *, limit: int = 50) -> pd.DataFrame:
    """Accounts whose code starts with ``text`` (digits) or whose name contains it (case and accents ignored)."""
    wanted = text.strip()
    names = account_names(snapshot)
    if wanted.isdigit():
        found = [(acc, name) for acc, name in names.items() if acc.startswith(wanted)]
    else:
        folded = _fold(wanted)
        found = [(acc, name) for acc, name in names.items() if folded and folded in _fold(name or "")]
    return pd.DataFrame(sorted(found)[:limit], columns=["account", "name"])


def opening_balance(snapshot: Snapshot, account: str, start: date) -> Decimal:
    """Balance (debit − credit) of an account carried to the morning of ``start`` (see the module docstring)."""
    calendar = calendar_of(snapshot)
    fiscal_start = calendar.start(calendar.year_of(start))
    first = fiscal_start if account[:1] in ("6", "7", "8", "9") else None
    totals = account_totals(snapshot, first, start - timedelta(days=1), account=account)
    debit, credit = totals.get(account, (ZERO, ZERO))
    return debit - credit


def ledger(snapshot: Snapshot, account: str, start: date, end: date, *, page: int = 1, page_size: int = 100) -> Ledger:
    """Ledger card of ``account`` from ``start`` to ``end``: page ``page`` of ``page_size`` lines, in date order."""
    if end < start:
        raise ValueError("La fecha final es anterior a la inicial")
    if page < 1 or not 1 <= page_size <= MAX_PAGE_SIZE:
        raise ValueError(f"Página no válida (página ≥ 1, tamaño entre 1 y {MAX_PAGE_SIZE})")
    names = account_names(snapshot, [account])
    opening = opening_balance(snapshot, account, start)
    con = connection()
    params = {"journal": str(snapshot.file("journal.parquet")), "account": account, "start": start, "end": end}
    # Lines per stretch first — whole months from the in-memory monthly balances, the loose days at either end
    # from the journal — to find where the page starts and the balance before it; then only the stretches the
    # page spans are read and sorted (never the whole range of a busy account).
    per_day = _stretches(snapshot, account, start, end)
    count = sum(n for _, _, n, _, _ in per_day)
    debit = sum((d for _, _, _, d, _ in per_day), ZERO)
    credit = sum((c for _, _, _, _, c in per_day), ZERO)
    offset = (page - 1) * page_size
    balance, seen, first_day, last_day, skip = opening, 0, None, None, 0
    for low, high, lines, day_debit, day_credit in per_day:
        if first_day is None and seen + lines <= offset:
            balance += day_debit - day_credit
            seen += lines
            continue
        if first_day is None:
            first_day, skip = low, offset - seen
        last_day = high
        seen += lines
        if seen >= offset + page_size:
            break
    rows: list[list] = []
    if first_day is not None:
        fetched = con.execute(
            """
            SELECT date, fiscal_year, entry, description, debit, credit, entry_type,
                   sum(debit - credit) OVER (ORDER BY date, entry, source_file, source_line ROWS UNBOUNDED PRECEDING)
            FROM read_parquet($journal) WHERE account = $account AND date BETWEEN $first AND $last
            ORDER BY date, entry, source_file, source_line LIMIT $limit OFFSET $skip
            """,
            {
                "journal": params["journal"],
                "account": account,
                "first": first_day,
                "last": last_day,
                "limit": page_size,
                "skip": skip,
            },
        ).fetchall()
        rows = [
            [day, year, number, text, d, c, balance + moved, kind]
            for day, year, number, text, d, c, kind, moved in fetched
        ]
    table = pd.DataFrame(rows, columns=ROW_COLUMNS)
    return Ledger(
        snapshot_id=snapshot.snapshot_id,
        account=account,
        name=names.get(account, ""),
        start=start,
        end=end,
        opening=opening,
        total_debit=debit,
        total_credit=credit,
        closing=opening + debit - credit,
        line_count=int(count),
        page=page,
        page_size=page_size,
        rows=table,
    )


def _stretches(snapshot: Snapshot, account: str, start: date, end: date) -> list[tuple]:
    """(first day, last day, lines, Σdebit, Σcredit) of consecutive stretches covering ``start``–``end``, in order.

    Whole calendar months come from the monthly balances in memory; a partial month at either end is one stretch
    summed from the journal (one query for both ends).
    """
    first_full = month_index(start) + (0 if start.day == 1 else 1)
    last_full = month_index(end) - (0 if end == month_end(end) else 1)
    edges: list[tuple[date, date]] = []
    if first_full > last_full:
        edges.append((start, end))
    else:
        if start.day != 1:
            edges.append((start, month_end(start)))
        if end != month_end(end):
            edges.append((end.replace(day=1), end))
    found: list[tuple] = []
    if edges:
        params: dict = {"journal": str(snapshot.file("journal.parquet")), "account": account}
        cases, ranges = [], []
        for index, (low, high) in enumerate(edges):
            params[f"low{index}"], params[f"high{index}"] = low, high
            ranges.append(f"date BETWEEN $low{index} AND $high{index}")
            cases.append(f"WHEN date BETWEEN $low{index} AND $high{index} THEN {index}")
        rows = (
            connection()
            .execute(
                f"SELECT CASE {' '.join(cases)} END AS stretch, count(*), sum(debit)::DECIMAL(38,2),"
                " sum(credit)::DECIMAL(38,2) FROM read_parquet($journal)"
                f" WHERE account = $account AND ({' OR '.join(ranges)}) GROUP BY stretch",
                params,
            )
            .fetchall()
        )
        for stretch, lines, debit, credit in rows:
            low, high = edges[stretch]
            found.append((low, high, int(lines), debit, credit))
    if first_full <= last_full:
        for month, (lines, debit, credit) in monthly_balances(snapshot).account_months(account).items():
            if first_full <= month <= last_full and lines:
                low = date(month // 12, month % 12 + 1, 1)
                found.append((low, month_end(low), lines, debit, credit))
    return sorted(found, key=lambda item: item[0])


def entry_lines(snapshot: Snapshot, fiscal_year: int, entry: int) -> pd.DataFrame:
    """Every line of one entry (asiento) in the order of the source file, with account names."""
    rows = (
        connection()
        .execute(
            "SELECT j.date, j.account, coalesce(a.name, ''), j.description, j.debit, j.credit, j.entry_type"
            " FROM read_parquet($journal) j LEFT JOIN read_parquet($accounts) a USING (account)"
            " WHERE j.fiscal_year = $fy AND j.entry = $entry ORDER BY j.source_file, j.source_line",
            {
                "journal": str(snapshot.file("journal.parquet")),
                "accounts": str(snapshot.file("accounts.parquet")),
                "fy": fiscal_year,
                "entry": entry,
            },
        )
        .fetchall()
    )
    return pd.DataFrame(rows, columns=ENTRY_COLUMNS)
