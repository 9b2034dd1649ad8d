"""Tesorería (client): pending items with ageing, upcoming due dates with a calendar, banks, 13-week forecast.

Every read of counterparties goes through the user's redaction (``books.redaction``, the same rule as the books):
an item of a blocked employee, or of any employee when the firm hides payroll names from a user without the labour
module, reads the label on the page and in every file, amounts unchanged.
"""

from __future__ import annotations

import calendar
from datetime import date, timedelta
from decimal import Decimal

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from auth import access
from portal import fmt
from reports import cash_estimates, periods
from reports import treasury as reports
from reports.redaction import Redaction
from views import _accounting, _charts, _tables, _ui

NO_DATA = "Todavía no hay datos de tesorería publicados de esta empresa."
TABS = ("Cobros y pagos pendientes", "Próximos vencimientos", "Bancos", "Previsión 13 semanas")
KIND_LABELS = {"cobro": "Cobro", "pago": "Pago"}
STATE_LABELS = {
    "pendiente": "Pendiente",
    "remesado": "Remesado",
    "impagado": "Impagado",
    "devuelto": "Devuelto",
    "cobrado": "Cobrado",
    "pagado": "Pagado",
}
WEEKDAYS = ("Lun", "Mar", "Mié", "Jue", "Vie", "Sáb", "Dom")
BANK_PERIODS = {"Últimos 3 meses": 92, "Últimos 12 meses": 366, "Todo": None}
OVERDUE_STYLE = "background-color: #fdecea; color: #b71c1c; font-weight: 600"
DUE_DAY_STYLE = "background-color: #e8f0fe"
BUCKET_LABELS = {column: label for column, label, *_ in reports.AGEING_BUCKETS}
OVERDUE_BUCKETS = [label for column, label, *_ in reports.AGEING_BUCKETS if column != "not_due"]


# --- cached reads (store, company and snapshot id are hashed arguments) -------------------------------------------


def _snap(store_root: str, company: str, snapshot_id: str):
    return _accounting._snapshot(store_root, company, snapshot_id)


@st.cache_data(ttl=3600, max_entries=256, show_spinner=False)
def cached_ageing(
    store_root: str, company: str, snapshot_id: str, kind: str, today: date, people: tuple = (), label: str = ""
) -> pd.DataFrame:
    """Pending items of one kind per counterparty with the ageing buckets (the user's hidden employees, a hashed
    argument too, under the label)."""
    return reports.ageing(_snap(store_root, company, snapshot_id), kind, today, hide=Redaction(people, label))


@st.cache_data(ttl=3600, max_entries=256, show_spinner=False)
def cached_upcoming(
    store_root: str, company: str, snapshot_id: str, today: date, days: int, people: tuple = (), label: str = ""
) -> dict[str, pd.DataFrame]:
    """The upcoming list (overdue first; the user's hidden employees under the label) and the per-day calendar."""
    snapshot = _snap(store_root, company, snapshot_id)
    return {
        "items": reports.upcoming(snapshot, today, days, hide=Redaction(people, label)),
        "days": reports.due_calendar(snapshot, today, days),
    }


@st.cache_data(ttl=3600, max_entries=256, show_spinner=False)
def cached_banks(store_root: str, company: str, snapshot_id: str, since_days: int | None) -> dict[str, pd.DataFrame]:
    """Balances per account and the daily balances of the last ``since_days`` days of data (all when None)."""
    snapshot = _snap(store_root, company, snapshot_id)
    accounts = reports.bank_accounts(snapshot)
    start = None
    if since_days is not None and not accounts.empty:
        start = max(accounts["last_date"]) - timedelta(days=since_days - 1)
    return {"accounts": accounts, "daily": reports.daily_balances(snapshot, start=start)}


@st.cache_data(ttl=3600, max_entries=256, show_spinner=False)
def cached_forecast(
    store_root: str, company: str, snapshot_id: str, today: date, taxes_too: bool, payroll_too: bool
) -> reports.Forecast:
    """The 13-week cash forecast, with the estimated tax and payroll payments the user may see."""
    snapshot = _snap(store_root, company, snapshot_id)
    end = today + timedelta(days=7 * reports.FORECAST_WEEKS - 1)
    estimated = cash_estimates.estimates(snapshot, today, end, taxes_too=taxes_too, payroll_too=payroll_too)
    return reports.forecast(snapshot, today, estimated=estimated)


