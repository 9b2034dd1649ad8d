"""Treasury of one company's snapshot: pending items with ageing, upcoming due dates, banks, 13-week forecast, pure.

Definitions used by every function (``today`` is always an argument):

- **Open item**: an efecto whose ``estado`` is pendiente, remesado, impagado or devuelto (cobrado/pagado are closed).
- **Days overdue** = ``today − fecha_vencimiento`` in days. An item is **overdue** when its due date is before
  ``today`` (days overdue ≥ 1); an item due today is not overdue yet.
- **Ageing buckets** (:data:`AGEING_BUCKETS`): «A vencer» (days overdue ≤ 0: due today or later), then the overdue
  items by days overdue: «Vencido 1–30 días», «Vencido 31–60 días», «Vencido 61–90 días», «Vencido > 90 días».
- **Upcoming** in the next N days: open items due from ``today`` to ``today + N`` (both included); the overdue ones
  are listed too (first, flagged) unless asked otherwise.
- **Bank balance**: per account, the closing balance of its latest Norma 43 or camt.053 statement (at that
  statement's last date); the company's bank balance is their sum (None without statements).
- **13-week forecast**: week k runs from ``today + 7(k−1)`` to ``today + 7k − 1``. It starts from the bank balance
  and adds the open collections and subtracts the open payments by week of due date. Overdue items are put in
  week 1 (they are expected to be settled at once), except ``impagado`` items (given up: left out of the forecast
  and reported apart as ``excluded_*``). Items due after week 13 are not in it. The estimated tax and payroll
  payments (``reports.cash_estimates``, each labelled with how it was estimated) go in their own columns by the week
  of their date; the week with the lowest closing balance is ``Forecast.lowest``.
- **Cartera check** (staff): the items open at the journal's last date (issued by then, not settled by then)
  against the pre-closing balance of the 430 accounts (receivables) and of 400 + 410 (payables, credit balance).
- **Hidden employees** (``hide``, a :class:`reports.redaction.Redaction`): every read a client page makes of the
  counterparties (:func:`open_items`, :func:`ageing`, :func:`upcoming`) or of the bank movements
  (:func:`movements`) takes the user's redaction: an item whose counterparty or NIF names a hidden employee reads
  the label with no NIF (its document, and a movement's concept, when they name one, read the label too), amounts
  unchanged, so every total and the forecast are the same.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import duckdb
import pandas as pd

from etl.store import Snapshot
from reports import statements
from reports.redaction import Redaction

ITEMS, STATEMENTS, MOVEMENTS = "treasury_items.parquet", "bank_statements.parquet", "bank_movements.parquet"
ZERO = Decimal("0.00")
KINDS = {"cobro": "Cobros", "pago": "Pagos"}
# (column, label, lowest days overdue, highest days overdue); None = unbounded.
AGEING_BUCKETS: tuple[tuple[str, str, int | None, int | None], ...] = (
    ("not_due", "A vencer", None, 0),
    ("overdue_1_30", "Vencido 1–30 días", 1, 30),
    ("overdue_31_60", "Vencido 31–60 días", 31, 60),
    ("overdue_61_90", "Vencido 61–90 días", 61, 90),
    ("overdue_over_90", "Vencido > 90 días", 91, None),
)
HORIZONS = (7, 30, 90)
FORECAST_WEEKS = 13
ESTIMATE_COLUMNS = ["date", "kind", "concept", "amount", "how"]  # reports.cash_estimates
WEEK_COLUMNS = ["week", "start", "end", "collections", "payments", "taxes", "payroll", "net", "balance"]
LEDGER_PREFIXES = {"cobro": ("430",), "pago": ("400", "410")}
LEDGER_SIGN = {"cobro": Decimal(1), "pago": Decimal(-1)}  # receivables are debit balances, payables credit
ITEM_COLUMNS = [
    "number",
    "kind",
    "counterparty",
    "nif",
    "account",
    "document",
    "issue_date",
    "due_date",
    "amount",
    "payment_method",
    "state",
    "days_overdue",
    "overdue",
    "bucket",
]


@dataclass(frozen=True)
class TreasurySummary:
    """The treasury figures of the home page."""

    bank_balance: Decimal | None
    overdue_receivables: Decimal
    overdue_count: int


@dataclass(frozen=True)
class Forecast:
    """The 13-week cash forecast: its starting balance, one row per week and what was left out."""

    start_balance: Decimal | None  # None: no bank statements (the weeks then start from 0)
    weeks: pd.DataFrame  # week, start, end, collections, payments, taxes, payroll, net, balance
    excluded_collections: Decimal  # impagado receivables left out
    excluded_payments: Decimal
    estimates: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=ESTIMATE_COLUMNS))  # by date

    @property
    def lowest(self) -> int | None:
        """The week whose closing balance is the lowest (the first one on a tie; None without weeks)."""
        if self.weeks.empty:
            return None
        return int(self.weeks.loc[self.weeks["balance"].astype(object).map(Decimal).idxmin(), "week"])


@dataclass(frozen=True)
class CarteraCheck:
    """Open items against the ledger at the journal's last date (staff check)."""

    as_of: date | None
    receivables: Decimal
    ledger_receivables: Decimal
    payables: Decimal
    ledger_payables: Decimal
    detail: pd.DataFrame  # account, name, kind, cartera, ledger, difference (one row per sub-account)

    @property
    def receivables_difference(self) -> Decimal:
        """Open receivables − 430 balance (0 when they agree)."""
        return self.receivables - self.ledger_receivables

    @property
    def payables_difference(self) -> Decimal:
        """Open payables − (400 + 410) credit balance (0 when they agree)."""
        return self.payables - self.ledger_payables


