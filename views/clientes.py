"""Clientes y empresas (staff): the firm's clients, a form to create one, and linking them to companies with data."""

from __future__ import annotations

import streamlit as st

from auth import access
from etl import service
from portal.db import get_engine
from views import _staff, _ui


def new_client_form(engine, actor: str) -> None:
    """Code, name and NIF of a new client (the NIF is validated; the form keeps its values on an error)."""
    with st.form("nuevo_cliente"):
        st.subheader("Nuevo cliente")
        code = st.text_input("Código del cliente", help="Hasta 32 letras sin tilde, cifras, guion o guion bajo.")
        name = st.text_input("Nombre o razón social")
        nif = st.text_input("NIF", help="Opcional. Se comprueba la letra o cifra de control.")
        if st.form_submit_button("Crear cliente", icon=":material/add:"):
            with _ui.errors_shown():
                access.create_client(engine, code, name, nif, actor=actor)
                _ui.flash(f"Cliente {code.strip()} creado.")
                st.rerun()


def link_wizard(engine, clients: list[dict], names: dict[str, str], actor: str) -> None:
    """Pick a client, then link companies that have data (not yet linked) or unlink one of its companies."""
    st.subheader("Vincular empresas a un cliente")
    by_code = {c["code"]: c for c in clients}
    code = st.selectbox("Cliente", list(by_code), format_func=lambda c: f"{c} — {by_code[c]['name']}")
    linked = by_code[code]["companies"]
    st.caption("Empresas vinculadas: " + (", ".join(f"{c} — {names.get(c, c)}" for c in linked) or "ninguna"))
    free = [c for c in names if c not in linked]
    chosen = st.multiselect(
        "Empresas a vincular",
        free,
        format_func=lambda c: f"{c} — {names[c]}",
        placeholder="Elija una o varias empresas",
        key=f"vincular-{code}",
    )
    if st.button("Vincular", icon=":material/link:", disabled=not chosen):
        with _ui.errors_shown():
            for company in chosen:
                access.link_company(engine, code, company, actor=actor)
            _ui.flash(f"{code}: vinculadas {', '.join(chosen)}.")
            st.rerun()
    if linked:
        company = st.selectbox(
            "Empresa a desvincular", linked, format_func=lambda c: f"{c} — {names.get(c, c)}", key=f"desv-{code}"
        )
        st.caption("Al desvincularla, los usuarios del cliente pierden todos sus módulos en esa empresa.")
        if st.button("Desvincular", icon=":material/link_off:"):
            with _ui.errors_shown():
                access.unlink_company(engine, code, company, actor=actor)
                _ui.flash(f"{code}: desvinculada {company}.")
                st.rerun()


user = _ui.require_user("staff")
settings = _ui.settings()
engine = get_engine(settings.db_url)
st.title("Clientes y empresas")
_ui.show_flash()
with _ui.errors_shown():
    clients = access.list_clients(engine)
    query = st.text_input("Buscar", placeholder="Código, nombre, NIF o empresa")
    rows = _staff.client_rows(clients, query)
    if rows:
        st.dataframe(rows, hide_index=True)
    else:
        st.info("No hay clientes." if not clients else "Ningún cliente coincide con la búsqueda.")
    new_client_form(engine, user["username"])
    stores = {s.code: s.name for s in service.company_statuses(settings) if s.current or s.pending}
    if clients:
        link_wizard(engine, clients, stores, user["username"])
