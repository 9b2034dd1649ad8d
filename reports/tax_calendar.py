"""The AEAT filing calendar as data, and a company's next deadlines computed from the models it files, pure.

Deadline rules (domain.md §3.1, cross-checked there against the AEAT «Calendario del contribuyente»):
- quarterly 303, 111, 115, 130: 1–20 of the month after the quarter; the fourth quarter in January: 303 and 130
  by 30 January, 111 and 115 by 20 January [verified in domain.md];
- monthly 303 (large companies, SII): the 30 days after the month, January by the end of February, December by
  30 January [domain.md: partly unverified]; monthly 111 / 115: 1–20 of the next month, December by 20 January
  [domain.md: monthly period stated, day by analogy with the quarterly rule — unverified];
- annual summaries: 390 by 30 January; 190 and 180 by 31 January (domain.md says 1–31 Jan, so 31 is kept here
  even though a shorter brief said 30) [verified in domain.md];
- 200 (corporate tax): the 25 days after the six months following the year end → 25 July for a calendar year
  (only calendar fiscal years are computed here) [verified in domain.md];
- 202 instalments: 1–20 April, October and December [verified in domain.md];
- a deadline on a Saturday, Sunday or national holiday (the ``holidays`` library, Spain without a region) moves
  to the next working day [verified in domain.md; regional holidays are not taken into account];
- direct debit (domiciliación) closes 5 calendar days before the (moved) deadline, e.g. 15 April for the 1T
  [domain.md marks this unverified; a secondary source agrees on 5 days, another says 4 — shown as orientation].
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache

import holidays

from etl.modules.taxes import MONTHS, QUARTERS, period_label
from etl.store import Snapshot
from reports import taxes


@dataclass(frozen=True)
class Rule:
    """When one period of a model is due: a day of a month of the period's year (+ ``year_offset``)."""

    month: int
    day: int | None  # None: the last day of the month
    year_offset: int = 0  # 1 when the deadline falls in the next year (4T, December, annual returns)
    direct_debit: bool = True  # False for returns without a payment (annual summaries)


DIRECT_DEBIT_DAYS = 5


def _quarterly(fourth_day: int) -> dict[str, Rule]:
    return {
        "1T": Rule(4, 20),
        "2T": Rule(7, 20),
        "3T": Rule(10, 20),
        "4T": Rule(1, fourth_day, 1),
    }


def _monthly(day: int, *, january_last_of_february: bool) -> dict[str, Rule]:
    rules = {}
    for month in range(1, 13):
        if month == 12:
            rules["12"] = Rule(1, day, 1)
        elif month == 1 and january_last_of_february:
            rules["01"] = Rule(2, None)
        else:
            rules[f"{month:02d}"] = Rule(month + 1, day)
    return rules


# model -> period -> rule (the table the calendar is computed from).
RULES: dict[str, dict[str, Rule]] = {
    "303": {**_quarterly(30), **_monthly(30, january_last_of_february=True)},
    "111": {**_quarterly(20), **_monthly(20, january_last_of_february=False)},
    "115": {**_quarterly(20), **_monthly(20, january_last_of_february=False)},
    "130": _quarterly(30),
    "202": {"1P": Rule(4, 20), "2P": Rule(10, 20), "3P": Rule(12, 20)},
    "390": {"0A": Rule(1, 30, 1, direct_debit=False)},
    "190": {"0A": Rule(1, 31, 1, direct_debit=False)},
    "180": {"0A": Rule(1, 31, 1, direct_debit=False)},
    "200": {"0A": Rule(7, 25, 1)},
}
SHORT_NAMES = {
    "303": "IVA",
    "390": "Resumen anual de IVA",
    "111": "Retenciones",
    "190": "Resumen anual de retenciones",
    "115": "Retenciones de alquileres",
    "180": "Resumen anual de alquileres",
    "130": "Pago fraccionado de IRPF",
    "200": "Impuesto sobre Sociedades",
    "202": "Pago fraccionado de Sociedades",
}
NEXT_HORIZON_DAYS = 400


@dataclass(frozen=True)
class Deadline:
    """One filing deadline of a company: last day, model, period, Spanish label and direct-debit cut-off."""

    date: date
    model: str
    period: str
    label: str  # «Modelo 303 · IVA 4T 2026»
    direct_debit_date: date | None
    year: int = 0  # the fiscal year of the return
    filed: date | None = None  # when the return was filed (None: pending)
    moved: bool = False  # the rule's day was a weekend or national holiday


@lru_cache(maxsize=64)
def national_holidays(year: int) -> frozenset[date]:
    """Spain's national holidays of a year (no regional ones)."""
    return frozenset(holidays.Spain(years=year).keys())