# --- Spanish tables -----------------------------------------------------------------------------------------------


def negative_red(value: object) -> str:
    """Styler rule: negative amounts in red (they also keep their minus sign)."""
    return "color: #c62828" if isinstance(value, str) and value.startswith("-") else ""


def styled(frame: pd.DataFrame, *, columns: list[str] = (), rows: list[bool] | None = None):
    """A table with negative amounts red, non-zero cells of ``columns`` and the ``rows`` flagged highlighted."""
    style = frame.style.map(negative_red)
    marked = [c for c in columns if c in frame.columns]
    if marked:
        style = style.map(lambda v: OVERDUE_STYLE if v not in ("", "0,00 €") else "", subset=marked)
    if rows is not None:
        flags = list(rows)
        style = style.apply(lambda r: [OVERDUE_STYLE if flags[r.name] else ""] * len(r), axis=1)
    return style


def show(frame: pd.DataFrame, **kwargs) -> None:
    """A read-only table (see :func:`styled`); cards on a phone."""
    frame = frame.reset_index(drop=True)
    _tables.show(frame, _accounting.amount_columns(frame), data=styled(frame, **kwargs), hide_index=True)


def due_days(days: pd.DataFrame, year: int, month: int) -> pd.DataFrame:
    """The days of a month with receivables or payables due, as a list (the calendar on a phone)."""
    in_month = pd.Series([d.year == year and d.month == month for d in days["date"]], index=days.index, dtype=bool)
    shown = days.loc[in_month]
    return pd.DataFrame(
        {
            "Día": [fmt.date_es(d) for d in shown["date"]],
            "Cobros": [fmt.money(v) if v else "" for v in shown["collections"]],
            "Pagos": [fmt.money(v) if v else "" for v in shown["payments"]],
        },
        columns=["Día", "Cobros", "Pagos"],
    )


def ageing_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """An ageing table in Spanish with a TOTAL row."""
    rows = [
        {
            "Tercero": r.counterparty,
            "NIF": r.nif,
            "Efectos": fmt.integer(r.items),
            "Total pendiente": fmt.money(r.total),
            "Vencido": fmt.money(r.overdue),
            **{BUCKET_LABELS[c]: fmt.money(getattr(r, c)) for c in BUCKET_LABELS},
        }
        for r in frame.itertuples()
    ]
    totals = reports.ageing_totals(frame)
    rows.append(
        {
            "Tercero": "TOTAL",
            "NIF": "",
            "Efectos": fmt.integer(sum(frame["items"]) if len(frame) else 0),
            "Total pendiente": fmt.money(totals["total"]),
            "Vencido": fmt.money(totals["overdue"]),
            **{BUCKET_LABELS[c]: fmt.money(totals[c]) for c in BUCKET_LABELS},
        }
    )
    return pd.DataFrame(rows)


def situation(days_overdue: int) -> str:
    """'Vencido hace 3 días', 'Vence hoy', 'Vence en 5 días'."""
    if days_overdue >= 1:
        return f"Vencido hace {days_overdue} día{'s' if days_overdue != 1 else ''}"
    if days_overdue == 0:
        return "Vence hoy"
    return f"Vence en {-days_overdue} día{'s' if days_overdue != -1 else ''}"


def upcoming_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """The upcoming list in Spanish."""
    return pd.DataFrame(
        {
            "Vencimiento": [fmt.date_es(d) for d in frame["due_date"]],
            "Tipo": [KIND_LABELS[k] for k in frame["kind"]],
            "Tercero": frame["counterparty"].tolist(),
            "Documento": frame["document"].tolist(),
            "Efecto": frame["number"].tolist(),
            "Importe": [fmt.money(v) for v in frame["signed"]],
            "Estado": [STATE_LABELS.get(s, s) for s in frame["state"]],
            "Situación": [situation(int(d)) for d in frame["days_overdue"]],
        },
        columns=["Vencimiento", "Tipo", "Tercero", "Documento", "Efecto", "Importe", "Estado", "Situación"],
    )


