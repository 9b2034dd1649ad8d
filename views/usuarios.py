"""Usuarios del portal (staff): client users at a glance, creation without passwords, editing and account actions."""

from __future__ import annotations

import streamlit as st

from auth import access, accounts
from portal.db import get_engine
from portal.errors import PortalError
from views import _mfa, _staff, _ui

DATE_FORMAT = "DD/MM/YYYY"
ATTEMPTS_HELP = "Intentos fallidos seguidos que se permiten antes de bloquear la cuenta (de 1 a 20)."


def new_user_form(settings, engine, client_codes: list[str], actor: str) -> None:
    """A client user with no password: the user chooses it through the e-mailed one-time link."""
    with st.form("nuevo_usuario"):
        st.subheader("Nuevo usuario")
        st.caption("El usuario elige su contraseña con el enlace que recibe por correo: el despacho nunca la ve.")
        username = st.text_input(
            "Código de usuario", key="nuevo-codigo", help="Es el usuario con el que inicia sesión."
        )
        name = st.text_input("Nombre", key="nuevo-nombre")
        email = st.text_input("Correo del usuario", key="nuevo-correo", help="Donde recibe su usuario y el enlace.")
        office = st.text_input("Correo de contacto del despacho", key="nuevo-despacho")
        client = st.selectbox("Cliente", client_codes, key="nuevo-cliente")
        expires = st.date_input(
            "Fecha de caducidad (opcional, dd/mm/aaaa)", value=None, format=DATE_FORMAT, key="nuevo-caduca"
        )
        attempts = st.number_input("Intentos fallidos permitidos", 1, 20, 5, key="nuevo-intentos", help=ATTEMPTS_HELP)
        send = st.checkbox("Enviar credenciales por correo", value=True, key="nuevo-enviar")
        if st.form_submit_button("Crear usuario", icon=":material/person_add:"):
            with _ui.errors_shown():
                access.create_client_user(
                    engine,
                    username,
                    client_code=client,
                    email=email,
                    office_email=office,
                    name=name,
                    max_attempts=int(attempts),
                    expires_on=expires,
                    actor=actor,
                )
                login = username.strip().lower()
                _ui.flash(f"Usuario {login} creado.")
                if send:
                    send_credentials(settings, engine, login, actor, done=f"Usuario {login} creado")
                st.rerun()


def send_credentials(settings, engine, username: str, actor: str, *, done: str = "") -> None:
    """E-mail the activation link; a failure becomes the flash message (Spanish, from the mail server's answer)."""
    try:
        posted = accounts.send_credentials(settings, engine, username, actor=actor)
    except PortalError as exc:
        lead = f"{done}, pero no" if done else "No"
        _ui.flash(f"{lead} se pudo enviar el correo a {username}: {exc}", "error")
        return
    lead = f"{done + '. ' if done else ''}"
    if posted.sent:
        _ui.flash(f"{lead}Credenciales enviadas a {username}.")
    else:
        _ui.flash(f"{lead}{accounts.queued_notice(posted)}", "warning")


