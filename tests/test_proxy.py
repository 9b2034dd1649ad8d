"""The reverse proxy (deploy/Caddyfile in Debian's Caddy) in front of two portal processes on one PostgreSQL database,
end to end in Debian's Chromium over HTTPS.

What runs: a throw-away PostgreSQL cluster (tests/pg.py); two ``python server.py`` processes on free loopback ports
with the same PORTAL_DATABASE_URL and PORTAL_DATA_DIR and PORTAL_BASE_URL = the proxy's ``https://`` address; and
``caddy run`` on deploy/Caddyfile itself, the production file, which takes the test's address, ports, upstreams and
``tls internal`` (Caddy's own CA instead of ACME) from its ``{$VAR}`` placeholders. Caddy's CA, certificates and state
live in this module's temporary HOME/XDG folders; its root is never installed anywhere (``skip_install_trust``):
Chromium ignores certificate errors, the plain HTTP client below trusts that root alone.

Which process served a browser is read twice, independently: the sticky cookie's value is the HMAC of one upstream's
address under the test's key (computed here), and each process has its own firm name (PORTAL_FIRM_NAME, the only
setting that differs), which every page it draws shows (the sign-in page's subheading, the sidebar's caption).

Without Caddy the module fails when ``CI`` is set (as tests/pg.py does for PostgreSQL) and is skipped elsewhere.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import hmac
import http.client
import json
import os
import re
import secrets
import ssl
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from sqlalchemy.engine import Engine, make_url

from auth import access, users
from etl import jobs, service
from portal import audit
from portal.db import get_engine
from portal.db import sessions as sessions_table
from portal.settings import Settings, load_settings
from tests import pg
from tests.browser_signin import (
    FAILED,
    RecoveryCodes,
    SignInRefused,
    assert_signed_out,
    fill_password_form,
    sign_in,
    submit_sign_in,
)
from tests.caddy import CADDY, CADDYFILE, caddy_environment, running_caddy
from tests.pg import fresh_postgresql_database
from tests.portal_browser import choose, chromium, click_download, free_port, running_portal, settle
from tests.test_documents import write_documents
from tests.test_invoices import FACTURAS, LINEAS, pdf_bytes, write_company

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "una frase de acceso bastante larga"
FIRMS = ("Asesoría Norte", "Asesoría Sur")  # PORTAL_FIRM_NAME of process 0 and process 1
UPLOAD_MAX_MB = 2  # PORTAL_UPLOAD_MAX_MB of the portal and of the proxy alike (not the default 10: the value travels)
MIB = 1024 * 1024
ENVELOPE = 64 * 1024  # what the proxy allows on top of the upload limit for the multipart envelope (deploy/Caddyfile)
LB_COOKIE = "__Host-portal_lb"
SESSION_COOKIE = "__Host-portal_session"  # the portal's session cookie over HTTPS
HSTS = "max-age=31536000; includeSubDomains"
PORTAL_HEADERS = (  # written by the portal (web/middleware.py) and passed through by the proxy untouched
    "Content-Security-Policy",
    "X-Content-Type-Options",
    "X-Frame-Options",
    "Referrer-Policy",
    "Permissions-Policy",
    "Cross-Origin-Opener-Policy",
    "Cross-Origin-Resource-Policy",
    "Cache-Control",
)
SESSION_ENDED = "Su sesión ha terminado"
SPOOFED_ADDRESS = "203.0.113.9"  # an address a browser claims for itself (TEST-NET-3)
SENT_PDF = b"%PDF-1.4\n% justificante enviado a traves del proxy\n%%EOF\n"
TIMEOUT_MS = 60_000


# --- the proxy ------------------------------------------------------------------------------------------------


def caddy_missing() -> None:
    """No Caddy: fail under CI (the suite must not pass without it), skip loudly elsewhere."""
    pg.tool_missing(
        f"The proxy tests cannot run: Debian's caddy is missing ({CADDY}). `make dev` installs it "
        "(apt-get install caddy); without it tests/test_proxy.py is NOT run."
    )


def sticky_value(key: str, upstream: str) -> str:
    """The sticky cookie's value for a browser sent to ``upstream`` (Caddy's ``lb_policy cookie``: HMAC-SHA256 of
    the upstream's dial address under the policy's key, in hex)."""
    return hmac.new(key.encode(), upstream.encode(), hashlib.sha256).hexdigest()


@contextlib.contextmanager
def running_worker(data: Path, *, env: dict[str, str]) -> Iterator[subprocess.Popen]:
    """`python -m etl worker` over the same data folder and database as the portal processes (as portal-worker)."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("PORTAL_", "STREAMLIT_"))}
    environment.update({"PORTAL_DATA_DIR": str(data), **env})
    with (data / "worker.log").open("w") as log:
        worker = subprocess.Popen(
            [sys.executable, "-m", "etl", "worker"], cwd=ROOT, env=environment, stdout=log, stderr=subprocess.STDOUT
        )
        try:
            yield worker
        finally:
            worker.terminate()
            try:
                worker.wait(timeout=30)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait()


