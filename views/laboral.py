"""Laboral (client): only the labour tables the firm shares with the user, one tab each, audited views and exports."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from auth import labour_blocks
from auth.access import LABOUR_TABLES
from portal import audit, fmt
from reports import export, periods
from reports import labour as reports
from views import _accounting, _ui

NO_DATA = "Todavía no hay datos laborales publicados de esta empresa."
KIND_LABELS = {"indefinido": "Indefinidos", "temporal": "Temporales"}
MOVE_LABELS = {"alta": "Alta", "baja": "Baja"}


# --- cached reads: store, company, snapshot id and the blocked NIFs are all hashed arguments ---------------------


def _snap(store_root: str, company: str, snapshot_id: str):
    return _accounting._snapshot(store_root, company, snapshot_id)


@st.cache_data(ttl=3600, max_entries=256, show_spinner=False)
def cached_years(store_root: str, company: str, snapshot_id: str, blocked: frozenset[str]) -> list[int]:
    """Years with payslips, newest first."""
    return reports.payroll_years(_snap(store_root, company, snapshot_id), blocked)


@st.cache_data(ttl=3600, max_entries=256, show_spinner=False)
def cached_table(
    store_root: str, company: str, snapshot_id: str, blocked: frozenset[str], table: str, year: int, today: date
) -> dict[str, pd.DataFrame]:
    """The report frames of one labour table for a year (``today`` bounds the running year)."""
    snapshot = _snap(store_root, company, snapshot_id)
    start, end = date(year, 1, 1), min(date(year, 12, 31), today)  # the running year stops today
    if table == "resumen_nominas":
        return {"main": reports.monthly_payroll(snapshot, blocked, year)}
    if table == "coste_empleado":
        return {"main": reports.employer_cost(snapshot, blocked, year)}
    if table == "plantilla_media":
        return {"main": reports.average_headcount(snapshot, blocked, start=start, end=end)}
    if table == "altas_bajas":
        return {
            "main": reports.monthly_moves(snapshot, blocked, start=start, end=end),
            "detail": reports.moves(snapshot, blocked, start=start, end=end),
        }
    if table == "fin_contratos":
        return {"main": reports.contracts_ending(snapshot, blocked, today=today, days=90)}
    return {
        "main": reports.absence(snapshot, blocked, start=start, end=end, today=today),
        "detail": reports.leave_list(snapshot, blocked, today=today, start=start, end=end),  # the chosen year
    }


# --- Spanish tables -----------------------------------------------------------------------------------------------


def month_text(first: date) -> str:
    """'Enero 2025' for a month's first day."""
    return periods.month_label(first.year, first.month)


def payroll_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """The monthly payroll summary in Spanish."""
    return pd.DataFrame(
        {
            "Mes": [periods.month_label(y, m) for y, m in zip(frame["year"], frame["month"], strict=True)],
            "Nóminas": [fmt.integer(v) for v in frame["payslips"]],
            "Bruto": [fmt.money(v) for v in frame["gross"]],
            "SS trabajador": [fmt.money(v) for v in frame["ss_worker"]],
            "IRPF": [fmt.money(v) for v in frame["irpf"]],
            "Otras deducciones": [fmt.money(v) for v in frame["other_deductions"]],
            "Líquido": [fmt.money(v) for v in frame["net"]],
            "SS empresa": [fmt.money(v) for v in frame["ss_employer"]],
            "Coste empresa": [fmt.money(v) for v in frame["employer_cost"]],
        }
    )


def cost_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """Employer cost per employee and month in Spanish."""
    return pd.DataFrame(
        {
            "Mes": [periods.month_label(y, m) for y, m in zip(frame["year"], frame["month"], strict=True)],
            "NIF": frame["nif"].tolist(),
            "Empleado": frame["name"].tolist(),
            "Días": [fmt.integer(v) for v in frame["days"]],
            "Bruto": [fmt.money(v) for v in frame["gross"]],
            "SS empresa": [fmt.money(v) for v in frame["ss_employer"]],
            "Coste empresa": [fmt.money(v) for v in frame["employer_cost"]],
        }
    )


def headcount_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """Average headcount per month in Spanish (persons by contract kind and full-time equivalent)."""
    return pd.DataFrame(
        {
            "Mes": [month_text(m) for m in frame["month"]],
            "Indefinidos": [fmt.number(v) for v in frame["indefinido"]],
            "Temporales": [fmt.number(v) for v in frame["temporal"]],
            "Total": [fmt.number(v) for v in frame["total"]],
            "Jornada completa equivalente": [fmt.number(v) for v in frame["fte_total"]],
        }
    )


