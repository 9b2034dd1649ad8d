"""Ratios (client): each ratio with its formula, a plain explanation, its value, a healthy-range badge, its trend."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from portal import fmt
from reports import export, periods, ratios
from views import _accounting, _charts, _ui

UNDEFINED = "Indefinido"
BADGES = {
    "bueno": ("Saludable", "green"),
    "aviso": ("Vigilar", "orange"),
    "riesgo": ("Fuera de rango", "red"),
    "sin_referencia": ("Sin referencia", "gray"),
    "indefinido": (UNDEFINED, "gray"),
}


def value_text(value: Decimal | None, unit: str) -> str:
    """A ratio's value in Spanish; 'Indefinido' for a division by zero (never 0 or infinity)."""
    if value is None:
        return UNDEFINED
    if unit == "eur":
        return fmt.money(value)
    if unit == "days":
        return f"{fmt.number(value, 1)} días"
    return fmt.number(value, 2)


TREND_TITLES = {
    "month": "evolución mensual (año hasta cada mes)",
    "year": "evolución por ejercicios (al cierre de cada ejercicio)",
}
TREND_KINDS = {"month": "Por meses", "year": "Por años"}


def trend_chart(table: pd.DataFrame, code: str, name: str, kind: str = "month") -> go.Figure:
    """One ratio over time; an undefined point is a gap in the line (never drawn as 0)."""
    mine = table[table["code"] == code]
    fig = go.Figure()
    fig.add_scatter(
        x=list(mine["label"]),
        y=[None if v is None or pd.isna(v) else float(v) for v in mine["value"]],
        mode="lines+markers",
        name=name,
        connectgaps=False,
    )
    fig.update_layout(title=f"{name}: {TREND_TITLES[kind]}", margin={"t": 50, "b": 10})
    _charts.spanish(fig, money=None)
    if kind == "year":
        fig.update_xaxes(type="category")
    return fig


def trend_rows(table: pd.DataFrame, code: str, unit: str) -> pd.DataFrame:
    """The points of one ratio's trend in Spanish («Indefinido» where it cannot be computed)."""
    mine = table[table["code"] == code]
    return pd.DataFrame(
        {
            "Periodo": mine["label"].tolist(),
            "Fecha del balance": [fmt.date_es(d) for d in mine["period_end"]],
            "Valor": [value_text(None if v is None or pd.isna(v) else v, unit) for v in mine["value"]],
        }
    )


@st.cache_data(ttl=3600, max_entries=128, show_spinner=False)
def yearly_trend(store_root: str, company: str, snapshot_id: str, until: date | None) -> pd.DataFrame:
    """Every ratio at each fiscal year-end (cached per store, company, snapshot id and last date)."""
    return ratios.ratio_trend_by_year(_accounting._snapshot(store_root, company, snapshot_id), until=until)


books = _accounting.open_books("Ratios")
with _ui.errors_shown():
    period = _accounting.period_picker(books, "ratios")
    _, last = _accounting.data_dates(books)
    if period.start <= last < period.end:  # an open period: balance at the last date with data, flows to that day
        period = periods.date_range(books.calendar, period.start, last)
    table = ratios.ratios(books.snapshot, period)
    st.caption(_ui.plain(f"{period.label} · balance al {fmt.date_es(period.end)}; flujos anualizados"))
    for row in table.itertuples():
        label, color = BADGES.get(row.status, (row.status, "gray"))
        with st.container(border=True):
            left, right = st.columns([3, 2])
            left.markdown(_ui.plain(row.name))
            left.caption(_ui.plain(f"Fórmula: {row.formula}"))
            left.caption(_ui.plain(row.explanation))
            right.metric(row.name, value_text(row.value, row.unit), label_visibility="collapsed")
            right.badge(label, color=color)
            right.caption(_ui.plain(f"Rango saludable: {row.range_text}"))
    names = dict(zip(table["code"], table["name"], strict=True))
    units = dict(zip(table["code"], table["unit"], strict=True))
    st.subheader("Evolución")
    kind = st.radio(
        "Evolución", list(TREND_KINDS), format_func=TREND_KINDS.get, horizontal=True, key=books.widget_key("ratios-by")
    )
    if kind == "year":
        trend = yearly_trend(*books.key, last)
        st.caption("Cada ejercicio a su cierre; el abierto, hasta el último día con datos (flujos anualizados).")
    else:
        trend = _accounting.trend(*books.key, period.fiscal_year, last)
    if trend.empty:
        st.info("Aún no hay un mes completo en este ejercicio." if kind == "month" else "Aún no hay datos.")
    else:
        code = st.selectbox("Ratio", list(names), format_func=names.get, key=books.widget_key("ratios-trend"))
        st.plotly_chart(trend_chart(trend, code, names[code], kind), width="stretch")
        points = trend_rows(trend, code, units[code])
        if (points["Valor"] == UNDEFINED).any():
            st.caption("Los huecos de la línea son periodos en que el ratio no está definido (división por cero).")
        with st.expander("Valores de la evolución"):
            st.dataframe(points, hide_index=True)
    shown = pd.DataFrame(
        {
            "Ratio": table["name"],
            "Valor": [value_text(v, u) for v, u in zip(table["value"], table["unit"], strict=True)],
            "Rango saludable": table["range_text"],
            "Estado": [BADGES.get(s, (s, ""))[0] for s in table["status"]],
        }
    )
    with st.expander("Tabla de ratios"):
        st.dataframe(shown, hide_index=True)
    _accounting.downloads(
        books,
        "ratios",
        export.ratios_table(table),
        {"Ratios": export.ratios_table(table), "Detalle": table},
        title=f"Ratios · {period.label}",
    )