@dataclass(frozen=True)
class Edge:
    """The running stack: the proxy's public address and the processes behind it."""

    url: str  # https://127.0.0.1:<port>, the portal's PORTAL_BASE_URL
    http_port: int  # the proxy's plain HTTP port (redirects only)
    backends: tuple[str, ...]  # http://127.0.0.1:<port> of process 0 and process 1
    sticky: tuple[str, ...]  # the sticky cookie's value naming process 0 and process 1
    access_log: Path
    tls: ssl.SSLContext  # trusts Caddy's internal root only
    engine: Engine
    uploads: Path  # PORTAL_UPLOAD_DIR of both processes
    settings: Settings  # what the portal processes and the worker share: database and folders
    staff_codes: RecoveryCodes  # «sara», staff: her second factor


@pytest.fixture(scope="module")
def edge(tmp_path_factory, pg_cluster) -> Iterator[Edge]:
    """PostgreSQL, company «desp» (invoices, documents), the clients «fina» (facturas, documentos), «rita» and «lola»
    (facturas), two portal processes and Caddy in front of them."""
    if not os.access(CADDY, os.X_OK):
        caddy_missing()
    base = tmp_path_factory.mktemp("proxy")
    data = base / "data"
    https_port, http_port = free_port(), free_port()
    url = f"https://127.0.0.1:{https_port}"
    with fresh_postgresql_database(pg_cluster) as db_url:
        shared = {"PORTAL_DATABASE_URL": db_url, "PORTAL_BASE_URL": url, "PORTAL_UPLOAD_MAX_MB": str(UPLOAD_MAX_MB)}
        settings = load_settings({"PORTAL_DATA_DIR": str(data), **shared})
        write_documents(write_company(settings.sources))
        [result] = service.load_all(settings, companies=["desp"])
        assert result.outcome == "published", result.message
        engine = get_engine(settings.db_url)
        for username in ("fina", "rita", "lola"):
            users.create_user(engine, username, PASSWORD, role="client", name=username.capitalize())
            access.grant(engine, username, "desp", "facturas", actor="test")
        access.grant(engine, "fina", "desp", "documentos", actor="test")
        users.create_user(engine, "sara", PASSWORD, role="staff", name="Sara")
        staff_codes = RecoveryCodes(engine, "sara")
        with contextlib.ExitStack() as stack:
            stack.enter_context(running_worker(data, env=shared))
            backends = tuple(
                stack.enter_context(
                    running_portal(data, env={**shared, "PORTAL_FIRM_NAME": firm}, log_name=f"portal-{number}.log")
                )
                for number, firm in enumerate(FIRMS)
            )
            upstreams = [urlsplit(backend).netloc for backend in backends]  # 127.0.0.1:<port>
            key = secrets.token_hex(16)
            access_log = base / "access.log"
            env = caddy_environment(
                base,
                PORTAL_BASE_URL=url,
                PORTAL_UPLOAD_MAX_MB=str(UPLOAD_MAX_MB),
                PORTAL_PROXY_TLS="internal",
                PORTAL_PROXY_UPSTREAMS=" ".join(upstreams),
                PORTAL_PROXY_STICKY_KEY=key,
                PORTAL_PROXY_HTTP_PORT=str(http_port),
                PORTAL_PROXY_ACCESS_LOG=str(access_log),
                PORTAL_PROXY_ADMIN="off",
            )
            tls = stack.enter_context(running_caddy(base, env, url))
            yield Edge(
                url=url,
                http_port=http_port,
                backends=backends,
                sticky=tuple(sticky_value(key, upstream) for upstream in upstreams),
                access_log=access_log,
                tls=tls,
                engine=engine,
                uploads=settings.uploads,
                settings=settings,
                staff_codes=staff_codes,
            )


@pytest.fixture(scope="module")
def browser(edge):
    with chromium() as launched:
        yield launched


# --- helpers --------------------------------------------------------------------------------------------------


def new_context(browser, headers: dict[str, str] | None = None):
    """A new browser profile (no cookies) that accepts the proxy's certificate from Caddy's internal CA; ``headers``
    go with every request it sends."""
    context = browser.new_context(
        viewport={"width": 1400, "height": 1000},
        locale="es-ES",
        ignore_https_errors=True,
        accept_downloads=True,
        extra_http_headers=headers,
    )
    context.set_default_timeout(TIMEOUT_MS)
    return context


