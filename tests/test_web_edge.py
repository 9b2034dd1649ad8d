"""The portal's HTTP edge (web/middleware.py, web/serve.py, server.py) against the real server: security headers and
no server banner (security.md §4 test 29), media, downloads and uploads only with a session and within the upload
limit (tests 31 and 14's upload URL), no anonymous cache clearing over the websocket, the pre-sign-in cookie, and in
Chromium every page as staff and as a client under the CSP without a violation or a request to another origin.

The servers are started as ``make run`` does (``python server.py``, tests/portal_browser.py). A few checks need an
app whose inside a test can see (a cache whose computations are counted, an anonymous download): they run
tests/edge_probe_app.py behind the same middleware (tests/edge_probe_server.py), and once without it as the
control that shows the check would see what the middleware prevents.
"""

from __future__ import annotations

import ast
import asyncio
import base64
import hashlib
import http.client
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from email.message import Message
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import psutil
import pytest
from streamlit import file_util
from streamlit.proto.BackMsg_pb2 import BackMsg

from auth import access, sessions, users
from etl import service
from portal.db import get_engine
from portal.settings import load_settings
from tests.portal_browser import PortalURL, chromium, running_portal, settle
from tests.ws_client import StreamlitClient
from web import middleware

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "una frase de acceso bastante larga"
JOURNAL = (
    "fecha;asiento;cuenta;concepto;debe;haber\n"
    "15/01/2025;1;4300001;Factura 1;1.210,00;\n"
    "15/01/2025;1;7000000;Factura 1;;1.000,00\n"
    "15/01/2025;1;4770000;Factura 1;;210,00\n"
)
MIB = 1024 * 1024
UPLOAD_FILE_MB = 15
UPLOADS = 5
PROBE_UPLOAD_MB = 3  # the probe server's PORTAL_UPLOAD_MAX_MB: unlike config.toml's 10, so the value shows its source
SECURITY_HEADERS = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "x-frame-options": "DENY",
    "permissions-policy": middleware.PERMISSIONS_POLICY,
}


# --- plain HTTP ------------------------------------------------------------------------------------------------


class Answer:
    def __init__(self, status: int, headers: Message, body: bytes) -> None:
        self.status, self.headers, self.body = status, headers, body

    def cookies_set(self) -> dict[str, str]:
        """name -> the whole Set-Cookie line, for every cookie this answer sets."""
        lines = self.headers.get_all("set-cookie") or []
        return {line.split("=", 1)[0].strip(): line for line in lines}


def request(
    url: str, method: str = "GET", path: str = "/", *, headers: dict | None = None, body=None, chunked: bool = False
) -> Answer:
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=120)
    try:
        connection.request(method, path, body=body, headers=headers or {}, encode_chunked=chunked)
        response = connection.getresponse()
        return Answer(response.status, response.headers, response.read())
    finally:
        connection.close()


def cookie_header(cookies: dict[str, str]) -> str:
    return "; ".join(f"{name}={value}" for name, value in cookies.items())


def multipart(size: int) -> tuple[bytes, bytes, str]:
    """(head, tail, content type) of a multipart body carrying one file of ``size`` bytes between them."""
    boundary = "portal-edge-test-boundary"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="documento.pdf"\r\n'
        "Content-Type: application/pdf\r\n\r\n"
    ).encode()
    return head, f"\r\n--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def upload_body(size: int) -> tuple[bytes, str]:
    head, tail, kind = multipart(size)
    return head + b"%PDF-" + b"\0" * (size - 5) + tail, kind


def streamed_upload_body(size: int, chunk: int = MIB) -> tuple[Iterator[bytes], str]:
    head, tail, kind = multipart(size)

    def chunks() -> Iterator[bytes]:
        yield head
        left = size
        while left > 0:
            yield b"\0" * min(chunk, left)
            left -= chunk
        yield tail

    return chunks(), kind


# --- servers ---------------------------------------------------------------------------------------------------


