"""Public parts of the sign-in page: set a password from an e-mailed link (activation, reset) and «¿Ha olvidado…?».

Not a registered page: app.py draws these for signed-out visitors only. The token travels in the link's query
string (``?activar=<token>`` or ``?restablecer=<token>``), is checked and used once by ``auth.accounts`` and is
removed from the address as soon as the password is saved.
"""

from __future__ import annotations

import streamlit as st
from sqlalchemy.engine import Engine

from auth import accounts, signin
from auth.passwords import MAX_BYTES, MIN_CHARS
from portal.errors import PortalError
from portal.settings import Settings
from views import _ui

LINK_PARAMS = {"activar": "activation", "restablecer": "reset"}
FORGOT_KEY = "portal_forgot_open"
RESET_SENT = (
    "Si el usuario o el correo corresponden a una cuenta activa, recibirá en unos minutos un enlace para elegir "
    "una nueva contraseña. Revise también la carpeta de correo no deseado."
)
POLICY = (
    f"Use al menos {MIN_CHARS} caracteres (una frase de varias palabras es lo más fácil de recordar), sin pasar de "
    f"{MAX_BYTES} bytes. No se admiten contraseñas habituales ni su usuario, su nombre o el de su empresa."
)


def token_request() -> tuple[str, str] | None:
    """(purpose, token) when the address carries an activation or reset link; None otherwise."""
    for param, purpose in LINK_PARAMS.items():
        if param in st.query_params:
            return purpose, st.query_params.get(param) or ""
    return None


def set_password_page(settings: Settings, engine: Engine, purpose: str, token: str) -> None:
    """The form that sets the password through a one-time link, then sends the visitor to the sign-in form."""
    with st.columns([1, 2, 1])[1]:
        st.title("Portal del Cliente")
        st.subheader(settings.firm_name)
        st.markdown("**Active su cuenta: elija su contraseña**" if purpose == "activation" else "**Nueva contraseña**")
        st.caption(POLICY)
        with st.form("set_password"):
            new = st.text_input("Nueva contraseña", type="password", autocomplete="new-password")
            again = st.text_input("Repita la contraseña", type="password", autocomplete="new-password")
            submitted = st.form_submit_button("Guardar contraseña", type="primary")
        if not submitted:
            return
        if new != again:
            st.error("Las dos contraseñas no coinciden.")
            return
        try:
            if purpose == "activation":
                username = accounts.activate(settings, engine, token, new)
            else:
                username = accounts.reset_password(settings, engine, token, new)
        except PortalError as exc:  # invalid or used link, password policy: the reason, in Spanish
            st.error(_ui.plain(str(exc)))
            return
        except Exception as exc:
            _ui.show_error(exc)
            return
        st.query_params.clear()
        st.session_state[signin.NOTICE_KEY] = (
            f"Contraseña guardada. Ya puede iniciar sesión con su usuario «{username}» y la nueva contraseña."
        )
        st.rerun()


def _open_forgot() -> None:
    st.session_state[FORGOT_KEY] = True


def forgot_password(settings: Settings, engine: Engine) -> None:
    """«¿Ha olvidado su contraseña?»: asks for the user or e-mail and always answers with the same neutral notice."""
    if not st.session_state.get(FORGOT_KEY):
        st.button("¿Ha olvidado su contraseña?", type="tertiary", on_click=_open_forgot)
        return
    with st.form("forgot_password", clear_on_submit=True):
        identifier = st.text_input("Su usuario o su correo electrónico", autocomplete="username")
        sent = st.form_submit_button("Enviarme un enlace")
    if sent:
        if identifier.strip():
            with _ui.errors_shown():
                accounts.request_reset(settings, engine, identifier)
        st.success(RESET_SENT)
