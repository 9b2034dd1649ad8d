"""Mi cuenta (client): the user's data and the password change (which ends the user's other sessions)."""

from __future__ import annotations

import time

import streamlit as st

from auth import accounts, signin
from auth.passwords import MAX_BYTES, MIN_CHARS
from portal import notify
from portal.errors import PortalError
from views import _client, _ui

CHANGED = "Contraseña cambiada. Las demás sesiones abiertas con su usuario se han cerrado; esta sigue abierta."
CHANGED_KEY = "cuenta_changed_at"  # when this session changed its password: CHANGED shows for a while after
CHANGED_SHOWN_SECONDS = 120  # long enough to outlive the reruns of the new cookie's write, however slow

user = _client.require_client()
settings = _ui.settings()
engine = _client.engine_of(settings)
st.title("Mi cuenta")
if time.monotonic() - st.session_state.get(CHANGED_KEY, -CHANGED_SHOWN_SECONDS) < CHANGED_SHOWN_SECONDS:
    st.success(CHANGED)
company = _client.current_company(engine, user)
if company is not None:
    with _ui.errors_shown():
        _client.show_stamp(settings, engine, company)
st.markdown(_ui.plain(f"Usuario: {user['username']}"))
if user["email"]:
    st.markdown(_ui.plain(f"Correo electrónico: {user['email']}"))
st.subheader("Avisos por correo")
receiving = not notify.opted_out(engine, user["id"])
wanted = st.checkbox(
    "Recibir avisos por correo",
    value=receiving,
    key="cuenta_avisos",
    help="Como máximo un correo al día cuando el despacho publique datos contables o le comparta documentos.",
)
if not user["email"]:
    st.caption("Su usuario no tiene correo electrónico: pida al despacho que lo añada para recibir los avisos.")
if wanted != receiving:
    with _ui.errors_shown():
        notify.set_opt_out(engine, user, not wanted)
        st.success("Recibirá los avisos por correo." if wanted else "Ya no recibirá avisos por correo.")
st.subheader("Cambiar la contraseña")
st.caption(
    f"Al menos {MIN_CHARS} caracteres (una frase de varias palabras es lo más fácil de recordar), sin pasar de "
    f"{MAX_BYTES} bytes. Al cambiarla se cierran sus demás sesiones abiertas."
)
with st.form("change_password", clear_on_submit=True):
    current = st.text_input("Contraseña actual", type="password", autocomplete="current-password")
    new = st.text_input("Nueva contraseña", type="password", autocomplete="new-password")
    again = st.text_input("Repita la nueva contraseña", type="password", autocomplete="new-password")
    submitted = st.form_submit_button("Cambiar la contraseña", type="primary")
if submitted:
    if new != again:
        st.error("Las dos contraseñas nuevas no coinciden.")
    else:
        try:
            accounts.change_password(settings, engine, user["username"], current, new)
        except PortalError as exc:  # wrong current password, policy: the reason, in Spanish
            st.error(_ui.plain(str(exc)))
        except Exception as exc:
            _ui.show_error(exc)
        else:
            signin.restamp_session()  # this browser's session stays; every other one ends at its next click
            st.session_state[CHANGED_KEY] = time.monotonic()
            st.rerun()
