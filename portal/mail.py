"""E-mail through the firm's SMTP server, with an outbox: a message the server did not take waits and is retried."""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from datetime import datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parsedate_to_datetime
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from portal import clock
from portal.db import mail_outbox
from portal.errors import PortalError
from portal.settings import Settings

TIMEOUT_SECONDS = 20
RETRY_MINUTES = (1, 2, 5, 10, 30)  # wait after the 1st, 2nd, ... failed attempt; then every hour
RETRY_CAP_MINUTES = 60
CLAIM_MINUTES = 5  # a retrier that took a message and died gives it back after this long
STATUS_ES = {"pending": "En cola", "sent": "Enviado", "refused": "Rechazado", "expired": "Caducado"}


class MailError(PortalError):
    """The message could not be handed to the SMTP server; the message says why, in Spanish.

    ``permanent``: the server refused it for good (the recipient), so retrying would not help.
    """

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


def _check(to: str, subject: str, reply_to: str | None) -> None:
    """Refuse header injection and a missing recipient before anything is queued or sent."""
    for value in (to, subject, reply_to or ""):
        if "\r" in value or "\n" in value:
            raise MailError(
                "La dirección o el asunto del correo contienen saltos de línea y no se pueden enviar.", permanent=True
            )
    if not to.strip():
        raise MailError("Falta la dirección de destino del correo.", permanent=True)


def send(settings: Settings, to: str, subject: str, body: str, *, reply_to: str | None = None) -> None:
    """Send one plain-text message to ``to`` through the configured SMTP server now, or raise MailError."""
    _check(to, subject, reply_to)
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
        raise MailError(
            f"El servidor de correo {server} rechazó el destinatario «{to.strip()}».", permanent=True
        ) from exc
    except smtplib.SMTPSenderRefused as exc:
        raise MailError(f"El servidor de correo {server} rechazó el remitente «{settings.smtp_from}».") from exc
    except smtplib.SMTPException as exc:
        raise MailError(f"El servidor de correo {server} rechazó el mensaje: {exc}") from exc
    except (OSError, ValueError) as exc:  # refused connection, unknown host, timeout, bad address
        raise MailError(f"No se pudo conectar con el servidor de correo {server} ({exc}).") from exc


# --- the outbox ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Posted:
    """What became of a message handed to the portal: sent now, or waiting in the outbox (with the server's reason)."""

    id: int
    sent: bool
    error: str = ""


def post(
    conn: Connection,
    settings: Settings,
    to: str,
    subject: str,
    body: str,
    *,
    kind: str,
    reply_to: str | None = None,
    expires_at: datetime | None = None,
    now: datetime | None = None,
) -> Posted:
    """Send a message now and record it in the outbox, in the caller's transaction.

    When the server cannot take it now (down, timeout, login refused) it is kept with its body and retried by
    ``retry_due`` until sent (or, for a message carrying a link, until ``expires_at``): never lost. A refusal
    for good (the recipient, a header) raises MailError, so the caller's transaction rolls back.
    """
    moment = clock.as_utc(now) if now else clock.now_utc()
    error = ""
    try:
        send(settings, to, subject, body, reply_to=reply_to)
    except MailError as exc:
        if exc.permanent:
            raise
        error = str(exc)
    row = dict(
        created_at=moment,
        kind=kind,
        recipient=to.strip(),
        subject=subject,
        reply_to=(reply_to or "").strip(),
        attempts=1,
        expires_at=expires_at,
        last_error=error,
    )
    if error:
        row |= dict(status="pending", body=body, next_attempt_at=moment + _backoff(1))
    else:
        row |= dict(status="sent", body=None, sent_at=moment)
    message_id = conn.execute(sa.insert(mail_outbox).values(**row)).inserted_primary_key[0]
    return Posted(message_id, not error, error)


def _backoff(attempts: int) -> timedelta:
    """How long to wait after ``attempts`` failed attempts."""
    minutes = RETRY_MINUTES[attempts - 1] if attempts <= len(RETRY_MINUTES) else RETRY_CAP_MINUTES
    return timedelta(minutes=minutes)