def has_treasury(snapshot: Snapshot) -> bool:
    """True when the snapshot carries the treasury tables."""
    return snapshot.has(ITEMS) and snapshot.has(STATEMENTS) and snapshot.has(MOVEMENTS)


def _query(sql: str, params: dict[str, Any]) -> pd.DataFrame:
    """Rows of a query as a DataFrame keeping DECIMAL as ``Decimal`` and DATE as ``date``."""
    with duckdb.connect() as con:
        cursor = con.execute(sql, params)
        columns = [d[0] for d in cursor.description]
        return pd.DataFrame(cursor.fetchall(), columns=columns)


def _where(frame: pd.DataFrame, flags: list[bool]) -> pd.DataFrame:
    """The rows of ``frame`` where ``flags`` hold (an empty list keeps the columns of an empty frame)."""
    return frame.loc[pd.Series(flags, index=frame.index, dtype=bool)]


def bucket_of(days_overdue: int) -> str:
    """The ageing bucket (column name of :data:`AGEING_BUCKETS`) of an item overdue by ``days_overdue`` days."""
    for column, _, low, high in AGEING_BUCKETS:
        if (low is None or days_overdue >= low) and (high is None or days_overdue <= high):
            return column
    raise ValueError(days_overdue)


# --- pending items ------------------------------------------------------------------------------------------------


def open_items(
    snapshot: Snapshot, today: date, kind: str | None = None, *, hide: Redaction | None = None
) -> pd.DataFrame:
    """The open items (of ``kind`` when given) with days overdue, overdue flag and bucket, by due date (items of
    ``hide``'s employees read its label as counterparty, with no NIF)."""
    if not snapshot.has(ITEMS):
        return pd.DataFrame(columns=ITEM_COLUMNS).astype({"overdue": bool})
    frame = _query(
        "SELECT number, kind, counterparty, nif, account, document, issue_date, due_date, amount, payment_method,"
        " state, datediff('day', due_date, $today)::INTEGER AS days_overdue FROM read_parquet($items)"
        " WHERE is_open AND ($kind IS NULL OR kind = $kind) ORDER BY due_date, kind, number",
        {"items": str(snapshot.file(ITEMS)), "today": today, "kind": kind},
    )
    if frame.empty:
        return pd.DataFrame(columns=ITEM_COLUMNS).astype({"overdue": bool})
    frame["overdue"] = [d >= 1 for d in frame["days_overdue"]]
    frame["bucket"] = [bucket_of(int(d)) for d in frame["days_overdue"]]
    return (hide or Redaction()).parties(frame[ITEM_COLUMNS], "document")