def month_grid(days: pd.DataFrame, year: int, month: int) -> tuple[pd.DataFrame, list[tuple[int, int]]]:
    """A month as a Monday-first grid: each cell the day number and, on due days, '+cobros / −pagos'.

    Returns the grid and the (row, column) positions of the days with items.
    """
    by_day = {r.date: r for r in days.itertuples()}
    rows, marked = [], []
    for week_index, week in enumerate(calendar.Calendar().monthdatescalendar(year, month)):
        row = {}
        for weekday, day in enumerate(week):
            if day.month != month:
                row[WEEKDAYS[weekday]] = ""
                continue
            found = by_day.get(day)
            if found is None:
                row[WEEKDAYS[weekday]] = str(day.day)
                continue
            parts = []
            if found.collections:
                parts.append(f"+{fmt.money(found.collections)}")
            if found.payments:
                parts.append(f"−{fmt.money(found.payments)}")
            row[WEEKDAYS[weekday]] = f"{day.day}: " + " / ".join(parts)
            marked.append((week_index, weekday))
        rows.append(row)
    return pd.DataFrame(rows, columns=list(WEEKDAYS)), marked


def calendar_rows(days: pd.DataFrame) -> pd.DataFrame:
    """The per-day totals in Spanish."""
    return pd.DataFrame(
        {
            "Fecha": [fmt.date_es(d) for d in days["date"]],
            "Cobros": [fmt.money(v) for v in days["collections"]],
            "Pagos": [fmt.money(v) for v in days["payments"]],
            "Neto": [fmt.money(v) for v in days["net"]],
            "Efectos": [fmt.integer(v) for v in days["items"]],
        },
        columns=["Fecha", "Cobros", "Pagos", "Neto", "Efectos"],
    )


def bank_rows(accounts: pd.DataFrame) -> pd.DataFrame:
    """Balance per account in Spanish with a TOTAL row."""
    rows = [
        {
            "Banco": r.bank,
            "IBAN": r.iban,
            "Cuenta": r.account,
            "Saldo": fmt.money(r.balance),
            "Fecha del saldo": fmt.date_es(r.last_date),
        }
        for r in accounts.itertuples()
    ]
    rows.append(
        {
            "Banco": "TOTAL",
            "IBAN": "",
            "Cuenta": "",
            "Saldo": fmt.money(sum(accounts["balance"], Decimal(0))),
            "Fecha del saldo": "",
        }
    )
    return pd.DataFrame(rows)


def forecast_rows(weeks: pd.DataFrame) -> pd.DataFrame:
    """The 13-week forecast in Spanish."""
    return pd.DataFrame(
        {
            "Semana": [fmt.integer(w) for w in weeks["week"]],
            "Desde": [fmt.date_es(d) for d in weeks["start"]],
            "Hasta": [fmt.date_es(d) for d in weeks["end"]],
            "Cobros": [fmt.money(v) for v in weeks["collections"]],
            "Pagos": [fmt.money(v) for v in weeks["payments"]],
            "Impuestos (estimado)": [fmt.money(v) for v in weeks["taxes"]],
            "Nóminas y Seguridad Social (estimado)": [fmt.money(v) for v in weeks["payroll"]],
            "Neto": [fmt.money(v) for v in weeks["net"]],
            "Saldo previsto": [fmt.money(v) for v in weeks["balance"]],
        }
    )


def estimate_rows(estimates: pd.DataFrame) -> pd.DataFrame:
    """The estimated payments, each with how it was estimated."""
    return pd.DataFrame(
        {
            "Fecha": [fmt.date_es(d) for d in estimates["date"]],
            "Concepto": list(estimates["concept"]),
            "Importe (estimado)": [fmt.money(v) for v in estimates["amount"]],
            "Cómo se estima": list(estimates["how"]),
        }
    )


def _figure(traces: list, title: str) -> go.Figure:
    figure = go.Figure(traces)
    figure.update_layout(title=title, height=340, margin=dict(l=10, r=10, t=40, b=10))
    return _charts.spanish(figure)


# --- tabs ---------------------------------------------------------------------------------------------------------


