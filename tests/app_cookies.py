"""AppTest with cookies: each AppTest gets its own cookie jar, read by the gate as the connection's cookies.

AppTest cannot send cookies, so ``auth.signin.request_cookies`` is pointed at the jar of the AppTest whose script
is running (found through the session state the script runs with). Everything behind it is real: the hand-off
ticket, the ``sessions`` table and the checks the gate makes on every rerun.
"""

from __future__ import annotations

import re

import pyotp
import pytest
from streamlit.runtime.scriptrunner_utils.script_run_context import get_script_run_ctx
from streamlit.testing.v1 import AppTest

from auth import sessions, signin, users
from portal.db import get_engine
from portal.settings import load_settings

_JARS: dict[int, dict[str, str]] = {}
TICKET = re.compile(r'data-ticket="([^"]+)"')


def _cookies_of_running_app() -> dict[str, str]:
    ctx = get_script_run_ctx()
    if ctx is None:
        return {}
    return _JARS.get(id(ctx.session_state._state), {})


@pytest.fixture(autouse=True)
def app_cookie_jars(monkeypatch):
    """Every test: the gate reads the running AppTest's jar (empty unless a helper filled it)."""
    monkeypatch.setattr(signin, "request_cookies", _cookies_of_running_app)
    yield
    _JARS.clear()


def jar(at: AppTest) -> dict[str, str]:
    """The AppTest's cookie jar (created with a pre-sign-in cookie, as the portal's middleware sets one)."""
    key = id(at._session_state._state)
    if key not in _JARS:
        _JARS[key] = {sessions.pre_cookie_name(load_settings()): sessions.new_token()}
    return _JARS[key]


def give_session(at: AppTest, username: str, *, mfa: bool = True) -> str:
    """Put a fresh session cookie of ``username`` in the AppTest's jar (as after a full sign-in); the token."""
    settings = load_settings()
    engine = get_engine(settings.db_url)
    user = users.get_user(engine, username)
    token = sessions.create(settings, engine, user["id"], mfa=mfa, user_agent="AppTest")
    jar(at)[sessions.cookie_name(settings)] = token
    return token


def drop_session(at: AppTest) -> None:
    """The browser forgets its session cookie (as after the sign-out route)."""
    jar(at).pop(sessions.cookie_name(load_settings()), None)


def handed_off_ticket(at: AppTest) -> str | None:
    """The one-time ticket the last run asked the browser to exchange, if any."""
    for element in at.html:
        found = TICKET.search(str(element.value))
        if found:
            return found.group(1)
    return None


def complete_hand_off(at: AppTest) -> bool:
    """Do what the browser does with the hand-off script: exchange the ticket at the route, keep the cookie."""
    ticket = handed_off_ticket(at)
    if ticket is None:
        return False
    settings = load_settings()
    cookies = jar(at)
    token = sessions.open_from_handoff(
        settings, get_engine(settings.db_url), ticket, cookies.get(sessions.pre_cookie_name(settings))
    )
    if token is None:
        return False
    cookies[sessions.cookie_name(settings)] = token
    return True


def totp_now(username: str) -> str:
    """The current TOTP code of an enrolled user (read from the database, as the user's phone would show it)."""
    user = users.get_user(get_engine(load_settings().db_url), username)
    return pyotp.TOTP(user["mfa_secret"]).now()


def sign_in_with_form(at: AppTest, username: str, password: str) -> AppTest:
    """Type the user and password in the form (and a second factor when asked: enrolling if needed), then reload.

    Leaves the app signed in when every step was accepted; otherwise as the form left it.
    """
    jar(at)
    at.run()  # the page as the browser has it now, with its cookies
    submit_password(at, username, password)
    pending = at.session_state.get(signin.PENDING_KEY)
    if pending is not None and pending["stage"] == "enrol":
        type_in(at, "Código de 6 cifras", pyotp.TOTP(pending["secret"]).now())
        press(at, "Activar y entrar")
        if signin.PENDING_KEY in at.session_state:
            press(at, "He guardado los códigos: entrar")
    elif pending is not None and pending["stage"] == "code":
        type_in(at, "Código de verificación", totp_now(username))
        press(at, "Verificar")
    if complete_hand_off(at):
        at.run()  # the browser reloads the page with its new cookie
    return at


def type_in(at: AppTest, label: str, value: str) -> None:
    """Type ``value`` in the text input labelled ``label`` (exactly one)."""
    [found] = [t for t in at.text_input if t.label == label]
    found.input(value)


def press(at: AppTest, label: str) -> AppTest:
    """Click the button labelled ``label`` (exactly one) and run."""
    [found] = [b for b in at.button if b.label == label]
    return found.click().run()


def submit_password(at: AppTest, username: str, password: str) -> AppTest:
    """Type a user and password in the sign-in form and press «Entrar»."""
    type_in(at, "Usuario", username)
    type_in(at, "Contraseña", password)
    return press(at, "Entrar")
