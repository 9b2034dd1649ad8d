"""Mayor (client): search an account by code or name, a date range, its ledger card with paging, and whole entries."""

from __future__ import annotations

import streamlit as st

from reports import ledger
from views import _accounting, _ui

books = _accounting.open_books("Mayor")
with _ui.errors_shown():
    first, last = _accounting.data_dates(books)
    text = st.text_input("Buscar cuenta por código o nombre", max_chars=60, key=books.widget_key("mayor-search"))
    found = ledger.find_accounts(books.snapshot, text, limit=200) if text.strip() else None
    if found is None:
        st.info("Escriba el principio del código (p. ej. 572) o parte del nombre de la cuenta.")
        st.stop()
    if found.empty:
        st.info("Ninguna cuenta coincide con la búsqueda.")
        st.stop()
    names = dict(zip(found["account"], found["name"], strict=True))
    account = st.selectbox(
        "Cuenta", list(names), format_func=lambda a: f"{a} · {names[a]}", key=books.widget_key(f"mayor-account-{text}")
    )
    year_start = books.calendar.start(books.calendar.year_of(last))
    left, right = st.columns(2)
    start = left.date_input(
        "Desde",
        value=max(first, year_start),
        min_value=first,
        max_value=last,
        format="DD/MM/YYYY",
        key=books.widget_key("mayor-from"),
    )
    end = right.date_input(
        "Hasta", value=last, min_value=first, max_value=last, format="DD/MM/YYYY", key=books.widget_key("mayor-to")
    )
    if end < start:
        st.warning("La fecha final es anterior a la inicial.")
        st.stop()
    _accounting.ledger_card(books, account, start, end, name="mayor")
