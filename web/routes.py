"""The portal's own HTTP routes: the sign-in hand-off that sets the HttpOnly session cookie, and sign-out."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, RedirectResponse, Response
from starlette.routing import Route

from auth import sessions
from portal.db import get_engine
from portal.settings import load_settings

STATIC = Path(__file__).with_name("static")
MAX_FIELD = 256


def same_origin(request: Request) -> bool:
    """A form POST the portal's own page sent (not another site's): by Sec-Fetch-Site, else by Origin."""
    site = request.headers.get("sec-fetch-site")
    if site is not None:
        return site in ("same-origin", "none")
    origin = request.headers.get("origin")
    if origin is None:
        return False
    return urlsplit(origin).netloc == request.headers.get("host", "")


def safe_next(value: object) -> str:
    """A local path to land on after signing in; anything else becomes ``/``."""
    if not isinstance(value, str) or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/"
    if len(value) > MAX_FIELD or any(ord(ch) < 32 for ch in value) or value.startswith("/_"):
        return "/"
    return value


def _redirect(location: str) -> RedirectResponse:
    response = RedirectResponse(location, status_code=303)
    response.headers["Cache-Control"] = "no-store"
    return response


async def open_session(request: Request) -> Response:
    """POST /_portal/sesion: a one-time ticket from the sign-in form, bound to this browser, becomes the cookie."""
    settings = load_settings()
    if not same_origin(request):
        return _redirect("/")
    form = await request.form(max_files=0, max_fields=4)
    ticket, target = form.get("ticket"), safe_next(form.get("next"))
    binding = request.cookies.get(sessions.pre_cookie_name(settings))
    engine = get_engine(settings.db_url)
    token = await run_in_threadpool(
        sessions.open_from_handoff,
        settings,
        engine,
        ticket,
        binding,
        user_agent=request.headers.get("user-agent", ""),
        ip=request.client.host if request.client else "",
    )
    response = _redirect(target if token else "/")
    if token:
        response.set_cookie(sessions.cookie_name(settings), token, **sessions.cookie_attributes(settings))
    return response


async def close_session(request: Request) -> Response:
    """POST /_portal/salir: ends the session behind the cookie (if still open) and deletes the cookie."""
    settings = load_settings()
    if not same_origin(request):
        return _redirect("/")
    response = _redirect("/?sesion=cerrada")  # the sign-in page then says «Ha cerrado la sesión.»
    name = sessions.cookie_name(settings)
    token = request.cookies.get(name)
    if token is not None:
        await run_in_threadpool(sessions.revoke_token, get_engine(settings.db_url), token)
    attributes = sessions.cookie_attributes(settings)
    response.delete_cookie(name, path="/", secure=attributes["secure"], httponly=True, samesite="lax")
    return response


async def handoff_script(_request: Request) -> Response:
    """GET /_portal/handoff.js: the fixed script that POSTs the sign-in ticket (allowed by the CSP as 'self')."""
    return FileResponse(STATIC / "handoff.js", media_type="text/javascript", headers={"Cache-Control": "no-cache"})


ROUTES = [
    Route("/_portal/sesion", open_session, methods=["POST"]),
    Route("/_portal/salir", close_session, methods=["POST"]),
    Route("/_portal/handoff.js", handoff_script, methods=["GET"]),
]
