"""Signing in with a second factor: staff always, clients as the firm decides; codes counted, never reused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pyotp
import pytest
import sqlalchemy as sa
from streamlit.testing.v1 import AppTest

from auth import access, login, mfa, sessions, signin, users
from portal.db import client_users, companies
from portal.settings import load_settings
from tests.app_cookies import complete_hand_off, give_session, jar, press, type_in
from tests.test_app import ROOT, shows_sign_in_form, texts
from tests.test_sessions import PASSWORD, engine_of, staff_and_client

NOW = datetime(2026, 12, 2, 10, 0, 0, tzinfo=UTC)


@pytest.fixture
def settings(tmp_path, monkeypatch):
    """Staff «ana» and client «luis», neither with a second factor yet."""
    return staff_and_client(tmp_path, monkeypatch)


def enrol(settings, username: str, *, at: datetime = NOW) -> tuple[str, list[str]]:
    """Enrol ``username`` with a fresh secret (confirmed with the code of ``at``); (secret, recovery codes)."""
    engine = engine_of(settings)
    secret = mfa.new_secret()
    user = users.get_user(engine, username)
    codes = mfa.confirm_enrolment(engine, user["id"], secret, pyotp.TOTP(secret).at(at), now=at)
    return secret, codes


def code_at(secret: str, moment: datetime) -> str:
    return pyotp.TOTP(secret).at(moment)


# --- the steps, without Streamlit ---------------------------------------------------------------------------------


def test_09_staff_with_the_right_password_but_no_code_is_not_signed_in(settings):
    secret, _ = enrol(settings, "ana")
    engine = engine_of(settings)
    step = login.password_step(settings, engine, "ana", PASSWORD, now=NOW + timedelta(minutes=1))
    assert step.outcome == "code"  # asked for the code: no session, no ticket yet
    assert login.code_step(settings, engine, step.user, "000000", now=NOW + timedelta(minutes=1)).outcome == "refused"
    good = code_at(secret, NOW + timedelta(minutes=1))
    assert login.code_step(settings, engine, step.user, good, now=NOW + timedelta(minutes=1)).outcome == "done"


def test_09_a_reused_code_is_refused_and_logged(settings):
    secret, _ = enrol(settings, "ana")
    engine = engine_of(settings)
    moment = NOW + timedelta(minutes=2)
    good = code_at(secret, moment)
    user = login.password_step(settings, engine, "ana", PASSWORD, now=moment).user
    assert login.code_step(settings, engine, user, good, now=moment).outcome == "done"
    user = login.password_step(settings, engine, "ana", PASSWORD, now=moment + timedelta(seconds=5)).user
    assert login.code_step(settings, engine, user, good, now=moment + timedelta(seconds=5)).outcome == "refused"
    with engine.connect() as conn:
        failures = conn.execute(
            sa.text("SELECT detail FROM audit_log WHERE event = 'sign_in_failed' AND actor = 'ana'")
        ).scalars()
        assert list(failures) == ["código de verificación incorrecto"]


def test_wrong_codes_count_toward_the_lockout_and_a_right_code_after_it_is_refused(settings):
    secret, _ = enrol(settings, "ana")
    engine = engine_of(settings)
    with engine.begin() as conn:
        conn.execute(sa.update(users.users).values(max_attempts=3))
    moment = NOW + timedelta(minutes=3)
    user = login.password_step(settings, engine, "ana", PASSWORD, now=moment).user
    for _ in range(3):
        assert login.code_step(settings, engine, user, "123456", now=moment).outcome == "refused"
    locked = users.get_user(engine, "ana")
    assert locked["locked_at"] is not None and locked["failed_attempts"] == 3
    assert login.code_step(settings, engine, user, code_at(secret, moment), now=moment).outcome == "refused"
    assert login.password_step(settings, engine, "ana", PASSWORD, now=moment).outcome == "refused"


def test_a_right_password_does_not_use_up_an_attempt_but_the_counter_resets_only_after_the_code(settings):
    secret, _ = enrol(settings, "ana")
    engine = engine_of(settings)
    moment = NOW + timedelta(minutes=4)
    login.password_step(settings, engine, "ana", "una contraseña que no es la buena", now=moment)
    user = login.password_step(settings, engine, "ana", PASSWORD, now=moment).user
    assert users.get_user(engine, "ana")["failed_attempts"] == 1  # the wrong one stays counted until the code
    assert login.code_step(settings, engine, user, code_at(secret, moment), now=moment).outcome == "done"
    assert users.get_user(engine, "ana")["failed_attempts"] == 0


def test_a_recovery_code_signs_in_once(settings):
    _, codes = enrol(settings, "ana")
    engine = engine_of(settings)
    moment = NOW + timedelta(minutes=5)
    user = login.password_step(settings, engine, "ana", PASSWORD, now=moment).user
    assert login.code_step(settings, engine, user, codes[0].upper(), now=moment).outcome == "done"
    user = login.password_step(settings, engine, "ana", PASSWORD, now=moment).user
    assert login.code_step(settings, engine, user, codes[0], now=moment).outcome == "refused"


@pytest.mark.parametrize(
    ("policy", "per_user", "holds_labour", "needed"),
    [
        ("staff", False, True, False),
        ("staff", True, False, True),
        ("labour", False, True, True),
        ("labour", False, False, False),
        ("all", False, False, True),
    ],
)
def test_who_must_enrol(settings, monkeypatch, policy, per_user, holds_labour, needed):
    monkeypatch.setenv("PORTAL_MFA_REQUIRED", policy)
    current = load_settings()
    engine = engine_of(current)
    if per_user:
        mfa.set_required(engine, "luis", True, actor="ana")
    if holds_labour:
        _grant_labour(engine)
    step = login.password_step(current, engine, "luis", PASSWORD)
    assert step.outcome == ("enrol" if needed else "done")


def _grant_labour(engine) -> None:
    """luis becomes a user of client «grupo», which owns «acme», with the labour module there."""
    with engine.begin() as conn:
        conn.execute(sa.insert(companies).values(code="acme", name="Acme", nif="", publish_mode="auto"))
        luis = conn.execute(sa.select(users.users.c.id).where(users.users.c.username == "luis")).scalar()
    access.create_client(engine, "grupo", "Grupo", "B12345674", actor="ana")
    access.link_company(engine, "grupo", "acme", actor="ana")
    with engine.begin() as conn:
        conn.execute(sa.insert(client_users).values(user_id=luis, client_code="grupo"))
    access.grant(engine, "luis", "acme", "laboral", actor="ana")


def test_a_password_only_session_ends_when_the_firm_starts_requiring_a_second_factor(settings):
    engine = engine_of(settings)
    luis = users.get_user(engine, "luis")
    token = sessions.create(settings, engine, luis["id"], mfa=False)
    assert sessions.check(settings, engine, token) is not None
    mfa.set_required(engine, "luis", True, actor="ana")
    assert sessions.check(settings, engine, token) is None


# --- the form ------------------------------------------------------------------------------------------------------


def app() -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=30)
    jar(at)
    return at.run()


def test_the_form_asks_an_enrolled_user_for_the_code_and_hands_off_only_after_it(settings):
    secret, _ = enrol(settings, "ana", at=datetime.now(UTC) - timedelta(minutes=5))
    at = app()
    type_in(at, "Usuario", "ana")
    type_in(at, "Contraseña", PASSWORD)
    press(at, "Entrar")
    assert [t.label for t in at.text_input] == ["Código de verificación"]
    assert not complete_hand_off(at)  # no ticket before the code
    type_in(at, "Código de verificación", "000000")
    press(at, "Verificar")
    assert [e.value for e in at.error] == [signin.FAILED] and not complete_hand_off(at)
    type_in(at, "Código de verificación", pyotp.TOTP(secret).now())
    press(at, "Verificar")
    assert complete_hand_off(at)
    at.run()
    assert "Cargas de datos" in texts(at)
    [row] = sessions.active(settings, engine_of(settings), users.get_user(engine_of(settings), "ana")["id"])
    assert row["mfa"]


def test_staff_without_a_second_factor_must_enrol_in_the_sign_in(settings):
    at = app()
    type_in(at, "Usuario", "ana")
    type_in(at, "Contraseña", PASSWORD)
    press(at, "Entrar")
    assert "Active la verificación en dos pasos" in texts(at) and len(at.image) == 1
    secret = at.session_state[signin.PENDING_KEY]["secret"]
    assert "".join(at.code[0].value.split()) == secret  # the key, readable for manual entry
    type_in(at, "Código de 6 cifras", "111111")
    press(at, "Activar y entrar")
    assert [e.value for e in at.error] == [signin.FAILED]
    assert not mfa.enrolled(users.get_user(engine_of(settings), "ana"))
    type_in(at, "Código de 6 cifras", pyotp.TOTP(secret).now())
    press(at, "Activar y entrar")
    codes = at.code[0].value.split("\n")
    assert len(codes) == 10 and mfa.enrolled(users.get_user(engine_of(settings), "ana"))
    press(at, "He guardado los códigos: entrar")
    assert complete_hand_off(at)
    at.run()
    assert "Cargas de datos" in texts(at)


def test_a_sign_in_in_progress_is_bound_to_the_browser_that_typed_the_password(settings):
    enrol(settings, "ana", at=datetime.now(UTC) - timedelta(minutes=5))
    at = app()
    type_in(at, "Usuario", "ana")
    type_in(at, "Contraseña", PASSWORD)
    press(at, "Entrar")
    assert [t.label for t in at.text_input] == ["Código de verificación"]
    jar(at)[sessions.pre_cookie_name(settings)] = sessions.new_token()  # another browser re-attaches
    at.run()
    assert shows_sign_in_form(at)


def test_mi_cuenta_shows_the_second_factor_to_staff_too(settings):
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=30)
    give_session(at, "ana")
    at.run()
    at.switch_page("views/cuenta.py").run()
    assert not at.exception
    assert "Verificación en dos pasos" in texts(at)
