"""End to end in Debian's Chromium: the real server, the sign-in (password and second factor), «Cargas de datos»,
deep links, a staff user's first sign-in through the enrolment screen, and sign-out."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from auth import mfa, users
from etl import service
from portal.db import get_engine
from portal.settings import load_settings
from tests.browser_signin import (
    RecoveryCodes,
    assert_signed_out,
    complete_enrolment,
    fill_password_form,
    has_session_cookie,
    session_cookie,
    submit_sign_in,
)
from tests.browser_signin import sign_in as browser_sign_in
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
IMAGE_WIDTH = """img => img.complete ? img.naturalWidth : new Promise(done => {
    img.addEventListener("load", () => done(img.naturalWidth));
    img.addEventListener("error", () => done(0));
})"""


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """`python server.py` on a free port over a tmp data dir with acme loaded, the staff user «ana» (second factor
    enrolled here: her recovery codes sign her in) and «berta», staff without a second factor yet."""
    data = tmp_path_factory.mktemp("browser") / "data"
    settings = load_settings({"PORTAL_DATA_DIR": str(data)})
    (settings.sources / "acme").mkdir(parents=True)
    (settings.sources / "acme" / "diario.csv").write_text(JOURNAL, encoding="utf-8")
    [result] = service.load_all(settings, companies=["acme"])
    assert result.outcome == "published", result.message
    engine = get_engine(settings.db_url)
    users.create_user(engine, "ana", PASSWORD, role="staff", name="Ana García")
    users.create_user(engine, "berta", PASSWORD, role="staff", name="Berta Gil")
    codes = RecoveryCodes(engine, "ana")
    with running_portal(data) as url:
        yield url, settings, codes


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


def sign_in(page, server, path: str = "/") -> None:
    """«ana» signs in (a recovery code as second factor) and lands on Cargas de datos."""
    url, _, codes = server
    browser_sign_in(page, url, "ana", PASSWORD, path=path, code=codes)
    page.get_by_role("heading", name="Cargas de datos").wait_for()


def test_cargas_signed_out_shows_only_the_sign_in_form(server, context):
    url, _, codes = server
    page = context.new_page()
    page.goto(url + "/cargas")
    page.get_by_label("Usuario").wait_for()
    page.get_by_role("textbox", name="Contraseña").wait_for()
    assert page.get_by_role("heading", name="Portal del Cliente").is_visible()
    assert page.get_by_text("Page not found").count() == 0  # no blocking modal
    assert page.get_by_role("heading", name="Cargas de datos").count() == 0
    assert page.get_by_text("acme").count() == 0
    # The form is usable (not covered by a modal), and a deep link survives the sign-in and its second factor.
    submit_sign_in(page, "ana", PASSWORD, code=codes)
    page.get_by_role("heading", name="Cargas de datos").wait_for()
    assert page.url.rstrip("/").endswith("/cargas")


def test_staff_signs_in_and_sees_cargas_with_the_company(server, context, sync_api):
    page = context.new_page()
    sign_in(page, server)
    sync_api.expect(page.get_by_role("combobox", name="Empresa")).to_have_value("acme — acme", timeout=TIMEOUT_MS)
    page.get_by_role("heading", name="Últimas cargas").wait_for()
    assert page.get_by_role("button", name="Cerrar sesión").is_visible()
    time.sleep(1.0)  # let the grids paint before the picture
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "cargas.png"), full_page=True)


def test_wrong_password_shows_the_neutral_message(server, context):
    url, settings, _ = server
    page = context.new_page()
    page.goto(url)
    fill_password_form(page, "ana", "no es la contraseña")
    page.get_by_text("No se ha podido iniciar sesión").wait_for()
    assert page.get_by_role("heading", name="Cargas de datos").count() == 0
    assert page.get_by_label("Código de verificación").count() == 0  # a wrong password never reaches the code
    assert not has_session_cookie(context)
    users.unlock(get_engine(settings.db_url), "ana")  # reset the counter for the other tests


def test_the_cookie_signs_back_in_until_sign_out_revokes_it(server, context, browser):
    url, _, _ = server
    page = context.new_page()
    sign_in(page, server)
    cookie = session_cookie(context)  # set by the server's answer to the hand-off, before the reload
    again = context.new_page()
    again.goto(url + "/cargas")
    again.get_by_role("heading", name="Cargas de datos").wait_for()  # back in through the cookie
    again.close()
    other = browser.new_context()  # a copy of the cookie, replayed in a fresh browser, opens the portal...
    try:
        other.add_cookies([cookie])
        stolen = other.new_page()
        stolen.goto(url + "/cargas")
        stolen.get_by_role("heading", name="Cargas de datos").wait_for()
        page.get_by_role("button", name="Cerrar sesión").click()
        page.get_by_label("Usuario").wait_for()
        assert not has_session_cookie(context)
        # ...until sign-out: its next click ends there, and so does a new page load with it.
        stolen.get_by_role("link", name="Mi cuenta").click()
        stolen.get_by_text("Su sesión ha terminado").first.wait_for(timeout=TIMEOUT_MS)
        assert_signed_out(stolen)
        stolen.goto(url + "/cargas")
        assert_signed_out(stolen)
    finally:
        other.close()


def test_a_staff_users_first_sign_in_enrols_the_second_factor_from_the_page(server, context):
    """Staff always need a second factor: «berta» (none yet) reads the key the page shows (groups of 4 in a code
    block), types the code her app would show, keeps the 10 recovery codes and is signed in; the next sign-in
    asks for a code, and one of those recovery codes opens it."""
    url, settings, _ = server
    engine = get_engine(settings.db_url)
    page = context.new_page()
    page.goto(url + "/cargas")
    fill_password_form(page, "berta", PASSWORD)
    page.get_by_text("Active la verificación en dos pasos").wait_for()
    assert page.get_by_role("button", name="Cerrar sesión").count() == 0
    assert not has_session_cookie(context)
    qr = page.locator("[data-testid='stImage'] img").first
    qr.wait_for()
    assert qr.evaluate(IMAGE_WIDTH) > 0  # loaded: drawn inline, nothing fetched from /media before the session
    assert (qr.get_attribute("src") or "").startswith("data:image/svg+xml")
    shown = page.locator("[data-testid='stCode'] code").first.inner_text()
    assert [len(group) for group in shown.split()][:-1] == [4] * (len(shown.split()) - 1)  # groups of 4
    codes = complete_enrolment(page)
    page.get_by_role("heading", name="Cargas de datos").wait_for()
    page.get_by_role("button", name="Cerrar sesión").wait_for()
    assert len(codes) == mfa.RECOVERY_CODES == len(set(codes))
    berta = users.get_user(engine, "berta")
    assert berta["mfa_secret"] == "".join(shown.split())
    assert mfa.remaining_recovery_codes(engine, berta["id"]) == mfa.RECOVERY_CODES
    session_cookie(context)
    page.get_by_role("button", name="Cerrar sesión").click()
    page.get_by_label("Usuario").wait_for()
    browser_sign_in(page, url, "berta", PASSWORD, path="/cargas", code=codes[0])  # asked for a code this time
    page.get_by_role("heading", name="Cargas de datos").wait_for()
    assert mfa.remaining_recovery_codes(engine, berta["id"]) == mfa.RECOVERY_CODES - 1
