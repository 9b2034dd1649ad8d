"""Signing in from the browser tests: the Streamlit form, its second-factor step, the hand-off and the cookie.

The form («Usuario», «Contraseña», «Entrar») checks the password; an enrolled user is then asked for a
«Código de verificación» (a TOTP code or a recovery code), a staff user without a second factor sees the
enrolment screen. On success the page posts a one-time ticket to ``/_portal/sesion`` and reloads signed in with
the HttpOnly ``portal_session`` cookie; signed in means the sidebar's «Cerrar sesión» button is there.

A TOTP code is accepted once per 30-second step, so tests that sign the same user in again and again hand out
recovery codes (``RecoveryCodes``) from an enrolment made in the fixture (``enrol_for_tests``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from urllib.parse import urlsplit

import pyotp
from playwright import sync_api
from sqlalchemy.engine import Engine

from auth import mfa, users

SESSION_COOKIE = "portal_session"
SIGNED_IN = "Cerrar sesión"
FAILED = "No se ha podido iniciar sesión"
CODE_LABEL = "Código de verificación"
ENROL_HEADING = "Active la verificación en dos pasos"
ENROL_CODE_LABEL = "Código de 6 cifras"
ENROL_BUTTON = "Activar y entrar"
CODES_SAVED_BUTTON = "He guardado los códigos: entrar"
TIMEOUT_MS = 60_000

Code = str | Callable[[], str] | None


class SignInRefused(AssertionError):
    """The portal refused a sign-in the test expected to succeed (its neutral failure message was shown)."""


# --- second factor set up from the tests --------------------------------------------------------------------


def enrol_for_tests(engine: Engine, username: str) -> list[str]:
    """Switch the user's second factor on directly in the database; its 10 recovery codes.

    The confirming TOTP code is used up (its step becomes the last one), so the next TOTP code this user may
    sign in with is the one of the next 30-second step (``next_totp``); recovery codes work at once.
    """
    user = users.get_user(engine, username)
    assert user is not None, f"no user {username!r}"
    secret = mfa.new_secret()
    return mfa.confirm_enrolment(engine, user["id"], secret, pyotp.TOTP(secret).now())


def totp_secret(engine: Engine, username: str) -> str:
    """The enrolled user's TOTP secret, as stored."""
    user = users.get_user(engine, username)
    assert user is not None and user["mfa_secret"], f"{username!r} has no second factor"
    return user["mfa_secret"]


def next_totp(secret: str) -> str:
    """The code of the next 30-second step: accepted (one step of drift is allowed) and newer than any used yet."""
    return pyotp.TOTP(secret).at(time.time() + 30)


class RecoveryCodes:
    """Hands out one unused recovery code of a user per call (``code=dispenser`` in ``sign_in``), renewing them
    in the database when all ten are used. Only called when the page really asks for a code."""

    def __init__(self, engine: Engine, username: str, codes: list[str] | None = None) -> None:
        self.engine = engine
        self.username = username
        self.codes = list(codes) if codes is not None else enrol_for_tests(engine, username)
        self.handed_out: list[str] = []

    def __call__(self) -> str:
        if not self.codes:
            user = users.get_user(self.engine, self.username)
            self.codes = mfa.regenerate_recovery_codes(self.engine, user["id"], actor=self.username)
        code = self.codes.pop(0)
        self.handed_out.append(code)
        return code


# --- the browser side ---------------------------------------------------------------------------------------


def fill_password_form(page, username: str, password: str) -> None:
    """Type the username and password and press «Entrar» (nothing more: the caller waits for what it expects)."""
    page.get_by_label("Usuario").fill(username)
    page.get_by_role("textbox", name="Contraseña").fill(password)
    page.get_by_role("button", name="Entrar").click()


def submit_sign_in(
    page, username: str, password: str, *, code: Code = None, enrol: bool = False, timeout_ms: int = TIMEOUT_MS
) -> list[str] | None:
    """Sign in from the form already on ``page``: password, then the second-factor step when it appears.

    ``code`` answers «Código de verificación» (a string, or a callable such as ``RecoveryCodes`` called only
    then). ``enrol=True`` lets a user without a second factor go through the enrolment screen: the secret is read
    from the page, the code computed with pyotp, and the recovery codes shown are returned. Returns once the page
    is signed in (the sidebar's «Cerrar sesión»); raises SignInRefused when the portal refuses.
    """
    fill_password_form(page, username, password)
    step = _next_step(page, timeout_ms)
    enrolled_codes = None
    if step == "code":
        if code is None:
            raise AssertionError(f"{username!r} was asked for a second-factor code and the test gave none")
        answer = code() if callable(code) else code
        page.get_by_label(CODE_LABEL).fill(answer)
        page.get_by_role("button", name="Verificar").click()
        step = _next_step(page, timeout_ms, after_code=True)
    elif step == "enrol":
        if not enrol:
            raise AssertionError(f"{username!r} was shown the enrolment screen: enrol it in the fixture")
        enrolled_codes = complete_enrolment(page, timeout_ms=timeout_ms)
        step = _next_step(page, timeout_ms, after_code=True)
    if step == "refused":
        raise SignInRefused(f"the portal refused the sign-in of {username!r}")
    assert step == "done", step
    return enrolled_codes