class Portal:
    """The real portal (``python server.py``) over acme, with staff «ana» and client «lola» (contabilidad)."""

    def __init__(self, url: PortalURL, settings, engine) -> None:
        self.url, self.settings, self.engine = url, settings, engine

    def session(self, username: str) -> str:
        """A fresh live session cookie value of the user (signed in with a second factor)."""
        return sessions.create(self.settings, self.engine, users.get_user(self.engine, username)["id"], mfa=True)

    def xsrf(self) -> str:
        """A valid ``_streamlit_xsrf`` cookie value (Streamlit sets it on its health answer)."""
        line = request(self.url, path="/_stcore/health").cookies_set()["_streamlit_xsrf"]
        return line.split("=", 1)[1].split(";", 1)[0]


def portal_data(data: Path) -> tuple:
    settings = load_settings({"PORTAL_DATA_DIR": str(data)})
    (settings.sources / "acme").mkdir(parents=True)
    (settings.sources / "acme" / "diario.csv").write_text(JOURNAL, encoding="utf-8")
    [result] = service.load_all(settings, companies=["acme"])
    assert result.outcome == "published", result.message
    engine = get_engine(settings.db_url)
    users.create_user(engine, "ana", PASSWORD, role="staff", name="Ana García")
    users.create_user(engine, "lola", PASSWORD, role="client", name="Lola Pérez")
    access.grant(engine, "lola", "acme", "contabilidad", actor="test")
    return settings, engine


@pytest.fixture(scope="module")
def portal(tmp_path_factory) -> Iterator[Portal]:
    data = tmp_path_factory.mktemp("edge") / "data"
    settings, engine = portal_data(data)
    with running_portal(data) as url:
        yield Portal(url, settings, engine)


def probe_server(data: Path, *, bare: bool = False):
    env = {
        "PYTHONPATH": str(ROOT),
        "PORTAL_UPLOAD_MAX_MB": str(PROBE_UPLOAD_MB),
        "EDGE_PROBE_BARE": "1" if bare else "",
    }
    return running_portal(data, env=env, script="tests/edge_probe_server.py")


@pytest.fixture(scope="module")
def probe(tmp_path_factory) -> Iterator[Portal]:
    data = tmp_path_factory.mktemp("edge-probe") / "data"
    settings = load_settings({"PORTAL_DATA_DIR": str(data), "PORTAL_UPLOAD_MAX_MB": str(PROBE_UPLOAD_MB)})
    engine = get_engine(settings.db_url)
    users.create_user(engine, "ana", PASSWORD, role="staff", name="Ana García")
    with probe_server(data) as url:
        yield Portal(url, settings, engine)


# --- 29: security headers, no server banner ------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/", "/_stcore/health", "/cargas", "/favicon.png"])
def test_29_every_response_has_the_security_headers_and_no_server_banner(portal, path):
    answer = request(portal.url, path=path)
    assert answer.status == 200
    for name, value in SECURITY_HEADERS.items():
        assert answer.headers[name] == value, name
    assert answer.headers["content-security-policy"] == middleware.content_security_policy()
    assert "server" not in answer.headers  # uvicorn's banner, switched off by the launcher
    assert "strict-transport-security" not in answer.headers  # plain http here: HSTS only over HTTPS
    if path in ("/", "/cargas"):  # the HTML pages
        assert answer.headers["content-type"].startswith("text/html")
        assert answer.headers["cache-control"] == "no-store"


def test_29_refusals_and_errors_carry_the_headers_too(portal):
    for method, path in (("GET", "/media/nada.png"), ("PUT", "/_stcore/upload_file/x/y"), ("POST", "/_stcore/health")):
        answer = request(portal.url, method, path)
        assert answer.status in (403, 405), (path, answer.status)
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert "frame-ancestors 'none'" in answer.headers["content-security-policy"]
        assert "server" not in answer.headers


