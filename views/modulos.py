"""Módulos (staff): each company's publish mode and whether its clients see «Cuadres» (forms of their own), and per
client user and company, which modules it sees with their options."""

from __future__ import annotations

import streamlit as st

from auth import access
from etl import service
from portal.db import get_engine
from views import _staff, _ui

PUBLISH_LABELS = {"auto": "Automática tras cada carga", "manual": "Manual (cuando la publique el despacho)"}


def publish_form(settings, company, actor: str) -> None:
    """The company's publish mode, in a form of its own: saved only by its button, never by a user's modules."""
    code, modes = company.code, list(_ui.PUBLISH_MODES)
    with st.form(f"publicacion-{code}"):
        mode = st.radio(
            f"{code} — {company.name}",
            modes,
            index=modes.index(company.publish_mode) if company.publish_mode in modes else 0,
            format_func=PUBLISH_LABELS.get,
            horizontal=True,
            key=f"modo-{code}-{company.publish_mode}",  # a change made elsewhere (Cargas de datos) shows here too
        )
        if st.form_submit_button("Guardar publicación", icon=":material/save:"):
            with _ui.errors_shown():
                if mode != company.publish_mode:
                    service.set_publish_mode(settings, code, mode, actor=actor)
                _ui.flash(f"Publicación de {code}: {PUBLISH_LABELS[mode].lower()}.")
                st.rerun()


def reconciliations_form(engine, company, actor: str) -> None:
    """Whether the company's clients (with Contabilidad) see «Cuadres»: a form of its own, like the publish mode."""
    code = company.code
    visible = access.reconciliations_visible(engine, code)
    with st.form(f"cuadres-{code}"):
        wanted = st.checkbox(
            "Sus clientes con Contabilidad ven los cuadres (IVA, retenciones, bancos y cartera)",
            value=visible,
            key=f"cuadres-{code}-{visible}",
        )
        if st.form_submit_button("Guardar cuadres", icon=":material/save:"):
            with _ui.errors_shown():
                access.set_reconciliations_visible(engine, code, wanted, actor=actor)
                _ui.flash(f"Cuadres de {code}: {'visibles para sus clientes' if wanted else 'solo para el despacho'}.")
                st.rerun()


def company_form(engine, person: dict, company, held: dict[str, dict], actor: str) -> None:
    """The seven modules of one company for one user and their options (the user's grants only)."""
    login, code = person["username"], company.code
    with st.form(f"modulos-{login}-{code}"):
        st.subheader(f"{code} — {company.name}")
        checked = {
            m: st.checkbox(access.MODULE_LABELS[m], m in held, key=f"mod-{login}-{code}-{m}") for m in access.MODULES
        }
        scopes = list(access.CASE_SCOPES)
        cases = st.radio(
            "Expedientes que ve",
            scopes,
            index=scopes.index(held.get("expedientes", {}).get("cases", "both")),
            format_func=access.CASE_SCOPES.get,
            horizontal=True,
            key=f"casos-{login}-{code}",
        )
        tables = st.multiselect(
            "Tablas laborales que ve",
            list(access.LABOUR_TABLES),
            held.get("laboral", access.default_options("laboral"))["tables"],
            format_func=access.LABOUR_TABLES.get,
            placeholder="Elija las tablas",
            key=f"tablas-{login}-{code}",
        )
        if st.form_submit_button("Guardar", icon=":material/save:"):
            with _ui.errors_shown():
                access.set_grants(engine, login, code, _staff.chosen_modules(checked, cases, tables), actor=actor)
                _ui.flash(f"Módulos de {login} en {code} guardados.")
                st.rerun()


user = _ui.require_user("staff")
settings = _ui.settings()
engine = get_engine(settings.db_url)
st.title("Módulos")
st.caption("Los cambios se aplican en el siguiente clic del usuario, sin que tenga que volver a iniciar sesión.")
_ui.show_flash()
with _ui.errors_shown():
    people = {p["username"]: p for p in _staff.client_users(engine)}
    if not people:
        st.info("No hay usuarios de clientes: créelos en «Usuarios del portal».")
        st.stop()
    login = st.selectbox("Usuario", list(people), format_func=lambda u: _staff.user_label(people[u]))
    person = people[login]
    if person["client"] is None:
        st.info(f"{login} no tiene cliente: asígnele uno en «Usuarios del portal».")
        st.stop()
    codes = access.client_companies(engine, person["client"])
    if not codes:
        st.info(f"El cliente {person['client']} no tiene empresas vinculadas: vincúlelas en «Clientes y empresas».")
        st.stop()
    statuses = {s.code: s for s in service.company_statuses(settings)}
    shown = [statuses[code] for code in codes if code in statuses]
    st.header("Publicación de la contabilidad", divider="gray")
    st.caption(
        _ui.plain(f"Es de cada empresa del cliente {person['client']}: vale para todos sus usuarios, no solo {login}.")
    )
    for company in shown:
        publish_form(settings, company, user["username"])
        reconciliations_form(engine, company, user["username"])
    st.header(_ui.plain(f"Módulos de {login}"), divider="gray")
    held = _staff.grants_by_company(access.grants_of(engine, login))
    for company in shown:
        company_form(engine, person, company, held.get(company.code, {}), user["username"])
