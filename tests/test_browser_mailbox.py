"""End to end in Debian's Chromium with the demo's mail catcher (``python -m ops mailbox``, a real process): a
client's Contacto message and a «¿Ha olvidado su contraseña?» link arrive in the demo mailbox, and the link works."""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from auth import access, users
from etl import service
from portal import mail
from portal.db import get_engine
from portal.settings import load_settings
from tests.browser_signin import sign_in
from tests.portal_browser import ROOT, chromium, free_port, running_portal, settle
from tests.test_taxes import write_company

pytestmark = pytest.mark.browser

PASSWORD = "una frase de acceso bastante larga"
NEW_PASSWORD = "otra frase distinta para el portal"
OFFICE = "gestoria@asesoria-demo.example"
TIMEOUT_MS = 30_000


def wait_listening(port: int, process: subprocess.Popen, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, "the mailbox process ended"
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise AssertionError(f"nothing listens on {port}")


def wait_caught(folder: Path, count: int, timeout: float = 30.0) -> list[mail.Caught]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = mail.caught(folder)
        if len(found) >= count:
            return found
        time.sleep(0.2)
    raise AssertionError(f"expected {count} messages in {folder}, found {len(mail.caught(folder))}")


def new_page(browser):
    """A desktop browser context in Spanish and its page."""
    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="es-ES")
    context.set_default_timeout(TIMEOUT_MS)
    return context, context.new_page()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """The portal and the demo mailbox as ``make run`` starts them, over a tmp data dir with the client «carla»."""
    data = tmp_path_factory.mktemp("browser-mailbox") / "data"
    folder = data / "mailbox"
    port = free_port()
    env = {
        "PORTAL_SMTP_HOST": "127.0.0.1",
        "PORTAL_SMTP_PORT": str(port),
        "PORTAL_DEMO_MAILBOX": str(folder),
        "PORTAL_OFFICE_EMAIL": OFFICE,
    }
    settings = load_settings({"PORTAL_DATA_DIR": str(data), **env})
    write_company(settings.sources)
    [result] = service.load_all(settings, companies=["fisco"])
    assert result.outcome == "published", result.message
    engine = get_engine(settings.db_url)
    users.create_user(engine, "carla", PASSWORD, role="client", name="Carla Ruiz", email="carla@cliente.example")
    access.grant(engine, "carla", "fisco", "impuestos", actor="test")
    command = [sys.executable, "-m", "ops", "mailbox", "--port", str(port), "--dir", str(folder)]
    mailbox = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    try:
        wait_listening(port, mailbox)
        with running_portal(data, env=env) as url:
            yield url, settings, folder
    finally:
        mailbox.terminate()
        mailbox.wait(timeout=15)


def test_a_contacto_message_arrives_in_the_demo_mailbox(server):
    url, settings, folder = server
    before = len(mail.caught(folder))
    with chromium() as browser:
        context, page = new_page(browser)
        sign_in(page, url, "carla", PASSWORD, path="/contacto")
        page.get_by_role("heading", name="Contacto").wait_for()
        settle(page)
        page.get_by_label("Asunto").fill("Duda sobre el modelo 303")
        page.get_by_label("Mensaje").fill("¿Cuándo se domicilia el 303 del cuarto trimestre?")
        settle(page)
        page.get_by_role("button", name="Enviar").click()
        page.get_by_text("Mensaje enviado al despacho.").wait_for()
        context.close()
    caught = wait_caught(folder, before + 1)[0]
    assert caught.to == OFFICE
    assert caught.subject.endswith(": Duda sobre el modelo 303")
    assert "¿Cuándo se domicilia el 303 del cuarto trimestre?" in caught.body and "Usuario: carla" in caught.body
    assert mail.waiting_count(get_engine(settings.db_url)) == 0


def test_a_forgotten_password_link_arrives_in_the_demo_mailbox_and_sets_a_new_password(server):
    url, settings, folder = server
    before = len(mail.caught(folder))
    with chromium() as browser:
        context, page = new_page(browser)
        page.goto(url)
        settle(page)
        page.get_by_role("button", name="¿Ha olvidado su contraseña?").click()
        page.get_by_label("Su usuario o su correo electrónico").fill("carla@cliente.example")
        settle(page)
        page.get_by_role("button", name="Enviarme un enlace").click()
        page.get_by_text("recibirá en unos minutos un enlace").wait_for()
        caught = wait_caught(folder, before + 1)[0]
        assert caught.to == "carla@cliente.example"
        [link] = re.findall(r"https?://\S+\?restablecer=\S+", caught.body)
        token = link.rpartition("=")[2]
        page.goto(f"{url}/?restablecer={token}")  # PORTAL_BASE_URL is the default; the test server has its own port
        page.get_by_label("Nueva contraseña").fill(NEW_PASSWORD)
        page.get_by_label("Repita la contraseña").fill(NEW_PASSWORD)
        settle(page)
        page.get_by_role("button", name="Guardar contraseña").click()
        page.get_by_text("Contraseña guardada").wait_for()
        context.close()
    assert users.verify(get_engine(settings.db_url), "carla", NEW_PASSWORD) is not None
