"""ASGI middleware around Streamlit: security headers, media and uploads only with a session, limits.

One pure ASGI middleware (:class:`PortalEdge`) stands in front of Streamlit's own routes:

- every HTTP response gets the security headers (:func:`security_headers`): a Content-Security-Policy that allows
  only the portal's own origin, plus the one inline script of Streamlit's ``index.html`` by its hash, computed at
  start-up from the installed file;
- ``/media/…`` (images, charts exported as files, every download, including the files a deferred
  ``st.download_button(data=callable)`` produces: in Streamlit 1.67 the callable runs on a websocket message and its
  file is served from ``/media/…``) and the upload route ``/_stcore/upload_file/…`` answer 403 without a live
  portal session cookie (``auth.sessions.check``);
- an upload body larger than ``PORTAL_UPLOAD_MAX_MB`` is refused with 413, by Content-Length before it is read and
  by counting the bytes as they stream in;
- an HTML page sets the pre-sign-in cookie when the browser has none (it binds the sign-in hand-off to the browser);
- a websocket re-attaches to an existing Streamlit session only with the cookies that opened it;
- on the websocket, a ``clear_cache`` BackMsg is dropped (Streamlit would clear every ``st.cache_data`` and
  ``st.cache_resource`` of every user); every other message goes through byte-identical.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import re
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

from google.protobuf.message import DecodeError
from sqlalchemy.engine import Engine
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers, MutableHeaders
from starlette.middleware import Middleware
from starlette.responses import PlainTextResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

from auth import sessions
from portal.settings import Settings

log = logging.getLogger("portal.web")

MIB = 1024 * 1024
MAX_STREAM_OWNERS = 50_000  # remembered Streamlit sessions (oldest forgotten first; they expire long before)

MEDIA = "/media/"
UPLOADS = "/_stcore/upload_file/"
# Paths that never answer with an HTML page of the app (Streamlit's API, its bundles, files, the portal's routes).
NOT_PAGES = ("/_stcore/", "/static/", MEDIA, "/component/", "/_portal/")
HSTS = "max-age=31536000; includeSubDomains"
PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), payment=(), usb=(), display-capture=()"


def inline_script_hashes(index_html: str) -> list[str]:
    """CSP sources (``'sha256-…'``) of every inline ``<script>`` of an HTML page, hashed exactly as written."""
    hashes = []
    for match in re.finditer(r"<script(?P<attrs>[^>]*)>(?P<body>.*?)</script>", index_html, re.DOTALL | re.I):
        if re.search(r"\bsrc\s*=", match["attrs"], re.I):
            continue
        digest = hashlib.sha256(match["body"].encode("utf-8")).digest()
        hashes.append(f"'sha256-{base64.b64encode(digest).decode('ascii')}'")
    return hashes


@lru_cache(maxsize=1)
def streamlit_script_hashes() -> tuple[str, ...]:
    """The hashes of the inline scripts of the installed Streamlit's ``static/index.html`` (read once)."""
    from streamlit import file_util

    index = Path(file_util.get_static_dir()) / "index.html"
    return tuple(inline_script_hashes(index.read_text(encoding="utf-8")))


