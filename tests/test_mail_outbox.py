"""The mail outbox on SQLite and PostgreSQL: a message the server cannot take now waits, is retried and never lost."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from ops import mailbox
from portal import mail
from portal.db import get_engine, mail_outbox
from portal.mail import MailError
from portal.settings import load_settings
from tests.smtp_server import SmtpServer, free_port

ROOT = Path(__file__).resolve().parents[1]
T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def smtp():
    with SmtpServer() as server:
        yield server


@pytest.fixture
def engine(db_url):
    return get_engine(db_url)


@pytest.fixture
def up(smtp):
    return load_settings({**smtp.env(), "PORTAL_SMTP_FROM": "portal@asesoria.es"})


@pytest.fixture
def down():
    return load_settings({"PORTAL_SMTP_HOST": "127.0.0.1", "PORTAL_SMTP_PORT": str(free_port())})


def row(engine, message_id: int) -> dict:
    with engine.connect() as conn:
        return dict(conn.execute(sa.select(mail_outbox).where(mail_outbox.c.id == message_id)).one()._mapping)


def post(engine, settings, *, to="ana@cliente.es", expires_at=None, now=T0) -> mail.Posted:
    with engine.begin() as conn:
        return mail.post(
            conn, settings, to, "Asunto", "Cuerpo con enlace", kind="contact", expires_at=expires_at, now=now
        )


def test_a_message_sent_at_once_is_recorded_without_its_body(engine, up, smtp):
    posted = post(engine, up)
    assert posted.sent and posted.error == ""
    assert smtp.wait_for(1)[0].body.strip() == "Cuerpo con enlace"
    stored = row(engine, posted.id)
    assert (stored["status"], stored["body"], stored["attempts"], stored["recipient"]) == (
        "sent",
        None,
        1,
        "ana@cliente.es",
    )
    assert mail.waiting_count(engine) == 0


def test_a_server_that_is_down_keeps_the_message_and_the_retry_delivers_it_once(engine, up, down, smtp):
    posted = post(engine, down)
    assert not posted.sent and "No se pudo conectar con el servidor de correo" in posted.error
    stored = row(engine, posted.id)
    assert (stored["status"], stored["body"], stored["attempts"]) == ("pending", "Cuerpo con enlace", 1)
    assert mail.waiting_count(engine) == 1
    # Not due yet (first wait: one minute): nothing is tried.
    assert mail.retry_due(engine, up, now=T0 + timedelta(seconds=59)) == []
    # Still down a minute later: attempt 2 fails, the next wait is two minutes.
    (again,) = mail.retry_due(engine, down, now=T0 + timedelta(minutes=1))
    assert not again.sent
    assert mail.retry_due(engine, up, now=T0 + timedelta(minutes=2)) == []
    (delivered,) = mail.retry_due(engine, up, now=T0 + timedelta(minutes=3))
    assert delivered.sent
    assert [m.rcpt_tos for m in smtp.wait_for(1)] == [["ana@cliente.es"]]
    stored = row(engine, posted.id)
    assert (stored["status"], stored["body"], stored["attempts"]) == ("sent", None, 3)
    assert mail.retry_due(engine, up, now=T0 + timedelta(hours=5), force=True) == []
    assert len(smtp.messages) == 1


def test_a_message_with_a_link_is_given_up_when_the_link_expires(engine, up, down, smtp):
    posted = post(engine, down, expires_at=T0 + timedelta(minutes=30))
    assert mail.retry_due(engine, up, now=T0 + timedelta(minutes=30)) == []
    stored = row(engine, posted.id)
    assert (stored["status"], stored["body"]) == ("expired", None)
    assert smtp.messages == []


def test_a_recipient_refused_for_good_raises_and_nothing_is_queued(engine, up, smtp):
    smtp.refused.add("nadie@cliente.es")
    with pytest.raises(MailError, match="rechazó el destinatario") as refused:
        post(engine, up, to="nadie@cliente.es")
    assert refused.value.permanent
    assert mail.outbox(engine) == []


def test_a_recipient_refused_during_a_retry_stops_the_retries_and_keeps_the_reason(engine, up, down, smtp):
    posted = post(engine, down)
    smtp.refused.add("ana@cliente.es")
    (outcome,) = mail.retry_due(engine, up, force=True)
    assert not outcome.sent
    stored = row(engine, posted.id)
    assert stored["status"] == "refused" and "rechazó el destinatario" in stored["last_error"]
    assert stored["body"] == "Cuerpo con enlace"  # no link in it: the office can still read what it said
    assert mail.retry_due(engine, up, force=True) == []


def test_two_retriers_at_once_deliver_each_message_once(engine, up, down, smtp):
    ids = [post(engine, down, to=f"u{i}@cliente.es").id for i in range(8)]
    start = threading.Barrier(4)
    results: list[list[mail.Posted]] = []

    def retrier() -> None:
        start.wait()
        results.append(mail.retry_due(engine, up, force=True))

    threads = [threading.Thread(target=retrier) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(p.id for batch in results for p in batch) == sorted(ids)
    assert sorted(m.rcpt_tos[0] for m in smtp.wait_for(8)) == sorted(f"u{i}@cliente.es" for i in range(8))
    assert len(smtp.messages) == 8 and mail.waiting_count(engine) == 0


def test_the_outbox_lists_newest_first_without_bodies(engine, up, down):
    first = post(engine, up)
    second = post(engine, down)
    listed = mail.outbox(engine)
    assert [m["id"] for m in listed] == [second.id, first.id]
    assert all("body" not in m for m in listed)
    assert [mail.STATUS_ES[m["status"]] for m in listed] == ["En cola", "Enviado"]


def test_the_demo_mailbox_keeps_each_message_as_a_file_that_caught_reads(tmp_path):
    port = free_port()
    catcher = mailbox.start(tmp_path / "mailbox", port=port)
    try:
        settings = load_settings({"PORTAL_SMTP_HOST": "127.0.0.1", "PORTAL_SMTP_PORT": str(port)})
        mail.send(settings, "ana@cliente.es", "Primero", "Texto con tilde: información")
        mail.send(settings, "luis@cliente.es", "Segundo", "Otro")
    finally:
        catcher.stop()
    files = sorted((tmp_path / "mailbox").iterdir())
    assert len(files) == 2 and all(f.suffix == ".eml" for f in files)  # no partial file left behind
    newest, oldest = mail.caught(tmp_path / "mailbox")
    assert (oldest.to, oldest.subject, oldest.body.strip()) == (
        "ana@cliente.es",
        "Primero",
        "Texto con tilde: información",
    )
    assert (newest.to, newest.subject) == ("luis@cliente.es", "Segundo")
    assert newest.received_at is not None


@pytest.mark.slow
def test_a_worker_process_retries_the_outbox_and_delivers(tmp_path, smtp, down):
    data = tmp_path / "data"
    settings = load_settings({"PORTAL_DATA_DIR": str(data)})
    engine = get_engine(settings.db_url)
    posted = post(engine, down, now=datetime.now(UTC) - timedelta(minutes=2))  # failed two minutes ago: due
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("PORTAL_")},
        "PORTAL_DATA_DIR": str(data),
        **smtp.env(),
        "PORTAL_MAIL_RETRY_SECONDS": "0.2",
    }
    worker = subprocess.Popen([sys.executable, "-m", "etl", "worker"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL)
    try:
        [message] = smtp.wait_for(1, timeout=60)
        assert message.rcpt_tos == ["ana@cliente.es"]
        deadline = time.monotonic() + 30
        while row(engine, posted.id)["status"] != "sent" and time.monotonic() < deadline:
            time.sleep(0.1)
        assert row(engine, posted.id)["status"] == "sent"
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=60)
    assert len(smtp.messages) == 1
