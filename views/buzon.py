"""Documentos y buzón (staff): a company's inbox of client-sent documents, and documents shared with the client."""

from __future__ import annotations

import pandas as pd
import sqlalchemy as sa
import streamlit as st

from portal import clock, fmt
from portal.db import companies, get_engine
from services import documents
from views import _documents, _ui

user = _ui.require_user("staff")
settings = _ui.settings()
engine = get_engine(settings.db_url)
actor = str(user["username"])
st.title("Documentos y buzón")
_ui.show_flash()


def upload_rows(rows: list[dict], who: str) -> pd.DataFrame:
    """Portal uploads as a plain table."""
    return pd.DataFrame(
        {
            "Subido": [documents.uploaded_at_text(r["uploaded_at"]) for r in rows],
            "Categoría": [documents.CATEGORIES.get(r["category"], r["category"]) for r in rows],
            "Año": [str(r["year"]) for r in rows],
            "Título": [r["title"] for r in rows],
            "Archivo": [r["file_name"] for r in rows],
            "Tamaño": [fmt.file_size(r["size"]) for r in rows],
            who: [r["uploaded_by"] for r in rows],
        }
    )


def choose(rows: list[dict], label: str, key: str) -> dict:
    """One upload picked from ``rows`` by a selectbox."""
    labels = {
        r["id"]: f"{r['title']} · {r['file_name']} · {documents.uploaded_at_text(r['uploaded_at'])}" for r in rows
    }
    chosen = st.selectbox(label, list(labels), format_func=labels.get, key=key)
    return next(r for r in rows if r["id"] == chosen)


def download(company: str, row: dict, direction: str) -> None:
    """«Descargar» of one portal upload (audited)."""
    _documents.staff_download(
        engine,
        settings,
        user,
        company,
        row["id"],
        direction,
        label="Descargar",
        key=f"buzon-descargar-{company}-{row['id']}",
    )


def withdraw(company: str, row: dict) -> None:
    """«Retirar» (soft delete) of one upload, confirmed by a checkbox."""
    sure = st.checkbox("Confirmo que quiero retirar este documento", key=f"buzon-seguro-{company}-{row['id']}")
    if st.button("Retirar", icon=":material/delete:", disabled=not sure, key=f"buzon-retirar-{company}-{row['id']}"):
        documents.delete(engine, company, row["id"], actor=actor)
        _ui.flash(f"Documento «{row['title']}» retirado.")
        st.rerun()


def inbox(company: str) -> None:
    """The documents the client sent to the firm."""
    rows = documents.uploads(engine, company, "client")
    if not rows:
        st.info("El cliente no ha enviado documentos.")
        return
    st.dataframe(upload_rows(rows, "Enviado por"), hide_index=True)
    row = choose(rows, "Documento recibido", f"buzon-recibido-{company}")
    download(company, row, "client")
    withdraw(company, row)


def shared(company: str) -> None:
    """Upload a document for the client, and the ones already shared from the portal."""
    with st.form(f"buzon-subir-{company}", clear_on_submit=True):
        uploaded = st.file_uploader("Documento para el cliente", key=f"buzon-archivo-{company}")
        left, right = st.columns(2)
        category = left.selectbox(
            "Categoría", list(documents.CATEGORIES), format_func=documents.CATEGORIES.get, key=f"buzon-cat-{company}"
        )
        this_year = clock.today_madrid().year
        year = right.number_input(
            "Año", min_value=2000, max_value=this_year + 1, value=this_year, step=1, key=f"buzon-year-{company}"
        )
        title = st.text_input("Título", max_chars=documents.MAX_TITLE, key=f"buzon-titulo-{company}")
        if st.form_submit_button("Compartir con el cliente", icon=":material/upload:"):
            if uploaded is None or not title.strip():
                st.warning("Elija un documento y escriba su título.")
            else:
                try:
                    documents.store(
                        engine,
                        settings,
                        company=company,
                        direction="firm",
                        name=uploaded.name,
                        content=uploaded.getvalue(),
                        actor=actor,
                        actor_role="staff",
                        category=category,
                        year=int(year),
                        title=title,
                    )
                except documents.UploadRejected as exc:
                    st.error(_ui.plain(str(exc)))
                else:
                    _ui.flash(f"Documento «{title.strip()}» compartido con el cliente.")
                    st.rerun()
    rows = documents.uploads(engine, company, "firm")
    if not rows:
        st.caption(
            "No hay documentos compartidos desde el portal (los de la carpeta del despacho llegan con la carga)."
        )
        return
    st.dataframe(upload_rows(rows, "Subido por"), hide_index=True)
    row = choose(rows, "Documento compartido", f"buzon-compartido-{company}")
    download(company, row, "firm")
    withdraw(company, row)


with engine.connect() as conn:
    names = dict(conn.execute(sa.select(companies.c.code, companies.c.name).order_by(companies.c.code)).all())
if not names:
    st.info("Todavía no hay empresas.")
    st.stop()
inboxes = documents.inbox_summary(engine)


def company_label(code: str) -> str:
    """'levante · Suministros Industriales Levante SL · 2 recibidos, el último 28/11/2026 10:15'."""
    label = f"{code} · {names[code] or code}"
    if code not in inboxes:
        return label
    count, latest = inboxes[code]
    received = "1 recibido" if count == 1 else f"{fmt.integer(count)} recibidos"
    return f"{label} · {received}, el último {documents.uploaded_at_text(latest)}"


codes = sorted(names, key=lambda c: (c not in inboxes, c))  # companies with documents received first
company = st.selectbox("Empresa", codes, format_func=company_label, key="buzon-empresa")
with _ui.errors_shown():
    received = len(documents.uploads(engine, company, "client"))
    st.caption(f"Buzón: {fmt.integer(received)} {'documento recibido' if received == 1 else 'documentos recibidos'}.")
    # Keyed and stateful: the rerun after sharing or withdrawing a document stays on the tab the user was on.
    tab_in, tab_out = st.tabs(
        ["Buzón del cliente", "Compartir con el cliente"], key=f"buzon-tab-{company}", on_change="rerun"
    )
    with tab_in:
        inbox(company)
    with tab_out:
        shared(company)