def ageing(snapshot: Snapshot, kind: str, today: date, *, hide: Redaction | None = None) -> pd.DataFrame:
    """Pending items of ``kind`` per counterparty: items, total, overdue and one column per ageing bucket.

    Sorted by total (largest first), then counterparty; amounts are ``Decimal``. Grouped by the counterparty the
    user may read (``hide``'s employees under one label row).
    """
    items = open_items(snapshot, today, kind, hide=hide)
    columns = ["counterparty", "nif", "items", "total", "overdue", *(b[0] for b in AGEING_BUCKETS)]
    rows = []
    for (name, nif), group in items.groupby(["counterparty", "nif"], sort=False):
        row: dict[str, Any] = {"counterparty": name, "nif": nif, "items": len(group)}
        for column, *_ in AGEING_BUCKETS:
            row[column] = sum(group.loc[group["bucket"] == column, "amount"], ZERO)
        row["total"] = sum(group["amount"], ZERO)
        row["overdue"] = row["total"] - row["not_due"]
        rows.append(row)
    frame = pd.DataFrame(rows, columns=columns)
    if frame.empty:
        return frame
    frame["_order"] = [-v for v in frame["total"]]
    return frame.sort_values(["_order", "counterparty"]).drop(columns="_order").reset_index(drop=True)


def ageing_totals(frame: pd.DataFrame) -> dict[str, Decimal]:
    """Σ total, overdue and each bucket of an :func:`ageing` table."""
    return {c: sum(frame[c], ZERO) for c in ("total", "overdue", *(b[0] for b in AGEING_BUCKETS))}


def upcoming(
    snapshot: Snapshot, today: date, days: int, *, with_overdue: bool = True, hide: Redaction | None = None
) -> pd.DataFrame:
    """Open items due from ``today`` to ``today + days`` (and the overdue ones first when ``with_overdue``).

    Adds ``signed``: the amount as it moves the bank (collections +, payments −). ``hide`` as in :func:`open_items`.
    """
    items = open_items(snapshot, today, hide=hide)
    last = today + timedelta(days=days)
    frame = _where(items, [(d <= last and (d >= today or with_overdue)) for d in items["due_date"]]).copy()
    frame["signed"] = [a if k == "cobro" else -a for a, k in zip(frame["amount"], frame["kind"], strict=True)]
    return frame.reset_index(drop=True)


def due_calendar(snapshot: Snapshot, today: date, days: int) -> pd.DataFrame:
    """Per due date from ``today`` to ``today + days`` with items: collections, payments, net and item count."""
    items = upcoming(snapshot, today, days, with_overdue=False)
    rows = []
    for day, group in items.groupby("due_date", sort=True):
        collections = sum(group.loc[group["kind"] == "cobro", "amount"], ZERO)
        payments = sum(group.loc[group["kind"] == "pago", "amount"], ZERO)
        rows.append(
            {
                "date": day,
                "collections": collections,
                "payments": payments,
                "net": collections - payments,
                "items": len(group),
            }
        )
    return pd.DataFrame(rows, columns=["date", "collections", "payments", "net", "items"])


# --- banks --------------------------------------------------------------------------------------------------------


def bank_accounts(snapshot: Snapshot) -> pd.DataFrame:
    """Per bank account: bank, IBAN, 572 sub-account, first date, last date and the balance at the last date."""
    columns = ["bank", "iban", "account", "first_date", "last_date", "balance"]
    if not snapshot.has(STATEMENTS):
        return pd.DataFrame(columns=columns)
    return _query(
        "SELECT any_value(bank) AS bank, iban, any_value(account) AS account, min(start_date) AS first_date,"
        " max(end_date) AS last_date, arg_max(closing_balance, end_date) AS balance"
        " FROM read_parquet($s) GROUP BY iban ORDER BY account, iban",
        {"s": str(snapshot.file(STATEMENTS))},
    )[columns]


