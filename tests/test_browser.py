"""End to end in Debian's Chromium: the real server, the sign-in, «Cargas de datos», deep links and sign-out."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from auth import users
from etl import service
from portal.db import get_engine
from portal.settings import load_settings
from tests.portal_browser import chromium, running_portal

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts"
PASSWORD = "una frase de acceso bastante larga"
JOURNAL = (
    "fecha;asiento;cuenta;concepto;debe;haber\n"
    "15/01/2025;1;4300001;Factura 1;1.210,00;\n"
    "15/01/2025;1;7000000;Factura 1;;1.000,00\n"
    "15/01/2025;1;4770000;Factura 1;;210,00\n"
)
TIMEOUT_MS = 30_000


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """`streamlit run app.py` on a free port over a tmp data dir with acme loaded and a staff user."""
    data = tmp_path_factory.mktemp("browser") / "data"
    settings = load_settings({"PORTAL_DATA_DIR": str(data)})
    (settings.sources / "acme").mkdir(parents=True)
    (settings.sources / "acme" / "diario.csv").write_text(JOURNAL, encoding="utf-8")
    [result] = service.load_all(settings, companies=["acme"])
    assert result.outcome == "published", result.message
    users.create_user(get_engine(settings.db_url), "ana", PASSWORD, role="staff", name="Ana García")
    with running_portal(data) as url:
        yield url, settings


@pytest.fixture(scope="module")
def sync_api():
    import playwright.sync_api

    return playwright.sync_api


@pytest.fixture(scope="module")
def browser():
    with chromium() as launched:
        yield launched


@pytest.fixture
def context(browser):
    ctx = browser.new_context(viewport={"width": 1400, "height": 900}, locale="es-ES")
    ctx.set_default_timeout(TIMEOUT_MS)
    yield ctx
    ctx.close()


def sign_in(page, url: str, path: str = "/") -> None:
    page.goto(url + path)
    page.get_by_label("Usuario").fill("ana")
    page.get_by_role("textbox", name="Contraseña").fill(PASSWORD)
    page.get_by_role("button", name="Entrar").click()
    page.get_by_role("heading", name="Cargas de datos").wait_for()


def test_cargas_signed_out_shows_only_the_sign_in_form(server, context):
    url, _ = server
    page = context.new_page()
    page.goto(url + "/cargas")
    page.get_by_label("Usuario").wait_for()
    page.get_by_role("textbox", name="Contraseña").wait_for()
    assert page.get_by_role("heading", name="Portal del Cliente").is_visible()
    assert page.get_by_text("Page not found").count() == 0  # no blocking modal
    assert page.get_by_role("heading", name="Cargas de datos").count() == 0
    assert page.get_by_text("acme").count() == 0
    # The form is usable (not covered by a modal), and a deep link survives the sign-in.
    page.get_by_label("Usuario").fill("ana")
    page.get_by_role("textbox", name="Contraseña").fill(PASSWORD)
    page.get_by_role("button", name="Entrar").click()
    page.get_by_role("heading", name="Cargas de datos").wait_for()
    assert page.url.rstrip("/").endswith("/cargas")


def test_staff_signs_in_and_sees_cargas_with_the_company(server, context, sync_api):
    url, _ = server
    page = context.new_page()
    sign_in(page, url)
    sync_api.expect(page.get_by_role("combobox", name="Empresa")).to_have_value("acme — acme")
    page.get_by_role("heading", name="Últimas cargas").wait_for()
    assert page.get_by_role("button", name="Cerrar sesión").is_visible()
    time.sleep(1.0)  # let the grids paint before the picture
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "cargas.png"), full_page=True)


def test_wrong_password_shows_the_neutral_message(server, context):
    url, _ = server
    page = context.new_page()
    page.goto(url)
    page.get_by_label("Usuario").fill("ana")
    page.get_by_role("textbox", name="Contraseña").fill("no es la contraseña")
    page.get_by_role("button", name="Entrar").click()
    page.get_by_text("No se ha podido iniciar sesión").wait_for()
    assert page.get_by_role("heading", name="Cargas de datos").count() == 0
    users.record_login(get_engine(server[1].db_url), "ana")  # reset the counter for the other tests


def test_the_cookie_signs_back_in_until_sign_out_revokes_it(server, context, browser):
    url, _ = server
    page = context.new_page()
    sign_in(page, url)
    time.sleep(1.5)  # the cookie is written by a component round trip
    [cookie] = [c for c in context.cookies() if c["name"] == "portal_auth"]
    again = context.new_page()
    again.goto(url + "/cargas")
    again.get_by_role("heading", name="Cargas de datos").wait_for()  # back in through the cookie
    again.close()
    page.get_by_role("button", name="Cerrar sesión").click()
    page.get_by_label("Usuario").wait_for()
    # A copy of the old cookie, replayed in a fresh browser, no longer opens anything.
    other = browser.new_context()
    try:
        other.add_cookies([cookie])
        stolen = other.new_page()
        stolen.goto(url + "/cargas")
        stolen.get_by_text("Su sesión ha terminado").first.wait_for(timeout=TIMEOUT_MS)
        stolen.get_by_label("Usuario").wait_for(timeout=TIMEOUT_MS)
        assert stolen.get_by_role("heading", name="Cargas de datos").count() == 0
    finally:
        other.close()