def cookie(context, name: str) -> dict | None:
    found = [c for c in context.cookies() if c["name"] == name]
    assert len(found) <= 1, found
    return found[0] if found else None


def backend_of(edge: Edge, context) -> int:
    """The process the proxy sends this browser to, by its sticky cookie (0 or 1)."""
    sticky = cookie(context, LB_COOKIE)
    assert sticky is not None, "the proxy gave this browser no sticky cookie"
    assert sticky["value"] in edge.sticky, "the sticky cookie names neither process"
    return edge.sticky.index(sticky["value"])


def browser_on(browser, edge: Edge, backend: int, *, tries: int = 30, headers: dict[str, str] | None = None):
    """A new browser that the proxy itself placed on process ``backend``, showing that process's sign-in page.

    A new browser lands on a process the proxy picks at random: new ones are opened until one lands there."""
    for _ in range(tries):
        context = new_context(browser, headers)
        page = context.new_page()
        page.goto(edge.url)
        page.get_by_label("Usuario").wait_for()
        if backend_of(edge, context) == backend:
            page.get_by_role("heading", name=FIRMS[backend], exact=True).wait_for()  # drawn by that process
            assert page.get_by_role("heading", name=FIRMS[1 - backend], exact=True).count() == 0
            return context, page
        context.close()
    raise AssertionError(f"{tries} new browsers and the proxy placed none on process {backend}")


def wait_until(condition: Callable[[], bool], what: str, timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"still not true after {timeout} s: {what}")
        time.sleep(0.05)


def sessions_of(engine: Engine, username: str) -> list[dict]:
    user = users.get_user(engine, username)
    query = sa.select(sessions_table).where(sessions_table.c.user_id == user["id"]).order_by(sessions_table.c.id)
    with engine.connect() as conn:
        return [dict(row._mapping) for row in conn.execute(query)]


@dataclass(frozen=True)
class Answer:
    """One HTTP answer with every header as sent (repeated headers stay repeated)."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes

    def all(self, name: str) -> list[str]:
        return [value for key, value in self.headers if key.lower() == name.lower()]

    def one(self, name: str) -> str:
        values = self.all(name)
        assert len(values) == 1, f"{name}: {values}"
        return values[0]


def ask(
    url: str,
    method: str = "GET",
    *,
    tls: ssl.SSLContext | None = None,
    body: bytes | Iterator[bytes] | None = None,
    declared_length: int | None = None,
    headers: dict[str, str] | None = None,
) -> Answer:
    """One request over a new connection (HTTP/1.1; HTTPS verified with ``tls``). ``declared_length`` sends only the
    headers with that Content-Length and reads the answer without sending a byte of the body. Without an
    Accept-Encoding in ``headers`` the request asks for none (``identity``), as http.client does."""
    parts = urlsplit(url)
    if parts.scheme == "https":
        conn = http.client.HTTPSConnection(parts.hostname, parts.port, context=tls, timeout=60)
    else:
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    try:
        if declared_length is None:
            conn.request(method, target, body=body, headers=headers or {})
        else:
            conn.putrequest(method, target)
            conn.putheader("Content-Length", str(declared_length))
            conn.endheaders()
        response = conn.getresponse()
        return Answer(response.status, response.getheaders(), response.read())
    finally:
        conn.close()


def logged_requests(edge: Edge) -> list[dict]:
    """The ``request`` object of every complete line of the proxy's access log (JSON lines)."""
    text = edge.access_log.read_text(encoding="utf-8") if edge.access_log.exists() else ""
    return [json.loads(line)["request"] for line in text.split("\n")[:-1] if line.strip()]


# --- tests ----------------------------------------------------------------------------------------------------


