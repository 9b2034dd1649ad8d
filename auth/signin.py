"""Streamlit sign-in: one streamlit-authenticator per run over the database's users, lockouts, revocations and audit."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import jwt
import streamlit as st
import streamlit_authenticator as stauth
from sqlalchemy.engine import Engine
from streamlit_authenticator.utilities import LoginError

from auth import users
from auth.passwords import check_password
from portal import audit
from portal.settings import Settings

log = logging.getLogger("portal.auth")

COOKIE_NAME = "portal_auth"
LIBRARY_MAX_ATTEMPTS = 1  # see users.authenticator_credentials: the database holds the real per-user maximum
USER_KEY = "portal_user"  # the signed-in user (no secrets) for pages
SIGNED_IN_AT_KEY = "portal_signed_in_at"
NOTICE_KEY = "portal_notice"
JUST_SIGNED_IN_KEY = "portal_just_signed_in"
RENEW_COOKIE_KEY = "portal_renew_cookie"  # write a fresh sign-in cookie in the next run (after a password change)
ATTEMPT_KEY = "portal_sign_in_attempt"  # the username typed in this run's submitted form (never the password)
FORM_FIELDS = {"Form name": "Iniciar sesión", "Username": "Usuario", "Password": "Contraseña", "Login": "Entrar"}
PUBLIC_FIELDS = ("id", "username", "name", "email", "role")

FAILED = (
    "No se ha podido iniciar sesión: revise el usuario y la contraseña. Tras varios intentos fallidos "
    "la cuenta se bloquea; si no consigue entrar, contacte con el despacho."
)
SESSION_ENDED = "Su sesión ha terminado. Vuelva a iniciar sesión; si no puede, contacte con el despacho."
SIGNED_OUT = "Ha cerrado la sesión."


def authenticator(settings: Settings, engine: Engine) -> tuple[stauth.Authenticate, dict]:
    """The run's only Authenticate (its cookie component has a fixed key) and the per-user entries it was given."""
    credentials = users.authenticator_credentials(engine)
    entries = dict(credentials["usernames"])  # the library mutates these inner dicts: keep a handle on them
    auth = stauth.Authenticate(
        credentials,
        COOKIE_NAME,
        settings.signing_key(),
        cookie_expiry_days=settings.cookie_expiry_days,
        auto_hash=False,
        login_sleep_time=0,
    )
    _own_password_check(auth)
    return auth, entries


def _own_password_check(auth: stauth.Authenticate) -> None:
    """Route the library's password check (streamlit-authenticator 0.4.2 internals, pinned) through ours.

    Unknown users then cost one bcrypt check like known ones (the library returns at once for them), an over-long
    password counts as a failure (the library swallows bcrypt's ValueError), and the typed username is kept for
    the audit log.
    """
    model = auth.authentication_controller.authentication_model
    library_login = model.login

    def login(username=None, password=None, *args, **kwargs):
        if username:
            st.session_state[ATTEMPT_KEY] = username
        return library_login(username, password, *args, **kwargs)

    def check_credentials(username: str, password: str) -> bool:
        entry = model.credentials["usernames"].get(username)
        if check_password(password or "", entry["password"] if entry else None):
            return True
        if entry is not None:
            model._record_failed_login_attempts(username)
        return False

    model.login = login
    model.check_credentials = check_credentials


def signed_in_user(
    settings: Settings,
    engine: Engine,
    auth: stauth.Authenticate,
    entries: dict,
    *,
    below_form: Callable[[], None] | None = None,
) -> dict | None:
    """Draw the branded sign-in form when nobody is signed in; the signed-in user's public fields, or None.

    ``below_form`` draws more of the sign-in page under the form (the «¿Ha olvidado su contraseña?» link).

    On every rerun the user is checked again against the database (exists, active, not locked, not
    expired, sessions not revoked); a session that fails is signed out and the run stops.
    """
    signed_out = not st.session_state.get("authentication_status")
    with st.columns([1, 2, 1])[1] if signed_out else st.container():
        brand = st.container()
        refused = _login(auth, engine, entries)
        if not st.session_state.get("authentication_status"):
            with brand:
                _brand(settings, st.session_state.pop(NOTICE_KEY, None))
            if refused or st.session_state.get("authentication_status") is False:
                st.error(FAILED)
            if below_form is not None:
                below_form()
            return None
        user = users.get_user(engine, st.session_state["username"])
        if users.access_problem(user) is not None or users.session_revoked(user, _signed_in_at(settings)):
            log.info("session of %r ended: account state changed", st.session_state["username"])
            end_session(auth, SESSION_ENDED)
            with brand:
                _brand(settings)
            st.stop()
        if st.session_state.pop(RENEW_COOKIE_KEY, False):
            auth.cookie_controller.set_cookie()  # issued now: after the revocation, so a reload stays signed in
    public = {key: user[key] for key in PUBLIC_FIELDS}
    st.session_state[USER_KEY] = public
    return public


