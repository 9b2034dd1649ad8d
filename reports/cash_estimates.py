"""Estimated payments for the cash forecast: the coming tax payments and payroll, each with how it was estimated, pure.

Every estimate is a row ``date, kind ('impuestos' | 'nominas'), concept, amount (> 0, money out), how``:

- **IVA (303)**: for each pending 303 deadline in the window, the VAT booked in the return's period: credits of 477
  minus debits of 472 (``etl.modules.taxes.booked_vat``: the figures the VAT check compares with boxes 27 and 45;
  settlements and year-end entries left out).
  Nothing when the result is not positive (to offset or refund).
- **Retenciones (111, 115)**: for each pending deadline, the credits of 4751 in the period (withholdings made: on
  payroll, professionals and rents together, since 4751 carries them all; one row when both fall on one day).
- **Pagos fraccionados (130, 202)**: the amount of the last return of that model filed, when it was a payment.
- A period that the journal does not cover to its end says so («registrado hasta el …»): nothing is extrapolated.
- The payment date is the deadline (a direct debit is charged that day); «domiciliado» when the company's last
  return of that model was a direct debit.
- **Nóminas (líquido)**: the monthly mean of the credits of 465 over the last three complete months of the journal,
  paid on the last day of each month in the window.
- **Seguridad Social**: the monthly mean of the credits of 476 over those months, paid on the last day of the next
  month (TGSS direct debit).
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import duckdb
import pandas as pd

from etl.modules.taxes import MONTHS, QUARTERS, booked_vat, period_dates
from etl.store import Snapshot
from portal.fmt import date_es, money
from reports import periods, tax_calendar, taxes
from reports.journal import has_entries
from reports.statements import data_range, month_end

COLUMNS = ["date", "kind", "concept", "amount", "how"]
ZERO = Decimal("0.00")
CENT = Decimal("0.01")
NOT_NORMAL = "coalesce(entry_type, 'normal') NOT IN ('apertura', 'regularizacion', 'cierre')"
SAMPLE_MONTHS = 3


def period_bounds(year: int, period: str) -> tuple[date, date] | None:
    """First and last day of a quarterly ('1T'…'4T') or monthly ('01'…'12') tax period (None for other periods)."""
    return period_dates(year, period) if period in QUARTERS + MONTHS else None


def _booked_vat(snapshot: Snapshot, year: int, period: str) -> tuple[Decimal, Decimal]:
    """(output, deductible) VAT booked in a return's period: the same figures the VAT check compares with 27 / 45."""
    with duckdb.connect() as con:
        con.read_parquet(str(snapshot.file("journal.parquet"))).create_view("journal")
        return booked_vat(con, [(year, period)]).get((year, period), (ZERO, ZERO))


def _sum(snapshot: Snapshot, column: str, prefix: str, first: date, last: date) -> Decimal:
    """Σ of debit or credit of the accounts starting with ``prefix`` between two dates (year-end entries left out)."""
    sql = (
        f"SELECT coalesce(sum({column}), 0) FROM read_parquet($path) WHERE starts_with(account, $prefix)"
        f" AND date BETWEEN $first AND $last AND {NOT_NORMAL}"
    )
    params = {"path": str(snapshot.file("journal.parquet")), "prefix": prefix, "first": first, "last": last}
    with duckdb.connect() as con:
        return Decimal(con.execute(sql, params).fetchone()[0]).quantize(CENT)


def _covered(last_date: date | None, period_end: date) -> str:
    if last_date is not None and last_date < period_end:
        return f"; registrado hasta el {date_es(last_date)}, periodo sin cerrar en el diario"
    return ""


def _last_filed(snapshot: Snapshot, model: str) -> pd.Series | None:
    filed = taxes.filings(snapshot, model=model)
    return None if filed.empty else filed.iloc[-1]


def _debit_note(snapshot: Snapshot, model: str) -> str:
    last = _last_filed(snapshot, model)
    return " (domiciliado)" if last is not None and last["result_type"] == "domiciliacion" else ""


