"""Balance sheet and P&L (PGC PYMES / abreviado) of a snapshot, with comparison, from the monthly balances.

Every figure comes from per-account sums ``debit``/``credit`` read by :func:`account_totals`: whole calendar months
from ``monthly_balances.parquet`` (a few thousand rows even for the 5,000,000-line company, held in memory as exact
integer cents once per snapshot: snapshots never change) and only the loose days at either end of a range from
``daily_balances.parquet`` (per day, account and entry type, also held in memory as integer cents), or from
``journal.parquet`` in snapshots published before that file existed. The year-end entries of domain.md §1.9 are
handled here:

- the P&L of any period leaves out the regularización entries (otherwise every closed year shows zeros);
- the balance sheet (and the trial balance) at a date leaves out the cierre entries *of that day*: the balance is
  the pre-closing one, and the year's result still sits in groups 6/7, shown in line 21700 with 129.

Tables (pandas DataFrames, money as exact ``Decimal``):

``Statement.lines``: ``line_code`` (5-digit str), ``label``, ``kind`` ('accounts', 'total', 'conditional'),
``depth``, ``parent``, ``amount``, ``prior_amount`` (None without comparison or without data), ``difference``
(amount − prior) and ``difference_ratio`` (difference / |prior|, None when prior is 0 or missing; format it with
``portal.fmt.percent``).

``monthly_pnl``: ``month_start`` (date), ``month_label``, ``line_code``, ``label``, ``amount``.

``line_accounts``: ``account``, ``name``, ``balance`` (debit − credit), ``amount`` (what it adds to the line).

``top_expenses``: ``account``, ``name``, ``amount`` (debit − credit of the period, positive for an expense),
``prior_amount`` (the same account in the comparison period; None without comparison or without data).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from etl.store import Snapshot
from portal.fmt import date_es
from reports.layouts import Layout, layout
from reports.periods import FiscalCalendar, Period, add_months, month_label
from reports.redaction import Redaction

ZERO = Decimal("0.00")
RATIO = Decimal("0.0001")
RESULT_LINE = "21700"  # VII. Resultado del ejercicio
PNL_RESULT = "49500"  # D) RESULTADO DEL EJERCICIO
TOTAL_ASSETS, TOTAL_EQUITY_LIABILITIES = "10000", "30000"
DAILY_FILE = "daily_balances.parquet"
LINE_COLUMNS = [
    "line_code",
    "label",
    "kind",
    "depth",
    "parent",
    "amount",
    "prior_amount",
    "difference",
    "difference_ratio",
]

_local = threading.local()
_database: duckdb.DuckDBPyConnection | None = None
_database_lock = threading.Lock()


def _new_cursor() -> duckdb.DuckDBPyConnection:
    """A new connection to the process's one in-memory DuckDB database (opened on first use)."""
    global _database
    with _database_lock:  # the parent connection object is not thread-safe: cursors are made under the lock
        if _database is None:
            database = duckdb.connect(config={"threads": 4})
            database.execute("SET GLOBAL parquet_metadata_cache = true")  # snapshot files never change once committed
            _database = database
        return _database.cursor()


def connection() -> duckdb.DuckDBPyConnection:
    """This thread's DuckDB connection: a cursor of the process's shared in-memory database (reads Parquet only).

    Streamlit runs every rerun in a new thread: a cursor costs well under a millisecond where a new database cost
    tens, and the cursors share one Parquet metadata cache (a journal's footer is parsed once per process).
    """
    con = getattr(_local, "con", None)
    if con is None:
        con = _new_cursor()
        _local.con = con
    return con


def calendar_of(snapshot: Snapshot) -> FiscalCalendar:
    """The fiscal calendar a snapshot declares."""
    return FiscalCalendar.of(snapshot.manifest)


def model_of(snapshot: Snapshot) -> str:
    """The PGC model of the company ('pymes' or 'abreviado')."""
    return str(snapshot.manifest.get("pgc_model") or "pymes")


def data_range(snapshot: Snapshot) -> tuple[date | None, date | None]:
    """First and last date of the snapshot's journal (None when empty)."""
    first, last = snapshot.manifest.get("first_date"), snapshot.manifest.get("last_date")
    return (date.fromisoformat(first) if first else None, date.fromisoformat(last) if last else None)


def month_index(day: date) -> int:
    return day.year * 12 + day.month - 1


