"""E-mail through a real local SMTP server: headers, body, reply-to, and Spanish errors when it refuses or is down."""

from __future__ import annotations

import pytest

from portal import mail
from portal.mail import MailError
from portal.settings import load_settings
from tests.smtp_server import SmtpServer, free_port


@pytest.fixture
def smtp():
    with SmtpServer() as server:
        yield server


def test_a_message_arrives_with_sender_recipient_subject_reply_to_and_body(smtp):
    settings = load_settings({**smtp.env(), "PORTAL_SMTP_FROM": "portal@asesoria.es"})
    mail.send(settings, "ana@cliente.es", "Asunto con tilde: información", "Línea 1\nLínea 2 ✓", reply_to="of@as.es")
    (received,) = smtp.wait_for(1)
    assert received.mail_from == "portal@asesoria.es"
    assert received.rcpt_tos == ["ana@cliente.es"]
    assert received.message["Subject"] == "Asunto con tilde: información"
    assert received.message["Reply-To"] == "of@as.es"
    assert received.message["From"] == "portal@asesoria.es"
    assert received.body == "Línea 1\nLínea 2 ✓\n"


def test_without_reply_to_there_is_no_such_header(smtp):
    mail.send(load_settings(smtp.env()), "ana@cliente.es", "Hola", "Texto")
    assert smtp.wait_for(1)[0].message["Reply-To"] is None


def test_a_refused_recipient_is_a_spanish_mail_error(smtp):
    smtp.refused.add("nadie@cliente.es")
    with pytest.raises(MailError, match=r"rechazó el destinatario «nadie@cliente\.es»"):
        mail.send(load_settings(smtp.env()), "nadie@cliente.es", "Hola", "Texto")
    assert smtp.messages == []


def test_an_unreachable_server_is_a_spanish_mail_error():
    port = free_port()  # nothing listens there
    settings = load_settings({"PORTAL_SMTP_HOST": "127.0.0.1", "PORTAL_SMTP_PORT": str(port)})
    with pytest.raises(MailError, match=f"No se pudo conectar con el servidor de correo 127.0.0.1:{port}"):
        mail.send(settings, "ana@cliente.es", "Hola", "Texto")


@pytest.mark.parametrize(
    ("to", "subject"), [("ana@cliente.es\nBcc: x@y.es", "Hola"), ("ana@cliente.es", "A\r\nBcc: x")]
)
def test_header_injection_is_refused_before_connecting(smtp, to, subject):
    with pytest.raises(MailError, match="saltos de línea"):
        mail.send(load_settings(smtp.env()), to, subject, "Texto")
    assert smtp.messages == []
