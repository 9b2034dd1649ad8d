"""Streamlit side of signing in: the gate run on every rerun, the sign-in form and its steps, and sign-out.

Who is there is proved on every rerun by the HttpOnly session cookie of the current connection, checked against
the ``sessions`` table; ``st.session_state`` only remembers which session it belongs to, and is wiped whenever the
connection's cookie does not prove that same session (a websocket re-attached from another browser gets nothing).
The form never sets a cookie itself: a right password (and second factor) yields a one-time ticket bound to this
browser's pre-sign-in cookie, which the browser exchanges at ``/_portal/sesion`` for the session cookie.
"""

from __future__ import annotations

import base64
import html
import logging
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from urllib.parse import urlsplit

import streamlit as st
from sqlalchemy.engine import Engine

from auth import login, mfa, sessions
from auth.sessions import Session
from portal import audit
from portal.settings import Settings

log = logging.getLogger("portal.auth")

USER_KEY = "portal_user"  # the signed-in user (public fields only) for pages; rewritten by the gate on every run
SESSION_KEY = "portal_session_id"  # which server-side session this Streamlit session belongs to
NOTICE_KEY = "portal_notice"
PENDING_KEY = "portal_sign_in"  # a sign-in between its password and its second factor
PENDING_SECONDS = 300
HANDOFF_SCRIPT = "/_portal/handoff.js"
SESSION_ROUTE = "/_portal/sesion"
SIGN_OUT_ROUTE = "/_portal/salir"
SIGNED_OUT_PARAM, SIGNED_OUT_VALUE = "sesion", "cerrada"  # where the sign-out route lands: /?sesion=cerrada

FAILED = login.FAILED
SESSION_ENDED = "Su sesión ha terminado. Vuelva a iniciar sesión; si no puede, contacte con el despacho."
SIGNED_OUT = "Ha cerrado la sesión."
NO_PRE_COOKIE = (
    "Su navegador no ha enviado la cookie que protege el inicio de sesión. Permita las cookies de este sitio "
    "y vuelva a cargar la página."
)


def request_cookies() -> Mapping[str, str]:
    """The cookies the browser sent when this connection opened (never anything the page wrote afterwards)."""
    return st.context.cookies


def current_session(settings: Settings, engine: Engine) -> Session | None:
    """The gate, on every rerun: the session proved by this connection's cookie, or None (state wiped if it had one)."""
    cookies = request_cookies()
    session = sessions.check(settings, engine, cookies.get(sessions.cookie_name(settings)))
    bound = st.session_state.get(SESSION_KEY)
    if session is None:
        if bound is not None or USER_KEY in st.session_state:
            log.info("session state of a signed-in session dropped: no valid session cookie on this connection")
            forget(SESSION_ENDED)
        return None
    if bound != session.id:
        if bound is not None or USER_KEY in st.session_state:
            forget()  # what this Streamlit session held belonged to another session: keep nothing of it
        st.session_state[SESSION_KEY] = session.id
    st.session_state[USER_KEY] = session.user
    return session


def forget(notice: str | None = None) -> None:
    """Wipe the whole session state (every page's widgets and caches in it), keeping only a notice to show."""
    st.session_state.clear()
    if notice:
        st.session_state[NOTICE_KEY] = notice


# --- the sign-in page -----------------------------------------------------------------------------------------


def sign_in_page(settings: Settings, engine: Engine, *, below_form: Callable[[], None] | None = None) -> None:
    """The branded sign-in form and its next steps (second factor, enrolment, recovery codes, hand-off)."""
    notice = st.session_state.pop(NOTICE_KEY, None)
    if st.query_params.get(SIGNED_OUT_PARAM) == SIGNED_OUT_VALUE:  # back from the sign-out route
        notice = SIGNED_OUT
    with st.columns([1, 2, 1])[1]:
        brand(settings, notice)
        binding = request_cookies().get(sessions.pre_cookie_name(settings))
        pending = _pending(binding)
        if pending is None:
            _password_form(settings, engine, binding)
            if below_form is not None:
                below_form()
        elif pending["stage"] == "code":
            _code_form(settings, engine, pending, binding)
        elif pending["stage"] == "enrol":
            _enrolment_form(settings, engine, pending, binding)
        else:
            _recovery_codes(engine, pending, binding)


