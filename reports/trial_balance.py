"""Balance de sumas y saldos (trial balance) at a date, at 3-digit, 4-digit or full account level.

The sums cover the fiscal year of the date up to that date (its apertura included, the cierre of that very day
left out, as in domain.md §1.9). A balance carried from earlier years without apertura entries (books that never
close) is folded in as a debit (debit balance) or credit (credit balance), so that ``balance = debit − credit`` is
always the account's balance at the date and the debit and credit totals always agree.

``TrialBalance.rows`` columns: ``account`` (the code at the chosen level), ``name``, ``debit``, ``credit``,
``balance`` (debit − credit), all money as ``Decimal``.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from functools import cache
from pathlib import Path

import pandas as pd

from etl.store import Snapshot
from reports.redaction import Redaction
from reports.statements import ZERO, account_names, account_totals, calendar_of

LEVELS = ("3", "4", "full")
COLUMNS = ["account", "name", "debit", "credit", "balance"]
PGC_CHART = Path(__file__).resolve().parents[1] / "etl" / "pgc_accounts.csv"


@dataclass(frozen=True)
class TrialBalance:
    """A trial balance and its totals (``total_debit`` always equals ``total_credit`` for a balanced journal)."""

    snapshot_id: str
    as_of: date
    level: str
    fiscal_year: int
    rows: pd.DataFrame
    total_debit: Decimal
    total_credit: Decimal

    @property
    def total_balance(self) -> Decimal:
        """Σ balances (0 when the books are balanced)."""
        return self.total_debit - self.total_credit


@cache
def pgc_names() -> dict[str, str]:
    """Names of the standard PGC groups, sub-groups and accounts (for 3- and 4-digit levels)."""
    with PGC_CHART.open(encoding="utf-8", newline="") as fh:
        return {row["code"]: row["name"] for row in csv.DictReader(fh)}


def trial_balance(
    snapshot: Snapshot, as_of: date, *, level: str = "full", hide: Redaction | None = None
) -> TrialBalance:
    """Sumas y saldos at ``as_of``; ``level`` '3', '4' or 'full' (the accounts as posted).

    ``hide``: employees whose names never reach the user; an account named after one of them reads the label as its
    name (its code and figures unchanged, so the totals are the same).
    """
    level = str(level)
    if level not in LEVELS:
        raise ValueError("El nivel debe ser 3, 4 o full")
    calendar = calendar_of(snapshot)
    fiscal_year = calendar.year_of(as_of)
    start = calendar.start(fiscal_year)
    year = account_totals(snapshot, start, as_of, without_cierre_on_end=True)
    carried = account_totals(snapshot, None, start - timedelta(days=1))
    sums: dict[str, list[Decimal]] = {}
    for account, (debit, credit) in year.items():
        sums[account] = [debit, credit]
    for account, (debit, credit) in carried.items():
        balance = debit - credit
        if balance != 0:
            pair = sums.setdefault(account, [ZERO, ZERO])
            pair[0 if balance > 0 else 1] += abs(balance)
    grouped: dict[str, list[Decimal]] = {}
    for account, (debit, credit) in sums.items():
        key = account if level == "full" else account[: int(level)]
        pair = grouped.setdefault(key, [ZERO, ZERO])
        pair[0] += debit
        pair[1] += credit
    names = account_names(snapshot, grouped, hide=hide) if level == "full" else {}
    standard = pgc_names()
    rows = [
        [key, names.get(key) or standard.get(key, ""), debit, credit, debit - credit]
        for key, (debit, credit) in sorted(grouped.items())
    ]
    table = pd.DataFrame(rows, columns=COLUMNS)
    total_debit = sum((r[2] for r in rows), ZERO)
    total_credit = sum((r[3] for r in rows), ZERO)
    return TrialBalance(snapshot.snapshot_id, as_of, level, fiscal_year, table, total_debit, total_credit)
