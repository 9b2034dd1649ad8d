"""The P&L page's cached builders (monthly flows, biggest expenses, the three figures): importable, so the process
can build a published snapshot's first screen before anyone asks (views/_warm.py)."""

from __future__ import annotations

import html
from decimal import Decimal

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from portal import fmt
from reports import periods, statements
from reports.redaction import Redaction
from views import _accounting, _charts

ZERO = Decimal("0.00")


def monthly_flows(months: pd.DataFrame, lines: pd.DataFrame) -> pd.DataFrame:
    """Income (positive lines), expenses (negative lines, as positive) and result per month."""
    kinds = dict(zip(lines["line_code"], lines["kind"], strict=True))
    own = months[months["line_code"].map(kinds) == "accounts"]
    rows = []
    for month_start, group in months.groupby("month_start", sort=True):
        mine = own[own["month_start"] == month_start]["amount"]
        result = group.loc[group["line_code"] == statements.PNL_RESULT, "amount"].iloc[0]
        rows.append(
            {
                "month_start": month_start,
                "label": periods.month_label(month_start.year, month_start.month),
                "income": sum((v for v in mine if v > 0), ZERO),
                "expenses": -sum((v for v in mine if v < 0), ZERO),
                "result": result,
            }
        )
    return pd.DataFrame(rows)


def cumulative(months: pd.DataFrame) -> list[Decimal]:
    result = months[months["line_code"] == statements.PNL_RESULT].sort_values("month_start")["amount"]
    total, out = ZERO, []
    for value in result:
        total += value
        out.append(total)
    return out


def euro_layout(fig: go.Figure, title: str) -> go.Figure:
    fig.update_layout(title=title, legend={"orientation": "h"}, margin={"t": 50, "b": 10}, yaxis={"ticksuffix": " €"})
    return _charts.spanish(fig)


@st.cache_data(ttl=3600, max_entries=128, show_spinner=False)
def monthly_view(store_root: str, company: str, snapshot_id: str, fiscal_year: int) -> dict:
    """Cached per store, company, snapshot id (all hashed) and fiscal year: flows, cumulative results, wide table."""
    snapshot = _accounting._snapshot(store_root, company, snapshot_id)
    lines = statements.profit_and_loss(snapshot, periods.fiscal_year(statements.calendar_of(snapshot), fiscal_year))
    months = statements.monthly_pnl(snapshot, fiscal_year)
    first, _ = statements.data_range(snapshot)
    calendar = statements.calendar_of(snapshot)
    has_prior = first is not None and first <= calendar.end(fiscal_year - 1)
    return {
        "flows": monthly_flows(months, lines.lines),
        "now": cumulative(months),
        "before": cumulative(statements.monthly_pnl(snapshot, fiscal_year - 1)) if has_prior else None,
        "wide": (wide := _accounting.monthly_wide(months, lines.lines)),
        "wide_shown": _accounting.money_frame(wide.rename(columns={"line_code": "Código", "label": "Partida"})),
    }


@st.cache_data(ttl=3600, max_entries=256, show_spinner=False)
def expenses_view(
    store_root: str, company: str, snapshot_id: str, spec: tuple, people: tuple = (), label: str = ""
) -> pd.DataFrame:
    """Cached per store, company, snapshot id, period and the user's hidden employees (all hashed): the ten biggest
    expense accounts (one named after a hidden employee reads the label)."""
    snapshot = _accounting._snapshot(store_root, company, snapshot_id)
    period = _accounting.period_of(statements.calendar_of(snapshot), spec)
    return statements.top_expenses(snapshot, period, hide=Redaction(people, label))


def expense_chart(top: pd.DataFrame, label: str, prior_label: str | None) -> go.Figure:
    """Horizontal bars: the biggest expense accounts of the period, biggest on top, the comparison beside them."""
    # Plotly reads a few HTML tags in labels: chart names are escaped (it shows the entities as the characters).
    names = [html.escape(f"{a} · {n}" if n else a) for a, n in zip(top["account"], top["name"], strict=True)]
    fig = go.Figure()
    fig.add_bar(
        y=names,
        x=[float(v) for v in top["amount"]],
        orientation="h",
        name=label,
        marker_color="#c62828",
        hovertext=[fmt.money(v) for v in top["amount"]],
        hoverinfo="y+text",
    )
    if prior_label is not None and top["prior_amount"].notna().any():
        prior = [None if v is None or pd.isna(v) else v for v in top["prior_amount"]]
        fig.add_bar(
            y=names,
            x=[None if v is None else float(v) for v in prior],
            orientation="h",
            name=prior_label,
            marker_color="#9e9e9e",
            hovertext=[fmt.money(v) for v in prior],
            hoverinfo="y+text",
        )
    fig.update_layout(
        title="Cuentas de gasto más altas (grupo 6)",
        barmode="group",
        legend={"orientation": "h"},
        margin={"t": 50, "b": 10},
        xaxis={"ticksuffix": " €"},
        yaxis={"autorange": "reversed"},
        height=140 + 45 * len(top),
    )
    return _charts.spanish(fig, money="x")


@st.cache_resource(ttl=3600, max_entries=128, show_spinner=False)
def monthly_figures(store_root: str, company: str, snapshot_id: str, fiscal_year: int) -> tuple[go.Figure, go.Figure]:
    """Monthly income, expenses and result; cumulative result against the prior year.

    Built once per store, company, snapshot id and fiscal year (all hashed) and shared read-only: building a Plotly
    figure costs more than drawing the rest of the page, and st.plotly_chart only reads it (``to_dict``).
    """
    view = monthly_view(store_root, company, snapshot_id, fiscal_year)
    flows = view["flows"]
    short = [f"{label[:3]} {label[-2:]}" for label in flows["label"]]
    months = go.Figure()
    months.add_bar(x=short, y=[float(v) for v in flows["income"]], name="Ingresos", marker_color="#2e7d32")
    months.add_bar(x=short, y=[float(-v) for v in flows["expenses"]], name="Gastos", marker_color="#c62828")
    months.add_scatter(x=short, y=[float(v) for v in flows["result"]], name="Resultado", mode="lines+markers")
    months.update_layout(barmode="relative")
    calendar = statements.calendar_of(_accounting._snapshot(store_root, company, snapshot_id))
    first_month = calendar.start_month - 1
    position = [periods.MONTHS[(first_month + i) % 12][:3].capitalize() for i in range(len(view["now"]))]
    cumulative_result = go.Figure()
    cumulative_result.add_scatter(
        x=position, y=[float(v) for v in view["now"]], name=calendar.year_label(fiscal_year), mode="lines+markers"
    )
    if view["before"] is not None:
        cumulative_result.add_scatter(
            x=position[: len(view["before"])],
            y=[float(v) for v in view["before"]],
            name=calendar.year_label(fiscal_year - 1),
            mode="lines+markers",
            line={"dash": "dot"},
        )
    return (
        euro_layout(months, "Ingresos, gastos y resultado por mes"),
        euro_layout(cumulative_result, "Resultado acumulado frente al año anterior"),
    )


@st.cache_resource(ttl=3600, max_entries=256, show_spinner=False)
def expense_figure(
    store_root: str, company: str, snapshot_id: str, spec: tuple, people: tuple, label: str, shown: tuple
) -> go.Figure | None:
    """The biggest expense accounts' chart (None when there are none), built once per store, company, snapshot id,
    period, hidden employees and column labels (``shown``: the period's and the comparison's), shared read-only."""
    top = expenses_view(store_root, company, snapshot_id, spec, people, label)
    return None if top.empty else expense_chart(top, *shown)
