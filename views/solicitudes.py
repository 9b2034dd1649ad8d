"""Solicitudes de documentación (client): what the firm asked this company for, item by item with its due date and
state; a pending or rejected item is fulfilled by uploading to it (the same checks as sending to the inbox)."""

from __future__ import annotations

import math

import streamlit as st

from auth import access
from portal import clock, fmt
from services import documents, requests
from views import _accounting, _client, _documents, _ui

user = _client.require_client()
settings = _ui.settings()
engine = _client.engine_of(settings)
st.title("Solicitudes de documentación")
_ui.show_flash()
company = _client.current_company(engine, user)
try:
    access.guard(engine, user, company or "", requests.MODULE)  # before anything of the company is read
except access.AccessDenied:
    st.warning(_accounting.DENIED)
    st.stop()
with _ui.errors_shown():
    open_ = requests.open_requests(engine, company)
    if not open_:
        st.info("Su despacho no le ha pedido documentación de esta empresa.")
        st.stop()
    today = clock.today_madrid()
    st.caption(
        f"Se admiten {documents.ALLOWED_TEXT}, de hasta {fmt.number(settings.upload_max_mb, 0)} MB. Cada "
        "documento que suba llega al buzón del despacho, que lo revisa y lo acepta o le dice qué falta."
    )
    for request in open_:
        st.subheader(_ui.plain(request["title"]))
        if request["note"]:
            st.caption(_ui.plain(request["note"]))
        for item in request["items"]:
            with st.container(border=True):
                left = _documents.item_heading(item, today)
                if item.state not in requests.TO_DELIVER:
                    continue
                round_key = f"solicitud-ronda-{item.id}"
                uploaded = left.file_uploader(
                    "Documento",
                    max_upload_size=max(1, math.ceil(settings.upload_max_mb)),
                    key=f"solicitud-archivo-{item.id}-{st.session_state.get(round_key, 0)}",
                )
                if left.button("Entregar", key=f"solicitud-entregar-{item.id}", icon=":material/upload:"):
                    if uploaded is None:
                        left.warning("Elija primero el documento.")
                        continue
                    try:
                        requests.deliver(
                            engine,
                            settings,
                            user,
                            company,
                            item.id,
                            uploaded.name,
                            uploaded.getvalue(),
                        )
                    except (requests.RequestError, documents.UploadRejected) as exc:
                        left.error(_ui.plain(str(exc)))
                        continue
                    st.session_state[round_key] = st.session_state.get(round_key, 0) + 1
                    _ui.flash(f"«{item.label}» entregado al despacho.")
                    st.rerun()