def test_29_the_header_builder_adds_hsts_only_over_https(tmp_path):
    plain = load_settings({"PORTAL_DATA_DIR": str(tmp_path), "PORTAL_BASE_URL": "http://127.0.0.1:8501"})
    secure = load_settings({"PORTAL_DATA_DIR": str(tmp_path), "PORTAL_BASE_URL": "https://portal.example.es"})
    assert "Strict-Transport-Security" not in middleware.security_headers(plain)
    headers = middleware.security_headers(secure)
    assert headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Content-Security-Policy"] == middleware.content_security_policy()


class _Scripts(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.inline: list[str] = []
        self._open: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "script" and not dict(attrs).get("src"):
            self._open = []

    def handle_data(self, data):
        if self._open is not None:
            self._open.append(data)

    def handle_endtag(self, tag):
        if tag == "script" and self._open is not None:
            self.inline.append("".join(self._open))
            self._open = None


def test_29_the_csp_allows_exactly_the_inline_script_of_the_installed_streamlit():
    index = (Path(file_util.get_static_dir()) / "index.html").read_text(encoding="utf-8")
    parser = _Scripts()
    parser.feed(index)
    assert parser.inline, "Streamlit's index.html has no inline script any more: check the policy"
    expected = [
        "'sha256-" + base64.b64encode(hashlib.sha256(s.encode()).digest()).decode() + "'" for s in parser.inline
    ]
    policy = dict(part.strip().split(" ", 1) for part in middleware.content_security_policy().split(";"))
    assert policy["script-src"].split() == ["'self'", *expected, "'wasm-unsafe-eval'"]
    assert policy["default-src"] == "'self'"
    for directive, value in (
        ("frame-ancestors", "'none'"),
        ("object-src", "'none'"),
        ("base-uri", "'none'"),
        ("form-action", "'self'"),
    ):
        assert policy[directive] == value
    everything = " ".join(policy.values())
    for loose in ("'unsafe-eval'", "*", "http:", "https:", "ws:", "wss:"):
        assert loose not in everything.split(), loose
    assert "'unsafe-inline'" not in policy["script-src"]


# --- media and downloads only with a session -----------------------------------------------------------------


def test_media_is_refused_without_a_session_and_reached_with_one(portal):
    anonymous = request(portal.url, path="/media/0123456789abcdef.png")
    assert anonymous.status == 403
    assert anonymous.headers["cache-control"] == "no-store"
    assert "sandbox" in anonymous.headers["content-security-policy"]
    for cookie in ("nada", "x" * 43, sessions.new_token()):  # malformed, well formed but unknown
        refused = request(
            portal.url, path="/media/0123456789abcdef.png", headers={"Cookie": f"portal_session={cookie}"}
        )
        assert refused.status == 403
    signed_in = request(
        portal.url, path="/media/0123456789abcdef.png", headers={"Cookie": f"portal_session={portal.session('ana')}"}
    )
    assert signed_in.status == 404  # past the middleware: Streamlit has no such file


def test_a_real_download_url_needs_the_session_cookie(portal):
    token = portal.session("ana")
    with StreamlitClient(portal.url, cookies={"portal_session": token}) as client:
        run = client.rerun("auditoria")
        urls = [button.url for button in run.of_type("download_button") if button.url]
        assert urls, f"no download with a file on Auditoría: {run.texts}"
        url = urls[0]
        assert url.startswith("/media/")
        assert request(portal.url, path=url).status == 403
        expired = sessions.create(portal.settings, portal.engine, users.get_user(portal.engine, "ana")["id"], mfa=True)
        sessions.revoke_token(portal.engine, expired)
        assert request(portal.url, path=url, headers={"Cookie": f"portal_session={expired}"}).status == 403
        answer = request(portal.url, path=url, headers={"Cookie": f"portal_session={token}"})
        assert answer.status == 200
        assert answer.headers["content-disposition"].startswith("attachment")
        assert answer.headers["cache-control"] == "no-store"
        assert answer.headers["x-content-type-options"] == "nosniff"


def test_a_deferred_download_file_needs_the_session_cookie(portal):
    """st.download_button(data=callable): the click is a websocket message that runs the callable and answers with
    a /media URL; that URL is refused without the cookie and serves the file with it."""
    token = portal.session("lola")
    with StreamlitClient(portal.url, cookies={"portal_session": token}) as client:
        run = client.rerun("contabilidad")
        deferred = [b.deferred_file_id for b in run.of_type("download_button") if b.deferred_file_id]
        assert deferred, f"no deferred download on Contabilidad: {run.texts}"
        answer = client.deferred_file(deferred[0])
        assert answer is not None and not answer.backend_operation_response.error_msg
        url = answer.backend_operation_response.deferred_file.url
        assert url.startswith("/media/")
        assert request(portal.url, path=url).status == 403
        served = request(portal.url, path=url, headers={"Cookie": f"portal_session={token}"})
        assert served.status == 200
        assert b"Factura 1" in served.body
        assert served.headers["cache-control"] == "no-store"


def test_the_probe_app_files_are_refused_anonymously_and_served_with_a_session(probe):
    """The same rule without any gate in the app: only the middleware stands between an anonymous visitor and a
    file of /media (an image, a download, a deferred download)."""
    token = probe.session("ana")
    with StreamlitClient(probe.url) as client:  # anonymous
        run = client.rerun()
        image = run.of_type("imgs")[0].imgs[0].url
        fixed = next(b.url for b in run.of_type("download_button") if b.url)
        deferred_id = next(b.deferred_file_id for b in run.of_type("download_button") if b.deferred_file_id)
        answer = client.deferred_file(deferred_id)
        assert answer is not None and not answer.backend_operation_response.error_msg
        deferred = answer.backend_operation_response.deferred_file.url
        for url, content in ((image, None), (fixed, b"contenido fijo\n"), (deferred, b"contenido diferido\n")):
            assert url.startswith("/media/"), url
            assert request(probe.url, path=url).status == 403, url
            assert request(probe.url, "HEAD", url).status == 403, url
            served = request(probe.url, path=url, headers={"Cookie": f"portal_session={token}"})
            assert served.status == 200, url
            if content is not None:
                assert served.body == content


# --- 31 and 14: uploads --------------------------------------------------------------------------------------


def test_31_anonymous_uploads_are_refused_and_the_server_does_not_grow_by_their_size(portal):
    """A PUT Streamlit itself would take (valid XSRF pair, live Streamlit session id, taken from a websocket the
    way test 14 would) is refused without the portal cookie; 5 x 15 MB of them leave the server's memory as it
    was. The same request with a session cookie is accepted (the control)."""
    xsrf = portal.xsrf()
    server = psutil.Process(portal.url.process.pid)
    with StreamlitClient(portal.url, cookies={"_streamlit_xsrf": xsrf}) as client:
        client.rerun()
        upload_url = f"/_stcore/upload_file/{client.session_id}/ficha"
        base_headers = {"X-Xsrftoken": xsrf, "Origin": portal.url}
        small, kind = upload_body(1024)
        anonymous = {**base_headers, "Cookie": cookie_header({"_streamlit_xsrf": xsrf}), "Content-Type": kind}
        assert request(portal.url, "PUT", upload_url, headers=anonymous, body=small).status == 403  # warm-up
        rss_before = server.memory_info().rss
        body, kind = upload_body(UPLOAD_FILE_MB * MIB)
        for _ in range(UPLOADS):
            answer = request(portal.url, "PUT", upload_url, headers=anonymous, body=body)
            assert answer.status == 403
        time.sleep(0.5)
        rss_after = server.memory_info().rss
        growth = rss_after - rss_before
        print(
            f"\nserver RSS before {rss_before / MIB:.1f} MiB, after {UPLOADS} x {UPLOAD_FILE_MB} MB anonymous PUTs "
            f"{rss_after / MIB:.1f} MiB (growth {growth / MIB:+.1f} MiB)"
        )
        assert growth < UPLOAD_FILE_MB * MIB, f"the server grew by {growth / MIB:.1f} MiB"
        assert request(portal.url, "DELETE", upload_url, headers=anonymous).status == 403
        signed_in = {
            **anonymous,
            "Cookie": cookie_header({"_streamlit_xsrf": xsrf, "portal_session": portal.session("ana")}),
        }
        assert request(portal.url, "PUT", upload_url, headers=signed_in, body=small).status == 204
        assert request(portal.url, "DELETE", upload_url, headers=signed_in).status == 204


def test_31_an_upload_past_the_limit_is_refused_with_413_even_with_a_session(portal):
    xsrf = portal.xsrf()
    limit = portal.settings.upload_max_mb
    with StreamlitClient(portal.url, cookies={"_streamlit_xsrf": xsrf}) as client:
        client.rerun()
        upload_url = f"/_stcore/upload_file/{client.session_id}/grande"
        cookies = cookie_header({"_streamlit_xsrf": xsrf, "portal_session": portal.session("ana")})
        headers = {"X-Xsrftoken": xsrf, "Origin": portal.url, "Cookie": cookies}
        # Declared too large: refused before a byte of it is read.
        body, kind = upload_body(int((limit + 1) * MIB))
        declared = request(portal.url, "PUT", upload_url, headers={**headers, "Content-Type": kind}, body=body)
        assert declared.status == 413
        assert "Documento demasiado grande" in declared.body.decode()
        # No length given (chunked): counted as it streams in and cut off at the limit.
        chunks, kind = streamed_upload_body(int((limit + 2) * MIB))
        streamed = request(
            portal.url, "PUT", upload_url, headers={**headers, "Content-Type": kind}, body=chunks, chunked=True
        )
        assert streamed.status == 413
        assert "Documento demasiado grande" in streamed.body.decode()  # the middleware's answer, not Streamlit's
        # A body within the limit still reaches Streamlit (and the app's own check of the file).
        body, kind = upload_body(int(limit * MIB) - 1024)
        assert (
            request(portal.url, "PUT", upload_url, headers={**headers, "Content-Type": kind}, body=body).status == 204
        )


def test_31_streamlit_upload_limit_is_the_portal_setting_at_runtime(probe):
    """The probe's file_uploader sets no limit of its own: Streamlit's server.maxUploadSize is what it shows,
    PORTAL_UPLOAD_MAX_MB (3), not config.toml's 10."""
    with StreamlitClient(probe.url) as client:
        [uploader] = client.rerun().of_type("file_uploader")
        assert uploader.max_upload_size_mb == PROBE_UPLOAD_MB


def test_31_server_py_sets_streamlit_upload_limit_and_keeps_it_after_a_config_reparse(tmp_path):
    script = (
        "from streamlit import config\n"
        "from streamlit.web import bootstrap\n"
        "import server\n"
        "print(config.get_option('server.maxUploadSize'))\n"
        "bootstrap.load_config_options({})\n"  # config.toml read again (as when it is edited while running)
        "print(config.get_option('server.maxUploadSize'))\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PORTAL_", "STREAMLIT_"))}
    env.update(PORTAL_DATA_DIR=str(tmp_path), PORTAL_UPLOAD_MAX_MB="7.5", PYTHONPATH=str(ROOT))
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["8", "8"]  # whole MB, rounded up; the middleware keeps the exact 7.5 MB


