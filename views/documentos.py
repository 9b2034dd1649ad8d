"""Documentos (client): the firm's documents by category and year, «Nuevo» marks, audited downloads, and sending."""

from __future__ import annotations

import importlib.util
import math

import pandas as pd
import streamlit as st

from auth import access
from etl.store import Store
from portal import fmt
from services import documents
from views import _accounting, _client, _ui

DENIED = "No tiene acceso a estos datos."
ALL_CATEGORIES, ALL_YEARS = "", 0  # the «Todas» / «Todos» choices (plain values: AppTest keeps them)
ALL_CATEGORIES_LABEL, ALL_YEARS_LABEL = "Todas", "Todos"  # la categoría, el año
TABS = ["Documentos del despacho", "Enviar al despacho"]
UPLOAD_KEY = "documentos-envio-n"  # bumped after a sent file so the uploader starts empty
# st.pdf needs the optional streamlit-pdf component; without it the page offers the download only.
CAN_PREVIEW = importlib.util.find_spec("streamlit_pdf") is not None


def document_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """The document list in Spanish (plain cells: nothing here is rendered as HTML)."""
    return pd.DataFrame(
        {
            "": ["Nuevo" if n else "" for n in frame["is_new"]],
            "Fecha": [fmt.date_es(d) for d in frame["date"]],
            "Categoría": [documents.CATEGORIES[c] for c in frame["category"]],
            "Título": frame["title"].tolist(),
            "Archivo": frame["file_name"].tolist(),
            "Tamaño": [fmt.file_size(s) for s in frame["size"]],
        },
        columns=["", "Fecha", "Categoría", "Título", "Archivo", "Tamaño"],
    )


def download(key: str) -> None:
    """«Descargar» of one document; building the file (the click) audits document_download and marks it read."""
    found = documents.read_document(engine, settings, company, key, snapshot)
    if found is None:
        st.caption("Este documento ya no está disponible.")
        return

    def build() -> bytes:
        documents.record_download(engine, user, "client", company, found)
        return found.content

    st.download_button(
        "Descargar",
        build,
        file_name=found.download_name,
        mime=found.media_type,
        icon=":material/download:",
        on_click="ignore",
        key=f"documento-descargar-{company}-{key}",
    )
    if found.media_type != "application/pdf":
        return
    if not CAN_PREVIEW:
        st.caption("La vista previa no está disponible en este servidor: descargue el documento para abrirlo.")
    elif st.toggle("Vista previa", key=f"documento-vista-{company}"):  # one switch: it stays on across documents
        documents.record_download(engine, user, "client", company, found)
        st.pdf(found.content, height=600, alt=found.title)


def browse(frame: pd.DataFrame) -> None:
    """Filters (category, year, name), the list with «Nuevo», and the chosen document's download and preview."""
    new = int(frame["is_new"].sum())
    if new:
        st.caption(f"{fmt.integer(new)} {'documento nuevo' if new == 1 else 'documentos nuevos'} sin abrir.")
    left, middle, right = st.columns([1, 1, 2])
    category = left.selectbox(
        "Categoría",
        [ALL_CATEGORIES, *documents.CATEGORIES],
        format_func=lambda c: ALL_CATEGORIES_LABEL if c == ALL_CATEGORIES else documents.CATEGORIES[c],
        key=f"documentos-categoria-{company}",
    )
    years = sorted({int(y) for y in frame["year"]}, reverse=True)
    year = middle.selectbox(
        "Año",
        [ALL_YEARS, *years],
        format_func=lambda y: ALL_YEARS_LABEL if y == ALL_YEARS else str(y),
        key=f"documentos-year-{company}",
    )
    text = right.text_input("Buscar por nombre", max_chars=100, key=f"documentos-buscar-{company}")
    shown = documents.search(frame, category=category or None, year=year or None, text=text)
    if shown.empty:
        st.info("No hay documentos con estos filtros.")
        return
    _accounting.show_table(document_rows(shown))
    labels = {
        k: f"{'[Nuevo] ' if n else ''}{t} · {fmt.date_es(d)}"
        for k, n, t, d in zip(shown["key"], shown["is_new"], shown["title"], shown["date"], strict=True)
    }
    chosen = f"documentos-elegido-{company}"
    if st.session_state.get(chosen) in labels:
        # The browser holds the label it was shown: set the choice again so it shows this run's label (a document
        # opened since loses its «[Nuevo]») and the choice itself stays put.
        st.session_state[chosen] = st.session_state[chosen]
    key = st.selectbox("Documento", list(labels), format_func=labels.get, key=chosen)
    download(key)


def send() -> None:
    """The form to send a document to the firm's inbox of this company (checked before anything is stored)."""
    st.caption(
        f"Se admiten {documents.ALLOWED_TEXT}, de hasta {fmt.number(settings.upload_max_mb, 0)} MB y "
        f"{fmt.integer(settings.upload_max_files)} documentos al día."
    )
    round_ = st.session_state.get(UPLOAD_KEY, 0)
    uploaded = st.file_uploader(
        "Documento para el despacho",
        max_upload_size=max(1, math.ceil(settings.upload_max_mb)),
        key=f"documentos-archivo-{company}-{round_}",
    )
    category = st.selectbox(
        "Categoría del envío",
        list(documents.CATEGORIES),
        index=list(documents.CATEGORIES).index("otros"),
        format_func=documents.CATEGORIES.get,
        key=f"documentos-envio-categoria-{company}",
    )
    title = st.text_input("Descripción (opcional)", max_chars=documents.MAX_TITLE, key=f"documentos-titulo-{company}")
    if st.button("Enviar al despacho", icon=":material/send:", key=f"documentos-enviar-{company}"):
        if uploaded is None:
            st.warning("Elija primero el documento que quiere enviar.")
            return
        try:
            documents.store(
                engine,
                settings,
                company=company,
                direction="client",
                name=uploaded.name,
                content=uploaded.getvalue(),
                actor=str(user["username"]),
                actor_role="client",
                category=category,
                title=title,
            )
        except documents.UploadRejected as exc:
            st.error(_ui.plain(str(exc)))
            return
        st.session_state[UPLOAD_KEY] = round_ + 1
        _ui.flash(f"Documento «{uploaded.name}» enviado al despacho.")
        st.rerun()
    sent = documents.uploads(engine, company, "client")
    if sent:
        st.markdown("**Enviados al despacho**")
        rows = pd.DataFrame(
            {
                "Enviado": [documents.uploaded_at_text(r["uploaded_at"]) for r in sent],
                "Descripción": [r["title"] for r in sent],
                "Archivo": [r["file_name"] for r in sent],
                "Por": [r["uploaded_by"] for r in sent],
            }
        )
        _accounting.show_table(rows)


user = _client.require_client()
settings = _ui.settings()
engine = _client.engine_of(settings)
st.title("Documentos")
company = _client.current_company(engine, user)
try:
    access.guard(engine, user, company or "", "documentos")  # before anything of the company is read
except access.AccessDenied:
    st.warning(DENIED)
    st.stop()
snapshot = Store(settings.stores).current(company)
_client.show_stamp(settings, engine, user, company, snapshot)
_ui.show_flash()
with _ui.errors_shown():
    # A keyed, stateful tab bar: the rerun after sending a document (or any click) stays on the tab the user was on.
    shared, outbox = st.tabs(TABS, key=f"documentos-tab-{company}", on_change="rerun")
    with shared:
        frame = documents.list_documents(engine, user, company, snapshot)
        if frame.empty:
            st.info("El despacho todavía no ha compartido documentos con esta empresa.")
        else:
            browse(frame)
    with outbox:
        send()