def test_a_client_signs_in_over_https_and_every_request_of_her_browser_stays_on_one_process(edge, browser):
    """«fina» signs in through the proxy and sees her figures; her page loads, websockets, the PDF built on her
    click and served from /media, and the document she uploads all go to the process that drew her first page
    (the PDF and the upload live in that process's memory); another browser can land on the other process; the
    access log names neither the /media/ file nor the upload, nor any query string or cookie."""
    context = new_context(browser)
    requested: list[str] = []
    sockets: list[str] = []
    context.on("request", lambda request: requested.append(request.url))
    try:
        page = context.new_page()
        page.on("websocket", lambda socket: sockets.append(socket.url))
        sign_in(page, edge.url, "fina", PASSWORD, path="/facturas", timeout_ms=TIMEOUT_MS)
        page.get_by_role("heading", name="Facturas del despacho").wait_for()
        page.get_by_text("519,93 €").first.wait_for()  # the 2025 total of her invoices
        mine = backend_of(edge, context)
        caption = f"{FIRMS[mine]} · Fina"  # the sidebar of every page that process draws
        page.get_by_text(caption, exact=True).wait_for()
        session = cookie(context, SESSION_COOKIE)
        assert session is not None and session["secure"] and session["httpOnly"]
        sticky = cookie(context, LB_COOKIE)
        assert (sticky["secure"], sticky["httpOnly"], sticky["sameSite"], sticky["path"]) == (True, True, "Lax", "/")
        assert sticky["expires"] == -1  # a browser-session cookie, like the portal's own
        assert sockets and all(s.startswith(f"wss://{urlsplit(edge.url).netloc}/_stcore/stream") for s in sockets)

        page.get_by_text("Honorarios por mes (base imponible, €)").wait_for()  # the chart: the page's layout is done
        settle(page)
        # In the middle of the screen, so that its list of options opens within it.
        page.get_by_role("combobox", name="Factura").evaluate("box => box.scrollIntoView({block: 'center'})")
        choose(page, "Factura", "FD-2025-0002")
        button = page.get_by_role("button", name="Descargar PDF")
        button.wait_for()
        download = click_download(page, button)  # built on the click, in this browser's Streamlit session
        assert download.path().read_bytes() == pdf_bytes("FD-2025-0002")
        assert urlsplit(download.url).path.startswith("/media/")

        page.get_by_role("link", name="Documentos", exact=True).click()
        page.get_by_role("heading", name="Documentos").first.wait_for()
        page.get_by_role("tab", name="Enviar al despacho").click()
        page.locator("[data-testid='stFileUploaderDropzoneInput']").set_input_files(
            files=[{"name": "justificante.pdf", "mimeType": "application/pdf", "buffer": SENT_PDF}]
        )
        page.get_by_text("justificante.pdf").first.wait_for()
        page.get_by_role("button", name="Enviar al despacho").click()
        page.get_by_text("Documento «justificante.pdf» enviado al despacho.").wait_for()

        page.reload()  # a new page load and websocket: the same process again
        page.get_by_role("heading", name="Documentos").first.wait_for()
        page.get_by_text(caption, exact=True).wait_for()
        assert backend_of(edge, context) == mine and cookie(context, LB_COOKIE)["value"] == sticky["value"]
        assert len(sockets) >= 2
        token = session["value"]
    finally:
        context.close()
    [stored] = list(edge.uploads.iterdir())  # the folder both processes share
    assert stored.read_bytes() == SENT_PDF
    [sent] = audit.entries(edge.engine, event="document_upload", actor="fina")
    assert sent["company"] == "desp"
    uploads = [u for u in requested if urlsplit(u).path.startswith("/_stcore/upload_file/")]
    assert uploads, "the upload went through the proxy"

    other, _ = browser_on(browser, edge, 1 - mine)  # another browser, placed on the other process
    other.close()

    link_token = secrets.token_urlsafe(24)  # as in an e-mailed link (?activar=<token>)
    before = [r["uri"] for r in logged_requests(edge)].count("/")
    assert ask(f"{edge.url}/?activar={link_token}", tls=edge.tls).status == 200
    wait_until(lambda: [r["uri"] for r in logged_requests(edge)].count("/") > before, "the link's request logged")
    logged = logged_requests(edge)
    paths = [r["uri"] for r in logged]
    assert "/facturas" in paths and "/_stcore/health" in paths  # the log is written (sign-in page, health checks)
    assert not [p for p in paths if p.startswith(("/media/", "/_stcore/upload_file/"))], paths
    assert not [p for p in paths if "?" in p], "no query string is logged"
    text = edge.access_log.read_text(encoding="utf-8")
    assert link_token not in text and token not in text and sticky["value"] not in text


