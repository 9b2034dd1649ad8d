"""Balance de situación (client): any date beside the prior year-end, the assets = equity + liabilities check."""

from __future__ import annotations

import plotly.graph_objects as go
import streamlit as st

from portal import fmt
from reports import export, statements
from views import _accounting, _charts, _ui

ASSETS_SIDE, OTHER_SIDE = "Activo", "Patrimonio neto y pasivo"


def check_notice(label: str, check) -> None:
    """Assets − (equity + liabilities): 0 says so; anything else is an error naming the difference (never hidden)."""
    if check is None:
        return
    if check == 0:
        st.success(_ui.plain(f"{label}: el balance cuadra (activo = patrimonio neto + pasivo)."))
    else:
        st.error(
            _ui.plain(
                f"{label}: el balance NO cuadra. Activo − (patrimonio neto + pasivo) = {fmt.money(check)}. "
                "Avise a su despacho."
            )
        )


def structure_chart(statement: statements.Statement) -> go.Figure:
    """Stacked bars: assets by their blocks against equity and liabilities by theirs."""
    lines = statement.lines
    fig = go.Figure()
    for parent, side in ((statements.TOTAL_ASSETS, ASSETS_SIDE), (statements.TOTAL_EQUITY_LIABILITIES, OTHER_SIDE)):
        for row in lines[lines["parent"] == parent].itertuples():
            fig.add_bar(x=[side], y=[float(row.amount)], name=row.label, hovertemplate="%{y:,.2f} €")
    fig.update_layout(
        barmode="relative",
        title=f"Estructura del balance · {statement.label}",
        yaxis={"ticksuffix": " €"},
        legend={"orientation": "h"},
        margin={"t": 50, "b": 10},
    )
    return _charts.spanish(fig)


books = _accounting.open_books("Balance de situación")
with _ui.errors_shown():
    first, last = _accounting.data_dates(books)
    as_of = st.date_input(
        "Fecha del balance",
        value=last,
        min_value=first,
        max_value=max(last, books.calendar.end(books.calendar.year_of(last))),
        format="DD/MM/YYYY",
        key=books.widget_key("balance-date"),
    )
    statement = _accounting.balance(*books.key, as_of)
    st.subheader(_ui.plain(f"{statement.title} · {statement.label}"))
    if statement.prior_label is not None:
        st.caption(_ui.plain(f"Al lado: cierre del ejercicio anterior ({statement.prior_label})"))
    check_notice(statement.label, statement.check)
    check_notice(statement.prior_label or "", statement.prior_check)
    if statement.unmapped:
        st.warning(_ui.plain("Cuentas sin partida en el modelo: " + ", ".join(statement.unmapped)))
    cols = st.columns(2)
    cols[0].metric("Total activo", fmt.money(statement.amount(statements.TOTAL_ASSETS)))
    cols[1].metric("Total patrimonio neto y pasivo", fmt.money(statement.amount(statements.TOTAL_EQUITY_LIABILITIES)))
    _accounting.show_statement(books, "balance", _accounting.statement_rows(statement), statement)
    st.plotly_chart(structure_chart(statement), width="stretch")
    lines = statement.lines[(statement.lines["kind"] == "accounts") & (statement.lines["amount"] != 0)]
    labels = dict(zip(lines["line_code"], lines["label"], strict=True))
    code = _accounting.coded_choice(
        "Ver las cuentas de una partida",
        labels,
        placeholder="Elija una partida",
        key=books.widget_key(f"balance-line-{as_of}"),
    )
    if code is not None:
        accounts = statements.line_accounts(books.snapshot, "balance", code, as_of=as_of, hide=books.redaction)
        _accounting.show_table(
            _accounting.money_frame(
                accounts.rename(
                    columns={
                        "account": "Cuenta",
                        "name": "Nombre",
                        "balance": "Saldo",
                        "amount": "Importe en la partida",
                    }
                ),
                ("Cuenta", "Nombre"),
            )
        )
        names = dict(zip(accounts["account"], accounts["name"], strict=True))
        account = _accounting.coded_choice(
            "Ver el mayor de una cuenta (ejercicio hasta la fecha)",
            names,
            placeholder="Elija una cuenta",
            key=books.widget_key(f"balance-account-{code}-{as_of}"),
        )
        if account is not None:
            start = books.calendar.start(books.calendar.year_of(as_of))
            _accounting.ledger_card(books, account, start, as_of, name="balance-ledger")
    table = export.statement_table(statement)
    _accounting.downloads(
        books, "balance", table, {"Balance": table}, title=f"{statement.title} · {statement.label}", statement=statement
    )
