"""Pérdidas y ganancias (client): period and comparison, monthly breakdown, charts, drill-down to ledger and entry."""

from __future__ import annotations

import html
from decimal import Decimal

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from portal import fmt
from reports import export, periods, statements
from reports.redaction import Redaction
from views import _accounting, _charts, _ui

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


def drill_down(books: _accounting.Books, statement: statements.Statement, period: periods.Period, picked: str | None):
    """Statement line → its accounts → an account's ledger card for the period → an entry."""
    columns = (statement.lines[c].tolist() for c in ("line_code", "label", "kind", "amount"))
    labels = {code: label for code, label, kind, amount in zip(*columns, strict=True) if kind == "accounts" and amount}
    line_key = books.widget_key(f"pyg-line-{_accounting.spec_of(period)}")
    if picked in labels and st.session_state.get(line_key + "-picked") != picked:
        st.session_state[line_key] = picked  # a row clicked in the table chooses the line below
    st.session_state[line_key + "-picked"] = picked
    code = _accounting.coded_choice(
        "Ver las cuentas de una partida", labels, placeholder="Elija una partida (o una fila de la tabla)", key=line_key
    )
    if code is None:
        return
    accounts = statements.line_accounts(books.snapshot, "pyg", code, period=period, hide=books.redaction)
    _accounting.show_table(
        pd.DataFrame(
            {
                "Cuenta": accounts["account"],
                "Nombre": accounts["name"],
                "Importe en la partida": [fmt.money(v) for v in accounts["amount"]],
            }
        )
    )
    names = dict(zip(accounts["account"], accounts["name"], strict=True))
    account = _accounting.coded_choice(
        "Ver el mayor de una cuenta",
        names,
        placeholder="Elija una cuenta",
        key=books.widget_key(f"pyg-account-{code}-{_accounting.spec_of(period)}"),
    )
    if account is not None:
        _accounting.ledger_card(books, account, period.start, period.end, name="pyg-ledger")


books = _accounting.open_books("Pérdidas y ganancias")
with _ui.errors_shown():
    period = _accounting.period_picker(books, "pyg")
    statement = _accounting.pnl(*books.key, _accounting.spec_of(period))
    st.subheader(_ui.plain(f"{statement.title} · {statement.label}"))
    model = "PYMES" if statement.model == "pymes" else "abreviado"
    compared = f" · comparado con: {statement.prior_label}" if statement.prior_label is not None else ""
    st.caption(_ui.plain(f"Modelo del PGC: {model} (el de su empresa){compared}"))
    _, last = _accounting.data_dates(books)
    if period.start <= last < period.end:
        st.info(
            _ui.plain(
                f"Periodo abierto: hay datos hasta el {fmt.date_es(last)}. Para comparar con el mismo tramo del año "
                "anterior, elija «Año hasta la fecha»."
            )
        )
    result, prior = statement.amount(statements.PNL_RESULT), statement.prior(statements.PNL_RESULT)
    st.metric(
        "Resultado del ejercicio",
        fmt.money(result),
        delta=None if prior is None else fmt.money(result - prior),
        help=None if prior is None else f"{statement.prior_label}: {fmt.money(prior)}",
    )
    if statement.unmapped:
        st.warning(_ui.plain("Cuentas sin partida en el modelo: " + ", ".join(statement.unmapped)))
    rows = _accounting.pnl_rows(*books.key, _accounting.spec_of(period))
    rows, event = _accounting.show_statement(
        books, "pyg", rows, statement, on_select="rerun", selection_mode="single-row", key="pyg-table"
    )
    chosen = event.selection.rows if event is not None else []
    picked = rows["Código"].iloc[chosen[0]] if chosen and chosen[0] < len(rows) else None
    st.subheader("Detalle por cuentas")
    drill_down(books, statement, period, picked)
    st.subheader("Mayores gastos")
    hidden, shown = books.redaction, (statement.label, statement.prior_label)
    figure = expense_figure(*books.key, _accounting.spec_of(period), hidden.people, hidden.label, shown)
    if figure is None:
        st.info("No hay gastos del grupo 6 en este periodo.")
    else:
        st.plotly_chart(figure, width="stretch")
    st.subheader("Evolución mensual")
    view = monthly_view(*books.key, period.fiscal_year)
    left, right = st.columns(2)
    for column, figure in zip((left, right), monthly_figures(*books.key, period.fiscal_year), strict=True):
        column.plotly_chart(figure, width="stretch")
    wide = view["wide"]
    _accounting.show_table(view["wide_shown"], hidden=("Código",), height="content")
    table = export.statement_table(statement)
    _accounting.downloads(
        books,
        "pyg",
        table,
        {"Pérdidas y ganancias": table, "Mensual": wide},
        title=f"{statement.title} · {statement.label}",
        statement=statement,
    )
