"""Contabilidad (client): the guard first, then the latest journal entries of the company's published snapshot."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import streamlit as st

from auth import access
from etl.store import Store
from reports import journal
from reports.redaction import Redaction
from views import _accounting, _client, _ui

MODULE = "contabilidad"
DENIED = "No tiene acceso a estos datos."


@st.cache_data(ttl=3600, max_entries=256, show_spinner=False)
def latest_entries(
    store_root: str,
    company: str,
    snapshot_id: str,
    text: str,
    date_from: date | None,
    date_to: date | None,
    people: tuple = (),
    label: str = "",
) -> pd.DataFrame:
    """Cached per store, company, snapshot id and the user's hidden employees (all hashed: a new publication,
    another company or another user's redaction never hits)."""
    snapshot = Store(Path(store_root)).snapshot(company, snapshot_id)
    hide = Redaction(people, label) if people else None
    return journal.recent_entries(
        snapshot, limit=200, text=text or None, date_from=date_from, date_to=date_to, hide=hide
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
st.title("Contabilidad")
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
    st.subheader("Últimos asientos")
    text, start, end = filters(*journal.data_dates(snapshot))
    hide = _accounting.redaction_of(settings, engine, user, company, snapshot)
    frame = latest_entries(
        str(settings.stores), company, snapshot.snapshot_id, text, start, end, hide.people, hide.label
    )
    if frame.empty:
        st.info("No hay apuntes que cumplan el filtro.")
    else:
        st.dataframe(journal.display_rows(frame), hide_index=True)
        st.caption(f"Se muestran los {len(frame)} apuntes más recientes que cumplen el filtro.")
        st.download_button(  # deferred: the CSV of these rows (this company's snapshot, redacted) is built on click
            "Descargar CSV (Excel)",
            lambda: journal.to_csv(frame),
            file_name=f"asientos-{company}-{snapshot.snapshot_id[:8]}.csv",
            mime="text/csv",
            icon=":material/download:",
            on_click="ignore",
            key=f"csv-asientos-{company}-{snapshot.snapshot_id}",
        )