def test_a_session_signed_out_through_one_process_is_refused_at_the_next_click_on_the_other(edge, browser):
    """«rita» signs in on process 0; the same session (her cookie, copied) opens a page drawn by process 1; she signs
    out on process 0, and process 1 refuses the session at its next click (the revocation is a database row).
    Her browser also claims another address (X-Forwarded-For): the proxy replaces it, the session records hers."""
    first, page = browser_on(browser, edge, 0, headers={"X-Forwarded-For": SPOOFED_ADDRESS})
    second, elsewhere = browser_on(browser, edge, 1)
    try:
        submit_sign_in(page, "rita", PASSWORD, timeout_ms=TIMEOUT_MS)
        page.get_by_text(f"{FIRMS[0]} · Rita", exact=True).wait_for()
        session = cookie(first, SESSION_COOKIE)
        assert session is not None
        second.add_cookies(
            [
                {
                    "name": SESSION_COOKIE,
                    "value": session["value"],
                    "url": f"{edge.url}/",
                    "secure": True,
                    "httpOnly": True,
                    "sameSite": "Lax",
                }
            ]
        )
        elsewhere.goto(f"{edge.url}/facturas")
        elsewhere.get_by_role("heading", name="Facturas del despacho").wait_for()
        elsewhere.get_by_text(f"{FIRMS[1]} · Rita", exact=True).wait_for()  # the same session, on the other process
        [row] = sessions_of(edge.engine, "rita")
        assert row["revoked_at"] is None
        assert row["ip"] == "127.0.0.1"  # where the browser is (uvicorn reads Caddy's X-Forwarded-For), not the claim

        page.get_by_role("button", name="Cerrar sesión").click()  # on process 0
        assert_signed_out(page)
        [row] = sessions_of(edge.engine, "rita")
        assert row["revoked_at"] is not None and row["revoked_reason"] == "signed_out"

        elsewhere.get_by_role("link", name="Mi cuenta").click()  # the next click, on process 1
        elsewhere.get_by_text(SESSION_ENDED).first.wait_for()
        assert_signed_out(elsewhere)
        elsewhere.get_by_role("heading", name=FIRMS[1], exact=True).wait_for()  # refused by process 1 itself
        assert (backend_of(edge, first), backend_of(edge, second)) == (0, 1)
    finally:
        second.close()
        first.close()


def test_wrong_passwords_sent_to_both_processes_lock_the_account_at_its_limit(edge, browser):
    """«lola» may fail 4 times: two wrong passwords on each process lock her account, and then the right password
    is refused on both (the counter is one database row, counted before any password is checked)."""
    engine = edge.engine
    with engine.begin() as conn:
        conn.execute(users.users.update().where(users.users.c.username == "lola").values(max_attempts=4))
    pinned = (browser_on(browser, edge, 0), browser_on(browser, edge, 1))
    try:
        for attempt, backend in enumerate((0, 1, 0, 1), start=1):
            context, page = pinned[backend]
            page.reload()  # a fresh form (no message of the attempt before), from the same process
            page.get_by_role("heading", name=FIRMS[backend], exact=True).wait_for()
            fill_password_form(page, "lola", f"contraseña equivocada número {attempt}")
            page.get_by_text(FAILED).wait_for()
            wait_until(lambda n=attempt: users.get_user(engine, "lola")["failed_attempts"] == n, f"{attempt} counted")
            assert backend_of(edge, context) == backend
        assert users.get_user(engine, "lola")["locked_at"] is not None  # locked at the 4th, two on each process
        for backend in (0, 1):
            context, page = pinned[backend]
            page.reload()
            page.get_by_role("heading", name=FIRMS[backend], exact=True).wait_for()
            with pytest.raises(SignInRefused):  # the right password, past the limit: refused like the others
                submit_sign_in(page, "lola", PASSWORD, timeout_ms=TIMEOUT_MS)
            assert cookie(context, SESSION_COOKIE) is None
    finally:
        for context, _ in pinned:
            context.close()
    lola = users.get_user(engine, "lola")
    assert lola["failed_attempts"] == 6 and lola["locked_at"] is not None
    assert len(audit.entries(engine, event="sign_in_failed", actor="lola")) == 6
    assert [e["actor"] for e in audit.entries(engine, event="account_locked")] == ["lola"]
    assert audit.entries(engine, event="sign_in_ok", actor="lola") == []
    assert sessions_of(engine, "lola") == []


NEW_INVOICE = (
    "FD-2025-0005;30/06/2025;Honorarios 06/2025;100,00;21,00;21,00;15,00;15,00;106,00;10/07/2025;transferencia;\n"
)
NEW_LINE = "FD-2025-0005;1;Iguala mensual 06/2025;1;100,00;100,00\n"


