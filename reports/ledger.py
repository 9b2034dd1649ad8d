"""Fichas de mayor (ledger cards): account search, one account's lines in a date range with carried opening
balance, running balance, totals and paging, and every line of one entry (asiento).

Opening balance of a range starting on ``start``: for balance accounts (groups 1–5) every line before ``start``
(earlier cierres and aperturas cancel out, and books that never close still carry their balance); for P&L accounts
(groups 6–7) only the lines of the same fiscal year before ``start``. With the usual year-end entries both are the
balance of that fiscal year's lines from its apertura up to the day before ``start``. A range starting on the
first day of a fiscal year carries that year's asiento de apertura (the lines of type ``apertura`` dated that day)
in its opening balance: the card opens with the balance the account holds, and the apertura is neither a line of
the card nor part of its debit and credit totals (the closing balance is the same either way).

``Ledger.rows`` columns: ``date``, ``fiscal_year``, ``entry``, ``description``, ``debit``, ``credit``,
``balance`` (running, opening included), ``entry_type``. ``find_accounts`` columns: ``account``, ``name``.
``entry_lines`` columns: ``date``, ``account``, ``name``, ``description``, ``debit``, ``credit``, ``entry_type``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import Decimal
from functools import lru_cache

import numpy as np
import pandas as pd

from etl.store import Snapshot
from portal.fmt import fold, integer
from reports.redaction import Redaction
from reports.statements import (
    ZERO,
    account_names,
    account_totals,
    calendar_of,
    connection,
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
    apertura: Decimal | None = None  # the part of ``opening`` that is the fiscal year's apertura, when carried

    @property
    def pages(self) -> int:
        """Number of pages of the range (at least 1)."""
        return max(1, -(-self.line_count // self.page_size))


def find_accounts(snapshot: Snapshot, text: str, *, limit: int = 50, hide: Redaction | None = None) -> pd.DataFrame:
    """Accounts whose code starts with ``text`` (digits) or whose name contains it (case and accents ignored).

    ``hide``: an account named after a hidden employee reads the label as its name and is found only by its code,
    never by the name (a search cannot tie a name to an account).
    """
    wanted = text.strip()
    names = account_names(snapshot)
    shown = account_names(snapshot, hide=hide) if hide else names
    if wanted.isdigit():
        found = [(acc, shown[acc]) for acc in names if acc.startswith(wanted)]
    else:
        folded = fold(wanted)
        found = [
            (acc, name) for acc, name in names.items() if folded and shown[acc] == name and folded in fold(name or "")
        ]
    return pd.DataFrame(sorted(found)[:limit], columns=["account", "name"])


@dataclass(frozen=True)
class DayIndex:
    """One account's lines per day over a date range, as exact integer cents.

    ``day`` is days since 1970-01-01, ascending; ``lines``, ``debit`` and ``credit`` are per day, and the
    ``opening_*`` arrays the part of them that is an asiento de apertura. The journal is
    sorted by account then date, so building it reads only the account's row groups of the range; snapshots never
    change, so it never goes stale. Paging through a busy account then only ever reads the few days of a page.
    """

    day: np.ndarray
    lines: np.ndarray
    debit: np.ndarray
    credit: np.ndarray
    opening_lines: np.ndarray  # the part of each day's figures that belongs to an asiento de apertura
    opening_debit: np.ndarray
    opening_credit: np.ndarray

    def moved(self, low: int, high: int) -> tuple[Decimal, Decimal]:
        """Σdebit and Σcredit of the days at positions [low, high)."""
        return _cents(self.debit[low:high].sum()), _cents(self.credit[low:high].sum())

    def without_apertura(self, day: date) -> tuple[DayIndex, Decimal | None]:
        """This index less the apertura lines dated ``day`` (a copy; the cached index is never changed), and the
        balance (debit − credit) of those lines (None when there are none)."""
        position = int(np.searchsorted(self.day, (day - EPOCH).days))
        if position == len(self.day) or self.day[position] != (day - EPOCH).days or not self.opening_lines[position]:
            return self, None
        lines, debit, credit = self.lines.copy(), self.debit.copy(), self.credit.copy()
        lines[position] -= self.opening_lines[position]
        debit[position] -= self.opening_debit[position]
        credit[position] -= self.opening_credit[position]
        balance = _cents(self.opening_debit[position] - self.opening_credit[position])
        return replace(self, lines=lines, debit=debit, credit=credit), balance


EPOCH = date(1970, 1, 1)


def _cents(value) -> Decimal:
    return Decimal(int(value)).scaleb(-2)


@lru_cache(maxsize=512)
def _day_index_cached(path: str, snapshot_id: str, account: str, start: date, end: date) -> DayIndex:
    found = (
        connection()
        .execute(
            "SELECT date_diff('day', DATE '1970-01-01', date) AS day, count(*) AS lines,"
            " (sum(debit) * 100)::BIGINT AS debit, (sum(credit) * 100)::BIGINT AS credit,"
            " count(*) FILTER (WHERE entry_type = 'apertura') AS opening_lines,"
            " coalesce((sum(debit) FILTER (WHERE entry_type = 'apertura') * 100)::BIGINT, 0) AS opening_debit,"
            " coalesce((sum(credit) FILTER (WHERE entry_type = 'apertura') * 100)::BIGINT, 0) AS opening_credit"
            " FROM read_parquet($journal) WHERE account = $account AND date BETWEEN $start AND $end"
            " GROUP BY date ORDER BY date",
            {"journal": path, "account": account, "start": start, "end": end},
        )
        .fetchnumpy()
    )
    return DayIndex(
        day=np.asarray(found["day"], dtype=np.int64),
        lines=np.asarray(found["lines"], dtype=np.int64),
        debit=np.asarray(found["debit"], dtype=np.int64),
        credit=np.asarray(found["credit"], dtype=np.int64),
        opening_lines=np.asarray(found["opening_lines"], dtype=np.int64),
        opening_debit=np.asarray(found["opening_debit"], dtype=np.int64),
        opening_credit=np.asarray(found["opening_credit"], dtype=np.int64),
    )


def day_index(snapshot: Snapshot, account: str, start: date, end: date) -> DayIndex:
    """The account's lines per day from ``start`` to ``end`` (read once per snapshot, account and range)."""
    return _day_index_cached(str(snapshot.file("journal.parquet")), snapshot.snapshot_id, account, start, end)


