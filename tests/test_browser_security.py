"""security.md §4 in Debian's Chromium against the real server: 1 (lockout across browsers), 11 (sign-out kills the
copied cookie), 13 (after a password change this browser stays signed in, also after a reload), 26 (stored XSS in a
journal description stays text), and client pages on a phone-width screen."""

from __future__ import annotations

import time

import pytest

from auth import access, users
from etl import service
from portal import audit
from portal.db import get_engine
from portal.settings import load_settings
from tests.portal_browser import chromium, running_portal

pytestmark = pytest.mark.browser

PASSWORD = "marmota violeta sobre tejado de zinc"
XSS_IMG = "<img src=x onerror=alert(1)>"
XSS_SCRIPT = "<script>alert(2)</script>"
HEADER = "fecha;asiento;cuenta;concepto;debe;haber\n"
ALFA = HEADER + (
    f"10/01/2025;1;4300001;{XSS_IMG};1.210,00;\n"
    f"10/01/2025;1;7000000;{XSS_IMG};;1.000,00\n"
    f"10/01/2025;1;4770000;{XSS_SCRIPT};;210,00\n"
)
TIMEOUT_MS = 30_000


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """`streamlit run app.py` on a free port: company alfa (descriptions are XSS payloads), client users."""
    data = tmp_path_factory.mktemp("browser-security") / "data"
    settings = load_settings({"PORTAL_DATA_DIR": str(data)})
    (settings.sources / "alfa").mkdir(parents=True)
    (settings.sources / "alfa" / "diario.csv").write_text(ALFA, encoding="utf-8")
    [result] = service.load_all(settings, companies=["alfa"])
    assert result.outcome == "published", result.message
    engine = get_engine(settings.db_url)
    for username in ("lola", "rita", "xavi", "pepa"):
        users.create_user(engine, username, PASSWORD, role="client", name=username.capitalize())
        access.grant(engine, username, "alfa", "contabilidad", actor="test")
    with running_portal(data) as url:
        yield url, engine


@pytest.fixture(scope="module")
def browser():
    with chromium() as launched:
        yield launched


def new_context(browser, width: int = 1280, height: int = 900):
    context = browser.new_context(viewport={"width": width, "height": height}, locale="es-ES")
    context.set_default_timeout(TIMEOUT_MS)
    return context


def submit_sign_in(page, username: str, password: str) -> None:
    page.get_by_label("Usuario").fill(username)
    page.get_by_role("textbox", name="Contraseña").fill(password)
    page.get_by_role("button", name="Entrar").click()


def sign_in(page, url: str, username: str, path: str = "/") -> None:
    page.goto(url + path)
    submit_sign_in(page, username, PASSWORD)
    page.get_by_role("button", name="Cerrar sesión").wait_for()


def test_01_lockout_persists_across_browsers_and_beats_the_right_password(server, browser):
    url, engine = server
    with engine.begin() as conn:
        conn.execute(users.users.update().where(users.users.c.username == "lola").values(max_attempts=3))
    first = new_context(browser)
    try:
        page = first.new_page()
        page.goto(url)
        for attempt in range(1, 4):
            submit_sign_in(page, "lola", f"intento equivocado número {attempt} de tres")
            page.get_by_text("No se ha podido iniciar sesión").wait_for()
            deadline = time.monotonic() + 10
            while users.get_user(engine, "lola")["failed_attempts"] < attempt and time.monotonic() < deadline:
                time.sleep(0.05)
            assert users.get_user(engine, "lola")["failed_attempts"] == attempt
    finally:
        first.close()
    second = new_context(browser)  # another browser profile: no cookie, no session state in common
    try:
        page = second.new_page()
        page.goto(url)
        submit_sign_in(page, "lola", PASSWORD)
        page.get_by_text("No se ha podido iniciar sesión").wait_for()
        assert page.get_by_role("button", name="Cerrar sesión").count() == 0
        assert page.get_by_role("heading", name="Contabilidad").count() == 0
    finally:
        second.close()
    lola = users.get_user(engine, "lola")
    assert lola["failed_attempts"] == 3 and lola["locked_at"] is not None
    failed = audit.entries(engine, event="sign_in_failed", actor="lola")
    assert len(failed) == 4  # three wrong passwords and the refused right one
    assert [e["actor"] for e in audit.entries(engine, event="account_locked")] == ["lola"]
    assert audit.entries(engine, event="sign_in_ok", actor="lola") == []