def _pending(binding: str | None) -> dict | None:
    """The sign-in in progress in this browser (bound to its pre-sign-in cookie, for five minutes), or None."""
    pending = st.session_state.get(PENDING_KEY)
    if pending is None:
        return None
    fresh = time.monotonic() - pending["started"] < PENDING_SECONDS
    if not fresh or not sessions.well_formed(binding) or sessions.digest(binding) != pending["binding"]:
        st.session_state.pop(PENDING_KEY, None)
        return None
    return pending


def _start_pending(step: login.Step, binding: str) -> None:
    user = step.user
    pending = {
        "user": {key: user[key] for key in ("id", "username", "name", "email", "role")},
        "stage": step.outcome,
        "binding": sessions.digest(binding),
        "started": time.monotonic(),
    }
    if step.outcome == "enrol":
        pending["secret"] = mfa.new_secret()
    st.session_state[PENDING_KEY] = pending


def _password_form(settings: Settings, engine: Engine, binding: str | None) -> None:
    with st.form("signin", clear_on_submit=False):
        st.markdown("**Iniciar sesión**")
        username = st.text_input("Usuario", autocomplete="username")
        password = st.text_input("Contraseña", type="password", autocomplete="current-password")
        submitted = st.form_submit_button("Entrar", type="primary")
    if not submitted:
        return
    if not sessions.well_formed(binding):
        st.error(NO_PRE_COOKIE)
        return
    step = login.password_step(settings, engine, username, password)
    if step.outcome == "refused":
        st.error(FAILED)
    elif step.outcome == "done":
        _hand_off(engine, step.user, binding, mfa_used=False)
    else:
        _start_pending(step, binding)
        st.rerun()


def _code_entry(key: str, label: str, submit: str, *, max_chars: int) -> str | None:
    """A one-field code form with «Cancelar» (back to the password); the code typed when submitted, else None."""
    with st.form(key, clear_on_submit=True):
        code = st.text_input(label, autocomplete="one-time-code", max_chars=max_chars)
        submitted = st.form_submit_button(submit, type="primary")
    st.button("Cancelar", type="tertiary", on_click=st.session_state.pop, args=(PENDING_KEY, None), key=f"{key}_x")
    return code if submitted else None


def _code_form(settings: Settings, engine: Engine, pending: dict, binding: str) -> None:
    st.markdown("**Verificación en dos pasos**")
    st.caption(
        "Escriba el código de 6 cifras que muestra ahora su aplicación de autenticación, o uno de sus códigos de "
        "recuperación."
    )
    code = _code_entry("signin_code", "Código de verificación", "Verificar", max_chars=32)
    if code is None:
        return
    step = login.code_step(settings, engine, pending["user"], code)
    if step.outcome == "done":
        st.session_state.pop(PENDING_KEY, None)
        _hand_off(engine, step.user, binding, mfa_used=True)
    else:
        st.error(FAILED)


def _enrolment_form(settings: Settings, engine: Engine, pending: dict, binding: str) -> None:
    user, secret = pending["user"], pending["secret"]
    st.markdown("**Active la verificación en dos pasos**")
    st.info(
        "El despacho exige un segundo factor para su usuario. Escanee este código con una aplicación de "
        "autenticación (Google Authenticator, Microsoft Authenticator, FreeOTP…) y escriba el código de 6 cifras "
        "que le muestre."
    )
    # An SVG string: st.image sends it inline as a data: URL (a PNG would be served from /media, which answers only
    # to a signed-in browser).
    st.image(mfa.qr_svg(mfa.provisioning_uri(settings, user, secret)), width=220)
    st.caption("Si no puede escanearlo, escriba esta clave en la aplicación:")
    st.code(" ".join(secret[i : i + 4] for i in range(0, len(secret), 4)), language=None)
    code = _code_entry("signin_enrol", "Código de 6 cifras", "Activar y entrar", max_chars=8)
    if code is None:
        return
    codes = login.enrolment_step(settings, engine, user, secret, code)
    if codes is None:
        st.error(FAILED)
        return
    pending.update(stage="codes", codes=codes, secret=None)
    st.rerun()