def month_end(day: date) -> date:
    return add_months(day.replace(day=1), 1) - timedelta(days=1)


def _cierre_dates(snapshot: Snapshot) -> list[date]:
    return [
        date.fromisoformat(e["date"])
        for e in snapshot.manifest.get("year_end_entries", [])
        if e.get("entry_type") == "cierre"
    ]


@dataclass(frozen=True)
class MonthlyBalances:
    """``monthly_balances.parquet`` of one snapshot held in memory as exact integer cents, sorted by account.

    Snapshots are immutable, so this copy never goes stale; it is a few thousand rows even for the
    5,000,000-line company. ``starts`` are the first row of each account in ``accounts`` (for ``np.add.reduceat``).
    """

    accounts: tuple[str, ...]
    starts: np.ndarray
    fiscal_year: np.ndarray
    month: np.ndarray  # year * 12 + month - 1
    entry_type: np.ndarray  # strings
    debit: np.ndarray  # int64 cents
    credit: np.ndarray
    lines: np.ndarray  # journal lines behind each row
    index: dict[str, int] = field(repr=False, compare=False, default_factory=dict)  # account -> position

    def account_months(self, account: str) -> dict[int, tuple[int, Decimal, Decimal]]:
        """Month index -> (lines, Σdebit, Σcredit) of one account over all entry types and fiscal years."""
        position = self.index.get(account)
        if position is None:
            return {}
        low = int(self.starts[position])
        high = int(self.starts[position + 1]) if position + 1 < len(self.starts) else len(self.month)
        found: dict[int, list[int]] = {}
        for row in range(low, high):
            bucket = found.setdefault(int(self.month[row]), [0, 0, 0])
            bucket[0] += int(self.lines[row])
            bucket[1] += int(self.debit[row])
            bucket[2] += int(self.credit[row])
        return {m: (n, Decimal(d).scaleb(-2), Decimal(c).scaleb(-2)) for m, (n, d, c) in sorted(found.items())}

    def totals(self, mask: np.ndarray) -> dict[str, tuple[Decimal, Decimal]]:
        """Σdebit, Σcredit per account over the rows where ``mask`` holds (accounts with no such row left out)."""
        if not len(self.accounts):
            return {}
        debit = np.add.reduceat(np.where(mask, self.debit, 0), self.starts)
        credit = np.add.reduceat(np.where(mask, self.credit, 0), self.starts)
        rows = np.add.reduceat(mask.astype(np.int64), self.starts)
        return {
            self.accounts[i]: (Decimal(int(debit[i])).scaleb(-2), Decimal(int(credit[i])).scaleb(-2))
            for i in np.flatnonzero(rows)
        }


@lru_cache(maxsize=64)
def _monthly_cached(path: str, snapshot_id: str) -> MonthlyBalances:
    found = (
        connection()
        .execute(
            "SELECT account, fiscal_year, year * 12 + month - 1 AS m, entry_type,"
            " (debit * 100)::BIGINT AS debit, (credit * 100)::BIGINT AS credit, lines"
            " FROM read_parquet($path) ORDER BY account, fiscal_year, m",
            {"path": path},
        )
        .fetchnumpy()
    )
    accounts = np.asarray(found["account"], dtype=object)
    if len(accounts):
        change = np.flatnonzero(np.r_[True, accounts[1:] != accounts[:-1]])
    else:
        change = np.zeros(0, dtype=np.int64)
    names = tuple(str(a) for a in accounts[change])
    return MonthlyBalances(
        accounts=names,
        starts=change,
        fiscal_year=np.asarray(found["fiscal_year"], dtype=np.int64),
        month=np.asarray(found["m"], dtype=np.int64),
        entry_type=np.asarray(found["entry_type"], dtype=object),
        debit=np.asarray(found["debit"], dtype=np.int64),
        credit=np.asarray(found["credit"], dtype=np.int64),
        lines=np.asarray(found["lines"], dtype=np.int64),
        index={name: position for position, name in enumerate(names)},
    )