def bank_balance(snapshot: Snapshot) -> Decimal | None:
    """Σ of every account's latest closing balance (None without statements)."""
    accounts = bank_accounts(snapshot)
    return None if accounts.empty else sum(accounts["balance"], ZERO)


def daily_balances(snapshot: Snapshot, start: date | None = None, end: date | None = None) -> pd.DataFrame:
    """End-of-day balance of every account on every day its statements cover (``start``–``end`` when given).

    A day without movements keeps the previous balance (the statement's opening balance before its first one).
    Columns: iban, account, bank, date, balance.
    """
    columns = ["iban", "account", "bank", "date", "balance"]
    if not snapshot.has(STATEMENTS):
        return pd.DataFrame(columns=columns)
    return _query(
        """WITH days AS (
               SELECT iban, account, bank, start_date, opening_balance,
                      unnest(generate_series(start_date, end_date, INTERVAL 1 DAY))::DATE AS date
               FROM read_parquet($s)),
           ends AS (
               SELECT iban, start_date, operation_date AS date, arg_max(balance, sequence) AS balance
               FROM read_parquet($m) GROUP BY ALL)
           SELECT iban, account, bank, date, coalesce(last_value(e.balance IGNORE NULLS) OVER (
                      PARTITION BY iban, start_date ORDER BY date
                      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW), opening_balance) AS balance
           FROM days LEFT JOIN ends e USING (iban, start_date, date)
           QUALIFY ($start IS NULL OR date >= $start) AND ($end IS NULL OR date <= $end)
           ORDER BY account, iban, date""",
        {"s": str(snapshot.file(STATEMENTS)), "m": str(snapshot.file(MOVEMENTS)), "start": start, "end": end},
    )[columns]


def movements(snapshot: Snapshot, iban: str, start: date, end: date, *, hide: Redaction | None = None) -> pd.DataFrame:
    """The bank movements of one account between two dates (operation date), with the running balance; a concept
    naming one of ``hide``'s employees («TRANSF NOMINA ANA ALONSO RUIZ») reads its label, amounts unchanged."""
    frame = _query(
        "SELECT operation_date, value_date, concept, common_concept, amount, balance FROM read_parquet($m)"
        " WHERE iban = $iban AND operation_date BETWEEN $start AND $end ORDER BY start_date, sequence",
        {"m": str(snapshot.file(MOVEMENTS)), "iban": iban, "start": start, "end": end},
    )
    return (hide or Redaction()).frame(frame, "concept")


# --- forecast -----------------------------------------------------------------------------------------------------


