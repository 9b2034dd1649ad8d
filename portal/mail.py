"""E-mail through the firm's own SMTP server (settings): plain-text messages, Spanish errors, a timeout."""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from portal.errors import PortalError
from portal.settings import Settings

TIMEOUT_SECONDS = 20


class MailError(PortalError):
    """The message could not be handed to the SMTP server; the message says why, in Spanish."""


def send(settings: Settings, to: str, subject: str, body: str, *, reply_to: str | None = None) -> None:
    """Send one plain-text message to ``to`` through the configured SMTP server, or raise MailError."""
    for value in (to, subject, reply_to or ""):
        if "\r" in value or "\n" in value:
            raise MailError("La dirección o el asunto del correo contienen saltos de línea y no se pueden enviar.")
    if not to.strip():
        raise MailError("Falta la dirección de destino del correo.")
    message = EmailMessage()
    message["From"] = settings.smtp_from
    message["To"] = to.strip()
    message["Subject"] = subject
    if reply_to:
        message["Reply-To"] = reply_to.strip()
    message["Date"] = formatdate(localtime=False, usegmt=True)
    message["Message-ID"] = make_msgid(domain=settings.smtp_from.rpartition("@")[2] or None)
    message.set_content(body)
    server = f"{settings.smtp_host}:{settings.smtp_port}"
    try:
        with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=TIMEOUT_SECONDS) as smtp:
            if settings.smtp_starttls:
                smtp.starttls(context=ssl.create_default_context())
            if settings.smtp_user:
                smtp.login(settings.smtp_user, settings.smtp_password)
            smtp.send_message(message)
    except smtplib.SMTPAuthenticationError as exc:
        raise MailError(f"El servidor de correo {server} no aceptó el usuario o la contraseña SMTP.") from exc
    except smtplib.SMTPRecipientsRefused as exc:
        raise MailError(f"El servidor de correo {server} rechazó el destinatario «{to.strip()}».") from exc
    except smtplib.SMTPSenderRefused as exc:
        raise MailError(f"El servidor de correo {server} rechazó el remitente «{settings.smtp_from}».") from exc
    except smtplib.SMTPException as exc:
        raise MailError(f"El servidor de correo {server} rechazó el mensaje: {exc}") from exc
    except (OSError, ValueError) as exc:  # refused connection, unknown host, timeout, bad address
        raise MailError(f"No se pudo conectar con el servidor de correo {server} ({exc}).") from exc