def pending_tab(books: _accounting.Books, today: date) -> None:
    """Ageing of the pending collections and payments per counterparty."""
    st.caption(
        f"Pendientes a {fmt.date_es(today)}. Un efecto está vencido cuando su vencimiento es anterior a hoy; "
        "los vencidos se agrupan por los días transcurridos desde el vencimiento."
    )
    hide = books.redaction
    frames = {kind: cached_ageing(*books.key, kind, today, hide.people, hide.label) for kind in reports.KINDS}
    totals = {kind: reports.ageing_totals(frames[kind]) for kind in reports.KINDS}
    columns = st.columns(4)
    columns[0].metric("Cobros pendientes", fmt.money(totals["cobro"]["total"]))
    columns[1].metric("Cobros vencidos", fmt.money(totals["cobro"]["overdue"]))
    columns[2].metric("Pagos pendientes", fmt.money(totals["pago"]["total"]))
    columns[3].metric("Pagos vencidos", fmt.money(totals["pago"]["overdue"]))
    labels = list(BUCKET_LABELS.values())
    figure = _figure(
        [
            go.Bar(name=reports.KINDS[kind], x=labels, y=[float(totals[kind][c]) for c in BUCKET_LABELS])
            for kind in reports.KINDS
        ],
        "Pendiente por antigüedad (€)",
    )
    st.plotly_chart(figure, width="stretch", key="chart-ageing")
    for kind, title in (("cobro", "Cobros pendientes por cliente"), ("pago", "Pagos pendientes por proveedor")):
        st.subheader(title)
        frame = frames[kind]
        if frame.empty:
            st.info("No hay efectos pendientes.")
            continue
        show(ageing_rows(frame), columns=["Vencido", *OVERDUE_BUCKETS])
        _accounting.downloads(
            books, f"{kind}s-pendientes", frame, {title[:31]: frame}, title=f"{title} a {fmt.date_es(today)}"
        )


def upcoming_tab(books: _accounting.Books, today: date) -> None:
    """Upcoming collections and payments for 7/30/90 days: list (overdue first, highlighted) and month calendar."""
    days = st.radio(
        "Próximos",
        reports.HORIZONS,
        format_func=lambda d: f"{d} días",
        horizontal=True,
        index=1,
        key=books.widget_key("tesoreria-horizon"),
    )
    found = cached_upcoming(*books.key, today, days, books.redaction.people, books.redaction.label)
    items, per_day = found["items"], found["days"]
    coming = items[~items["overdue"]]
    overdue = items[items["overdue"]]
    columns = st.columns(3)
    columns[0].metric(f"Cobros en {days} días", fmt.money(sum(coming.loc[coming["kind"] == "cobro", "amount"], 0)))
    columns[1].metric(f"Pagos en {days} días", fmt.money(sum(coming.loc[coming["kind"] == "pago", "amount"], 0)))
    columns[2].metric("Vencidos sin cobrar ni pagar", fmt.integer(len(overdue)))
    st.subheader("Vencimientos")
    if items.empty:
        st.info("No hay vencimientos en este periodo.")
    else:
        st.caption("En rojo, los efectos ya vencidos (aparecen primero).")
        show(upcoming_rows(items), rows=list(items["overdue"]))
    st.subheader("Calendario")
    last = today + timedelta(days=days)
    months = []
    cursor = today.replace(day=1)
    while cursor <= last:
        months.append((cursor.year, cursor.month))
        cursor = periods.add_months(cursor, 1)
    year, month = st.selectbox(
        "Mes",
        months,
        format_func=lambda ym: periods.month_label(*ym),
        key=books.widget_key(f"tesoreria-month-{days}"),
    )
    grid, marked = month_grid(per_day, year, month)
    flagged = set(marked)
    listed = due_days(per_day, year, month)
    _tables.show(
        listed,
        ["Cobros", "Pagos"],
        data=grid.style.apply(
            lambda r: [DUE_DAY_STYLE if (r.name, i) in flagged else "" for i in range(len(r))], axis=1
        ),
        hide_index=True,
    )
    st.caption("+ cobros / − pagos previstos de cada día.")
    export_items = items.drop(columns=["bucket"])
    _accounting.downloads(
        books,
        "vencimientos",
        export_items,
        {"Vencimientos": export_items, "Calendario": per_day},
        title=f"Vencimientos de los próximos {days} días desde {fmt.date_es(today)}",
    )


def banks_tab(books: _accounting.Books, today: date) -> None:
    """Balance per account and the daily evolution."""
    choice = st.selectbox("Periodo", list(BANK_PERIODS), index=1, key=books.widget_key("tesoreria-bank-period"))
    found = cached_banks(*books.key, BANK_PERIODS[choice])
    accounts, daily = found["accounts"], found["daily"]
    if accounts.empty:
        st.info("No hay extractos bancarios publicados.")
        return
    show(bank_rows(accounts))
    traces = []
    for (iban, bank), group in daily.groupby(["iban", "bank"], sort=False):
        traces.append(
            go.Scatter(
                name=f"{bank} ({iban[-4:]})",
                x=list(group["date"]),
                y=[float(v) for v in group["balance"]],
                mode="lines",
                line_shape="hv",
            )
        )
    st.plotly_chart(_figure(traces, "Saldo diario por cuenta (€)"), width="stretch", key="chart-banks")
    _accounting.downloads(
        books,
        "bancos",
        accounts,
        {"Saldos": accounts, "Saldo diario": daily},
        title=f"Saldos bancarios ({choice.lower()})",
    )