def sign_in(
    page,
    url: str,
    username: str,
    password: str,
    *,
    path: str = "/",
    code: Code = None,
    enrol: bool = False,
    timeout_ms: int = TIMEOUT_MS,
) -> list[str] | None:
    """Open ``url + path``, sign in (see ``submit_sign_in``) and wait until signed in on that page."""
    page.goto(url + path)
    codes = submit_sign_in(page, username, password, code=code, enrol=enrol, timeout_ms=timeout_ms)
    landed = urlsplit(page.url).path
    assert landed.rstrip("/") == path.rstrip("/") or path == "/", f"signed in at {landed}, not {path}"
    return codes


def read_enrolment_secret(page) -> str:
    """The secret the enrolment screen shows as text (groups of 4 characters in a code block), without spaces."""
    block = page.locator("[data-testid='stCode'] code").first
    block.wait_for()
    return "".join(block.inner_text().split())


def complete_enrolment(page, *, timeout_ms: int = TIMEOUT_MS) -> list[str]:
    """On the enrolment screen: read the secret, type its current code, «Activar y entrar», read the 10 recovery
    codes and press «He guardado los códigos: entrar». Returns the recovery codes the page showed."""
    page.get_by_text(ENROL_HEADING).wait_for(timeout=timeout_ms)
    page.locator("[data-testid='stImage'] img").first.wait_for(timeout=timeout_ms)  # the QR code, drawn locally
    secret = read_enrolment_secret(page)
    page.get_by_label(ENROL_CODE_LABEL).fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name=ENROL_BUTTON).click()
    saved = page.get_by_role("button", name=CODES_SAVED_BUTTON)
    saved.wait_for(timeout=timeout_ms)
    codes = page.locator("[data-testid='stCode'] code").first.inner_text().split()
    saved.click()
    return codes


def _next_step(page, timeout_ms: int, *, after_code: bool = False) -> str:
    """What the page shows after a submit: 'done' (signed in), 'code', 'enrol' or 'refused'."""
    signed_in = page.get_by_role("button", name=SIGNED_IN)
    refused = page.get_by_text(FAILED)
    code_box = page.get_by_label(CODE_LABEL)
    enrol_heading = page.get_by_text(ENROL_HEADING)
    candidates = signed_in.or_(refused.first)
    if not after_code:
        candidates = candidates.or_(code_box).or_(enrol_heading)
    candidates.first.wait_for(timeout=timeout_ms)
    if signed_in.count():
        return "done"
    if refused.count():
        return "refused"
    if code_box.count():
        return "code"
    return "enrol"


def session_cookie(context) -> dict:
    """The ``portal_session`` cookie the browser holds (exactly one), as Playwright reports it."""
    found = [c for c in context.cookies() if c["name"] == SESSION_COOKIE]
    assert len(found) == 1, f"expected one {SESSION_COOKIE} cookie, got {found}"
    return found[0]


def has_session_cookie(context) -> bool:
    """Whether the browser holds a ``portal_session`` cookie."""
    return any(c["name"] == SESSION_COOKIE for c in context.cookies())


def assert_gone(*locators, timeout_ms: int = TIMEOUT_MS) -> None:
    """Each locator matches nothing, waiting for it: the elements of the run before stay on screen, faded, until
    the current run ends, so a count taken the moment the sign-in form appears can still see them."""
    for locator in locators:
        sync_api.expect(locator).to_have_count(0, timeout=timeout_ms)


def assert_signed_out(page) -> None:
    """Only the sign-in form: no «Cerrar sesión», no page of the portal."""
    page.get_by_label("Usuario").wait_for()
    page.get_by_role("textbox", name="Contraseña").wait_for()
    assert_gone(
        page.get_by_role("button", name=SIGNED_IN),
        page.get_by_role("heading", name="Contabilidad"),
        page.get_by_role("heading", name="Diario"),
        page.get_by_role("heading", name="Cargas de datos"),
    )
