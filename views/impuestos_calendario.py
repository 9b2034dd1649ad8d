"""Calendario fiscal (client): the company's next filing deadlines and a month view, from the models it files."""

from __future__ import annotations

from datetime import date

import pandas as pd
import streamlit as st

from portal import fmt
from reports import periods
from reports import tax_calendar as calendar
from reports import taxes as reports
from views import _accounting, _tables, _ui

NO_DATA = "Todavía no hay datos de impuestos publicados de esta empresa."
HORIZON_DAYS = 120
WEEKDAYS = ("Lunes", "Martes", "Miércoles", "Jueves", "Viernes", "Sábado", "Domingo")


@st.cache_data(ttl=3600, max_entries=256, show_spinner=False)
def cached_years(store_root: str, company: str, snapshot_id: str) -> list[int]:
    """Years with returns."""
    return reports.years(_accounting._snapshot(store_root, company, snapshot_id))


@st.cache_data(ttl=3600, max_entries=256, show_spinner=False)
def cached_upcoming(store_root: str, company: str, snapshot_id: str, today: date) -> list[calendar.Deadline]:
    """The pending deadlines of the next months."""
    return calendar.deadlines(_accounting._snapshot(store_root, company, snapshot_id), today, HORIZON_DAYS)


@st.cache_data(ttl=3600, max_entries=256, show_spinner=False)
def cached_month(store_root: str, company: str, snapshot_id: str, year: int, month: int) -> list[calendar.Deadline]:
    """Every deadline of one month (filed or not)."""
    first, last = calendar.month_bounds(year, month)
    return calendar.schedule(_accounting._snapshot(store_root, company, snapshot_id), first, last)


def upcoming_rows(found: list[calendar.Deadline], today: date) -> pd.DataFrame:
    """The pending deadlines in Spanish."""
    return pd.DataFrame(
        {
            "Fecha límite": [fmt.date_es(d.date) for d in found],
            "Declaración": [d.label for d in found],
            "Domiciliación hasta": [fmt.date_es(d.direct_debit_date) for d in found],
            "Días que faltan": [fmt.integer((d.date - today).days) for d in found],
            "Nota": ["trasladado a día hábil" if d.moved else "" for d in found],
        },
        columns=["Fecha límite", "Declaración", "Domiciliación hasta", "Días que faltan", "Nota"],
    )


def export_frame(found: list[calendar.Deadline]) -> pd.DataFrame:
    """The deadlines as a flat table for CSV/Excel."""
    return pd.DataFrame(
        {
            "deadline": [d.date for d in found],
            "model": [d.model for d in found],
            "year": [d.year for d in found],
            "period": [d.period for d in found],
            "label": [d.label for d in found],
            "direct_debit_until": [d.direct_debit_date for d in found],
            "filed": [d.filed for d in found],
        },
        columns=["deadline", "model", "year", "period", "label", "direct_debit_until", "filed"],
    )


def cell_text(day: calendar.Day | None) -> str:
    """'20 · 111, 303 ✓' — the day, its models (✓ when filed), or «festivo»."""
    if day is None:
        return ""
    models = ", ".join(f"{d.model}{' ✓' if d.filed else ''}" for d in day.deadlines)
    notes = [n for n in (models, "festivo" if day.holiday else "") if n]
    return " · ".join([str(day.date.day), *notes])


def grid_rows(weeks: list[list[calendar.Day | None]]) -> pd.DataFrame:
    """The month grid: one row per week, one column per weekday."""
    return pd.DataFrame([[cell_text(d) for d in week] for week in weeks], columns=list(WEEKDAYS))


def month_detail_rows(found: list[calendar.Deadline]) -> pd.DataFrame:
    """The deadlines of the month in Spanish, with the filing date when filed."""
    return pd.DataFrame(
        {
            "Fecha límite": [fmt.date_es(d.date) for d in found],
            "Declaración": [d.label for d in found],
            "Domiciliación hasta": [fmt.date_es(d.direct_debit_date) for d in found],
            "Estado": [f"Presentada el {fmt.date_es(d.filed)}" if d.filed else "Pendiente" for d in found],
        },
        columns=["Fecha límite", "Declaración", "Domiciliación hasta", "Estado"],
    )


books = _accounting.open_books("Calendario fiscal", "impuestos", no_data=NO_DATA)
with _ui.errors_shown():
    if not reports.has_taxes(books.snapshot):
        st.info(NO_DATA)
        st.stop()
    today = date.today()
    st.caption(
        "Plazos de la AEAT de los modelos que presenta la empresa. Un plazo que acaba en sábado, domingo o festivo "
        "nacional pasa al siguiente día hábil; con domiciliación bancaria la presentación acaba unos días antes."
    )
    st.subheader("Próximos vencimientos")
    upcoming = cached_upcoming(*books.key, today)
    if upcoming:
        first = upcoming[0]
        st.metric(f"Próximo vencimiento · {first.label}", fmt.date_es(first.date))
        _accounting.show_table(upcoming_rows(upcoming, today))
        table = export_frame(upcoming)
        _accounting.downloads(
            books, "calendario-fiscal", table, {"Próximos vencimientos": table}, title="Calendario fiscal"
        )
    else:
        st.info(f"No hay vencimientos pendientes en los próximos {HORIZON_DAYS} días.")
    st.subheader("Vista mensual")
    first_year = min(cached_years(*books.key), default=today.year)
    start, current = date(min(first_year, today.year), 1, 1), today.replace(day=1)
    months = [periods.add_months(start, i) for i in range(12 * (today.year - start.year) + today.month + 12)]
    chosen = st.selectbox(
        "Mes",
        months,
        index=months.index(current),
        format_func=lambda d: periods.month_label(d.year, d.month),
        key=books.widget_key("calendario-mes"),
    )
    found = cached_month(*books.key, chosen.year, chosen.month)
    _tables.wide_only(grid_rows(calendar.month_grid(found, chosen.year, chosen.month)), hide_index=True)
    st.caption("✓ presentada · «festivo»: festivo nacional.")
    if found:
        _accounting.show_table(month_detail_rows(found))
    else:
        st.info("Ningún vencimiento este mes.")
