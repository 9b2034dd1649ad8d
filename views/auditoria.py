"""Auditoría (staff): the audit log filtered by user, company, event and dates, and its CSV export."""

from __future__ import annotations

from datetime import timedelta

import streamlit as st

from etl import service
from portal import audit, clock, fmt
from portal.db import get_engine
from views import _staff, _ui

LIMIT = 1000
DATE_FORMAT = "DD/MM/YYYY"

_ui.require_user("staff")
settings = _ui.settings()
engine = get_engine(settings.db_url)
st.title("Auditoría")
with _ui.errors_shown():
    today = clock.today_madrid()
    who, company_col, event_col = st.columns(3)
    person = who.text_input("Usuario", placeholder="Código exacto: quien lo hizo o a quien afecta")
    codes = [s.code for s in service.company_statuses(settings)]
    company = company_col.selectbox("Empresa", codes, index=None, placeholder="Todas")
    event = event_col.selectbox(
        "Evento", list(audit.EVENTS), index=None, format_func=audit.EVENTS.get, placeholder="Todos"
    )
    since_col, until_col = st.columns(2)
    since = since_col.date_input("Desde", today - timedelta(days=30), format=DATE_FORMAT)
    until = until_col.date_input("Hasta", today, format=DATE_FORMAT)
    found = audit.entries(
        engine,
        about=person.strip().lower() or None,
        company=company,
        event=event,
        since=since,
        until=until,
        limit=LIMIT,
    )
    rows = _staff.audit_rows(found)
    if len(found) == LIMIT:
        st.warning(f"Se muestran los {fmt.integer(LIMIT)} eventos más recientes: acote los filtros para ver el resto.")
    if rows:
        st.caption(f"{fmt.integer(len(rows))} evento{'s' if len(rows) != 1 else ''}, del más reciente al más antiguo.")
        st.dataframe(rows, hide_index=True)
    else:
        st.info("Ningún evento coincide con los filtros.")
    st.download_button(
        "Descargar CSV",
        _staff.audit_csv(rows),
        file_name="auditoria.csv",
        mime="text/csv",
        icon=":material/download:",
    )