def opening_day(snapshot: Snapshot, start: date) -> date | None:
    """``start`` when it is the first day of a fiscal year (that year's apertura then opens the range), else None."""
    calendar = calendar_of(snapshot)
    return start if start == calendar.start(calendar.year_of(start)) else None


# The lines a card lists: all of the account's in the range but the apertura carried into the opening balance.
NOT_CARRIED = "NOT coalesce(date = $opened AND entry_type = 'apertura', false)"


def opening_balance(snapshot: Snapshot, account: str, start: date) -> Decimal:
    """Balance (debit − credit) of an account carried to the morning of ``start``, plus the fiscal year's apertura
    when ``start`` is its first day (see the module docstring)."""
    calendar = calendar_of(snapshot)
    fiscal_start = calendar.start(calendar.year_of(start))
    first = fiscal_start if account[:1] in ("6", "7", "8", "9") else None
    totals = account_totals(snapshot, first, start - timedelta(days=1), account=account)
    debit, credit = totals.get(account, (ZERO, ZERO))
    return debit - credit + (carried_apertura(snapshot, account, start) or ZERO)


def carried_apertura(snapshot: Snapshot, account: str, start: date) -> Decimal | None:
    """The balance of the account's apertura lines a range from ``start`` carries into its opening balance (None
    when ``start`` is not the first day of a fiscal year or the account has no apertura line that day)."""
    if opening_day(snapshot, start) is None:
        return None
    return day_index(snapshot, account, start, start).without_apertura(start)[1]