def edit_form(engine, person: dict, client_codes: list[str], actor: str) -> None:
    """The same fields as the creation form, prefilled; only what changed is saved."""
    login = person["username"]
    with st.form(f"editar-{login}"):
        st.subheader(f"Modificar {login}")
        name = st.text_input("Nombre", person["name"], key=f"ed-nombre-{login}")
        email = st.text_input("Correo del usuario", person["email"], key=f"ed-correo-{login}")
        office = st.text_input("Correo de contacto del despacho", person["office_email"], key=f"ed-despacho-{login}")
        client = st.selectbox(
            "Cliente",
            client_codes,
            index=client_codes.index(person["client"]) if person["client"] in client_codes else None,
            placeholder="Sin cliente",
            key=f"ed-cliente-{login}",
            help="Al cambiar de cliente, el usuario pierde todos sus módulos.",
        )
        expires = st.date_input(
            "Fecha de caducidad (opcional, dd/mm/aaaa)",
            person["expires_on"],
            format=DATE_FORMAT,
            key=f"ed-caduca-{login}",
        )
        remove_expiry = person["expires_on"] is not None and st.checkbox(
            "Quitar la fecha de caducidad", key=f"ed-sincad-{login}"
        )
        attempts = st.number_input(
            "Intentos fallidos permitidos",
            1,
            20,
            int(person["max_attempts"]),
            key=f"ed-intentos-{login}",
            help=ATTEMPTS_HELP,
        )
        if st.form_submit_button("Guardar cambios", icon=":material/save:"):
            wanted = {
                "name": name.strip(),
                "email": email.strip(),
                "office_email": office.strip(),
                "max_attempts": int(attempts),
                "expires_on": None if remove_expiry else expires,
            }
            if client is not None:
                wanted["client_code"] = client
            changed = {k: v for k, v in wanted.items() if v != person[k if k != "client_code" else "client"]}
            if not changed:
                st.info("No hay cambios que guardar.")
                return
            with _ui.errors_shown():
                access.update_client_user(engine, login, actor=actor, **changed)
                _ui.flash(f"Usuario {login} modificado.")
                st.rerun()


def actions(settings, engine, person: dict, actor: str) -> None:
    """Desbloquear, Reenviar credenciales, Cerrar sesiones, Desactivar / Reactivar: each with its flash message."""
    login = person["username"]
    unlock, resend, logout, toggle = st.columns(4)
    with _ui.errors_shown():
        if unlock.button("Desbloquear", icon=":material/lock_open:", disabled=not person["state"].startswith("bloq")):
            accounts.unlock_user(engine, login, actor=actor)
            _ui.flash(f"Usuario {login} desbloqueado.")
            st.rerun()
        if resend.button("Reenviar credenciales", icon=":material/mail:", disabled=not person["active"]):
            send_credentials(settings, engine, login, actor)
            st.rerun()
        if logout.button("Cerrar sesiones", icon=":material/logout:"):
            accounts.force_logout(engine, login, actor=actor)
            _ui.flash(f"Cerradas las sesiones de {login}: tendrá que volver a iniciar sesión.")
            st.rerun()
        label, icon = ("Desactivar", ":material/block:") if person["active"] else ("Reactivar", ":material/check:")
        if toggle.button(label, icon=icon):
            accounts.set_user_active(engine, login, not person["active"], actor=actor)
            what = "desactivado (sus sesiones se han cerrado)" if person["active"] else "reactivado"
            _ui.flash(f"Usuario {login} {what}.")
            st.rerun()


user = _ui.require_user("staff")
settings = _ui.settings()
engine = get_engine(settings.db_url)
st.title("Usuarios del portal")
_ui.show_flash()
with _ui.errors_shown():
    people = _staff.client_users(engine)
    client_codes = [c["code"] for c in access.list_clients(engine)]
    query = st.text_input("Buscar", placeholder="Código, nombre, correo o cliente")
    rows = _staff.user_rows(people, query)
    if rows:
        st.dataframe(rows, hide_index=True)
    else:
        st.info("No hay usuarios de clientes." if not people else "Ningún usuario coincide con la búsqueda.")
    if client_codes:
        new_user_form(settings, engine, client_codes, user["username"])
    else:
        st.info("Cree antes un cliente en «Clientes y empresas» para darle usuarios.")
    shown = {p["username"]: p for p in people if p["username"] in {r["Usuario"] for r in rows}}
    if shown:
        st.subheader("Usuario seleccionado")
        chosen = st.selectbox("Usuario", list(shown), format_func=lambda u: _staff.user_label(shown[u]))
        st.caption(f"Estado: {shown[chosen]['state']}")
        actions(settings, engine, shown[chosen], user["username"])
        _mfa.staff_controls(settings, engine, shown[chosen], actor=user["username"])
        edit_form(engine, shown[chosen], client_codes, user["username"])
