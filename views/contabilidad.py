"""Diario (client): the guard first, then the journal lines of the company's published snapshot, newest first, a
page at a time, with their count and entry type."""

from __future__ import annotations

from datetime import date

import pandas as pd
import streamlit as st

from auth import access
from etl.store import Store
from portal import fmt
from reports import journal
from views import _accounting, _client, _ui
from views._journal import entry_count, latest_entries

MODULE = "contabilidad"
DENIED = "No tiene acceso a estos datos."


def shown_text(count: int, page: int, pages: int, page_size: int) -> str:
    """'Se muestran los 3 apuntes …', or which lines of how many on a page of several."""
    if pages <= 1:
        return f"Se muestran los {fmt.integer(count)} apuntes que cumplen el filtro, del más reciente al más antiguo."
    first, last = (page - 1) * page_size + 1, min(page * page_size, count)
    return (
        f"Apuntes {fmt.integer(first)} a {fmt.integer(last)} de {fmt.integer(count)} que cumplen el filtro, del más "
        f"reciente al más antiguo (página {fmt.integer(page)} de {fmt.integer(pages)}: elija otra para ver más)."
    )


def filters(first: date | None, last: date | None) -> tuple[str, date | None, date | None]:
    """The text filter and the date range (within the data's dates) the user chose."""
    text = st.text_input("Buscar en el concepto o por cuenta", max_chars=journal.MAX_TEXT)
    period = ()
    if first and last:
        period = st.date_input("Fechas", value=(first, last), min_value=first, max_value=last, format="DD/MM/YYYY")
    start = period[0] if len(period) > 0 else None
    end = period[1] if len(period) > 1 else None
    return text.strip(), start, end


user = _client.require_client()
settings = _ui.settings()
engine = _client.engine_of(settings)
st.title("Diario")
with _ui.errors_shown():
    company = _client.current_company(engine, user)
    try:
        access.guard(engine, user, company or "", MODULE)  # before anything of the company is read
    except access.AccessDenied:
        st.warning(DENIED)
        st.stop()
    snapshot = Store(settings.stores).current(company)
    _client.show_stamp(settings, engine, user, company, snapshot)
    if snapshot is None:
        st.info("Todavía no hay datos contables publicados de esta empresa.")
        st.stop()
    if not journal.has_entries(snapshot):
        st.info(_accounting.NO_ENTRIES)
        st.stop()
    st.subheader("Últimos asientos")
    text, start, end = filters(*journal.data_dates(snapshot))
    hide = _accounting.redaction_of(settings, engine, user, company, snapshot)
    read = (str(settings.stores), company, snapshot.snapshot_id, text, start, end, hide.people, hide.label)
    count = entry_count(*read)
    size = journal.PAGE_SIZE
    pages = max(1, -(-count // size))
    page = 1
    if pages > 1:  # a new filter is a new key: back to the first (newest) page
        page = int(
            st.number_input(
                f"Página (de {fmt.integer(pages)})",
                min_value=1,
                max_value=pages,
                value=1,
                step=1,
                key=f"diario-pagina-{company}-{snapshot.snapshot_id}-{text}-{start}-{end}",
            )
        )
    frame = latest_entries(*read, page, size) if count else pd.DataFrame()
    if frame.empty:
        st.info("No hay apuntes que cumplan el filtro.")
    else:
        _accounting.show_table(journal.display_rows(frame), amounts=("Debe", "Haber"))
        st.caption(shown_text(count, page, pages, size))
        st.download_button(  # deferred: the CSV of these rows (this company's snapshot, redacted) is built on click
            "Descargar CSV (Excel)" if pages == 1 else "Descargar CSV (Excel) de esta página",
            lambda: journal.to_csv(frame),
            file_name=f"asientos-{company}-{snapshot.snapshot_id[:8]}" + (f"-p{page}" if pages > 1 else "") + ".csv",
            mime="text/csv",
            icon=":material/download:",
            on_click="ignore",
            key=f"csv-asientos-{company}-{snapshot.snapshot_id}",
        )