def _recovery_codes(engine: Engine, pending: dict, binding: str) -> None:
    st.success("Verificación en dos pasos activada.")
    st.warning(
        "Guarde ahora estos códigos de recuperación en un lugar seguro: cada uno sirve una sola vez para entrar si "
        "pierde el teléfono. No se volverán a mostrar."
    )
    st.code("\n".join(pending["codes"]), language=None)
    if st.button("He guardado los códigos: entrar", type="primary"):
        st.session_state.pop(PENDING_KEY, None)
        _hand_off(engine, pending["user"], binding, mfa_used=True)


def _hand_off(engine: Engine, user: dict, binding: str, *, mfa_used: bool) -> None:
    """Send the browser to exchange a one-time ticket for its HttpOnly session cookie (a new session id)."""
    ticket = sessions.issue_handoff(engine, user["id"], binding, mfa=mfa_used)
    st.info("Entrando…")
    post_from_browser(SESSION_ROUTE, {"ticket": ticket, "next": _next_path()})
    st.stop()


def post_from_browser(action: str, fields: dict[str, str]) -> None:
    """Have the browser POST ``fields`` to one of the portal's routes (a fixed same-origin script does it)."""
    attributes = " ".join(f'data-{name}="{html.escape(value, quote=True)}"' for name, value in fields.items())
    st.html(
        f'<script src="{HANDOFF_SCRIPT}" data-action="{html.escape(action, quote=True)}" {attributes}></script>',
        unsafe_allow_javascript=True,
    )


def _next_path() -> str:
    """The page the visitor asked for (path only), to land on after signing in."""
    try:
        parts = urlsplit(st.context.url or "")
    except (TypeError, ValueError):
        return "/"
    path = parts.path if isinstance(parts.path, str) else "/"
    return path if path.startswith("/") and not path.startswith("//") else "/"


LOGO_TYPES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".svg": "image/svg+xml"}
MAX_LOGO_BYTES = 512 * 1024


def logo_data_url(path: object) -> str | None:
    """The firm's logo as a ``data:`` URL (drawn inline: /media answers only to a signed-in browser), or None."""
    if not path:
        return None
    logo = Path(str(path))
    kind = LOGO_TYPES.get(logo.suffix.lower())
    if kind is None or not logo.is_file() or logo.stat().st_size > MAX_LOGO_BYTES:
        return None
    return f"data:{kind};base64,{base64.b64encode(logo.read_bytes()).decode('ascii')}"


def brand(settings: Settings, notice: str | None = None) -> None:
    """The firm's logo, the portal's name and an optional notice."""
    logo = logo_data_url(getattr(settings, "firm_logo", None))
    if logo:
        st.image(logo, width=160)  # a data: URL goes inline, never through /media
    st.title("Portal del Cliente")
    st.subheader(settings.firm_name)
    if notice:
        st.info(notice)


# --- signing out ------------------------------------------------------------------------------------------------


def sign_out_button(engine: Engine, session: Session) -> None:
    """The sidebar's «Cerrar sesión»: ends this session server-side at once, then clears the browser's cookie."""
    if not st.sidebar.button("Cerrar sesión", key="signout"):
        return
    sessions.revoke(engine, session.id, "signed_out")
    audit.record(engine, "sign_out", actor=session.user["username"], actor_role=session.user["role"])
    log.info("sign-out of %r", session.user["username"])
    forget(SIGNED_OUT)
    st.info(SIGNED_OUT)
    post_from_browser(SIGN_OUT_ROUTE, {})
    st.stop()