# --- no anonymous cache clearing -----------------------------------------------------------------------------


def computations(data: Path) -> int:
    counter = data / "cache_computations.txt"
    return len(counter.read_text(encoding="utf-8").splitlines()) if counter.exists() else 0


def clear_cache_round(url: PortalURL, data: Path) -> tuple[int, int, str]:
    """Computations of the probe's cached value before and after an anonymous clear_cache, and the text shown."""
    with StreamlitClient(url) as client:
        client.rerun()
        before = computations(data)
        client.clear_cache()
        time.sleep(0.5)
        run = client.rerun()
        return before, computations(data), run.text()


def test_an_anonymous_clear_cache_message_does_not_empty_the_caches(tmp_path):
    """The control first: without the middleware the message empties st.cache_data (the value is computed again);
    behind it the cached value survives, and the connection keeps working."""
    with probe_server(tmp_path / "bare", bare=True) as url:
        before, after, _ = clear_cache_round(url, tmp_path / "bare")
        assert (before, after) == (1, 2), "the control did not clear the cache: the check proves nothing"
    with probe_server(tmp_path / "edge") as url:
        before, after, text = clear_cache_round(url, tmp_path / "edge")
        assert (before, after) == (1, 1)
        assert "Valor en caché: 1" in text
        assert "Forbidden" not in text