@dataclass(frozen=True)
class DailyBalances:
    """``daily_balances.parquet`` of one snapshot held in memory as exact integer cents, sorted by day.

    A few hundred thousand rows for the 5,000,000-line company (about 15 MB): the loose days of a range are a
    slice found by binary search, summed per account in integers. ``account`` indexes ``accounts``.
    """

    accounts: tuple[str, ...]
    day: np.ndarray  # days since 1970-01-01, ascending
    account: np.ndarray  # int32 position in ``accounts``
    fiscal_year: np.ndarray
    regularizacion: np.ndarray  # bool: entry_type = 'regularizacion'
    cierre: np.ndarray  # bool: entry_type = 'cierre'
    debit: np.ndarray  # int64 cents
    credit: np.ndarray

    def totals(
        self,
        ranges: list[tuple[date, date]],
        *,
        end: date,
        without_regularizacion: bool,
        without_cierre_on_end: bool,
        fiscal_year: int | None,
        account: str | None,
        groups: str | None,
    ) -> dict[str, tuple[Decimal, Decimal]]:
        """Per-account sums of the days in ``ranges`` with the filters of :func:`account_totals`."""
        rows = np.unique(
            np.concatenate(
                [
                    np.arange(
                        np.searchsorted(self.day, _day_number(low), side="left"),
                        np.searchsorted(self.day, _day_number(high), side="right"),
                    )
                    for low, high in ranges
                ]
                or [np.zeros(0, dtype=np.int64)]
            )
        )
        keep = np.ones(len(rows), dtype=bool)
        if without_regularizacion:
            keep &= ~self.regularizacion[rows]
        if without_cierre_on_end:
            keep &= ~(self.cierre[rows] & (self.day[rows] == _day_number(end)))
        if fiscal_year is not None:
            keep &= self.fiscal_year[rows] == fiscal_year
        if account is not None or groups is not None:
            wanted = np.array(
                [(account is None or a == account) and (groups is None or a[:1] in groups) for a in self.accounts],
                dtype=bool,
            )
            keep &= wanted[self.account[rows]]
        rows = rows[keep]
        codes = self.account[rows]
        debit = np.zeros(len(self.accounts), dtype=np.int64)
        credit = np.zeros(len(self.accounts), dtype=np.int64)
        np.add.at(debit, codes, self.debit[rows])
        np.add.at(credit, codes, self.credit[rows])
        return {
            self.accounts[i]: (Decimal(int(debit[i])).scaleb(-2), Decimal(int(credit[i])).scaleb(-2))
            for i in np.unique(codes)
        }


def _day_number(day: date) -> int:
    return day.toordinal() - _EPOCH


_EPOCH = date(1970, 1, 1).toordinal()


@lru_cache(maxsize=16)
def _daily_cached(path: str, snapshot_id: str) -> DailyBalances:
    con = connection()
    names = tuple(
        row[0]
        for row in con.execute(
            "SELECT DISTINCT account FROM read_parquet($path) ORDER BY account", {"path": path}
        ).fetchall()
    )
    found = con.execute(
        "WITH numbered AS (SELECT account, (row_number() OVER (ORDER BY account) - 1)::INTEGER AS a"
        " FROM (SELECT DISTINCT account FROM read_parquet($path)))"
        " SELECT (date - DATE '1970-01-01')::INTEGER AS day, numbered.a, fiscal_year,"
        " entry_type = 'regularizacion' AS reg, entry_type = 'cierre' AS cie,"
        " (debit * 100)::BIGINT AS debit, (credit * 100)::BIGINT AS credit"
        " FROM read_parquet($path) AS daily JOIN numbered USING (account) ORDER BY day, daily.account",
        {"path": path},
    ).fetchnumpy()
    return DailyBalances(
        accounts=names,
        day=np.asarray(found["day"], dtype=np.int32),
        account=np.asarray(found["a"], dtype=np.int32),
        fiscal_year=np.asarray(found["fiscal_year"], dtype=np.int32),
        regularizacion=np.asarray(found["reg"], dtype=bool),
        cierre=np.asarray(found["cie"], dtype=bool),
        debit=np.asarray(found["debit"], dtype=np.int64),
        credit=np.asarray(found["credit"], dtype=np.int64),
    )


def daily_balances(snapshot: Snapshot) -> DailyBalances | None:
    """The snapshot's daily balances in memory (read once per snapshot and process); None in older snapshots."""
    if not snapshot.has(DAILY_FILE):
        return None
    return _daily_cached(str(snapshot.file(DAILY_FILE)), snapshot.snapshot_id)


def monthly_balances(snapshot: Snapshot) -> MonthlyBalances:
    """The snapshot's monthly balances in memory (read once per snapshot and process)."""
    return _monthly_cached(str(snapshot.file("monthly_balances.parquet")), snapshot.snapshot_id)