def _login(auth: stauth.Authenticate, engine: Engine, entries: dict) -> bool:
    """The library's form (or cookie) sign-in; failures it counted go to the database. True if it refused a user."""
    before = {name: entry["failed_login_attempts"] for name, entry in entries.items()}
    refused = False
    st.session_state.pop(ATTEMPT_KEY, None)
    if st.session_state.get("authentication_status") is False:
        st.session_state["authentication_status"] = None  # so that False below means: refused in this run
    try:
        auth.login(
            location="main",
            max_login_attempts=LIBRARY_MAX_ATTEMPTS,
            fields=FORM_FIELDS,
            key="signin",
            callback=lambda info: _password_accepted(engine, info["username"]),
        )
    except LoginError:  # a user who may not sign in now: same message as a wrong password
        check_password("-", None)  # and the same cost
        refused = True
    typed = st.session_state.pop(ATTEMPT_KEY, None)
    if typed and (refused or st.session_state.get("authentication_status") is False):
        _audit_failure(engine, typed, "cuenta que no puede iniciar sesión ahora" if refused else "")
    _persist_failures(engine, entries, before)
    return refused


def _audit_failure(engine: Engine, typed: str, detail: str) -> None:
    """A refused sign-in: the typed username (known or not) as target; the actor only when such a user exists."""
    login = typed.strip().lower()
    user = users.get_user(engine, login)
    audit.record(
        engine,
        "sign_in_failed",
        actor=user["username"] if user else "",
        actor_role=user["role"] if user else "",
        target=login,
        detail=detail or ("usuario o contraseña incorrectos" if user else "usuario desconocido"),
    )


def sign_out_button(auth: stauth.Authenticate, engine: Engine) -> None:
    """The sidebar's «Cerrar sesión»: revokes the user's sessions and cookies server-side, then stops the run."""
    auth.logout(
        button_name="Cerrar sesión",
        location="sidebar",
        key="signout",
        callback=lambda info: _signed_out(engine, info["username"]),
    )
    if not st.session_state.get("authentication_status"):
        _forget()
        st.session_state[NOTICE_KEY] = SIGNED_OUT
        st.info(SIGNED_OUT)
        st.stop()  # the cookie component's round trip reruns the app into the sign-in page


def _signed_out(engine: Engine, username: str) -> None:
    """«Cerrar sesión»: every session and cookie of the user issued until now stops working; logged."""
    users.revoke_sessions(engine, username)
    user = users.get_user(engine, username)
    audit.record(engine, "sign_out", actor=username, actor_role=user["role"] if user else "")
    log.info("sign-out of %r", username)


def just_signed_in() -> bool:
    """True in the run where the password was accepted (once).

    That run renders the component that writes the sign-in cookie: a st.switch_page or st.rerun in
    the same run would drop it before the browser runs it. The component's round trip reruns the app.
    """
    return bool(st.session_state.pop(JUST_SIGNED_IN_KEY, False))


def restamp_session() -> None:
    """This session stays signed in after the user itself revoked its sessions (password change): a new sign-in
    time now, and a new cookie for this browser in the next run (the old one was issued before the revocation)."""
    st.session_state[SIGNED_IN_AT_KEY] = users.now_utc()
    st.session_state[RENEW_COOKIE_KEY] = True


def end_session(auth: stauth.Authenticate, message: str) -> None:
    """Sign the session out (cookie included) and show a neutral message."""
    auth.logout(location="unrendered")
    _forget()
    st.session_state[NOTICE_KEY] = message
    st.error(message)


def _brand(settings: Settings, notice: str | None = None) -> None:
    logo = getattr(settings, "firm_logo", None)
    if logo and Path(logo).is_file():
        st.image(str(logo), width=160)
    st.title("Portal del Cliente")
    st.subheader(settings.firm_name)
    if notice:
        st.info(notice)


def _password_accepted(engine: Engine, username: str) -> None:
    users.record_login(engine, username)
    user = users.get_user(engine, username)
    audit.record(engine, "sign_in_ok", actor=username, actor_role=user["role"] if user else "")
    st.session_state[SIGNED_IN_AT_KEY] = users.now_utc()
    st.session_state[JUST_SIGNED_IN_KEY] = True
    log.info("password sign-in of %r", username)


def _persist_failures(engine: Engine, entries: dict, before: dict) -> None:
    """Count in the database (atomically) each failed attempt the library recorded in memory during this run."""
    for name, entry in entries.items():
        for _ in range(entry.get("failed_login_attempts", 0) - before.get(name, 0)):
            count = users.record_failed_attempt(engine, name)
            log.warning("failed sign-in for %r (%d in a row)", name, count)
            user = users.get_user(engine, name)
            if user is not None and count == user["max_attempts"]:
                detail = f"{count} intentos fallidos seguidos"
                audit.record(engine, "account_locked", actor=name, actor_role=user["role"], target=name, detail=detail)


def _signed_in_at(settings: Settings) -> datetime | None:
    """When this session signed in: the password time, or the issue time of the cookie it came back with."""
    if st.session_state.get(SIGNED_IN_AT_KEY) is None:
        st.session_state[SIGNED_IN_AT_KEY] = _cookie_issued_at(settings)
    return st.session_state[SIGNED_IN_AT_KEY]


def _cookie_issued_at(settings: Settings) -> datetime | None:
    """The cookie's issue time (its expiry minus its lifetime: the token carries no 'iat'); None if unreadable."""
    try:
        token = st.context.cookies.get(COOKIE_NAME)
        claims = jwt.decode(token, settings.signing_key(), algorithms=["HS256"])
        expires = datetime.fromtimestamp(float(claims["exp_date"]), UTC)
    except (jwt.PyJWTError, KeyError, TypeError, ValueError):
        return None
    return expires - timedelta(days=settings.cookie_expiry_days)


def _forget() -> None:
    for key in (USER_KEY, SIGNED_IN_AT_KEY):
        st.session_state.pop(key, None)