def tax_payments(snapshot: Snapshot, today: date, end: date) -> list[dict]:
    """The estimated tax payments of the pending deadlines from ``today`` to ``end``."""
    if not snapshot.has("journal.parquet"):
        return []
    _, last_date = data_range(snapshot)
    pending = [d for d in tax_calendar.deadlines(snapshot, today, (end - today).days) if d.filed is None]
    rows: list[dict] = []
    withholdings: dict[tuple[date, int, str], list[str]] = {}
    for deadline in pending:
        bounds = period_bounds(deadline.year, deadline.period)
        if deadline.model == "303" and bounds is not None:
            output, deductible = _booked_vat(snapshot, deadline.year, deadline.period)
            if output - deductible > 0:
                how = f"IVA repercutido (477) {money(output)} − soportado (472) {money(deductible)}" + _covered(
                    last_date, bounds[1]
                )
                concept = f"{deadline.label}{_debit_note(snapshot, '303')}"
                rows.append(_row(deadline.date, "impuestos", concept, output - deductible, how))
        elif deadline.model in ("111", "115") and bounds is not None:
            withholdings.setdefault((deadline.date, deadline.year, deadline.period), []).append(deadline.model)
        elif deadline.model in ("130", "202"):
            last = _last_filed(snapshot, deadline.model)
            if last is not None and last["amount"] > 0:
                previous = tax_calendar.label(deadline.model, int(last["year"]), last["period"])
                how = f"como el último presentado ({previous})"
                concept = f"{deadline.label}{_debit_note(snapshot, deadline.model)}"
                rows.append(_row(deadline.date, "impuestos", concept, last["amount"], how))
    for (day, year, period), models in sorted(withholdings.items()):
        bounds = period_bounds(year, period)
        assert bounds is not None
        withheld = _sum(snapshot, "credit", "4751", *bounds)
        if withheld > 0:
            names = " y ".join(sorted(models))
            concept = f"Modelo{'s' if len(models) > 1 else ''} {names} · Retenciones {period} {year}"
            how = "retenciones practicadas en el periodo (abonos de 4751)" + _covered(last_date, bounds[1])
            rows.append(_row(day, "impuestos", concept, withheld, how))
    return rows


def _monthly_mean(snapshot: Snapshot, prefix: str, months: list[tuple[date, date]]) -> Decimal:
    total = sum((_sum(snapshot, "credit", prefix, first, last) for first, last in months), ZERO)
    return (total / len(months)).quantize(CENT)


def payroll_payments(snapshot: Snapshot, today: date, end: date) -> list[dict]:
    """Net pay (465) each month end and Social Security (476) the month end after, from the last three months."""
    if not snapshot.has("journal.parquet"):
        return []
    _, last_date = data_range(snapshot)
    if last_date is None:
        return []
    last_full = (
        month_end(last_date) if last_date == month_end(last_date) else last_date.replace(day=1) - timedelta(days=1)
    )
    months = []
    for back in range(SAMPLE_MONTHS):
        first = periods.add_months(last_full.replace(day=1), -back)
        months.append((first, month_end(first)))
    oldest = months[-1][0]
    span = f"{periods.month_label(oldest.year, oldest.month)} a {periods.month_label(last_full.year, last_full.month)}"
    rows = []
    net, social = _monthly_mean(snapshot, "465", months), _monthly_mean(snapshot, "476", months)
    month = today.replace(day=1)
    while (pay_day := month_end(month)) <= end:
        if pay_day >= today:
            paid_month = periods.month_label(month.year, month.month)
            if net > 0:
                how = f"media mensual de los líquidos de nómina (abonos de 465) de {span.lower()}"
                rows.append(_row(pay_day, "nominas", f"Nóminas {paid_month} (líquido)", net, how))
            if social > 0:
                before = periods.add_months(month, -1)
                how = f"media mensual de las cuotas devengadas (abonos de 476) de {span.lower()}"
                concept = f"Seguridad Social {periods.month_label(before.year, before.month)}"
                rows.append(_row(pay_day, "nominas", concept, social, how))
        month = periods.add_months(month, 1)
    return rows


def _row(day: date, kind: str, concept: str, amount: Decimal, how: str) -> dict:
    return {"date": day, "kind": kind, "concept": concept, "amount": Decimal(amount).quantize(CENT), "how": how}


def estimates(snapshot: Snapshot, today: date, end: date, *, taxes_too: bool, payroll_too: bool) -> pd.DataFrame:
    """Every estimated payment between ``today`` and ``end``, by date (the kinds the reader may see); none for a
    company loaded from trial balances, whose periods' net movements say nothing of the VAT or payroll booked."""
    if not has_entries(snapshot):
        return pd.DataFrame(columns=COLUMNS)
    rows = (tax_payments(snapshot, today, end) if taxes_too else []) + (
        payroll_payments(snapshot, today, end) if payroll_too else []
    )
    frame = pd.DataFrame(rows, columns=COLUMNS)
    return frame.sort_values(["date", "kind", "concept"], kind="stable").reset_index(drop=True)
