"""Solicitudes de documentación (staff): ask a company for documents (a checklist with a due date per item), see
every open request across clients with each item's state, download what was delivered, accept or reject it (with
the reason the client will read) and close a request."""

from __future__ import annotations

from datetime import timedelta

import pandas as pd
import streamlit as st

from etl.store import Store
from portal import clock, fmt
from portal.db import get_engine
from services import requests
from views import _documents, _ui

user = _ui.require_user("staff")
settings = _ui.settings()
engine = get_engine(settings.db_url)
actor = str(user["username"])
st.title("Solicitudes de documentación")
_ui.show_flash()


def review(item: requests.Item) -> None:
    """Accept, or reject with a reason, one delivered item."""
    reason = st.text_input("Motivo del rechazo (lo leerá el cliente)", key=f"solicitud-motivo-{item.id}")
    accept, reject = st.columns(2)
    try:
        if accept.button("Aceptar", key=f"solicitud-aceptar-{item.id}", icon=":material/check:"):
            requests.review(engine, item.id, accept=True, actor=actor)
            _ui.flash(f"«{item.label}» aceptado.")
            st.rerun()
        if reject.button("Rechazar", key=f"solicitud-rechazar-{item.id}", icon=":material/close:"):
            requests.review(engine, item.id, accept=False, reason=reason, actor=actor)
            _ui.flash(f"«{item.label}» rechazado: el cliente verá el motivo y podrá enviarlo de nuevo.")
            st.rerun()
    except requests.RequestError as exc:
        st.error(_ui.plain(str(exc)))


with _ui.errors_shown():
    open_tab, new_tab = st.tabs(
        ["Solicitudes abiertas", "Nueva solicitud"], key="solicitudes-pestana", on_change="rerun"
    )
    with new_tab:
        codes = Store(settings.stores).companies()
        company = st.selectbox("Empresa", codes, index=None, placeholder="Elija una empresa", key="solicitud-empresa")
        title = st.text_input("Título", placeholder="Cierre del 4T 2026", key="solicitud-titulo")
        note = st.text_area("Nota para el cliente (opcional)", key="solicitud-nota")
        due = clock.today_madrid() + timedelta(days=15)
        items = st.data_editor(
            pd.DataFrame({"Documento": ["", "", ""], "Fecha límite": [due, due, due]}),
            num_rows="dynamic",
            column_config={
                "Documento": st.column_config.TextColumn(max_chars=requests.MAX_LABEL),
                "Fecha límite": st.column_config.DateColumn(format="DD/MM/YYYY"),
            },
            hide_index=True,
            key="solicitud-documentos",
        )
        if st.button("Enviar la solicitud", type="primary", key="solicitud-crear"):
            rows = [(str(r["Documento"] or ""), r["Fecha límite"]) for r in items.to_dict("records")]
            try:
                if company is None:
                    raise requests.RequestError("Elija la empresa a la que pide la documentación.")
                requests.create(engine, company, title, rows, note=note, actor=actor)
            except requests.RequestError as exc:
                st.error(_ui.plain(str(exc)))
            else:
                _ui.flash(f"Solicitud enviada a {company}: la verá en su Inicio.")
                st.rerun()
    with open_tab:
        open_ = requests.open_requests(engine)
        if not open_:
            st.markdown("No hay solicitudes abiertas.")
        today = clock.today_madrid()
        for request in open_:
            done = sum(1 for i in request["items"] if i.state == "aceptado")
            st.subheader(_ui.plain(f"{request['company_code']} · {request['title']}"))
            st.caption(
                f"Pedida el {fmt.date_es(clock.to_madrid(request['created_at']).date())} por {request['created_by']}"
                f" · {done} de {len(request['items'])} aceptados"
            )
            for item in request["items"]:
                with st.container(border=True):
                    left = _documents.item_heading(item, today)
                    if item.state == "entregado":
                        with left:
                            code = request["company_code"]
                            label, key = "Descargar lo entregado", f"solicitud-descargar-{item.id}"
                            _documents.staff_download(
                                engine, settings, user, code, item.document_id, "client", label=label, key=key
                            )
                            review(item)
            if st.button("Cerrar la solicitud", key=f"solicitud-cerrar-{request['id']}"):
                requests.close(engine, request["id"], actor=actor)
                _ui.flash("Solicitud cerrada.")
                st.rerun()