def test_11_sign_out_invalidates_a_copied_cookie(server, browser):
    url, engine = server
    context = new_context(browser)
    other = None
    try:
        page = context.new_page()
        sign_in(page, url, "rita")
        time.sleep(1.5)  # the cookie is written by a component round trip
        [cookie] = [c for c in context.cookies() if c["name"] == "portal_auth"]
        page.get_by_role("button", name="Cerrar sesión").click()
        page.get_by_label("Usuario").wait_for()
        assert users.get_user(engine, "rita")["tokens_valid_after"] is not None
        assert [e["actor"] for e in audit.entries(engine, event="sign_out")] == ["rita"]
        other = new_context(browser)
        other.add_cookies([cookie])
        stolen = other.new_page()
        stolen.goto(url + "/contabilidad")
        stolen.get_by_label("Usuario").wait_for()
        stolen.get_by_role("textbox", name="Contraseña").wait_for()
        assert stolen.get_by_role("button", name="Cerrar sesión").count() == 0
        assert stolen.get_by_role("heading", name="Contabilidad").count() == 0
    finally:
        if other is not None:
            other.close()
        context.close()


def test_26_xss_in_a_journal_description_stays_text_on_a_phone_screen(server, browser):
    url, _ = server
    context = new_context(browser, width=390, height=844)  # a phone
    dialogs = []
    try:
        page = context.new_page()
        page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
        page.goto(url)
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")  # sign-in page fits
        submit_sign_in(page, "xavi", PASSWORD)
        page.get_by_role("heading", name="Portal del Cliente").wait_for()
        page.get_by_role("main").get_by_role("link", name="Contabilidad").click()
        page.get_by_role("heading", name="Últimos asientos").wait_for()
        page.get_by_text("Se muestran los 3 apuntes").wait_for()
        # The grid's cells, as literal text (its accessible copy of the canvas), once painted.
        page.get_by_text(XSS_IMG, exact=True).first.wait_for(state="attached")
        page.get_by_text(XSS_SCRIPT, exact=True).first.wait_for(state="attached")
        time.sleep(0.5)  # any injected script would have run by now
        assert dialogs == []
        assert page.locator("img[src='x']").count() == 0
        assert page.evaluate("() => [...document.scripts].every(s => !s.textContent.includes('alert(2)'))")
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")  # no sideways scrolling
    finally:
        context.close()


def test_13_a_password_change_keeps_this_browser_signed_in_after_a_reload(server, browser):
    """The other sessions' end is checked with two AppTest sessions (test_security.py); here the renewed cookie."""
    url, engine = server
    mine = new_context(browser)
    try:
        page = mine.new_page()
        sign_in(page, url, "pepa", "/cuenta")
        page.get_by_role("heading", name="Mi cuenta").wait_for()
        new = "una frase nueva para la cuenta de prueba"
        page.get_by_role("textbox", name="Contraseña actual").fill(PASSWORD)
        page.get_by_role("textbox", name="Nueva contraseña", exact=True).fill(new)
        page.get_by_role("textbox", name="Repita la nueva contraseña").fill(new)
        page.get_by_role("button", name="Cambiar la contraseña").click()
        page.get_by_text("Contraseña cambiada").wait_for()
        time.sleep(1.5)  # the renewed cookie is written by a component round trip
        page.reload()
        page.get_by_role("heading", name="Mi cuenta").wait_for()  # back in through the renewed cookie
        page.get_by_role("button", name="Cerrar sesión").wait_for()
        assert page.get_by_text("Su sesión ha terminado").count() == 0
        assert users.verify(engine, "pepa", new) is not None
        assert users.get_user(engine, "pepa")["tokens_valid_after"] is not None  # the old cookies are dead
    finally:
        mine.close()
