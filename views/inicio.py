"""Inicio (client): the company's «datos a fecha» stamp and the modules the firm has enabled for this user."""

from __future__ import annotations

import streamlit as st

from auth import access
from views import _client, _ui

AVAILABLE = {"contabilidad": "views/contabilidad.py"}  # modules that already have their page
SOON = "Disponible próximamente"
NO_MODULES = "Su despacho aún no ha activado módulos para su usuario."

user = _client.require_client()
settings = _ui.settings()
engine = _client.engine_of(settings)
st.title("Portal del Cliente")
st.markdown(_ui.plain(f"Hola, {user['name'] or user['username']}."))
with _ui.errors_shown():
    company = _client.current_company(engine, user)
    if company is None:
        st.info(NO_MODULES)
        st.stop()
    _client.show_stamp(settings, engine, company)
    st.subheader("Sus módulos")
    for module in access.modules_of(engine, user, company):
        label = access.MODULE_LABELS[module]
        if module in AVAILABLE:
            st.page_link(AVAILABLE[module], label=label, icon=":material/arrow_forward:")
        else:
            st.markdown(_ui.plain(f"{label} · {SOON}"))