def forecast_tab(books: _accounting.Books, today: date) -> None:
    """13-week cash forecast: chart (lowest point marked), weekly table and the estimated payments."""
    held = access.modules_of(books.engine, books.user, books.company)
    taxes_too = bool({"impuestos", "contabilidad"} & set(held))  # the estimates show what those modules show
    payroll_too = bool({"laboral", "contabilidad"} & set(held))
    result = cached_forecast(*books.key, today, taxes_too, payroll_too)
    weeks = result.weeks
    start = (
        "sin extractos bancarios: se parte de 0,00 €"
        if result.start_balance is None
        else (f"saldo bancario de partida {fmt.money(result.start_balance)}")
    )
    st.caption(
        _ui.plain(
            f"Semana 1 desde el {fmt.date_es(today)}; {start}. Suma los cobros y resta los pagos pendientes según su "
            "vencimiento; los vencidos se cuentan en la semana 1 y los impagados se dejan fuera. Los impuestos y las "
            "nóminas son estimaciones, cada una con cómo se ha calculado."
        )
    )
    x = [f"S{w}" for w in weeks["week"]]
    balances = [float(v) for v in weeks["balance"]]
    traces = [
        go.Bar(name="Cobros", x=x, y=[float(v) for v in weeks["collections"]], marker_color="#2e7d32"),
        go.Bar(name="Pagos", x=x, y=[-float(v) for v in weeks["payments"]], marker_color="#c62828"),
        go.Bar(name="Impuestos (estimado)", x=x, y=[-float(v) for v in weeks["taxes"]], marker_color="#ef6c00"),
        go.Bar(
            name="Nóminas y Seguridad Social (estimado)",
            x=x,
            y=[-float(v) for v in weeks["payroll"]],
            marker_color="#8e24aa",
        ),
        go.Scatter(name="Saldo previsto", x=x, y=balances, mode="lines+markers", line_color="#1565c0"),
    ]
    if result.lowest is not None:
        low = result.lowest - 1
        traces.append(
            go.Scatter(
                name="Punto más bajo",
                x=[x[low]],
                y=[balances[low]],
                mode="markers",
                marker={"size": 14, "color": "#b71c1c", "symbol": "diamond"},
            )
        )
    figure = _figure(traces, "Previsión de tesorería a 13 semanas (€)").update_layout(barmode="relative")
    st.plotly_chart(figure, width="stretch", key="chart-forecast")
    if result.lowest is not None:
        lowest = weeks.iloc[result.lowest - 1]
        st.markdown(
            f"**Punto más bajo: {fmt.money(lowest['balance'])}** en la semana {result.lowest} "
            f"(del {fmt.date_es(lowest['start'])} al {fmt.date_es(lowest['end'])})."
        )
    show(forecast_rows(weeks))
    if result.excluded_collections or result.excluded_payments:
        st.caption(
            f"Impagados fuera de la previsión: cobros {fmt.money(result.excluded_collections)}, "
            f"pagos {fmt.money(result.excluded_payments)}."
        )
    if len(result.estimates):
        st.subheader("Pagos estimados")
        show(estimate_rows(result.estimates))
    _accounting.downloads(
        books,
        "prevision",
        weeks,
        {"Previsión 13 semanas": weeks, "Pagos estimados": result.estimates},
        title=f"Previsión a 13 semanas desde el {fmt.date_es(today)}",
    )


SHOW = dict(zip(TABS, (pending_tab, upcoming_tab, banks_tab, forecast_tab), strict=True))

books = _accounting.open_books("Tesorería", "tesoreria", no_data=NO_DATA)
with _ui.errors_shown():
    if not reports.has_treasury(books.snapshot):
        st.info(NO_DATA)
        st.stop()
    today = date.today()
    tabs = st.tabs(list(TABS), key=books.widget_key("tesoreria-tab"), on_change="rerun")
    for tab, name in zip(tabs, TABS, strict=True):
        if tab.open:
            with tab:
                SHOW[name](books, today)
