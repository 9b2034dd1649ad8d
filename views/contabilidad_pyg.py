"""Pérdidas y ganancias (client): period and comparison, monthly breakdown, charts, drill-down to ledger and entry."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from portal import fmt
from reports import export, periods, statements
from views import _accounting, _ui
from views._pyg import expense_figure, monthly_figures, monthly_view

VIEWS = ["Cuenta de resultados", "Gráficos", "Mes a mes"]  # the page's tabs; the first one opens


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
    spec = _accounting.spec_of(period)
    statement = _accounting.pnl(*books.key, spec)
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
    # Lazy tabs: only the open tab's content runs and reaches the browser. The first screen is the statement; the
    # three charts (about 0.45 s of drawing in the browser, measured with bench/cold_pages.py) wait for a click.
    statement_tab, charts_tab, months_tab = st.tabs(VIEWS, key=books.widget_key("pyg-tab"), on_change="rerun")
    if statement_tab.open:
        with statement_tab:
            rows = _accounting.pnl_rows(*books.key, spec)
            rows, event = _accounting.show_statement(
                books, "pyg", rows, statement, on_select="rerun", selection_mode="single-row", key="pyg-table"
            )
            table = export.statement_table(statement)
            _accounting.downloads(
                books,
                "pyg",
                table,
                {"Pérdidas y ganancias": table, "Mensual": monthly_view(*books.key, period.fiscal_year)["wide"]},
                title=f"{statement.title} · {statement.label}",
                statement=statement,
            )
            chosen = event.selection.rows if event is not None else []
            picked = rows["Código"].iloc[chosen[0]] if chosen and chosen[0] < len(rows) else None
            st.subheader("Detalle por cuentas")
            drill_down(books, statement, period, picked)
    if charts_tab.open:
        with charts_tab:
            st.subheader("Mayores gastos")
            hidden, shown = books.redaction, (statement.label, statement.prior_label)
            figure = expense_figure(*books.key, spec, hidden.people, hidden.label, shown)
            if figure is None:
                st.info("No hay gastos del grupo 6 en este periodo.")
            else:
                st.plotly_chart(figure, width="stretch")
            st.subheader("Evolución mensual")
            left, right = st.columns(2)
            for column, figure in zip((left, right), monthly_figures(*books.key, period.fiscal_year), strict=True):
                column.plotly_chart(figure, width="stretch")
    if months_tab.open:
        with months_tab:
            wide = monthly_view(*books.key, period.fiscal_year)["wide_shown"]
            _accounting.show_table(wide, hidden=("Código",), height="content")