def ledger(
    snapshot: Snapshot,
    account: str,
    start: date,
    end: date,
    *,
    page: int = 1,
    page_size: int = 100,
    hide: Redaction | None = None,
) -> Ledger:
    """Ledger card of ``account`` from ``start`` to ``end``: page ``page`` of ``page_size`` lines, in date order.

    ``hide``: employees whose names never reach the user (the page's descriptions and the account name naming them
    are redacted).
    """
    if end < start:
        raise ValueError("La fecha final es anterior a la inicial")
    if page < 1 or not 1 <= page_size <= MAX_PAGE_SIZE:
        raise ValueError(f"Página no válida (página ≥ 1, tamaño entre 1 y {integer(MAX_PAGE_SIZE)})")
    names = account_names(snapshot, [account], hide=hide)
    # Lines per day from the account's day index (from the first of the start's month, in memory once read) give
    # the opening's loose days, the totals, where the page starts and the balance before it; then only the days
    # the page spans are read and sorted (never the whole range). Whole months before come from the monthly
    # balances, so the opening balance never reads the journal.
    month_start = start.replace(day=1)
    opened = opening_day(snapshot, start)
    index, apertura = day_index(snapshot, account, month_start, end), None
    if opened is not None:  # the year's apertura opens the card: out of its lines and totals, into the opening
        index, apertura = index.without_apertura(opened)
    low, high = int(np.searchsorted(index.day, (start - EPOCH).days)), len(index.day)
    calendar = calendar_of(snapshot)
    fiscal_start = calendar.start(calendar.year_of(start))
    carry_from = fiscal_start if account[:1] in ("6", "7", "8", "9") else None  # as in ``opening_balance``
    carried_debit, carried_credit = account_totals(
        snapshot, carry_from, month_start - timedelta(days=1), account=account
    ).get(account, (ZERO, ZERO))
    opening = carried_debit - carried_credit + (apertura or ZERO)
    from_day = 0
    if carry_from is not None and carry_from > month_start:  # a fiscal year starting after the 1st of the month
        from_day = int(np.searchsorted(index.day, (carry_from - EPOCH).days))
    loose_debit, loose_credit = index.moved(from_day, low)
    opening += loose_debit - loose_credit
    debit, credit = index.moved(low, high)
    count = int(index.lines[low:high].sum())
    offset = (page - 1) * page_size
    rows: list[list] = []
    if offset < count:
        seen = np.cumsum(index.lines[low:high])  # lines up to and including each day
        first = int(np.searchsorted(seen, offset, side="right"))  # the day holding line number ``offset``
        last = int(np.searchsorted(seen, min(offset + page_size, count), side="left"))
        before = int(seen[first - 1]) if first else 0
        balance = opening + _cents(index.debit[low : low + first].sum() - index.credit[low : low + first].sum())
        fetched = (
            connection()
            .execute(
                f"""
                SELECT date, fiscal_year, entry, description, debit, credit, entry_type,
                       sum(debit - credit) OVER (ORDER BY date, entry, source_file, source_line
                                                 ROWS UNBOUNDED PRECEDING)
                FROM read_parquet($journal)
                WHERE account = $account AND date BETWEEN $first AND $last AND {NOT_CARRIED}
                ORDER BY date, entry, source_file, source_line LIMIT $limit OFFSET $skip
                """,
                {
                    "journal": str(snapshot.file("journal.parquet")),
                    "account": account,
                    "opened": opened,
                    "first": EPOCH + timedelta(days=int(index.day[low + first])),
                    "last": EPOCH + timedelta(days=int(index.day[low + last])),
                    "limit": page_size,
                    "skip": offset - before,
                },
            )
            .fetchall()
        )
        rows = [
            [day, year, number, text, d, c, balance + moved, kind]
            for day, year, number, text, d, c, kind, moved in fetched
        ]
    table = (hide or Redaction()).frame(pd.DataFrame(rows, columns=ROW_COLUMNS))
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
        line_count=count,
        page=page,
        page_size=page_size,
        rows=table,
        apertura=apertura,
    )


def line_count(snapshot: Snapshot, account: str, start: date, end: date) -> int:
    """Number of lines of the card of an account from ``start`` to ``end`` (from its day index; an apertura carried
    into the opening balance is not a line)."""
    index = day_index(snapshot, account, start.replace(day=1), end)  # the ledger card's index: read once
    if (opened := opening_day(snapshot, start)) is not None:
        index, _ = index.without_apertura(opened)
    return int(index.lines[int(np.searchsorted(index.day, (start - EPOCH).days)) :].sum())


def whole_ledger(snapshot: Snapshot, account: str, start: date, end: date, *, hide: Redaction | None = None) -> Ledger:
    """Every line of the ledger card of ``account`` from ``start`` to ``end`` as one page (for the exports), with
    the descriptions and the account name naming ``hide``'s employees redacted."""
    if end < start:
        raise ValueError("La fecha final es anterior a la inicial")
    opening = opening_balance(snapshot, account, start)
    fetched = (
        connection()
        .execute(
            f"""
            SELECT date, fiscal_year, entry, description, debit, credit, entry_type,
                   sum(debit - credit) OVER (ORDER BY date, entry, source_file, source_line ROWS UNBOUNDED PRECEDING)
            FROM read_parquet($journal) WHERE account = $account AND date BETWEEN $start AND $end AND {NOT_CARRIED}
            ORDER BY date, entry, source_file, source_line
            """,
            {
                "journal": str(snapshot.file("journal.parquet")),
                "account": account,
                "start": start,
                "end": end,
                "opened": opening_day(snapshot, start),
            },
        )
        .fetchall()
    )
    rows = [
        [day, year, number, text, d, c, opening + moved, kind] for day, year, number, text, d, c, kind, moved in fetched
    ]
    debit = sum((row[4] for row in rows), ZERO)
    credit = sum((row[5] for row in rows), ZERO)
    return Ledger(
        snapshot_id=snapshot.snapshot_id,
        account=account,
        name=account_names(snapshot, [account], hide=hide).get(account, ""),
        start=start,
        end=end,
        opening=opening,
        total_debit=debit,
        total_credit=credit,
        closing=opening + debit - credit,
        line_count=len(rows),
        page=1,
        page_size=max(1, len(rows)),
        rows=(hide or Redaction()).frame(pd.DataFrame(rows, columns=ROW_COLUMNS)),
        apertura=carried_apertura(snapshot, account, start),
    )


def entry_lines(snapshot: Snapshot, fiscal_year: int, entry: int, *, hide: Redaction | None = None) -> pd.DataFrame:
    """Every line of one entry (asiento) in the order of the source file, with account names (descriptions and
    account names naming ``hide``'s employees redacted)."""
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
    return (hide or Redaction()).frame(pd.DataFrame(rows, columns=ENTRY_COLUMNS), "description", "name")