def test_staff_queue_a_load_through_one_process_the_worker_publishes_and_the_client_sees_it_on_the_other(edge, browser):
    """«fina» reads her invoices on process 0 (2025: 519,93 €); the firm adds an invoice of 106,00 € to the company's
    exports; «sara» (staff) presses «Cargar ahora» on process 1, which only queues the load; the worker process
    publishes it; fina's next click on process 0 shows 625,93 € (519,93 + 106,00)."""
    client, page = browser_on(browser, edge, 0)
    staff, desk = browser_on(browser, edge, 1)
    try:
        submit_sign_in(page, "fina", PASSWORD, timeout_ms=TIMEOUT_MS)
        page.goto(edge.url + "/facturas")
        page.get_by_text("519,93 €").first.wait_for()
        invoices = edge.settings.sources / "desp" / "facturas"
        (invoices / "facturas.csv").write_text(FACTURAS + NEW_INVOICE, encoding="utf-8")
        (invoices / "lineas.csv").write_text(LINEAS + NEW_LINE, encoding="utf-8")

        submit_sign_in(desk, "sara", PASSWORD, code=edge.staff_codes, timeout_ms=TIMEOUT_MS)
        desk.goto(edge.url + "/cargas")
        desk.get_by_role("heading", name="Cargas de datos").wait_for()
        settle(desk)
        desk.get_by_role("button", name="Cargar ahora").click()
        assert backend_of(edge, staff) == 1 and backend_of(edge, client) == 0

        def published_by_the_portal() -> bool:
            runs = service.recent_runs(edge.settings, company="desp")
            return bool(runs) and (runs[0]["trigger"], runs[0]["outcome"]) == ("portal", "published")

        wait_until(published_by_the_portal, "the worker published the queued load", timeout=120)
        page.reload()  # her next click, on the process that never loaded anything
        page.get_by_text("625,93 €").first.wait_for()
        assert backend_of(edge, client) == 0
        desk.get_by_role("button", name="Actualizar").click()
        desk.get_by_text("No hay cargas en cola ni en curso.").wait_for()
    finally:
        client.close()
        staff.close()
    assert jobs.pending_loads(edge.settings) == []


def test_https_redirect_hsts_the_portals_headers_and_the_upload_limit_at_the_proxy(edge):
    """Plain HTTP is redirected to the public HTTPS address; every HTTPS answer has exactly one HSTS header and the
    portal's own security headers as the portal sent them; the sticky cookie is __Host-, Secure, HttpOnly and Lax; an
    upload body over the limit is refused by the proxy itself (413) before a byte of it is sent, one without a
    declared length too (411), while one within the limit reaches the portal."""
    moved = ask(f"http://127.0.0.1:{edge.http_port}/facturas?empresa=desp")
    assert moved.status == 301
    assert moved.one("Location") == f"{edge.url}/facturas?empresa=desp"
    assert moved.all("Server") == []

    for path in ("/", "/_stcore/health"):
        proxied = ask(edge.url + path, tls=edge.tls)
        direct = ask(edge.backends[0] + path)  # the portal without the proxy
        assert proxied.status == direct.status == 200
        assert proxied.one("Strict-Transport-Security") == direct.one("Strict-Transport-Security") == HSTS
        for name in PORTAL_HEADERS:
            assert proxied.one(name) == direct.one(name), name
        assert "script-src 'self' 'sha256-" in proxied.one("Content-Security-Policy")  # the portal's, not a default
        assert proxied.all("Server") == [] and direct.all("Server") == []
        [sticky] = [c for c in proxied.all("Set-Cookie") if c.startswith(f"{LB_COOKIE}=")]
        assert re.fullmatch(rf"{LB_COOKIE}=([0-9a-f]{{64}}); Path=/; Secure; HttpOnly; SameSite=Lax", sticky)
        assert sticky.partition("=")[2].partition(";")[0] in edge.sticky
    page = ask(edge.url + "/", tls=edge.tls)
    [pre] = [c for c in page.all("Set-Cookie") if c.startswith("__Host-portal_pre=")]  # the portal's, untouched
    assert "HttpOnly" in pre and "Secure" in pre and "Path=/" in pre

    upload = f"{edge.url}/_stcore/upload_file/{uuid.uuid4()}/{uuid.uuid4()}"
    limit = UPLOAD_MAX_MB * MIB + ENVELOPE
    too_large = ask(upload, "PUT", tls=edge.tls, declared_length=limit + 1)
    assert too_large.status == 413
    assert too_large.body.decode() == f"Documento demasiado grande: el límite es {UPLOAD_MAX_MB} MB."
    assert too_large.one("Strict-Transport-Security") == HSTS
    assert too_large.one("X-Content-Type-Options") == "nosniff"
    assert "frame-ancestors 'none'" in too_large.one("Content-Security-Policy")
    unsized = ask(upload, "PUT", tls=edge.tls, body=iter([b"%PDF-", b"\0" * 1024]))  # chunked: no length declared
    assert unsized.status == 411
    # Within the limit (the file plus its envelope, to the byte) the body reaches the portal, which refuses it for its
    # own reason, no session: so the 413 above was the proxy's (the portal would have said 403 first).
    for size in (1024, limit):
        reached = ask(upload, "PUT", tls=edge.tls, body=b"\0" * size)
        assert reached.status == 403, size
        assert "script-src 'self'" in reached.one("Content-Security-Policy")  # the portal's answer