def forecast(
    snapshot: Snapshot, today: date, weeks: int = FORECAST_WEEKS, *, estimated: pd.DataFrame | None = None
) -> Forecast:
    """The cash forecast by week (see the module docstring for the rules); ``estimated`` adds the estimated tax and
    payroll payments (``reports.cash_estimates``) as their own columns, by the week of their date."""
    start_balance = bank_balance(snapshot)
    items = open_items(snapshot, today)
    excluded = items[items["state"] == "impagado"]
    counted = items[items["state"] != "impagado"]
    estimated = estimated if estimated is not None else pd.DataFrame(columns=ESTIMATE_COLUMNS)
    rows = []
    balance = start_balance if start_balance is not None else ZERO
    for week in range(1, weeks + 1):
        first = today + timedelta(days=7 * (week - 1))
        last = first + timedelta(days=6)
        chosen = _where(counted, [(d <= last and (d >= first or week == 1)) for d in counted["due_date"]])
        collections = sum(chosen.loc[chosen["kind"] == "cobro", "amount"], ZERO)
        payments = sum(chosen.loc[chosen["kind"] == "pago", "amount"], ZERO)
        due = _where(estimated, [first <= d <= last for d in estimated["date"]])
        taxes = sum(due.loc[due["kind"] == "impuestos", "amount"], ZERO)
        payroll = sum(due.loc[due["kind"] == "nominas", "amount"], ZERO)
        net = collections - payments - taxes - payroll
        balance = balance + net
        rows.append(
            {
                "week": week,
                "start": first,
                "end": last,
                "collections": collections,
                "payments": payments,
                "taxes": taxes,
                "payroll": payroll,
                "net": net,
                "balance": balance,
            }
        )
    horizon = today + timedelta(days=7 * weeks - 1)
    return Forecast(
        start_balance=start_balance,
        weeks=pd.DataFrame(rows, columns=WEEK_COLUMNS),
        excluded_collections=sum(excluded.loc[excluded["kind"] == "cobro", "amount"], ZERO),
        excluded_payments=sum(excluded.loc[excluded["kind"] == "pago", "amount"], ZERO),
        estimates=_where(estimated, [today <= d <= horizon for d in estimated["date"]]).reset_index(drop=True),
    )


# --- staff check and home page ------------------------------------------------------------------------------------


def cartera_check(snapshot: Snapshot) -> CarteraCheck:
    """Items open at the journal's last date against the 430 and the 400 + 410 balances, per sub-account too."""
    _, as_of = statements.data_range(snapshot)
    columns = ["account", "name", "kind", "cartera", "ledger", "difference"]
    if as_of is None or not snapshot.has(ITEMS):
        return CarteraCheck(as_of, ZERO, ZERO, ZERO, ZERO, pd.DataFrame(columns=columns))
    cartera = dict(
        _query(
            "SELECT account, sum(amount) FROM read_parquet($items) WHERE issue_date <= $d"
            " AND (settled_date IS NULL OR settled_date > $d) GROUP BY account",
            {"items": str(snapshot.file(ITEMS)), "d": as_of},
        ).itertuples(index=False, name=None)
    )
    totals = statements.account_totals(snapshot, None, as_of, without_cierre_on_end=True)
    ledger: dict[str, Decimal] = {}
    for account, (debit, credit) in totals.items():
        for kind, prefixes in LEDGER_PREFIXES.items():
            if account.startswith(prefixes) and debit != credit:
                ledger[account] = LEDGER_SIGN[kind] * (debit - credit)
    accounts = sorted(set(cartera) | set(ledger))
    names = statements.account_names(snapshot, accounts)
    rows = []
    for account in accounts:
        kind = "cobro" if account.startswith(LEDGER_PREFIXES["cobro"]) else "pago"
        mine, theirs = cartera.get(account, ZERO), ledger.get(account, ZERO)
        rows.append(
            {
                "account": account,
                "name": names.get(account, ""),
                "kind": kind,
                "cartera": mine,
                "ledger": theirs,
                "difference": mine - theirs,
            }
        )
    detail = pd.DataFrame(rows, columns=columns)

    def total(kind: str, column: str) -> Decimal:
        """Σ of one column over the sub-accounts of one kind."""
        return sum(detail.loc[detail["kind"] == kind, column], ZERO)

    return CarteraCheck(
        as_of=as_of,
        receivables=total("cobro", "cartera"),
        ledger_receivables=total("cobro", "ledger"),
        payables=total("pago", "cartera"),
        ledger_payables=total("pago", "ledger"),
        detail=detail,
    )


def home_summary(snapshot: Snapshot, today: date) -> TreasurySummary:
    """Bank balance, overdue receivables and their count at ``today`` (for the home page)."""
    overdue = open_items(snapshot, today, "cobro")
    overdue = overdue[overdue["overdue"]]
    return TreasurySummary(
        bank_balance=bank_balance(snapshot),
        overdue_receivables=sum(overdue["amount"], ZERO),
        overdue_count=len(overdue),
    )