def account_totals(
    snapshot: Snapshot,
    start: date | None,
    end: date,
    *,
    without_regularizacion: bool = False,
    without_cierre_on_end: bool = False,
    fiscal_year: int | None = None,
    account: str | None = None,
    groups: str | None = None,
) -> dict[str, tuple[Decimal, Decimal]]:
    """Σdebit and Σcredit per account of the lines dated ``start``–``end`` (``start`` None: from the beginning).

    ``without_regularizacion`` leaves out regularización entries (P&L); ``without_cierre_on_end`` leaves out the
    cierre entries dated ``end`` (pre-closing balance); ``fiscal_year`` keeps only that fiscal year's lines;
    ``account`` keeps one account; ``groups`` keeps accounts whose first digit is in it (e.g. '67').
    Whole months come from the monthly balances (in memory), the loose days at either end from the daily balances
    (or the journal in older snapshots).
    """
    if start is not None and start > end:
        return {}
    first_full = -(10**9) if start is None else month_index(start) + (0 if start.day == 1 else 1)
    last_full = month_index(end) - (0 if end == month_end(end) else 1)
    journal_ranges: list[tuple[date, date]] = []
    drop_cierre_in_last_month = False
    if first_full <= last_full:
        if start is not None and start.day != 1:
            journal_ranges.append((start, month_end(start)))
        if end != month_end(end):
            journal_ranges.append((end.replace(day=1), end))
        if without_cierre_on_end and end == month_end(end):
            cierres = [d for d in _cierre_dates(snapshot) if month_index(d) == last_full]
            if any(d < end for d in cierres):  # a cierre earlier in the month must stay: read that month per day
                last_full -= 1
                journal_ranges.append((end.replace(day=1), end))
            else:
                drop_cierre_in_last_month = True
    else:
        journal_ranges.append((start or date(1, 1, 1), end))
    result: dict[str, tuple[Decimal, Decimal]] = {}
    if first_full <= last_full:
        monthly = monthly_balances(snapshot)
        mask = (monthly.month >= first_full) & (monthly.month <= last_full)
        if without_regularizacion:
            mask &= monthly.entry_type != "regularizacion"
        if drop_cierre_in_last_month:
            mask &= ~((monthly.entry_type == "cierre") & (monthly.month == last_full))
        if fiscal_year is not None:
            mask &= monthly.fiscal_year == fiscal_year
        if account is not None or groups is not None:
            keep = np.array(
                [(account is None or a == account) and (groups is None or a[:1] in groups) for a in monthly.accounts],
                dtype=bool,
            )
            counts = np.diff(np.r_[monthly.starts, len(monthly.month)])
            mask &= np.repeat(keep, counts)
        result = monthly.totals(mask)
    if journal_ranges:
        loose = _journal_totals(
            snapshot,
            journal_ranges,
            end=end,
            without_regularizacion=without_regularizacion,
            without_cierre_on_end=without_cierre_on_end,
            fiscal_year=fiscal_year,
            account=account,
            groups=groups,
        )
        for acc, (debit, credit) in loose.items():
            before = result.get(acc, (ZERO, ZERO))
            result[acc] = (before[0] + debit, before[1] + credit)
    return dict(sorted(result.items()))


def _journal_totals(
    snapshot: Snapshot,
    ranges: list[tuple[date, date]],
    *,
    end: date,
    without_regularizacion: bool,
    without_cierre_on_end: bool,
    fiscal_year: int | None,
    account: str | None,
    groups: str | None,
) -> dict[str, tuple[Decimal, Decimal]]:
    """Per-account sums of the journal lines in the given date ranges (same filters as ``account_totals``).

    From the daily balances in memory when the snapshot has them (a range across all accounts would read the whole
    journal, sorted by account); snapshots published before they existed read the journal.
    """
    daily = daily_balances(snapshot)
    if daily is not None:
        return daily.totals(
            ranges,
            end=end,
            without_regularizacion=without_regularizacion,
            without_cierre_on_end=without_cierre_on_end,
            fiscal_year=fiscal_year,
            account=account,
            groups=groups,
        )
    params: dict[str, Any] = {"journal": str(snapshot.file("journal.parquet"))}
    dates = []
    for index, (low, high) in enumerate(ranges):
        dates.append(f"date BETWEEN $low{index} AND $high{index}")
        params[f"low{index}"], params[f"high{index}"] = low, high
    filters = ["(" + " OR ".join(dates) + ")"]
    if without_regularizacion:
        filters.append("entry_type <> 'regularizacion'")
    if without_cierre_on_end:
        filters.append("NOT (entry_type = 'cierre' AND date = $end)")
        params["end"] = end
    if fiscal_year is not None:
        filters.append("fiscal_year = $fiscal_year")
        params["fiscal_year"] = fiscal_year
    if account is not None:
        filters.append("account = $account")
        params["account"] = account
    if groups is not None:
        filters.append("list_contains($groups, left(account, 1))")
        params["groups"] = list(groups)
    query = (
        "SELECT account, sum(debit)::DECIMAL(38,2), sum(credit)::DECIMAL(38,2) FROM read_parquet($journal)"
        " WHERE " + " AND ".join(filters) + " GROUP BY account"
    )
    return {row[0]: (row[1], row[2]) for row in connection().execute(query, params).fetchall()}