def _claim(engine: Engine, message_id: int, moment: datetime, *, force: bool) -> dict | None:
    """Take a waiting message for one attempt (one retrier at a time, on any machine); its row, or None."""
    due = sa.true() if force else mail_outbox.c.next_attempt_at <= moment
    free = sa.or_(mail_outbox.c.claimed_until.is_(None), mail_outbox.c.claimed_until <= clock.now_utc())
    with engine.begin() as conn:
        taken = conn.execute(
            sa.update(mail_outbox)
            .where(mail_outbox.c.id == message_id, mail_outbox.c.status == "pending", due, free)
            .values(
                attempts=mail_outbox.c.attempts + 1, claimed_until=clock.now_utc() + timedelta(minutes=CLAIM_MINUTES)
            )
        ).rowcount
        if taken != 1:
            return None
        return dict(conn.execute(sa.select(mail_outbox).where(mail_outbox.c.id == message_id)).one()._mapping)


def _finish(engine: Engine, message_id: int, **values) -> None:
    """Record an attempt's outcome and give the claim back."""
    with engine.begin() as conn:
        conn.execute(sa.update(mail_outbox).where(mail_outbox.c.id == message_id).values(claimed_until=None, **values))


def retry_due(
    engine: Engine, settings: Settings, *, now: datetime | None = None, force: bool = False, limit: int = 100
) -> list[Posted]:
    """Try again every waiting message whose time has come (``force``: all of them); the outcomes.

    A message whose link has expired is given up (status «expired», body emptied); one refused for good stays
    «refused» with the reason, for the office to see.
    """
    moment = clock.as_utc(now) if now else clock.now_utc()
    with engine.begin() as conn:
        conn.execute(
            sa.update(mail_outbox)
            .where(mail_outbox.c.status == "pending", mail_outbox.c.expires_at <= moment)
            .values(status="expired", body=None)
        )
        query = sa.select(mail_outbox.c.id).where(mail_outbox.c.status == "pending")
        if not force:
            query = query.where(mail_outbox.c.next_attempt_at <= moment)
        waiting = list(conn.execute(query.order_by(mail_outbox.c.id).limit(limit)).scalars())
    outcomes = []
    for message_id in waiting:
        row = _claim(engine, message_id, moment, force=force)
        if row is None:  # another retrier took it
            continue
        try:
            send(settings, row["recipient"], row["subject"], row["body"] or "", reply_to=row["reply_to"] or None)
        except MailError as exc:
            if exc.permanent:
                keep = None if row["expires_at"] else row["body"]
                _finish(engine, message_id, status="refused", last_error=str(exc), body=keep, next_attempt_at=None)
            else:
                _finish(engine, message_id, last_error=str(exc), next_attempt_at=moment + _backoff(row["attempts"]))
            outcomes.append(Posted(message_id, False, str(exc)))
        else:
            _finish(engine, message_id, status="sent", sent_at=clock.now_utc(), body=None, next_attempt_at=None)
            outcomes.append(Posted(message_id, True))
    return outcomes


def outbox(engine: Engine, *, limit: int = 200) -> list[dict]:
    """The newest messages of the outbox (without bodies), newest first."""
    columns = [c for c in mail_outbox.c if c.name != "body"]
    with engine.connect() as conn:
        rows = conn.execute(sa.select(*columns).order_by(mail_outbox.c.id.desc()).limit(limit))
        return [dict(r._mapping) for r in rows]


def waiting_count(engine: Engine) -> int:
    """How many messages wait in the outbox."""
    with engine.connect() as conn:
        query = sa.select(sa.func.count()).select_from(mail_outbox).where(mail_outbox.c.status == "pending")
        return conn.execute(query).scalar_one()


# --- the demo's mailbox -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Caught:
    """One message the demo's mail catcher received (a ``.eml`` file in its folder)."""

    name: str
    received_at: datetime | None
    sender: str
    to: str
    subject: str
    body: str


def caught(folder: Path, *, limit: int = 100) -> list[Caught]:
    """The messages in the demo mailbox folder, newest first."""
    files = sorted(Path(folder).glob("*.eml"), reverse=True)[:limit]
    found = []
    for path in files:
        message = message_from_bytes(path.read_bytes(), policy=policy.default)
        date = message["Date"]
        part = message.get_body(preferencelist=("plain",))
        found.append(
            Caught(
                path.name,
                parsedate_to_datetime(date) if date else None,
                str(message["From"] or ""),
                str(message["To"] or ""),
                str(message["Subject"] or ""),
                part.get_content() if part is not None else "",
            )
        )
    return found