def test_websocket_messages_other_than_clear_cache_pass_byte_identical(tmp_path):
    settings = load_settings({"PORTAL_DATA_DIR": str(tmp_path)})
    rerun = BackMsg()
    rerun.rerun_script.query_string = "empresa=acme"
    rerun.rerun_script.page_name = "contabilidad"
    clear = BackMsg()
    clear.clear_cache = True
    heartbeat = BackMsg()
    heartbeat.app_heartbeat = True
    frames = [rerun.SerializeToString(), clear.SerializeToString(), b"\xff\x00garbage", heartbeat.SerializeToString()]
    incoming = [{"type": "websocket.connect"}]
    incoming += [{"type": "websocket.receive", "bytes": frame} for frame in frames]
    incoming += [{"type": "websocket.receive", "text": "hola"}, {"type": "websocket.disconnect", "code": 1000}]
    seen = []

    async def app(scope, receive, send):
        while True:
            message = await receive()
            seen.append(message)
            if message["type"] == "websocket.disconnect":
                return

    async def receive():
        return incoming.pop(0)

    async def send(message):
        raise AssertionError("nothing is sent")

    edge = middleware.PortalEdge(app, settings, engine=None)
    asyncio.run(edge({"type": "websocket", "path": "/_stcore/stream", "headers": []}, receive, send))
    received = [m.get("bytes") for m in seen if m["type"] == "websocket.receive" and "bytes" in m]
    assert received == [frames[0], frames[2], frames[3]]  # clear_cache gone, the rest untouched and in order
    assert seen[0] == {"type": "websocket.connect"}
    assert {"type": "websocket.receive", "text": "hola"} in seen


