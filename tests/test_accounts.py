"""Account flows against a real SMTP server and a real SQLite file: credentials, activation, reset, change, contact."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa

from auth import access, accounts, tokens, users
from auth.accounts import AccountError
from auth.passwords import PasswordError
from portal import audit, clock
from portal.db import audit_log, companies, get_engine
from portal.mail import MailError
from portal.settings import load_settings
from tests.smtp_server import SmtpServer

STAFF = "cli:tester"
GOOD = "tortuga ventana azul montaña"
OTHER = "nube lenta sobre el tejado rojo"
T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def smtp():
    with SmtpServer() as server:
        yield server


@pytest.fixture
def settings(tmp_path, smtp):
    return load_settings(
        {
            **smtp.env(),
            "PORTAL_DATA_DIR": str(tmp_path),
            "PORTAL_BASE_URL": "https://portal.asesoria.es/",
            "PORTAL_OFFICE_EMAIL": "oficina@asesoria.es",
            "PORTAL_SMTP_FROM": "portal@asesoria.es",
        }
    )


@pytest.fixture
def engine(settings):
    engine = get_engine(settings.db_url)
    with engine.begin() as conn:
        conn.execute(
            sa.insert(companies).values(
                [
                    dict(code="levante", name="Suministros Industriales Levante SL", nif="B12345674"),
                    dict(code="norte", name="Norte Consultores Asociados SL", nif="B87654321"),
                ]
            )
        )
    access.create_client(engine, "grupo", "Grupo Levante", actor=STAFF)
    access.link_company(engine, "grupo", "levante", actor=STAFF)
    access.create_client_user(
        engine, "ana.garcia", client_code="grupo", email="ana@cliente.es", name="Ana García", actor=STAFF
    )
    access.set_grants(engine, "ana.garcia", "levante", {"impuestos": {}}, actor=STAFF)
    return engine


def everything_audited(engine) -> str:
    with engine.connect() as conn:
        return repr(conn.execute(sa.select(audit_log)).all())


def activate_ana(settings, engine, smtp, password: str = GOOD) -> None:
    before = len(smtp.messages)
    accounts.send_credentials(settings, engine, "ana.garcia", actor=STAFF)
    accounts.activate(settings, engine, smtp.wait_for(before + 1)[-1].token("activar"), password)


# --- credentials and activation -------------------------------------------------------------------------------


def test_credentials_e_mail_carries_the_user_code_and_a_one_time_link(settings, engine, smtp):
    accounts.send_credentials(settings, engine, "ana.garcia", actor=STAFF, now=T0)
    (received,) = smtp.wait_for(1)
    assert received.rcpt_tos == ["ana@cliente.es"]
    assert received.message["Subject"] == "Asesoría Demo: su acceso al Portal del Cliente"
    assert received.message["Reply-To"] == "oficina@asesoria.es"
    assert "Su usuario es: ana.garcia" in received.body
    assert "https://portal.asesoria.es/?activar=" in received.body
    assert "hasta el 04/03/2026 10:00" in received.body  # 72 h after 01/03/2026 09:00 UTC, on Madrid's clock
    token = received.token("activar")
    (event,) = audit.entries(engine, event="credentials_sent")
    assert (event["actor"], event["actor_role"], event["target"]) == (STAFF, "system", "ana.garcia")
    assert token not in everything_audited(engine)


def test_the_activation_link_works_once(settings, engine, smtp):
    accounts.send_credentials(settings, engine, "ana.garcia", actor=STAFF)
    token = smtp.wait_for(1)[0].token("activar")
    assert users.verify(engine, "ana.garcia", GOOD) is None  # never activated
    assert accounts.activate(settings, engine, token, GOOD) == "ana.garcia"
    assert users.verify(engine, "ana.garcia", GOOD)["username"] == "ana.garcia"
    with pytest.raises(AccountError, match="no es válido o ha caducado"):
        accounts.activate(settings, engine, token, OTHER)
    assert users.verify(engine, "ana.garcia", GOOD) is not None and users.verify(engine, "ana.garcia", OTHER) is None
    assert [e["actor"] for e in audit.entries(engine, event="account_activated")] == ["ana.garcia"]
    text = everything_audited(engine)
    assert token not in text and GOOD not in text and "$2b$" not in text


def test_the_activation_link_expires(settings, engine, smtp):
    accounts.send_credentials(settings, engine, "ana.garcia", actor=STAFF, now=T0)
    token = smtp.wait_for(1)[0].token("activar")
    with pytest.raises(AccountError, match="no es válido o ha caducado"):
        accounts.activate(settings, engine, token, GOOD, now=T0 + timedelta(hours=72))
    assert accounts.activate(settings, engine, token, GOOD, now=T0 + timedelta(hours=71)) == "ana.garcia"


def test_a_refused_password_does_not_use_up_the_link(settings, engine, smtp):
    accounts.send_credentials(settings, engine, "ana.garcia", actor=STAFF)
    token = smtp.wait_for(1)[0].token("activar")
    with pytest.raises(PasswordError, match="al menos 15"):
        accounts.activate(settings, engine, token, "corta")
    for context_word in ("levante de mi vida", "la asesoria de siempre", "hola soy ana.garcia", "industriales 2025"):
        with pytest.raises(PasswordError, match="no puede contener"):
            accounts.activate(settings, engine, token, context_word)
    assert accounts.activate(settings, engine, token, GOOD) == "ana.garcia"


def test_resending_credentials_invalidates_the_earlier_link(settings, engine, smtp):
    accounts.send_credentials(settings, engine, "ana.garcia", actor=STAFF)
    accounts.send_credentials(settings, engine, "ana.garcia", actor=STAFF)
    first, second = (m.token("activar") for m in smtp.wait_for(2))
    with pytest.raises(AccountError, match="no es válido"):
        accounts.activate(settings, engine, first, GOOD)
    assert accounts.activate(settings, engine, second, GOOD) == "ana.garcia"


def test_a_deactivated_user_cannot_activate_nor_be_sent_credentials(settings, engine, smtp):
    accounts.send_credentials(settings, engine, "ana.garcia", actor=STAFF)
    token = smtp.wait_for(1)[0].token("activar")
    accounts.set_user_active(engine, "ana.garcia", False, actor=STAFF)
    with pytest.raises(AccountError, match="no es válido"):
        accounts.activate(settings, engine, token, GOOD)
    with pytest.raises(AccountError, match="está desactivado"):
        accounts.send_credentials(settings, engine, "ana.garcia", actor=STAFF)
    assert len(smtp.messages) == 1


def test_a_mail_failure_is_reported_and_not_audited_as_sent(settings, engine, smtp):
    smtp.refused.add("ana@cliente.es")
    with pytest.raises(MailError, match="rechazó el destinatario"):
        accounts.send_credentials(settings, engine, "ana.garcia", actor=STAFF)
    assert audit.entries(engine, event="credentials_sent") == []


def test_a_failed_resend_keeps_the_earlier_link_working(settings, engine, smtp):
    accounts.send_credentials(settings, engine, "ana.garcia", actor=STAFF)
    first = smtp.wait_for(1)[0].token("activar")
    smtp.refused.add("ana@cliente.es")
    with pytest.raises(MailError):
        accounts.send_credentials(settings, engine, "ana.garcia", actor=STAFF)
    assert accounts.activate(settings, engine, first, GOOD) == "ana.garcia"


# --- forgotten password -----------------------------------------------------------------------------------------------


def test_reset_for_an_unknown_user_sends_nothing_and_behaves_the_same(settings, engine, smtp):
    activate_ana(settings, engine, smtp)
    assert accounts.request_reset(settings, engine, "nadie@ningun.es", wait=True) is None
    assert accounts.request_reset(settings, engine, "ANA@cliente.es", wait=True) is None  # by e-mail, any case
    assert accounts.request_reset(settings, engine, "ana.garcia", wait=True) is None  # by user code
    messages = smtp.wait_for(3)
    assert [m.rcpt_tos for m in messages[1:]] == [["ana@cliente.es"], ["ana@cliente.es"]]
    assert "https://portal.asesoria.es/?restablecer=" in messages[-1].body
    requests = audit.entries(engine, event="password_reset_requested")
    assert [r["target"] for r in requests] == ["ana.garcia", "ana@cliente.es", "nadie@ningun.es"]
    assert requests[-1]["detail"] == "ningún usuario activo con ese usuario o correo"


def test_reset_returns_before_the_e_mail_is_delivered(settings, engine, smtp):
    activate_ana(settings, engine, smtp)
    smtp.gate.clear()  # the server holds every message until the gate opens
    accounts.request_reset(settings, engine, "ana.garcia")
    assert len(smtp.messages) == 1  # returned while the reset e-mail is still held by the server
    smtp.gate.set()
    assert "?restablecer=" in smtp.wait_for(2)[-1].body


def test_the_reset_link_unlocks_ends_sessions_and_works_once(settings, engine, smtp):
    activate_ana(settings, engine, smtp)
    for _ in range(5):
        users.record_failed_attempt(engine, "ana.garcia")
    signed_in = clock.now_utc() - timedelta(minutes=5)
    accounts.request_reset(settings, engine, "ana.garcia", wait=True)
    token = smtp.wait_for(2)[-1].token("restablecer")
    assert tokens.peek(engine, token, "activation") is None  # a reset token is no activation token
    assert accounts.reset_password(settings, engine, token, OTHER) == "ana.garcia"
    user = users.get_user(engine, "ana.garcia")
    assert user["failed_attempts"] == 0 and user["locked_at"] is None
    assert users.session_revoked(user, signed_in)
    assert users.verify(engine, "ana.garcia", OTHER) is not None and users.verify(engine, "ana.garcia", GOOD) is None
    with pytest.raises(AccountError, match="no es válido"):
        accounts.reset_password(settings, engine, token, GOOD)


def test_the_reset_link_expires_after_the_configured_minutes(settings, engine, smtp):
    activate_ana(settings, engine, smtp)
    accounts.request_reset(settings, engine, "ana.garcia", now=T0, wait=True)
    token = smtp.wait_for(2)[-1].token("restablecer")
    with pytest.raises(AccountError, match="ha caducado"):
        accounts.reset_password(settings, engine, token, OTHER, now=T0 + timedelta(minutes=60))


def test_no_reset_for_a_deactivated_or_expired_user(settings, engine, smtp):
    activate_ana(settings, engine, smtp)
    access.update_client_user(engine, "ana.garcia", expires_on=date(2026, 2, 28), actor=STAFF)
    accounts.request_reset(settings, engine, "ana.garcia", now=T0, wait=True)
    accounts.set_user_active(engine, "ana.garcia", False, actor=STAFF)
    accounts.request_reset(settings, engine, "ana.garcia", wait=True)
    assert len(smtp.messages) == 1  # only the activation e-mail


# --- signed-in users ----------------------------------------------------------------------------------------------


def test_change_password_ends_every_earlier_session(settings, engine, smtp):
    activate_ana(settings, engine, smtp)
    other_browser = clock.now_utc() - timedelta(minutes=1)
    accounts.change_password(settings, engine, "ana.garcia", GOOD, OTHER)
    user = users.get_user(engine, "ana.garcia")
    assert user["tokens_valid_after"] is not None
    assert users.session_revoked(user, other_browser)
    assert users.verify(engine, "ana.garcia", OTHER) is not None and users.verify(engine, "ana.garcia", GOOD) is None
    (event,) = audit.entries(engine, event="password_changed")
    assert event["actor"] == "ana.garcia" and OTHER not in everything_audited(engine)


def test_change_password_with_a_wrong_current_one_counts_as_a_failure(settings, engine, smtp):
    activate_ana(settings, engine, smtp)
    with pytest.raises(AccountError, match="contraseña actual no es correcta"):
        accounts.change_password(settings, engine, "ana.garcia", "no es la buena de verdad", OTHER)
    assert users.get_user(engine, "ana.garcia")["failed_attempts"] == 1
    assert users.verify(engine, "ana.garcia", GOOD) is not None
    with pytest.raises(PasswordError, match="de las más usadas"):
        accounts.change_password(settings, engine, "ana.garcia", GOOD, "Password1234567")
    with pytest.raises(AccountError, match="distinta de la actual"):
        accounts.change_password(settings, engine, "ana.garcia", GOOD, GOOD)


def test_contact_form_mails_the_office_with_reply_to_the_client(settings, engine, smtp):
    activate_ana(settings, engine, smtp)
    user = users.get_user(engine, "ana.garcia")
    accounts.send_contact(settings, engine, user, "levante", "Duda\r\nBcc: x@y.es", "¿Cuándo vence el 303?")
    received = smtp.wait_for(2)[-1]
    assert received.rcpt_tos == ["oficina@asesoria.es"]  # the user has no office e-mail: the setting's
    assert received.message["Subject"] == "[Asesoría Demo] Suministros Industriales Levante SL: Duda Bcc: x@y.es"
    assert received.message["Reply-To"] == "ana@cliente.es"
    assert "¿Cuándo vence el 303?" in received.body and "Usuario: ana.garcia (Ana García)" in received.body
    (event,) = audit.entries(engine, event="contact_message")
    assert (event["actor"], event["company"], event["target"]) == ("ana.garcia", "levante", "oficina@asesoria.es")
    assert "303" not in everything_audited(engine)


def test_contact_goes_to_the_users_own_office_address_and_only_for_its_companies(settings, engine, smtp):
    activate_ana(settings, engine, smtp)
    access.update_client_user(engine, "ana.garcia", office_email="gestor@asesoria.es", actor=STAFF)
    user = users.get_user(engine, "ana.garcia")
    with pytest.raises(AccountError, match="sobre esa empresa"):
        accounts.send_contact(settings, engine, user, "norte", "Hola", "Texto")
    with pytest.raises(AccountError, match="asunto y el mensaje"):
        accounts.send_contact(settings, engine, user, "levante", "  ", "Texto")
    accounts.send_contact(settings, engine, user, "levante", "Hola", "Texto")
    assert smtp.wait_for(2)[-1].rcpt_tos == ["gestor@asesoria.es"]
    assert len(smtp.messages) == 2


# --- staff actions and defaults ---------------------------------------------------------------------------------


def test_staff_actions_write_their_audit_events(settings, engine, smtp):
    activate_ana(settings, engine, smtp)
    for _ in range(5):
        users.record_failed_attempt(engine, "ana.garcia")
    accounts.unlock_user(engine, "ana.garcia", actor="staff:bea")
    accounts.force_logout(engine, "ana.garcia", actor="staff:bea")
    accounts.set_user_active(engine, "ana.garcia", False, actor="staff:bea")
    accounts.set_user_active(engine, "ana.garcia", True, actor="staff:bea")
    events = [e["event"] for e in reversed(audit.entries(engine, actor="staff:bea"))]
    assert events == ["unlock", "sessions_revoked", "user_deactivated", "user_activated"]
    user = users.get_user(engine, "ana.garcia")
    assert user["failed_attempts"] == 0 and user["active"] and user["tokens_valid_after"] is not None
    with pytest.raises(users.UserError, match="No existe el usuario «nadie»"):
        accounts.unlock_user(engine, "nadie", actor="staff:bea")


def test_a_fresh_install_has_no_account_with_a_known_password(tmp_path):
    engine = get_engine(f"sqlite:///{tmp_path / 'fresh.db'}")
    assert users.list_users(engine) == []
    for username, password in [("admin", "admin"), ("admin", ""), ("root", ""), ("root", "root"), ("despacho", "")]:
        assert users.verify(engine, username, password) is None


def test_reset_e_mails_are_limited_per_user_and_hour(settings, engine, smtp):
    activate_ana(settings, engine, smtp)
    for minute in range(5):  # 3 per hour by default (PORTAL_RESET_EMAILS_PER_HOUR)
        accounts.request_reset(settings, engine, "ana.garcia", now=T0 + timedelta(minutes=minute), wait=True)
    assert len(smtp.wait_for(4)) == 4  # the activation e-mail and three reset links
    details = [r["detail"] for r in audit.entries(engine, event="password_reset_requested")]
    assert details[:2] == ["no enviado a ana.garcia: límite de 3 por hora"] * 2
    accounts.request_reset(settings, engine, "ana.garcia", now=T0 + timedelta(minutes=61), wait=True)
    assert len(smtp.wait_for(5)) == 5  # an hour after the first one, a new link goes out