def moves_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """Hires, leavers and month-end headcount in Spanish."""
    return pd.DataFrame(
        {
            "Mes": [month_text(m) for m in frame["month"]],
            "Altas": [fmt.integer(v) for v in frame["hires"]],
            "Bajas": [fmt.integer(v) for v in frame["leavers"]],
            "Plantilla a fin de mes": [fmt.integer(v) for v in frame["headcount_at_end"]],
        }
    )


def move_detail_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """Each hire and leave in Spanish."""
    return pd.DataFrame(
        {
            "Fecha": [fmt.date_es(d) for d in frame["date"]],
            "Movimiento": [MOVE_LABELS[k] for k in frame["kind"]],
            "NIF": frame["nif"].tolist(),
            "Empleado": frame["name"].tolist(),
            "Contrato": [
                f"{c} {d}".strip() for c, d in zip(frame["contract_code"], frame["contract_description"], strict=True)
            ],
            "Motivo de la baja": frame["reason"].tolist(),
        },
        columns=["Fecha", "Movimiento", "NIF", "Empleado", "Contrato", "Motivo de la baja"],
    )


def ending_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """Contracts ending soon in Spanish."""
    return pd.DataFrame(
        {
            "Fin previsto": [fmt.date_es(d) for d in frame["contract_end"]],
            "Plazo": [f"≤ {w} días" for w in frame["window"]],
            "Días que faltan": [fmt.integer(v) for v in frame["days_left"]],
            "NIF": frame["nif"].tolist(),
            "Empleado": frame["name"].tolist(),
            "Contrato": [
                f"{c} {d}".strip() for c, d in zip(frame["contract_code"], frame["contract_description"], strict=True)
            ],
            "Alta": [fmt.date_es(d) for d in frame["start_date"]],
        },
        columns=["Fin previsto", "Plazo", "Días que faltan", "NIF", "Empleado", "Contrato", "Alta"],
    )


def absence_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """Sick-leave days, contract days and absence rate per month in Spanish."""
    return pd.DataFrame(
        {
            "Mes": [month_text(m) for m in frame["month"]],
            "Días de baja": [fmt.integer(v) for v in frame["leave_days"]],
            "Días de contrato": [fmt.integer(v) for v in frame["contract_days"]],
            "Tasa de absentismo": [fmt.percent(v, 2) for v in frame["rate"]],
        }
    )


def leave_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """Each sick-leave period in Spanish."""
    return pd.DataFrame(
        {
            "NIF": frame["nif"].tolist(),
            "Empleado": frame["name"].tolist(),
            "Contingencia": frame["contingency"].tolist(),
            "Baja": [fmt.date_es(d) for d in frame["start_date"]],
            "Alta": ["abierta" if o else fmt.date_es(d) for d, o in zip(frame["end_date"], frame["open"], strict=True)],
            "Días": [fmt.integer(v) for v in frame["days"]],
        },
        columns=["NIF", "Empleado", "Contingencia", "Baja", "Alta", "Días"],
    )


# --- charts (floats only here) ------------------------------------------------------------------------------------


def _figure(traces: list, title: str, percent: bool = False) -> go.Figure:
    figure = go.Figure(traces)
    figure.update_layout(title=title, height=320, margin=dict(l=10, r=10, t=40, b=10), separators=",.")
    if percent:
        figure.update_yaxes(tickformat=".1%")
    return figure


def chart_of(table: str, frames: dict[str, pd.DataFrame]) -> go.Figure | None:
    """The evolution chart of a table (None for tables that are lists)."""
    main = frames["main"]
    if main.empty or table in ("coste_empleado", "fin_contratos"):
        return None
    if table == "resumen_nominas":
        x = [periods.month_label(y, m) for y, m in zip(main["year"], main["month"], strict=True)]
        return _figure(
            [
                go.Bar(name="Bruto", x=x, y=[float(v) for v in main["gross"]]),
                go.Bar(name="SS empresa", x=x, y=[float(v) for v in main["ss_employer"]]),
            ],
            "Coste de empresa por mes (€)",
        ).update_layout(barmode="stack")
    x = [month_text(m) for m in main["month"]]
    if table == "plantilla_media":
        return _figure(
            [go.Bar(name=KIND_LABELS[k], x=x, y=[float(v) for v in main[k]]) for k in reports.KINDS],
            "Plantilla media por tipo de contrato",
        ).update_layout(barmode="stack")
    if table == "altas_bajas":
        return _figure(
            [
                go.Bar(name="Altas", x=x, y=main["hires"].tolist()),
                go.Bar(name="Bajas", x=x, y=main["leavers"].tolist()),
            ],
            "Altas y bajas por mes",
        )
    rates = [None if v is None or pd.isna(v) else float(v) for v in main["rate"]]
    return _figure([go.Scatter(name="Absentismo", x=x, y=rates, mode="lines+markers")], "Tasa de absentismo", True)