# --- the pre-sign-in cookie ----------------------------------------------------------------------------------


def test_html_pages_set_the_pre_sign_in_cookie_httponly_once(portal):
    for path in ("/", "/cargas", "/acceso?x=1"):
        line = request(portal.url, path=path).cookies_set().get("portal_pre")
        assert line is not None, path
        attributes = [part.strip().lower() for part in line.split(";")]
        value = attributes[0].split("=", 1)[1]
        assert sessions.well_formed(value)
        assert "httponly" in attributes
        assert "path=/" in attributes
        assert "samesite=lax" in attributes
        assert not any(a.startswith(("max-age", "expires", "domain")) for a in attributes)  # a browser-session cookie
        assert "secure" not in attributes  # plain http here (Secure and __Host- over HTTPS)
    again = request(portal.url, path="/", headers={"Cookie": f"portal_pre={sessions.new_token()}"})
    assert "portal_pre" not in again.cookies_set()
    for path in ("/_stcore/health", "/_stcore/host-config", "/favicon.png", "/static/nada.js", "/media/x.png"):
        assert "portal_pre" not in request(portal.url, path=path).cookies_set(), path
    assert "portal_pre" not in request(portal.url, "HEAD", "/").cookies_set()


# --- in Chromium -----------------------------------------------------------------------------------------------

CSP_LISTENER = """
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation', (e) => {
  window.__cspViolations.push(`${e.violatedDirective} ${e.blockedURI} (${e.sourceFile}:${e.lineNumber})`);
});
"""