def test_streamlits_own_files_are_compressed_and_nothing_that_carries_a_clients_data_is(edge):
    """Streamlit's scripts and styles (/static/*), which the portal sends as they are on disk, leave the proxy
    compressed for a browser that accepts it (zstd first, else gzip): the same bytes once decompressed, the same
    year-long immutable caching, ``Vary: Accept-Encoding``; uncompressed for one that does not. Nothing else is
    compressed, not even the page itself, a text the default rule would compress (BREACH: no client's data in a
    compressed answer)."""
    accepts = {"Accept-Encoding": "zstd, gzip, deflate, br"}  # what Chromium sends
    page = ask(edge.url + "/", tls=edge.tls, headers=accepts)
    assert page.status == 200 and len(page.body) > 1024 and page.all("Content-Encoding") == []
    assert page.body == ask(edge.backends[0] + "/").body
    assert ask(edge.url + "/_stcore/health", tls=edge.tls, headers=accepts).all("Content-Encoding") == []
    files = re.findall(r'(?:src|href)="\.?/?(static/(?:js|css)/[^"]+\.(?:js|css))"', page.body.decode())
    checked = []
    for path in files:
        plain = ask(f"{edge.backends[0]}/{path}")  # the portal itself: uncompressed
        assert plain.status == 200 and plain.all("Content-Encoding") == [], path
        if len(plain.body) < 10_000:  # the page links small pieces too; the large ones are what matters
            continue
        checked.append(path)
        gzipped = ask(f"{edge.url}/{path}", tls=edge.tls, headers={"Accept-Encoding": "gzip"})
        assert gzipped.one("Content-Encoding") == "gzip", path
        assert gzip.decompress(gzipped.body) == plain.body, path
        assert len(gzipped.body) < len(plain.body) / 2, path
        assert "Accept-Encoding" in gzipped.one("Vary")
        assert gzipped.one("Cache-Control") == plain.one("Cache-Control") == "public, immutable, max-age=31536000"
        best = ask(f"{edge.url}/{path}", tls=edge.tls, headers=accepts)
        assert best.one("Content-Encoding") == "zstd", path
        assert best.body[:4] == b"\x28\xb5\x2f\xfd" and len(best.body) < len(plain.body) / 2, path  # a zstd frame
        unencoded = ask(f"{edge.url}/{path}", tls=edge.tls)  # Accept-Encoding: identity
        assert unencoded.all("Content-Encoding") == [] and unencoded.body == plain.body, path
    assert any(p.endswith(".js") for p in checked) and any(p.endswith(".css") for p in checked), checked


def test_a_stopped_process_hands_its_browsers_to_the_other_one_still_signed_in(edge, browser):
    """Process 0 stops (a restart, an upgrade) under a signed-in browser pinned to it: at its next click the proxy
    sends it to process 1, which draws the page of a user still signed in (the session is a database row), and the
    sticky cookie now names process 1. Runs after every test that needs both processes: process 0 stays down."""
    context, page = browser_on(browser, edge, 0)
    try:
        submit_sign_in(page, "rita", PASSWORD, timeout_ms=TIMEOUT_MS)
        page.get_by_text(f"{FIRMS[0]} · Rita", exact=True).wait_for()
        edge.backends[0].process.terminate()
        edge.backends[0].process.wait(timeout=30)
        # The page reconnects through the proxy to process 1 at its next click; a click made while the page is
        # still without a connection is not lost for good: the user clicks again (the menu is st.page_link).
        heading = page.get_by_role("heading", name="Mi cuenta")
        for _ in range(10):
            page.get_by_role("link", name="Mi cuenta").click()
            try:
                heading.wait_for(timeout=5000)
                break
            except PlaywrightTimeout:
                continue
        page.get_by_text(f"{FIRMS[1]} · Rita", exact=True).wait_for()
        heading.wait_for()
        assert backend_of(edge, context) == 1
        page.reload()  # and it stays there
        page.get_by_text(f"{FIRMS[1]} · Rita", exact=True).wait_for()
        assert backend_of(edge, context) == 1
    finally:
        context.close()