def balances_from(totals: dict[str, tuple[Decimal, Decimal]]) -> list[tuple[str, Decimal]]:
    """(account, debit − credit) pairs of a totals table."""
    return [(acc, debit - credit) for acc, (debit, credit) in totals.items()]


def pnl_totals(snapshot: Snapshot, period: Period) -> dict[str, tuple[Decimal, Decimal]]:
    """Per-account sums of groups 6 and 7 in a period, without the regularización."""
    return account_totals(snapshot, period.start, period.end, without_regularizacion=True, groups="67")


def balance_totals(snapshot: Snapshot, as_of: date) -> dict[str, tuple[Decimal, Decimal]]:
    """Per-account sums of every line up to ``as_of``, before the cierre of that day."""
    return account_totals(snapshot, None, as_of, without_cierre_on_end=True)


@dataclass(frozen=True)
class Statement:
    """A balance sheet or P&L: its lines (see the module docstring for the columns) and what was computed."""

    kind: str  # 'balance' or 'pyg'
    model: str
    title: str
    snapshot_id: str
    label: str  # 'Ejercicio 2025', 'A 30/06/2025'…
    start: date | None  # P&L: first day; balance: None
    end: date  # P&L: last day; balance: the date
    prior_label: str | None
    prior_start: date | None
    prior_end: date | None
    lines: pd.DataFrame
    unmapped: tuple[str, ...] = ()  # accounts with a balance and no line (a layout gap: shown to staff)
    check: Decimal | None = None  # balance: TOTAL ACTIVO − TOTAL PN Y PASIVO (must be 0)
    prior_check: Decimal | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def _value(self, line_code: str, column: str) -> Any:
        """One cell of a line (a list lookup: a pandas mask over the string column costs six times as much)."""
        return self.lines[column].iat[self.lines["line_code"].tolist().index(line_code)]

    def amount(self, line_code: str) -> Decimal:
        """The amount of one line."""
        return self._value(line_code, "amount")

    def prior(self, line_code: str) -> Decimal | None:
        """The comparison amount of one line (None without comparison)."""
        value = self._value(line_code, "prior_amount")
        return None if value is None or pd.isna(value) else value

    @property
    def balanced(self) -> bool:
        """Balance sheet: assets equal equity plus liabilities (also for the comparison column)."""
        return self.check == 0 and (self.prior_check is None or self.prior_check == 0)


def ratio(numerator: Decimal | None, denominator: Decimal | None) -> Decimal | None:
    """numerator / denominator to 4 decimals; None when either is missing or the denominator is 0."""
    if numerator is None or denominator is None or denominator == 0:
        return None
    return (numerator / denominator).quantize(RATIO, rounding=ROUND_HALF_UP)


def _lines_table(found: Layout, amounts: dict[str, Decimal], prior: dict[str, Decimal] | None) -> pd.DataFrame:
    rows = []
    for line in found.lines:
        amount = amounts[line.code]
        before = None if prior is None else prior[line.code]
        difference = None if before is None else amount - before
        change = None if before is None else ratio(difference, abs(before))
        rows.append([line.code, line.label, line.kind, line.depth, line.parent, amount, before, difference, change])
    return pd.DataFrame(rows, columns=LINE_COLUMNS).astype({"depth": "int64"})


def _has_data(snapshot: Snapshot, end: date) -> bool:
    first, _ = data_range(snapshot)
    return first is not None and first <= end


