"""Streamlit pieces shared by the document pages (not a page): the staff download of a portal upload (audited) and
the heading of a requested document (label, due date, state, reason)."""

from __future__ import annotations

from datetime import date

import streamlit as st
from sqlalchemy.engine import Engine

from portal import fmt
from portal.settings import Settings
from services import documents, requests
from views import _ui

STATE_COLORS = {"pendiente": "orange", "entregado": "blue", "aceptado": "green", "rechazado": "red"}


def staff_download(
    engine: Engine,
    settings: Settings,
    user: dict,
    company: str,
    document_id: int,
    direction: str,
    *,
    label: str,
    key: str,
) -> None:
    """A staff «Descargar» of one portal upload; the click audits document_download (staff never mark client reads)."""
    found = documents.read_document(engine, settings, company, f"portal:{document_id}", direction=direction)
    if found is None:
        st.caption("El archivo de este documento no está disponible.")
        return

    def build() -> bytes:
        documents.record_download(engine, user, "staff", company, found, mark=False)
        return found.content

    st.download_button(
        label,
        build,
        file_name=found.download_name,
        mime=found.media_type,
        icon=":material/download:",
        on_click="ignore",
        key=key,
    )


def item_heading(item: requests.Item, today: date):
    """A requested document's label, due date (late when pending past it), state badge and rejection reason; the
    left column, where the page adds what it does with the item."""
    left, right = st.columns([3, 1])
    left.markdown(f"**{_ui.plain(item.label)}**")
    late = item.state in requests.TO_DELIVER and item.due_date < today
    left.caption(f"Fecha límite: {fmt.date_es(item.due_date)}" + (" · fuera de plazo" if late else ""))
    right.badge(item.state_label, color=STATE_COLORS[item.state])
    if item.state == "rechazado":
        left.warning(_ui.plain(f"Rechazado: {item.reason}"))
    return left