def test_the_same_caddyfile_serves_production_with_the_example_environment(tmp_path):
    """deploy/Caddyfile with deploy/portal.env.example (which holds no secret and which the portal accepts): Let's
    Encrypt for exactly the public host with the firm's e-mail, plain HTTP only redirecting there, the upload limit
    from PORTAL_UPLOAD_MAX_MB, the sticky policy over the listed processes, the access log's default file; and without
    PORTAL_PROXY_TLS or PORTAL_PROXY_UPSTREAMS Caddy refuses the file instead of serving half a configuration."""
    if not os.access(CADDY, os.X_OK):
        caddy_missing()
    example = environment_file(ROOT / "deploy" / "portal.env.example")
    assert not example.get("PORTAL_SMTP_PASSWORD")
    assert make_url(example["PORTAL_DATABASE_URL"]).password is None  # peer authentication over the Unix socket
    settings = load_settings(example)
    assert settings.https and settings.base_url == example["PORTAL_BASE_URL"]
    host = urlsplit(example["PORTAL_BASE_URL"]).hostname

    def adapt(variables: dict[str, str]) -> subprocess.CompletedProcess:
        command = [CADDY, "adapt", "--config", str(CADDYFILE), "--adapter", "caddyfile"]
        env = caddy_environment(tmp_path, **variables)
        return subprocess.run(command, env=env, capture_output=True, text=True, timeout=60, check=False)

    done = adapt(example)
    assert done.returncode == 0, done.stderr
    assert "not formatted" not in done.stderr  # `caddy fmt` leaves the file as it is
    config = json.loads(done.stdout)
    assert config["admin"]["listen"] == "localhost:2019"  # `systemctl reload caddy` talks to it
    [policy] = config["apps"]["tls"]["automation"]["policies"]
    assert policy["subjects"] == [host]
    assert {"module": "acme", "email": example["PORTAL_PROXY_TLS"]} in policy["issuers"]
    assert config["apps"]["pki"]["certificate_authorities"]["local"]["install_trust"] is False
    servers = {tuple(s["listen"]): s for s in config["apps"]["http"]["servers"].values()}
    assert set(servers) == {(":80",), (":443",)}
    [redirect] = [h for h in handlers(servers[(":80",)]) if h["handler"] == "static_response"]
    assert redirect["headers"]["Location"] == [example["PORTAL_BASE_URL"] + "{http.request.uri}"]
    limits = [e for e in expressions(servers[(":443",)]) if "1048576.0" in e]
    assert len(limits) == 1 and f'double("{example["PORTAL_UPLOAD_MAX_MB"]}")' in limits[0]
    [proxy] = [h for h in handlers(servers[(":443",)]) if h["handler"] == "reverse_proxy"]
    assert [u["dial"] for u in proxy["upstreams"]] == example["PORTAL_PROXY_UPSTREAMS"].split()
    assert proxy["load_balancing"]["selection_policy"] == {"policy": "cookie", "name": LB_COOKIE}
    assert proxy["health_checks"]["active"]["uri"] == "/_stcore/health"
    [compressing] = [r for r in routes(servers[(":443",)]) if any(h["handler"] == "encode" for h in r["handle"])]
    assert compressing["match"] == [{"path": ["/static/*"]}]  # Streamlit's files only: never a page or a download
    log = next(v for k, v in config["logging"]["logs"].items() if k != "default")
    assert log["writer"]["filename"] == "/var/log/caddy/portal-access.log"

    for missing in ("PORTAL_PROXY_TLS", "PORTAL_PROXY_UPSTREAMS"):
        refused = adapt({k: v for k, v in example.items() if k != missing})
        assert refused.returncode != 0, missing


def environment_file(path: Path) -> dict[str, str]:
    """The variables a systemd EnvironmentFile sets (``VAR=value`` lines, double quotes around a value with spaces)."""
    values = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, _, value = line.strip().partition("=")
            values[name] = value[1:-1] if len(value) >= 2 and value[0] == value[-1] == '"' else value
    return values


def expressions(node: object) -> Iterator[str]:
    """Every CEL ``expression`` matcher."""
    return (found["expression"] for found in objects_with("expression", node) if isinstance(found["expression"], str))


def objects_with(key: str, node: object) -> Iterator[dict]:
    """Every object that has ``key`` anywhere inside a piece of Caddy's JSON configuration."""
    if isinstance(node, dict):
        if key in node:
            yield node
        for value in node.values():
            yield from objects_with(key, value)
    elif isinstance(node, list):
        for value in node:
            yield from objects_with(key, value)


def routes(node: object) -> Iterator[dict]:
    """Every route (an object with a ``handle`` list)."""
    return (route for route in objects_with("handle", node) if isinstance(route["handle"], list))


def handlers(node: object) -> Iterator[dict]:
    """Every handler object."""
    return objects_with("handler", node)