class Watch:
    """What a page did that the CSP or the same-origin rule would not allow, recorded from Playwright's events."""

    def __init__(self, page, origin: str) -> None:
        self.page, self.origin = page, origin
        self.foreign: list[str] = []
        self.media_refused: list[str] = []
        page.on("request", self._request)
        page.on("response", self._response)

    def _request(self, r) -> None:
        if not r.url.startswith((self.origin + "/", "data:", "blob:")):
            self.foreign.append(r.url)

    def _response(self, r) -> None:
        if "/media/" in r.url and r.status >= 400:
            self.media_refused.append(f"{r.status} {r.url}")

    def violations(self) -> list[str]:
        return self.page.evaluate("window.__cspViolations || []")


@pytest.mark.browser
def test_the_pre_sign_in_cookie_is_httponly_in_the_browser_and_the_probe_page_stays_in_policy(probe):
    with chromium() as browser:
        context = browser.new_context(locale="es-ES")
        context.add_init_script(CSP_LISTENER)
        page = context.new_page()
        watch = Watch(page, probe.url)
        page.goto(probe.url)
        page.get_by_text("Valor en caché").wait_for()
        settle(page)
        [pre] = [c for c in context.cookies() if c["name"] == "portal_pre"]
        assert pre["httpOnly"] and pre["sameSite"] == "Lax" and pre["path"] == "/" and pre["expires"] == -1
        assert "portal_pre" not in page.evaluate("document.cookie")
        icon = page.evaluate("document.querySelector('link[rel~=icon]').href")
        assert icon.startswith("data:image/svg+xml")  # the portal's favicon (web/static/favicon.svg), inline
        assert watch.violations() == []
        assert watch.foreign == []
        assert watch.media_refused  # the probe's image (and download): anonymous, so refused
        context.close()


def fill_sign_in_form(page, username: str) -> None:
    page.get_by_label("Usuario").fill(username)
    page.get_by_role("textbox", name="Contraseña").fill(PASSWORD)
    page.get_by_role("button", name="Entrar").click()