def profit_and_loss(snapshot: Snapshot, period: Period, *, compare: bool = True) -> Statement:
    """Cuenta de pérdidas y ganancias of a period (regularización left out), with the same period a year before."""
    found = layout("pyg", model_of(snapshot))
    amounts, unmapped = found.evaluate(balances_from(pnl_totals(snapshot, period)))
    prior_period = period.prior() if compare else None
    prior = None
    if prior_period is not None and _has_data(snapshot, prior_period.end):
        prior, more = found.evaluate(balances_from(pnl_totals(snapshot, prior_period)))
        unmapped = sorted(set(unmapped) | set(more))
    return Statement(
        kind="pyg",
        model=found.model,
        title=found.title,
        snapshot_id=snapshot.snapshot_id,
        label=period.label,
        start=period.start,
        end=period.end,
        prior_label=prior_period.label if prior_period else None,
        prior_start=prior_period.start if prior_period else None,
        prior_end=prior_period.end if prior_period else None,
        lines=_lines_table(found, amounts, prior),
        unmapped=tuple(unmapped),
        extra={"period": period, "prior_period": prior_period},
    )


def prior_year_end(snapshot: Snapshot, as_of: date) -> date:
    """The last day of the fiscal year before the one ``as_of`` belongs to."""
    calendar = calendar_of(snapshot)
    return calendar.end(calendar.year_of(as_of) - 1)


def balance_sheet(snapshot: Snapshot, as_of: date, *, compare: bool = True) -> Statement:
    """Balance de situación at a date (before that day's cierre), with the prior fiscal year-end beside it.

    ``check`` = TOTAL ACTIVO − TOTAL PATRIMONIO NETO Y PASIVO is always computed; anything but 0 is an error to
    show to staff (never hidden).
    """
    found = layout("balance", model_of(snapshot))
    amounts, unmapped = found.evaluate(balances_from(balance_totals(snapshot, as_of)))
    prior_end = prior_year_end(snapshot, as_of) if compare else None
    prior = None
    if prior_end is not None and _has_data(snapshot, prior_end):
        prior, more = found.evaluate(balances_from(balance_totals(snapshot, prior_end)))
        unmapped = sorted(set(unmapped) | set(more))
    return Statement(
        kind="balance",
        model=found.model,
        title=found.title,
        snapshot_id=snapshot.snapshot_id,
        label=f"A {date_es(as_of)}",
        start=None,
        end=as_of,
        prior_label=f"A {date_es(prior_end)}" if prior is not None and prior_end else None,
        prior_start=None,
        prior_end=prior_end if prior is not None else None,
        lines=_lines_table(found, amounts, prior),
        unmapped=tuple(unmapped),
        check=amounts[TOTAL_ASSETS] - amounts[TOTAL_EQUITY_LIABILITIES],
        prior_check=None if prior is None else prior[TOTAL_ASSETS] - prior[TOTAL_EQUITY_LIABILITIES],
    )


def monthly_pnl(snapshot: Snapshot, fiscal_year: int) -> pd.DataFrame:
    """Every P&L line month by month over one fiscal year (regularización left out); long format.

    Columns: ``month_start`` (first day of the calendar month), ``month_label`` ('Enero 2025'), ``line_code``,
    ``label``, ``amount``. Read from the monthly balances only (their rows carry the fiscal year, so a fiscal
    year starting mid-month splits correctly).
    """
    found = layout("pyg", model_of(snapshot))
    calendar = calendar_of(snapshot)
    rows = (
        connection()
        .execute(
            "SELECT year, month, account, sum(debit)::DECIMAL(38,2), sum(credit)::DECIMAL(38,2)"
            " FROM read_parquet($monthly) WHERE fiscal_year = $fy AND entry_type <> 'regularizacion'"
            " AND left(account, 1) IN ('6', '7') GROUP BY ALL ORDER BY year, month",
            {"monthly": str(snapshot.file("monthly_balances.parquet")), "fy": fiscal_year},
        )
        .fetchall()
    )
    by_month: dict[tuple[int, int], list[tuple[str, Decimal]]] = {}
    first = calendar.start(fiscal_year)
    months = [
        (add_months(first.replace(day=1), i).year, add_months(first.replace(day=1), i).month)
        for i in range(12 + (first.day != 1))
    ]
    for month in months:
        by_month[month] = []
    for year, month, account, debit, credit in rows:
        by_month.setdefault((year, month), []).append((account, debit - credit))
    out = []
    for (year, month), balances in sorted(by_month.items()):
        amounts, _ = found.evaluate(balances)
        for line in found.lines:
            out.append([date(year, month, 1), month_label(year, month), line.code, line.label, amounts[line.code]])
    return pd.DataFrame(out, columns=["month_start", "month_label", "line_code", "label", "amount"])


