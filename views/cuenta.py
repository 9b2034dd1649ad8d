"""Mi cuenta: the user's data, open sessions and recent sign-ins, second factor, e-mail notices, password change."""

from __future__ import annotations

import time

import pandas as pd
import streamlit as st

from auth import accounts, sessions, signin
from auth.passwords import MAX_BYTES, MIN_CHARS
from portal import audit, fmt
from portal.errors import PortalError
from services import notify
from views import _client, _mfa, _tables, _ui

CHANGED = "Contraseña cambiada. Las demás sesiones abiertas con su usuario se han cerrado; esta sigue abierta."
CHANGED_KEY = "cuenta_changed_at"  # when this session changed its password: CHANGED shows for a while after
CHANGED_SHOWN_SECONDS = 120
RECENT_SIGN_INS = 15


def end_session(session_id: int) -> None:
    """«Cerrar» on one of the user's other sessions: it ends at its next click."""
    if sessions.revoke_user_session(engine, user["id"], session_id):
        audit.record(engine, "sessions_revoked", actor=user["username"], actor_role=user["role"], detail="una sesión")


def end_other_sessions() -> None:
    """«Cerrar todas las demás sesiones»: every session of the user but this one."""
    accounts.end_other_sessions(engine, user, keep_session_id=this_session)


def sessions_table() -> None:
    """The user's open sessions (browser, started, last activity), each other one with its «Cerrar» button."""
    st.subheader("Sesiones abiertas")
    rows = sessions.active(settings, engine, user["id"])
    for row in rows:
        left, right = st.columns([4, 1], vertical_alignment="center")
        left.markdown(
            _ui.plain(
                f"{sessions.describe_agent(row['user_agent'])} · iniciada el {fmt.datetime_es(row['created_at'])} · "
                f"última actividad {fmt.datetime_es(row['last_seen_at'])}"
            )
        )
        if row["id"] == this_session:
            right.caption("Esta sesión")
        else:
            right.button("Cerrar", key=f"cuenta_cerrar_{row['id']}", on_click=end_session, args=(row["id"],))
    if len(rows) > 1:
        st.button("Cerrar todas las demás sesiones", on_click=end_other_sessions)


def recent_sign_ins() -> None:
    """The user's latest sign-ins and refused attempts (from the audit log)."""
    st.subheader("Inicios de sesión recientes")
    events = [
        e
        for kind in ("sign_in_ok", "sign_in_failed")
        for e in audit.entries(engine, about=user["username"], event=kind, limit=RECENT_SIGN_INS)
    ]
    events.sort(key=lambda e: (e["at"], e["id"]), reverse=True)
    if not events:
        st.caption("Todavía no hay inicios de sesión registrados.")
        return
    table = pd.DataFrame(
        {
            "Fecha y hora": [fmt.datetime_es(e["at"]) for e in events[:RECENT_SIGN_INS]],
            "Resultado": ["Correcto" if e["event"] == "sign_in_ok" else "Fallido" for e in events[:RECENT_SIGN_INS]],
        }
    )
    _tables.show(table, [], hide_index=True, width="stretch")


user = _ui.require_signed_in()
settings = _ui.settings()
engine = _client.engine_of(settings)
this_session = st.session_state.get(signin.SESSION_KEY)
st.title("Mi cuenta")
if time.monotonic() - st.session_state.get(CHANGED_KEY, -CHANGED_SHOWN_SECONDS) < CHANGED_SHOWN_SECONDS:
    st.success(CHANGED)
if user["role"] == "client":
    company = _client.current_company(engine, user)
    if company is not None:
        with _ui.errors_shown():
            _client.show_stamp(settings, engine, user, company)
st.markdown(_ui.plain(f"Usuario: {user['username']}"))
if user["email"]:
    st.markdown(_ui.plain(f"Correo electrónico: {user['email']}"))
sessions_table()
recent_sign_ins()
st.subheader("Verificación en dos pasos")
_mfa.account_section(settings, engine, user)
if user["role"] == "client":  # the e-mail digest announces client data
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
            accounts.change_password(settings, engine, user["username"], current, new, keep_session_id=this_session)
        except PortalError as exc:  # wrong current password, policy: the reason, in Spanish
            st.error(_ui.plain(str(exc)))
        except Exception as exc:
            _ui.show_error(exc)
        else:  # this browser's session stays; every other one ends at its next click
            st.session_state[CHANGED_KEY] = time.monotonic()
            st.rerun()
