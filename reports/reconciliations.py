"""Cuadres: the reconciliations a client can see, each line «Cuadra» or the difference named, with its detail, pure.

Lines (``LINE_COLUMNS``), by area:

- ``iva`` — per 303 filed: box 27 (IVA devengado) against the output VAT booked in 477 in the return's period, and
  box 45 (IVA deducible) against the VAT booked in 472 (``reports.taxes.vat_vs_journal``: settlements and year-end
  entries left out). Detail: the 477 / 472 lines of the period.
- ``retenciones`` — per 111 filed: box 28 (and box 03 of the 115 of the same period, when filed) against the
  withholdings booked, the credits of 4751 in the period; and, with payroll data, box 03 (withholdings on work
  income) against the IRPF of the month's payslips. Detail: the 4751 lines of the period.
- ``bancos`` — per bank account: the bank's end-of-day balance (Norma 43 / camt.053) against the 572 sub-account's
  balance (every line to that day, before the day's cierre) on every day the statements cover. Detail: the days
  that differ.
- ``cartera`` — open receivables against 430, open payables against 400 + 410 at the journal's last date
  (``reports.treasury.cartera_check``). Detail: per sub-account.

A line «cuadra» when the difference is 0,00; ``sin_datos`` when one side is missing (a period the journal does not
cover). ``difference`` is always left − right.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import duckdb
import pandas as pd

from etl.modules.taxes import period_dates, period_label
from etl.store import Snapshot
from reports import labour, taxes, treasury
from reports.journal import has_entries
from reports.statements import data_range

LINE_COLUMNS = ["area", "key", "period", "label", "left_label", "left", "right_label", "right", "difference", "state"]
AREAS = {
    "iva": "IVA (303) y contabilidad",
    "retenciones": "Retenciones (111 y 115), contabilidad y nóminas",
    "bancos": "Bancos y contabilidad",
    "cartera": "Cobros y pagos pendientes y contabilidad",
}
ZERO = Decimal("0.00")


def _line(area, key, period, label, left_label, left, right_label, right) -> dict:
    missing = left is None or right is None
    difference = None if missing else left - right
    state = "sin_datos" if missing else "cuadra" if difference == 0 else "diferencia"
    values = (area, key, period, label, left_label, left, right_label, right, difference, state)
    return dict(zip(LINE_COLUMNS, values, strict=True))


def vat_lines(snapshot: Snapshot) -> list[dict]:
    """Box 27 ↔ 477 and box 45 ↔ 472 of every 303."""
    if not taxes.has_taxes(snapshot):
        return []
    rows = []
    for r in taxes.vat_vs_journal(snapshot).itertuples():
        period = period_label(r.year, r.period)
        key = f"{r.year}|{r.period}"
        rows.append(
            _line("iva", f"477|{key}", period, "IVA devengado", "Casilla 27", r.declared_output, "477", r.booked_output)
        )
        rows.append(
            _line("iva", f"472|{key}", period, "IVA deducible", "Casilla 45", r.declared_input, "472", r.booked_input)
        )
    return rows


def _journal_sum(snapshot: Snapshot, column: str, prefix: str, first: date, last: date) -> Decimal:
    sql = (
        f"SELECT coalesce(sum({column}), 0)::DECIMAL(18,2) FROM read_parquet($path) WHERE starts_with(account, $p)"
        " AND date BETWEEN $first AND $last AND coalesce(entry_type, 'normal') = 'normal'"
    )
    params = {"path": str(snapshot.file("journal.parquet")), "p": prefix, "first": first, "last": last}
    with duckdb.connect() as con:
        return con.execute(sql, params).fetchone()[0]


def withholding_lines(snapshot: Snapshot) -> list[dict]:
    """Per 111: 111 (+ 115) withholdings ↔ 4751 credits; 111 work income ↔ payroll IRPF."""
    if not taxes.has_taxes(snapshot):
        return []
    first_day, last_day = data_range(snapshot)
    filed = taxes.filings(snapshot)
    rent = {(int(r.year), r.period) for r in filed.itertuples() if r.model == "115"}
    payroll = labour.monthly_payroll(snapshot, frozenset()) if labour.has_labour(snapshot) else None
    rows = []
    for r in filed[filed["model"] == "111"].itertuples():
        year, period = int(r.year), r.period
        first, last = period_dates(year, period)
        label = period_label(year, period)
        boxes = dict(zip(*taxes.boxes(snapshot, "111", year, period)[["box", "amount"]].T.values, strict=True))
        declared = boxes.get("28")
        source = "Casilla 28 del 111"
        if (year, period) in rent:
            rent_boxes = dict(zip(*taxes.boxes(snapshot, "115", year, period)[["box", "amount"]].T.values, strict=True))
            declared = None if declared is None else declared + rent_boxes.get("03", ZERO)
            source += " + casilla 03 del 115"
        covered = first_day is not None and first_day <= last and first <= last_day  # as booked_vat: overlapping
        booked = _journal_sum(snapshot, "credit", "4751", first, last) if covered else None
        rows.append(
            _line("retenciones", f"4751|{year}|{period}", label, "Retenciones", source, declared, "4751", booked)
        )
        if payroll is not None and "03" in boxes:
            months = payroll[[first <= m <= last for m in payroll["month"]]] if len(payroll) else payroll
            irpf = sum(months["irpf"], ZERO) if len(months) else None
            rows.append(
                _line(
                    "retenciones",
                    f"nominas|{year}|{period}",
                    label,
                    "Retenciones del trabajo",
                    "Casilla 03 del 111",
                    boxes["03"],
                    "IRPF de las nóminas",
                    irpf,
                )
            )
    return rows


def ledger_by_day(snapshot: Snapshot, account: str, days: list[date]) -> dict[date, Decimal]:
    """The account's balance (debit − credit) at the end of each day, before that day's cierre."""
    if not days:
        return {}
    sql = """
        WITH moves AS (
            SELECT date, sum(debit - credit) AS total,
                   coalesce(sum(debit - credit) FILTER (WHERE entry_type = 'cierre'), 0) AS closing
            FROM read_parquet($path) WHERE account = $account AND date <= $last GROUP BY date
        ), days AS (SELECT unnest($days::DATE[]) AS date)
        SELECT d.date, coalesce(sum(m.total), 0)::DECIMAL(18,2),
               coalesce(sum(m.closing) FILTER (WHERE m.date = d.date), 0)::DECIMAL(18,2)
        FROM days d LEFT JOIN moves m ON m.date <= d.date GROUP BY d.date ORDER BY d.date
    """
    params = {"path": str(snapshot.file("journal.parquet")), "account": account, "last": max(days), "days": days}
    with duckdb.connect() as con:
        return {day: total - closing for day, total, closing in con.execute(sql, params).fetchall()}


def bank_days(snapshot: Snapshot) -> pd.DataFrame:
    """Every bank account and day its statements cover: the bank's balance, the ledger's and the difference."""
    daily = treasury.daily_balances(snapshot)
    columns = ["iban", "account", "bank", "date", "bank_balance", "ledger_balance", "difference"]
    if daily.empty:
        return pd.DataFrame(columns=columns)
    parts = []
    for account, days in daily.groupby("account", sort=True):
        ledger = ledger_by_day(snapshot, account, sorted(set(days["date"])))
        frame = days.rename(columns={"balance": "bank_balance"}).copy()
        frame["ledger_balance"] = [ledger[d] for d in frame["date"]]
        frame["difference"] = [b - led for b, led in zip(frame["bank_balance"], frame["ledger_balance"], strict=True)]
        parts.append(frame[columns])
    return pd.concat(parts, ignore_index=True)


def bank_lines(snapshot: Snapshot) -> list[dict]:
    """Per account: its last day's balances, and the state over every day (the first differing day named)."""
    days = bank_days(snapshot)
    rows = []
    for (account, iban), mine in days.groupby(["account", "iban"], sort=True):
        mine = mine.sort_values("date")
        differing = mine[[d != 0 for d in mine["difference"]]]
        last = mine.iloc[-1]
        chosen = differing.iloc[0] if len(differing) else last
        period = f"{len(mine)} días hasta el {last['date']:%d/%m/%Y}"
        label = f"{last['bank']} · {account}"
        if len(differing):
            label += f" · {len(differing)} días con diferencia, el primero el {chosen['date']:%d/%m/%Y}"
        rows.append(
            _line(
                "bancos",
                f"{iban}|{account}",
                period,
                label,
                "Saldo del banco",
                chosen["bank_balance"],
                f"Saldo de {account}",
                chosen["ledger_balance"],
            )
        )
    return rows