@lru_cache(maxsize=64)
def _names_cached(path: str, snapshot_id: str) -> dict[str, str]:
    rows = connection().execute("SELECT account, name FROM read_parquet($path)", {"path": path}).fetchall()
    return {account: name or "" for account, name in rows}


@lru_cache(maxsize=64)
def _shown_names_cached(path: str, snapshot_id: str, hide: Redaction) -> dict[str, str]:
    return hide.names(_names_cached(path, snapshot_id))


def account_names(
    snapshot: Snapshot, accounts: Iterable[str] | None = None, *, hide: Redaction | None = None
) -> dict[str, str]:
    """Names from the snapshot's chart (``accounts.parquet``, read once per snapshot); all when ``accounts`` is None.

    ``hide``: employees whose names never reach the user; an account whose name names one of them (a sub-account per
    employee, «4650001 Remuneraciones pendientes Ana Alonso Ruiz») reads the redaction's label as its whole name.
    """
    path = str(snapshot.file("accounts.parquet"))
    names = _shown_names_cached(path, snapshot.snapshot_id, hide) if hide else _names_cached(path, snapshot.snapshot_id)
    if accounts is None:
        return dict(names)
    return {account: names[account] for account in set(accounts) if account in names}


def line_accounts(
    snapshot: Snapshot,
    kind: str,
    line_code: str,
    *,
    period: Period | None = None,
    as_of: date | None = None,
    hide: Redaction | None = None,
) -> pd.DataFrame:
    """Drill-down: the accounts that make up one statement line (P&L: ``period``; balance: ``as_of``).

    Columns: ``account``, ``name``, ``balance`` (debit − credit), ``amount`` (its contribution to the line; a
    two-sided account appears only on the side its balance lands on). Names as :func:`account_names` with ``hide``.
    """
    found = layout(kind, model_of(snapshot))
    if kind == "pyg":
        if period is None:
            raise ValueError("Falta el periodo de la cuenta de pérdidas y ganancias")
        totals = pnl_totals(snapshot, period)
    else:
        if as_of is None:
            raise ValueError("Falta la fecha del balance")
        totals = balance_totals(snapshot, as_of)
    rows = []
    for account, balance in balances_from(totals):
        for code, amount in found.contributions(account, balance):
            if code == line_code and amount != 0:
                rows.append([account, balance, amount])
    names = account_names(snapshot, [r[0] for r in rows], hide=hide)
    table = pd.DataFrame(
        [[acc, names.get(acc, ""), bal, amt] for acc, bal, amt in rows],
        columns=["account", "name", "balance", "amount"],
    )
    return table


def top_expenses(
    snapshot: Snapshot, period: Period, *, limit: int = 10, compare: bool = True, hide: Redaction | None = None
) -> pd.DataFrame:
    """The ``limit`` group-6 accounts with the biggest expense (debit − credit > 0) in a period, biggest first.

    Regularización left out, as in the P&L. ``prior_amount`` is the same account over the comparison period (the
    same period a year before; 0 when the account did not move then), None without comparison or data before it.
    Ties are broken by account code. Names as :func:`account_names` with ``hide``.
    """
    now = {acc: debit - credit for acc, (debit, credit) in pnl_totals(snapshot, period).items() if acc[:1] == "6"}
    chosen = sorted(((acc, amount) for acc, amount in now.items() if amount > 0), key=lambda item: (-item[1], item[0]))
    chosen = chosen[: max(0, limit)]
    prior_period = period.prior() if compare else None
    before: dict[str, Decimal] | None = None
    if prior_period is not None and _has_data(snapshot, prior_period.end):
        before = {acc: debit - credit for acc, (debit, credit) in pnl_totals(snapshot, prior_period).items()}
    names = account_names(snapshot, [acc for acc, _ in chosen], hide=hide)
    rows = [
        [acc, names.get(acc, ""), amount, None if before is None else before.get(acc, ZERO)] for acc, amount in chosen
    ]
    return pd.DataFrame(rows, columns=["account", "name", "amount", "prior_amount"])