def page_specs() -> list[tuple[str, tuple[str, ...]]]:
    """(url_path, roles) of every page registered in app.py, read from its PAGES table."""
    specs = []
    for node in ast.walk(ast.parse((ROOT / "app.py").read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "PageSpec":
            args = [ast.literal_eval(a) for a in node.args]
            keywords = {k.arg: ast.literal_eval(k.value) for k in node.keywords}
            specs.append((args[2], tuple(keywords.get("roles", args[4] if len(args) > 4 else ()))))
    assert len(specs) > 10
    return specs


def legacy_material_favicon() -> bool:
    """app.py still asks Streamlit for a Material icon as favicon (fetched from fonts.gstatic.com)."""
    return bool(re.search(r"page_icon\s*=\s*\":material/", (ROOT / "app.py").read_text(encoding="utf-8")))


@pytest.fixture(scope="module")
def demo_portal(tmp_path_factory) -> Iterator[Portal]:
    """The demo firm's «levante» (every module) loaded; staff «ana» and client «lola» with every module."""
    from etl.demo import generate

    data = tmp_path_factory.mktemp("edge-demo") / "data"
    settings = load_settings({"PORTAL_DATA_DIR": str(data)})
    generate(settings.sources)
    [result] = service.load_all(settings, companies=["levante"])
    assert result.outcome == "published", result.message
    engine = get_engine(settings.db_url)
    users.create_user(engine, "ana", PASSWORD, role="staff", name="Ana García")
    users.create_user(engine, "lola", PASSWORD, role="client", name="Lola Pérez")
    for module in access.MODULES:
        access.grant(engine, "lola", "levante", module, actor="test")
    with running_portal(data) as url:
        yield Portal(url, settings, engine)


@pytest.mark.browser
def test_every_page_as_staff_and_client_draws_within_the_csp_and_only_from_the_portal(demo_portal):
    """The sign-in form (and the hand-off it posts), then every page of each role: no CSP violation, no request to
    another origin, every chart drawn and every table painted."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    url = demo_portal.url
    problems: list[str] = []
    foreign: list[str] = []
    drawn = {"charts": 0, "tables": 0}
    with chromium() as browser:
        for username in ("lola", "ana"):
            context = browser.new_context(viewport={"width": 1400, "height": 900}, locale="es-ES")
            context.set_default_timeout(60_000)
            context.add_init_script(CSP_LISTENER)
            page = context.new_page()
            watch = Watch(page, url)
            if username == "lola":  # through the form: the hand-off script and its POST under the policy
                page.goto(url)
                fill_sign_in_form(page, "lola")
                page.get_by_role("button", name="Cerrar sesión").wait_for()
            else:  # staff need a second factor: a session made here instead
                cookie = {"name": "portal_session", "value": demo_portal.session("ana"), "url": url}
                context.add_cookies([{**cookie, "httpOnly": True, "sameSite": "Lax"}])
            problems += [f"{username} sign-in: {v}" for v in watch.violations()]
            role = users.get_user(demo_portal.engine, username)["role"]
            for path in [p for p, roles in page_specs() if role in roles]:
                page.goto(f"{url}/{path}")
                page.locator("[data-testid='stMain'] h1").first.wait_for()
                settle(page, quiet_ms=1_500)
                # Charts and tables on screen (not those in a closed expander or another tab) must be drawn.
                charts = [c for c in page.locator("[data-testid='stPlotlyChart']").all() if c.is_visible()]
                tables = [t for t in page.locator("[data-testid='stDataFrame']").all() if t.is_visible()]
                for i, chart in enumerate(charts):
                    try:
                        chart.locator(".js-plotly-plot .main-svg").first.wait_for(timeout=30_000)
                    except PlaywrightTimeout:
                        problems.append(f"{username} /{path}: chart {i} not drawn")
                for i, table in enumerate(tables):
                    try:
                        table.locator("canvas").first.wait_for(timeout=30_000)
                    except PlaywrightTimeout:
                        problems.append(f"{username} /{path}: table {i} not painted")
                drawn["charts"] += len(charts)
                drawn["tables"] += len(tables)
                problems += [f"{username} /{path}: {v}" for v in watch.violations()]
                problems += [f"{username} /{path}: {m}" for m in watch.media_refused]
                watch.media_refused.clear()
            foreign += watch.foreign
            context.close()
    legacy = "fonts.gstatic.com/s/i/short-term/release/materialsymbolsrounded/"
    if legacy_material_favicon():  # app.py's page_icon, until it uses web/static/favicon.svg
        problems = [p for p in problems if legacy not in p]
        foreign = [f for f in foreign if legacy not in f]
    assert problems == []
    assert foreign == []
    assert drawn["charts"] >= 5 and drawn["tables"] >= 10, drawn
    if legacy_material_favicon():
        pytest.xfail("app.py's page_icon is a Material icon: its favicon comes from fonts.gstatic.com")


@pytest.mark.browser
def test_the_sign_in_screens_need_nothing_from_media(portal):
    """Before the session cookie exists, /media answers 403: the sign-in form and the second-factor enrolment a
    staff user goes through at the first sign-in must draw everything inline (data: URLs), never from /media."""
    users.create_user(portal.engine, "berta", PASSWORD, role="staff", name="Berta Gil")
    with chromium() as browser:
        context = browser.new_context(locale="es-ES")
        context.set_default_timeout(60_000)
        context.add_init_script(CSP_LISTENER)
        page = context.new_page()
        watch = Watch(page, portal.url)
        page.goto(portal.url)
        fill_sign_in_form(page, "berta")
        page.get_by_text("Active la verificación en dos pasos").wait_for()  # staff without a second factor yet
        page.locator("[data-testid='stImage'] img").first.wait_for()  # the QR code (an inline data: URL)
        settle(page)
        assert watch.media_refused == []
        assert watch.violations() == []
        assert watch.foreign == [] or legacy_material_favicon()
        context.close()