def content_security_policy(script_hashes: Iterable[str] | None = None) -> str:
    """The portal's CSP: its own origin only. Each source below is one that some page was seen to need when every
    page was opened in Chromium as staff and as a client (with a ``securitypolicyviolation`` listener), starting
    from ``'self'`` alone:

    - ``script-src 'self'`` + the hash of the one inline script of Streamlit's index.html (``prerenderReady``);
      the portal's own scripts (``/_portal/handoff.js``) are same-origin files. ``'wasm-unsafe-eval'``: Streamlit's
      protobuf bundle (long.js) compiles a tiny WebAssembly module on every page (it would fall back to plain
      JavaScript, but every page would report a violation); it allows WebAssembly only, never JavaScript ``eval``
      (``'unsafe-eval'`` is not needed by Streamlit, plotly or the PDF viewer).
    - ``style-src 'self' 'unsafe-inline'``: Streamlit (emotion, styled-components) and plotly style with inline
      ``<style>`` elements and ``style`` attributes.
    - ``img-src 'self' data:``: images come from ``/media``; the favicon and what the sign-in screens draw before
      a session exists (a QR code, the firm's logo) can only be inline ``data:`` URLs (``/media`` needs a session).
    - ``font-src 'self' data:``: Streamlit's fonts are files under ``/static``, except one KaTeX font its CSS
      carries inline as a ``data:`` URL.
    - ``connect-src 'self'``: the websocket ``/_stcore/stream``, health, uploads, the PDF viewer fetching ``/media``.
    - ``worker-src 'self'``: the PDF viewer's worker (a file of its component).
    - ``frame-src 'none'``: no page frames anything (and ``frame-ancestors 'none'`` would refuse a same-origin
      frame anyway).
    - ``object-src 'none'``, ``base-uri 'none'``, ``form-action 'self'`` (the sign-in hand-off posts to
      ``/_portal/…``), ``frame-ancestors 'none'``; media (audio, video), manifest: ``default-src 'self'``.
    """
    hashes = list(streamlit_script_hashes() if script_hashes is None else script_hashes)
    directives = {
        "default-src": ["'self'"],
        "script-src": ["'self'", *hashes, "'wasm-unsafe-eval'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "worker-src": ["'self'"],
        "frame-src": ["'none'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
    return "; ".join(f"{name} {' '.join(sources)}" for name, sources in directives.items())


# Files served from /media are never a page of the portal: if a browser were ever made to open one as a document
# (an uploaded HTML, say), it runs sandboxed with nothing allowed.
MEDIA_CSP = "default-src 'none'; img-src 'self'; media-src 'self'; frame-ancestors 'none'; sandbox"


def security_headers(settings: Settings, *, csp: str | None = None) -> dict[str, str]:
    """The headers every HTTP response of the portal carries (HSTS only when the portal is served over HTTPS)."""
    headers = {
        "Content-Security-Policy": csp or content_security_policy(),
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "same-origin",
        "X-Frame-Options": "DENY",
        "Permissions-Policy": PERMISSIONS_POLICY,
        "Cross-Origin-Opener-Policy": "same-origin",
        "Cross-Origin-Resource-Policy": "same-origin",
    }
    if settings.https:
        headers["Strict-Transport-Security"] = HSTS
    return headers


def upload_limit_bytes(settings: Settings) -> int:
    """Largest upload request body accepted: PORTAL_UPLOAD_MAX_MB (in MiB, as the app counts it).

    The whole body, as Streamlit's own Content-Length check counts it too: the file it carries is a few hundred
    bytes (boundary lines, part headers) smaller. The app checks the file's exact size again.
    """
    return int(settings.upload_max_mb * MIB)


def streamlit_upload_mb(settings: Settings) -> int:
    """Streamlit's ``server.maxUploadSize`` (whole MB) for the portal's limit (the app re-checks the exact bytes)."""
    return max(1, -int(-settings.upload_max_mb // 1))


def is_clear_cache(data: bytes | None) -> bool:
    """True for a websocket frame that Streamlit would read as a ``clear_cache`` BackMsg."""
    if not data:
        return False
    from streamlit.proto.BackMsg_pb2 import BackMsg

    try:
        message = BackMsg.FromString(data)
    except DecodeError:
        return False  # Streamlit refuses it too (closes the socket with 1002)
    return message.WhichOneof("type") == "clear_cache"


class BodyTooLarge(Exception):
    """An upload's body went past the limit while streaming in."""


class PortalEdge:
    """The portal's pure ASGI middleware (see the module's docstring)."""

    def __init__(self, app: ASGIApp, settings: Settings, engine: Engine) -> None:
        self.app = app
        self.settings = settings
        self.engine = engine
        self.headers = security_headers(settings)
        self.media_headers = security_headers(settings, csp=MEDIA_CSP)
        self.upload_limit = upload_limit_bytes(settings)
        self.session_cookie = sessions.cookie_name(settings)
        self.pre_cookie = sessions.pre_cookie_name(settings)
        self.stream_owners: dict[str, str] = {}  # Streamlit session id -> digest of the cookies that opened it

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            await self.http(scope, receive, send)
        elif scope["type"] == "websocket":
            await self.websocket(scope, receive, send)
        else:
            await self.app(scope, receive, send)

    # --- HTTP ---------------------------------------------------------------------------------------------------

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = self.local_path(scope)
        method = scope["method"]
        request_headers = Headers(scope=scope)
        started = False

        async def send_with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                self.decorate(message, path, method, request_headers)
            await send(message)

        is_upload = path.startswith(UPLOADS) and method in ("PUT", "DELETE")
        if (path.startswith(MEDIA) or is_upload) and not await self.signed_in(request_headers):
            await PlainTextResponse("Forbidden", status_code=403)(scope, receive, send_with_headers)
            return
        if is_upload and method == "PUT":
            if self.declared_too_large(request_headers):
                await self.too_large(scope, receive, send_with_headers)
                return
            receive = self.counted(receive)
        try:
            await self.app(scope, receive, send_with_headers)
        except BodyTooLarge:
            log.warning("upload refused: its body went past %d bytes while streaming in", self.upload_limit)
            if started:
                raise
            await self.too_large(scope, receive, send_with_headers)

    def local_path(self, scope: Scope) -> str:
        """The request path below Streamlit's ``server.baseUrlPath`` (so the rules hold under a path prefix too)."""
        from streamlit import config

        path = scope["path"]
        base = (config.get_option("server.baseUrlPath") or "").strip("/")
        if base and (path == f"/{base}" or path.startswith(f"/{base}/")):
            path = path[len(base) + 1 :] or "/"
        return path

    async def signed_in(self, request_headers: Headers) -> bool:
        """Whether the request carries the cookie of a live portal session (checked against the database)."""
        token = _cookies(request_headers).get(self.session_cookie)
        if not sessions.well_formed(token):
            return False
        return await run_in_threadpool(sessions.check, self.settings, self.engine, token) is not None

    def declared_too_large(self, request_headers: Headers) -> bool:
        try:
            declared = int(request_headers.get("content-length") or 0)
        except ValueError:
            return True
        return declared > self.upload_limit

    def counted(self, receive: Receive) -> Receive:
        """``receive`` that counts the body's bytes and raises :class:`BodyTooLarge` past the limit."""
        received = 0
        limit = self.upload_limit

        async def receive_counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge
            return message

        return receive_counted

    async def too_large(self, scope: Scope, receive: Receive, send: Send) -> None:
        # Nothing more of the body reaches the app; uvicorn reads and discards what the client still sends, so that
        # the client gets to read this answer (closing at once would reset the connection under its feet).
        response = PlainTextResponse(
            f"Documento demasiado grande: el límite es {self.settings.upload_max_mb:g} MB.", status_code=413
        )
        await response(scope, receive, send)

    def decorate(self, message: Message, path: str, method: str, request_headers: Headers) -> None:
        """Add the security headers (and, on an HTML page, the pre-sign-in cookie) to a response's start."""
        headers = MutableHeaders(scope=message)
        media = path.startswith(MEDIA)
        for name, value in (self.media_headers if media else self.headers).items():
            headers[name] = value
        html = headers.get("content-type", "").lower().startswith("text/html")
        if html or media or "cache-control" not in headers:
            headers["Cache-Control"] = "no-store"
        if (
            html
            and method == "GET"
            and not path.startswith(NOT_PAGES)
            and not sessions.well_formed(_cookies(request_headers).get(self.pre_cookie))
        ):
            cookie = Response()
            cookie.set_cookie(self.pre_cookie, sessions.new_token(), **sessions.cookie_attributes(self.settings))
            for name, value in cookie.raw_headers:
                if name == b"set-cookie":
                    headers.append("set-cookie", value.decode("latin-1"))

    # --- websocket ----------------------------------------------------------------------------------------------

    async def websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Streamlit's websocket, re-attaching only to a Streamlit session this browser opened, without clear_cache.

        Streamlit lets a websocket re-attach to a live (or recently closed) session by naming its id, the third
        ``Sec-WebSocket-Protocol`` entry; the id also travels in upload URLs. Here a re-attach is honoured only
        when the connection carries the same portal cookies as the one that opened that session (a reconnecting
        tab); any other connection gets a fresh session, so it never sees the other's state, widgets or
        deferred downloads.
        """
        owner = self.cookie_owner(Headers(scope=scope))
        scope = self.reattach_only_by_owner(scope, owner)
        learned = False

        async def send_learning(message: Message) -> None:
            nonlocal learned
            if not learned and message["type"] == "websocket.send":
                session_id = new_session_id(message.get("bytes"))
                if session_id:
                    self.stream_owners[session_id] = owner
                    while len(self.stream_owners) > MAX_STREAM_OWNERS:
                        self.stream_owners.pop(next(iter(self.stream_owners)))
                    learned = True
            await send(message)

        await self.app(scope, self.without_clear_cache(receive), send_learning)

    def cookie_owner(self, request_headers: Headers) -> str:
        """A digest of the portal cookies a connection carries (session and pre-sign-in), never the cookies."""
        cookies = _cookies(request_headers)
        joined = f"{cookies.get(self.session_cookie, '')}|{cookies.get(self.pre_cookie, '')}"
        return hashlib.sha256(joined.encode("utf-8")).hexdigest()

    def reattach_only_by_owner(self, scope: Scope, owner: str) -> Scope:
        """The scope without the session id to re-attach to, unless this connection's cookies opened that session."""
        request_headers = Headers(scope=scope)
        entries = [value.strip() for value in request_headers.get("sec-websocket-protocol", "").split(",")]
        if len(entries) < 3 or not entries[2] or self.stream_owners.get(entries[2]) == owner:
            return scope
        log.warning("websocket re-attach to another browser's Streamlit session refused: a new session instead")
        kept = ", ".join(entries[:2]).encode("latin-1")
        headers = [(k, kept if k == b"sec-websocket-protocol" else v) for k, v in scope["headers"]]
        return {**scope, "headers": headers, "subprotocols": entries[:2]}

    def without_clear_cache(self, receive: Receive) -> Receive:
        """``receive`` without ``clear_cache`` BackMsgs (nobody may empty every user's caches); the rest as it came."""

        async def receive_filtered() -> Message:
            while True:
                message = await receive()
                if message["type"] == "websocket.receive" and is_clear_cache(message.get("bytes")):
                    log.warning("websocket clear_cache message dropped")
                    continue
                return message

        return receive_filtered


def new_session_id(data: bytes | None) -> str | None:
    """The Streamlit session id announced by a ``new_session`` ForwardMsg (the first message of a run), or None."""
    if not data:
        return None
    try:
        forward = ForwardMsg.FromString(data)
    except DecodeError:
        return None
    if forward.WhichOneof("type") != "new_session":
        return None
    return forward.new_session.initialize.session_id or None


def _cookies(request_headers: Headers) -> dict[str, str]:
    from starlette.requests import cookie_parser

    return cookie_parser(request_headers.get("cookie", ""))


def stack(settings: Settings | None = None, engine: Engine | None = None) -> list[Middleware]:
    """The middleware of the portal, outermost first."""
    from portal.db import get_engine
    from portal.settings import load_settings

    settings = settings or load_settings()
    engine = engine or get_engine(settings.db_url)
    return [Middleware(PortalEdge, settings=settings, engine=engine)]
