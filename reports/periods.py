"""Report periods (fiscal year, quarter, month, year to date, free range) with Spanish labels and fiscal-year starts."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from portal.fmt import date_es

MONTHS = (
    "enero",
    "febrero",
    "marzo",
    "abril",
    "mayo",
    "junio",
    "julio",
    "agosto",
    "septiembre",
    "octubre",
    "noviembre",
    "diciembre",
)
QUARTERS = ("1.er", "2.º", "3.er", "4.º")


@dataclass(frozen=True)
class FiscalCalendar:
    """When a company's fiscal years start (day and month); a fiscal year is named by the year it starts in."""

    start_month: int = 1
    start_day: int = 1

    @classmethod
    def of(cls, manifest: dict[str, Any]) -> FiscalCalendar:
        """The calendar of a snapshot manifest (``fiscal_year_start`` is ``dd-mm``, as in ``empresa.json``)."""
        raw = str(manifest.get("fiscal_year_start") or "01-01")
        day, _, month = raw.partition("-")
        return cls(start_month=int(month), start_day=int(day))

    @property
    def calendar_year(self) -> bool:
        """True when fiscal years are calendar years."""
        return (self.start_month, self.start_day) == (1, 1)

    def start(self, fiscal_year: int) -> date:
        """First day of a fiscal year."""
        return date(fiscal_year, self.start_month, self.start_day)

    def end(self, fiscal_year: int) -> date:
        """Last day of a fiscal year."""
        return self.start(fiscal_year + 1) - timedelta(days=1)

    def year_of(self, day: date) -> int:
        """The fiscal year a date belongs to."""
        return day.year if (day.month, day.day) >= (self.start_month, self.start_day) else day.year - 1

    def year_label(self, fiscal_year: int) -> str:
        """'2025', or '2025/26' when the fiscal year straddles two calendar years."""
        return str(fiscal_year) if self.calendar_year else f"{fiscal_year}/{(fiscal_year + 1) % 100:02d}"


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later (clamped to the month's last day: 31/01 + 1 → 28/02 or 29/02)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    last = (date(year + (month == 12), month % 12 + 1, 1) - timedelta(days=1)).day
    return date(year, month, min(day.day, last))


def shift_years(day: date, years: int) -> date:
    """The same calendar day ``years`` earlier or later (29/02 → 28/02 in a common year)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


@dataclass(frozen=True)
class Period:
    """A closed date range ``start``–``end`` within one fiscal year, with its kind and Spanish label."""

    start: date
    end: date
    kind: str  # 'year', 'quarter', 'month', 'ytd' or 'range'
    label: str
    fiscal_year: int
    calendar: FiscalCalendar = field(default=FiscalCalendar(), compare=False)

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError(f"El periodo termina ({date_es(self.end)}) antes de empezar ({date_es(self.start)})")

    def prior(self) -> Period:
        """The same period one year earlier (the comparison column)."""
        cal = self.calendar
        if self.kind == "year":
            return fiscal_year(cal, self.fiscal_year - 1)
        if self.kind == "quarter":
            return quarter(cal, self.fiscal_year - 1, _months_between(cal.start(self.fiscal_year), self.start) // 3 + 1)
        if self.kind == "month":
            return month(cal, self.start.year - 1, self.start.month)
        if self.kind == "ytd":
            return year_to_date(cal, shift_years(self.end, -1))
        return date_range(cal, shift_years(self.start, -1), shift_years(self.end, -1))

    @property
    def months(self) -> int:
        """Whole months the period spans (at least 1), used to annualise flows."""
        return max(1, _months_between(self.start, self.end + timedelta(days=1)))


def _months_between(start: date, stop: date) -> int:
    months = (stop.year - start.year) * 12 + stop.month - start.month
    return months if stop.day >= start.day else months - 1


def fiscal_year_label(calendar: FiscalCalendar, fiscal_year: int) -> str:
    """'Ejercicio 2025'."""
    return f"Ejercicio {calendar.year_label(fiscal_year)}"


def month_label(year: int, month: int) -> str:
    """'Enero 2025'."""
    return f"{MONTHS[month - 1].capitalize()} {year}"


def ytd_label(calendar: FiscalCalendar, fiscal_year: int, end: date) -> str:
    """'Ejercicio 2025 hasta el 30/06/2025'."""
    return f"{fiscal_year_label(calendar, fiscal_year)} hasta el {date_es(end)}"


def range_label(start: date, end: date) -> str:
    """'Del 01/03/2025 al 15/03/2025'."""
    return f"Del {date_es(start)} al {date_es(end)}"


def fiscal_year(calendar: FiscalCalendar, year: int) -> Period:
    """A whole fiscal year."""
    return Period(calendar.start(year), calendar.end(year), "year", fiscal_year_label(calendar, year), year, calendar)


def quarter(calendar: FiscalCalendar, year: int, number: int) -> Period:
    """Quarter 1–4 of fiscal year ``year`` (quarters count from the fiscal year's start)."""
    if number not in (1, 2, 3, 4):
        raise ValueError("El trimestre debe ser 1, 2, 3 o 4")
    start = add_months(calendar.start(year), 3 * (number - 1))
    end = add_months(calendar.start(year), 3 * number) - timedelta(days=1)
    label = f"{QUARTERS[number - 1]} trimestre {calendar.year_label(year)}"
    return Period(start, end, "quarter", label, year, calendar)


def month(calendar: FiscalCalendar, year: int, month_number: int) -> Period:
    """A calendar month (``year`` is the calendar year); its fiscal year comes from the calendar."""
    start = date(year, month_number, 1)
    end = add_months(start, 1) - timedelta(days=1)
    return Period(start, end, "month", month_label(year, month_number), calendar.year_of(start), calendar)


def year_to_date(calendar: FiscalCalendar, as_of: date) -> Period:
    """From the start of the fiscal year of ``as_of`` to ``as_of``."""
    year = calendar.year_of(as_of)
    return Period(calendar.start(year), as_of, "ytd", ytd_label(calendar, year, as_of), year, calendar)


def date_range(calendar: FiscalCalendar, start: date, end: date) -> Period:
    """A free range; it must lie within one fiscal year (a P&L never straddles a closing)."""
    year = calendar.year_of(start)
    if calendar.year_of(end) != year:
        raise ValueError(
            f"El periodo del {date_es(start)} al {date_es(end)} "
            " abarca dos ejercicios; elija fechas de un mismo ejercicio"
        )
    return Period(start, end, "range", range_label(start, end), year, calendar)
