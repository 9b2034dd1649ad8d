"""Ratios (client): each ratio with its formula, a plain explanation, its value, a healthy-range badge, its trend."""

from __future__ import annotations

from decimal import Decimal

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from portal import fmt
from reports import export, periods, ratios
from views import _accounting, _ui

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


def trend_chart(table: pd.DataFrame, code: str, name: str) -> go.Figure:
    mine = table[table["code"] == code]
    fig = go.Figure()
    fig.add_scatter(
        x=list(mine["label"]),
        y=[None if v is None else float(v) for v in mine["value"]],
        mode="lines+markers",
        name=name,
        connectgaps=False,
    )
    fig.update_layout(
        title=f"{name}: evolución mensual (año hasta cada mes)", separators=",.", margin={"t": 50, "b": 10}
    )
    return fig


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
    st.subheader("Evolución por meses")
    monthly = _accounting.trend(*books.key, period.fiscal_year, last)
    if monthly.empty:
        st.info("Aún no hay un mes completo en este ejercicio.")
    else:
        code = st.selectbox("Ratio", list(names), format_func=names.get, key=books.widget_key("ratios-trend"))
        st.plotly_chart(trend_chart(monthly, code, names[code]), width="stretch")
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