VIEWS: dict[str, Callable[[pd.DataFrame], pd.DataFrame]] = {
    "resumen_nominas": payroll_rows,
    "coste_empleado": cost_rows,
    "plantilla_media": headcount_rows,
    "altas_bajas": moves_rows,
    "fin_contratos": ending_rows,
    "absentismo": absence_rows,
}
DETAILS = {
    "altas_bajas": ("Detalle de altas y bajas", move_detail_rows),
    "absentismo": ("Procesos de baja", leave_rows),
}
NOTES = {
    "plantilla_media": "Plantilla media: días de alta del mes ÷ días del mes, por empleado; la jornada completa "
    "equivalente pondera además por el porcentaje de jornada.",
    "absentismo": "Tasa de absentismo: días naturales de baja ÷ días naturales de contrato del mes (hasta hoy).",
    "fin_contratos": "Contratos con fecha de fin prevista en los próximos 90 días, agrupados en 30, 60 y 90 días.",
}


# --- audit --------------------------------------------------------------------------------------------------------


def record(books: _accounting.Books, event: str, table: str, period: str, rows: int, extra: str = "") -> None:
    """A labour_view / labour_export event: who, company, table, period and row count (never an amount)."""
    detail = f"tabla={table}; periodo={period}; filas={rows}" + (f"; {extra}" if extra else "")
    audit.record(
        books.engine,
        event,
        actor=str(books.user.get("username", "")),
        actor_role="client",
        company=books.company,
        target=table,
        detail=detail,
    )


def audited_file(books: _accounting.Books, table: str, period: str, rows: int, kind: str, build: Callable):
    """A deferred download: the file is built, and the export written to the audit log, when it is clicked."""

    def make():
        data = build()
        record(books, "labour_export", table, period, rows, f"formato={kind}")
        return data

    return make


def downloads(books: _accounting.Books, table: str, period: str, sheets: dict[str, pd.DataFrame]) -> None:
    """CSV (first sheet) and Excel (every sheet) buttons; each click is audited; no rerun on click."""
    first = next(iter(sheets.values()))
    stem = f"laboral-{table}-{books.company}-{period}"
    heading = f"{books.name} · {LABOUR_TABLES[table]} · {period}"
    left, right = st.columns(2)
    left.download_button(
        "Descargar CSV",
        audited_file(books, table, period, len(first), "csv", lambda: export.to_csv_es(first)),
        file_name=f"{stem}.csv",
        mime="text/csv",
        icon=":material/download:",
        on_click="ignore",
        key=f"csv-{table}",
    )
    right.download_button(
        "Descargar Excel",
        audited_file(
            books, table, period, len(first), "xlsx", lambda: export.to_xlsx(sheets, title=heading, stamp=books.stamp)
        ),
        file_name=f"{stem}.xlsx",
        mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        icon=":material/table_view:",
        on_click="ignore",
        key=f"xlsx-{table}",
    )


def show(books: _accounting.Books, blocked: frozenset[str], table: str, year: int, today: date) -> None:
    """One labour table: notice, chart, table, detail and downloads; the view is audited."""
    frames = cached_table(*books.key, blocked, table, year, today)
    period = today.isoformat() if table == "fin_contratos" else str(year)
    main = frames["main"]
    record(books, "labour_view", table, period, len(main))
    if table in NOTES:
        st.caption(NOTES[table])
    if main.empty:
        st.info("No hay datos para este periodo.")
        return
    figure = chart_of(table, frames)
    if figure is not None:
        st.plotly_chart(figure, width="stretch", key=f"chart-{table}")
    _accounting.show_table(VIEWS[table](main))
    sheets = {LABOUR_TABLES[table][:31]: main}
    if table in DETAILS:
        label, rows = DETAILS[table]
        st.subheader(label)
        _accounting.show_table(rows(frames["detail"]))
        sheets[label[:31]] = frames["detail"]
    downloads(books, table, period, sheets)


books = _accounting.open_books("Laboral", "laboral", no_data=NO_DATA)
with _ui.errors_shown():
    tables = [t for t in (books.grant.options.get("tables", []) if books.grant else []) if t in LABOUR_TABLES]
    if not reports.has_labour(books.snapshot):
        st.info(NO_DATA)
        st.stop()
    if not tables:
        st.info("El despacho aún no ha compartido ninguna tabla laboral con usted.")
        st.stop()
    blocked = labour_blocks.blocked(books.engine, books.company)
    today = date.today()
    years = cached_years(*books.key, blocked) or [today.year]
    year = st.selectbox("Año", years, key=books.widget_key("laboral-year"))
    tabs = st.tabs([LABOUR_TABLES[t] for t in tables], key=books.widget_key("laboral-tab"), on_change="rerun")
    for tab, table in zip(tabs, tables, strict=True):
        if tab.open:
            with tab:
                show(books, blocked, table, year, today)