def cartera_lines(snapshot: Snapshot) -> list[dict]:
    """Open receivables ↔ 430 and open payables ↔ 400 + 410 at the journal's last date."""
    if not treasury.has_treasury(snapshot):
        return []
    check = treasury.cartera_check(snapshot)
    period = f"A {check.as_of:%d/%m/%Y}" if check.as_of else ""
    return [
        _line(
            "cartera",
            "cobro",
            period,
            "Cobros pendientes",
            "Cartera",
            check.receivables,
            "430",
            check.ledger_receivables,
        ),
        _line(
            "cartera", "pago", period, "Pagos pendientes", "Cartera", check.payables, "400 + 410", check.ledger_payables
        ),
    ]


def lines(snapshot: Snapshot) -> pd.DataFrame:
    """Every reconciliation line of the company, by area. A company loaded from trial balances (no entries) has
    only the open items against the ledger: its periods' net movements cannot stand for the VAT, withholdings or
    bank movements booked."""
    rows = cartera_lines(snapshot)
    if has_entries(snapshot):
        rows = vat_lines(snapshot) + withholding_lines(snapshot) + bank_lines(snapshot) + rows
    return pd.DataFrame(rows, columns=LINE_COLUMNS)


def detail(snapshot: Snapshot, area: str, key: str) -> pd.DataFrame:
    """What explains one line: the journal lines of the period, the differing days, or the sub-accounts."""
    if area in ("iva", "retenciones") and not key.startswith("nominas|"):
        prefix, year, period = key.split("|")
        first, last = period_dates(int(year), period)
        side = "debit - credit" if prefix == "472" else "credit - debit"
        sql = (
            f"SELECT date, entry, account, description, ({side})::DECIMAL(18,2) AS amount FROM read_parquet($path)"
            " WHERE starts_with(account, $p) AND date BETWEEN $first AND $last"
            " AND coalesce(entry_type, 'normal') = 'normal' ORDER BY date, entry, account"
        )
        params = {"path": str(snapshot.file("journal.parquet")), "p": prefix, "first": first, "last": last}
        with duckdb.connect() as con:
            cursor = con.execute(sql, params)
            return pd.DataFrame(cursor.fetchall(), columns=[d[0] for d in cursor.description])
    if area == "retenciones":
        _, year, period = key.split("|")
        first, last = period_dates(int(year), period)
        payroll = labour.monthly_payroll(snapshot, frozenset())
        return payroll[[first <= m <= last for m in payroll["month"]]][["month", "irpf"]].reset_index(drop=True)
    if area == "bancos":
        iban, account = key.split("|")
        days = bank_days(snapshot)
        mine = days[(days["iban"] == iban) & (days["account"] == account)]
        return mine[[d != 0 for d in mine["difference"]]][["date", "bank_balance", "ledger_balance", "difference"]]
    if area == "cartera":
        found = treasury.cartera_check(snapshot).detail
        mine = found[found["kind"] == key]
        return (
            mine.assign(order=[d == 0 for d in mine["difference"]])
            .sort_values(["order", "account"])
            .drop(columns="order")
        )
    raise ValueError(f"unknown reconciliation area {area!r}")
