"""Mayor (client): search an account by code or name, a date range, its ledger card with paging, and whole entries."""

from __future__ import annotations

from datetime import date

import streamlit as st

from portal import fmt
from reports import export, journal, ledger
from views import _accounting, _ui

EXCEL_MAX_ROWS = 1_048_576 - 10  # Excel's sheet limit, less the title, stamp and header rows


def whole_range_downloads(books: _accounting.Books, account: str, start: date, end: date) -> None:
    """CSV and Excel of every line of the range, not just the page shown, built only when a button is clicked.

    The closures hold the company's snapshot, the account, the dates and this user's redaction (read now), never
    the page's state: they run outside the script when the file is asked for.
    """
    snapshot, company, hide = books.snapshot, books.company, books.redaction
    name, stamp = books.name, books.stamp
    count = ledger.line_count(snapshot, account, start, end)
    if not count:
        return

    def csv_text() -> str:
        return export.to_csv_es(export.ledger_table(ledger.whole_ledger(snapshot, account, start, end, hide=hide)))

    def workbook() -> bytes:
        card = ledger.whole_ledger(snapshot, account, start, end, hide=hide)
        title = (
            f"{name} · Mayor {account} {card.name} · del {fmt.date_es(start)} al {fmt.date_es(end)}"
            f" · saldo inicial {fmt.money(card.opening)}"
        )
        return export.to_xlsx({"Mayor": export.ledger_table(card)}, title=title, stamp=stamp)

    stem = f"mayor-completo-{account}-{start:%Y%m%d}-{end:%Y%m%d}-{company}-{snapshot.snapshot_id[:8]}"
    st.caption(f"Todo el periodo elegido ({fmt.integer(count)} apuntes, todas las páginas, no solo la visible):")
    left, right = st.columns(2)
    left.download_button(
        "Descargar todo el periodo (CSV)",
        csv_text,
        file_name=f"{stem}.csv",
        mime="text/csv",
        icon=":material/download:",
        on_click="ignore",
        key=f"csv-mayor-completo-{account}",
    )
    if count > EXCEL_MAX_ROWS:
        right.caption("Demasiados apuntes para una hoja de Excel: descargue el CSV o acorte las fechas.")
        return
    right.download_button(
        "Descargar todo el periodo (Excel)",
        workbook,
        file_name=f"{stem}.xlsx",
        mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        icon=":material/table_view:",
        on_click="ignore",
        key=f"xlsx-mayor-completo-{account}",
    )


books = _accounting.open_books("Mayor")
if not journal.has_entries(books.snapshot):
    st.info(_accounting.NO_ENTRIES)
    st.stop()
with _ui.errors_shown():
    first, last = _accounting.data_dates(books)
    text = st.text_input("Buscar cuenta por código o nombre", max_chars=60, key=books.widget_key("mayor-search"))
    found = ledger.find_accounts(books.snapshot, text, limit=200, hide=books.redaction) if text.strip() else None
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
    whole_range_downloads(books, account, start, end)