def is_working_day(day: date) -> bool:
    """Monday to Friday and not a national holiday."""
    return day.weekday() < 5 and day not in national_holidays(day.year)


def working_day(day: date) -> date:
    """The day itself, or the next working day when it is a Saturday, Sunday or national holiday."""
    while not is_working_day(day):
        day += timedelta(days=1)
    return day


def rule_date(model: str, year: int, period: str) -> date:
    """The deadline's day as the rule states it (before moving it off weekends and holidays)."""
    rule = RULES[model][period]
    deadline_year = year + rule.year_offset
    day = rule.day or calendar.monthrange(deadline_year, rule.month)[1]
    return date(deadline_year, rule.month, day)


def label(model: str, year: int, period: str) -> str:
    """«Modelo 303 · IVA 4T 2026»."""
    return f"Modelo {model} · {SHORT_NAMES[model]} {period_label(year, period)}"


def deadline_of(model: str, year: int, period: str, filed: date | None = None) -> Deadline:
    """The deadline of one return: moved to a working day, with its direct-debit cut-off."""
    stated = rule_date(model, year, period)
    last = working_day(stated)
    debit = last - timedelta(days=DIRECT_DEBIT_DAYS) if RULES[model][period].direct_debit else None
    return Deadline(last, model, period, label(model, year, period), debit, year, filed, last != stated)


def filed_periods(snapshot: Snapshot) -> dict[tuple[str, int, str], date]:
    """(model, year, period) -> filing date of every return in the snapshot."""
    frame = taxes.filings(snapshot)
    keys = zip(frame["model"], frame["year"], frame["period"], frame["filed"], strict=True)
    return {(m, int(y), p): f for m, y, p, f in keys}


def periods_filed(filed: dict[tuple[str, int, str], date]) -> dict[str, tuple[str, ...]]:
    """model -> the periods it is due for: quarterly or monthly as in its latest year filed, all for the others."""
    found: dict[str, tuple[str, ...]] = {}
    for model in sorted({m for m, _, _ in filed} & set(RULES)):
        latest = max(y for m, y, _ in filed if m == model)
        used = {p for m, y, p in filed if m == model and y == latest}
        if used & set(MONTHS):
            found[model] = MONTHS
        elif used & set(QUARTERS):
            found[model] = QUARTERS
        else:
            found[model] = tuple(RULES[model])
    return found


def schedule(snapshot: Snapshot, start: date, end: date) -> list[Deadline]:
    """Every deadline between ``start`` and ``end`` (both included) of the models the company files, by date;
    each carries its filing date when the return is already filed."""
    if not taxes.has_taxes(snapshot):
        return []
    filed = filed_periods(snapshot)
    found = []
    for model, periods in periods_filed(filed).items():
        for year in range(start.year - 2, end.year + 1):
            for period in periods:
                deadline = deadline_of(model, year, period, filed.get((model, year, period)))
                if start <= deadline.date <= end:
                    found.append(deadline)
    return sorted(found, key=lambda d: (d.date, d.model, d.year, d.period))


def deadlines(snapshot: Snapshot, today: date, horizon_days: int) -> list[Deadline]:
    """The company's pending deadlines from ``today`` to ``horizon_days`` later (returns already filed left out)."""
    return [d for d in schedule(snapshot, today, today + timedelta(days=horizon_days)) if d.filed is None]


def next_deadline(snapshot: Snapshot, today: date) -> Deadline | None:
    """The company's next pending deadline (within about a year), or None when it files nothing."""
    pending = deadlines(snapshot, today, NEXT_HORIZON_DAYS)
    return pending[0] if pending else None


@dataclass(frozen=True)
class Day:
    """One cell of a month grid: the day, its deadlines and whether it is a national holiday."""

    date: date
    deadlines: tuple[Deadline, ...]
    holiday: bool


def month_grid(found: list[Deadline], year: int, month: int) -> list[list[Day | None]]:
    """The weeks (Monday first) of a month; each day with the deadlines that fall on it; None outside the month."""
    by_day: dict[date, list[Deadline]] = {}
    for deadline in found:
        by_day.setdefault(deadline.date, []).append(deadline)
    weeks = []
    for week in calendar.Calendar(firstweekday=0).monthdatescalendar(year, month):
        weeks.append(
            [
                Day(d, tuple(by_day.get(d, ())), d in national_holidays(d.year)) if d.month == month else None
                for d in week
            ]
        )
    return weeks


def month_bounds(year: int, month: int) -> tuple[date, date]:
    """First and last day of a month."""
    return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])
