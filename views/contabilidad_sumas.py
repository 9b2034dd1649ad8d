"""Sumas y saldos (client): the trial balance at a date at 3-digit, 4-digit or full account level, with totals."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from portal import fmt
from reports import export, journal
from reports.redaction import Redaction
from reports.trial_balance import trial_balance
from views import _accounting, _ui


@st.cache_data(ttl=3600, max_entries=256, show_spinner=False)
def cached_trial_balance(
    store_root: str, company: str, snapshot_id: str, as_of, level: str, people: tuple = (), label: str = ""
):
    """Cached per store, company, snapshot id and the user's hidden employees (all hashed): accounts named after
    them read the label."""
    snapshot = _accounting._snapshot(store_root, company, snapshot_id)
    return trial_balance(snapshot, as_of, level=level, hide=Redaction(people, label))


books = _accounting.open_books("Sumas y saldos")
with _ui.errors_shown():
    first, last = _accounting.data_dates(books)
    left, right = st.columns(2)
    as_of = left.date_input(
        "Fecha",
        value=last,
        min_value=first,
        max_value=max(last, books.calendar.end(books.calendar.year_of(last))),
        format="DD/MM/YYYY",
        key=books.widget_key("sumas-date"),
    )
    level = right.radio(
        "Nivel",
        list(_accounting.LEVELS),
        format_func=_accounting.LEVELS.get,
        horizontal=True,
        index=2,
        key=books.widget_key("sumas-level"),
    )
    trial = cached_trial_balance(*books.key, as_of, level, books.redaction.people, books.redaction.label)
    st.caption(
        _ui.plain(
            f"Ejercicio {books.calendar.year_label(trial.fiscal_year)} hasta el {fmt.date_es(as_of)} "
            "(sin el asiento de cierre de ese día)"
        )
    )
    rows = pd.DataFrame(
        {
            "Cuenta": trial.rows["account"],
            "Nombre": trial.rows["name"],
            "Debe": [fmt.money(v) for v in trial.rows["debit"]],
            "Haber": [fmt.money(v) for v in trial.rows["credit"]],
            "Saldo": [fmt.money(v) for v in trial.rows["balance"]],
        }
    )
    totals = pd.DataFrame(
        [
            {
                "Cuenta": "",
                "Nombre": "TOTAL",
                "Debe": fmt.money(trial.total_debit),
                "Haber": fmt.money(trial.total_credit),
                "Saldo": fmt.money(trial.total_balance),
            }
        ]
    )
    _accounting.show_table(pd.concat([rows, totals], ignore_index=True))
    if not journal.has_entries(books.snapshot):
        st.caption(
            "Contabilidad cargada desde balances de sumas y saldos: las sumas de cada periodo son las variaciones de "
            "los saldos entre un balance y el anterior, no las sumas brutas de los archivos."
        )
    if trial.total_balance == 0:
        st.success(_ui.plain(f"Sumas iguales: debe y haber suman {fmt.money(trial.total_debit)}."))
    else:
        st.error(_ui.plain(f"Las sumas no cuadran: debe − haber = {fmt.money(trial.total_balance)}."))
    table = export.trial_balance_table(trial)
    _accounting.downloads(
        books,
        "sumas-saldos",
        table,
        {"Sumas y saldos": table},
        title=f"Sumas y saldos a {fmt.date_es(as_of)} ({_accounting.LEVELS[level]})",
    )
