"""Server-side sessions: the cookie hand-off, the per-rerun gate, timeouts, revocation and Mi cuenta's list."""

from __future__ import annotations

import asyncio
import base64
import json
from datetime import timedelta
from urllib.parse import urlencode

import pytest
import sqlalchemy as sa
from streamlit.testing.v1 import AppTest

from auth import accounts, sessions, signin, users
from portal import clock
from portal.db import get_engine
from portal.db import sessions as sessions_table
from portal.settings import load_settings
from tests.app_cookies import (
    complete_hand_off,
    drop_session,
    give_session,
    handed_off_ticket,
    jar,
    sign_in_with_form,
    submit_password,
)
from tests.test_app import ROOT, shows_sign_in_form, texts
from web import routes

PASSWORD = "una frase de acceso bastante larga"


@pytest.fixture
def settings(tmp_path, monkeypatch):
    """A data dir with the staff user «ana» and the client user «luis» (no company: sessions only)."""
    return staff_and_client(tmp_path, monkeypatch)


def staff_and_client(tmp_path, monkeypatch):
    """Settings over a fresh data dir with staff «ana» and client «luis» (the app reads PORTAL_DATA_DIR)."""
    monkeypatch.setenv("PORTAL_DATA_DIR", str(tmp_path / "data"))
    current = load_settings()
    engine = get_engine(current.db_url)
    users.create_user(engine, "ana", PASSWORD, role="staff", name="Ana García")
    users.create_user(engine, "luis", PASSWORD, role="client", name="Luis Pérez")
    return current


def engine_of(settings):
    return get_engine(settings.db_url)


def app() -> AppTest:
    return AppTest.from_file(str(ROOT / "app.py"), default_timeout=30)


def session_rows(settings) -> list[dict]:
    with engine_of(settings).connect() as conn:
        return [dict(r._mapping) for r in conn.execute(sa.select(sessions_table).order_by(sessions_table.c.id))]


def age_session(settings, token: str, *, created: timedelta = timedelta(0), idle: timedelta = timedelta(0)) -> None:
    """Move a session back in time: created ``created`` ago, last seen ``idle`` ago (expiry from creation)."""
    now = clock.now_utc()
    with engine_of(settings).begin() as conn:
        conn.execute(
            sa.update(sessions_table)
            .where(sessions_table.c.token_hash == sessions.digest(token))
            .values(
                created_at=now - created,
                last_seen_at=now - idle,
                expires_at=now - created + timedelta(hours=settings.session_max_hours),
            )
        )


# --- the gate on every rerun ------------------------------------------------------------------------------------


def test_a_session_cookie_signs_the_browser_in_and_nothing_else_does(settings):
    at = app()
    jar(at)
    at.run()
    assert shows_sign_in_form(at)
    give_session(at, "luis")
    at.run()
    assert "Su despacho aún no ha activado módulos para su usuario." in texts(at)
    assert at.session_state[signin.USER_KEY]["username"] == "luis"


def test_a_rerun_without_the_cookie_wipes_the_session_state_and_shows_only_the_form(settings):
    # Attack 1: another client re-attaches to this Streamlit session (same session state) without the cookie.
    at = app()
    give_session(at, "luis")
    at.run()
    at.session_state["something_a_page_kept"] = "datos de luis"
    drop_session(at)
    at.run()
    assert shows_sign_in_form(at)
    assert signin.USER_KEY not in at.session_state and "something_a_page_kept" not in at.session_state
    assert signin.SESSION_ENDED in texts(at)


def test_a_rerun_with_another_users_cookie_keeps_nothing_of_the_first_user(settings):
    at = app()
    give_session(at, "luis")
    at.run()
    at.session_state["something_a_page_kept"] = "datos de luis"
    give_session(at, "ana")  # an attacker with a session of its own re-attaches to luis's Streamlit session
    at.run()
    assert "something_a_page_kept" not in at.session_state
    assert at.session_state[signin.USER_KEY]["username"] == "ana"


@pytest.mark.parametrize(
    "cookie",
    [
        "",
        "x",
        "a" * 129,
        "ñññññññññññññññññññññññññ",
        "../../etc/passwd",
        "eyJhbGciOiJub25lIn0."
        + base64.urlsafe_b64encode(json.dumps({"username": "ana", "exp_date": 9e9}).encode()).decode().rstrip("=")
        + ".",
        sessions.new_token(),  # well formed, but no such session
    ],
)
def test_any_malformed_or_unknown_cookie_leads_to_the_normal_sign_in_form(settings, cookie):
    at = app()
    jar(at)[sessions.cookie_name(settings)] = cookie
    at.run()
    assert not at.exception
    assert shows_sign_in_form(at) and not at.error


@pytest.mark.parametrize(
    ("created", "idle", "alive", "reason"),
    [
        (timedelta(minutes=31), timedelta(minutes=29), True, None),
        (timedelta(minutes=31), timedelta(minutes=31), False, "idle"),
        (timedelta(hours=12, minutes=1), timedelta(minutes=1), False, "lifetime"),
        (timedelta(hours=23, minutes=50), timedelta(0), False, "lifetime"),
        (timedelta(hours=11, minutes=59), timedelta(minutes=5), True, None),
    ],
)
def test_idle_and_absolute_timeouts(settings, created, idle, alive, reason):
    at = app()
    token = give_session(at, "luis")
    age_session(settings, token, created=created, idle=idle)
    at.run()
    assert shows_sign_in_form(at) is not alive
    [row] = session_rows(settings)
    assert (row["revoked_at"] is None) is alive and (row["revoked_reason"] or None) == reason


def test_timeouts_follow_the_settings(settings, monkeypatch):
    monkeypatch.setenv("PORTAL_SESSION_IDLE_MINUTES", "5")
    at = app()
    token = give_session(at, "luis")
    age_session(settings, token, created=timedelta(minutes=6), idle=timedelta(minutes=6))
    at.run()
    assert shows_sign_in_form(at)


def test_activity_moves_the_idle_clock(settings):
    at = app()
    token = give_session(at, "luis")
    age_session(settings, token, created=timedelta(minutes=50), idle=timedelta(minutes=20))
    at.run()
    [row] = session_rows(settings)
    assert clock.now_utc() - clock.as_utc(row["last_seen_at"]) < timedelta(minutes=1)


@pytest.mark.parametrize("change", ["lock", "expire", "deactivate", "force_logout", "reset", "staff_password"])
def test_account_changes_end_the_session_at_the_next_click(settings, change):
    engine = engine_of(settings)
    at = app()
    give_session(at, "luis")
    at.run()
    assert not shows_sign_in_form(at)
    if change == "lock":
        for _ in range(5):
            users.record_failed_attempt(engine, "luis")
    elif change == "expire":
        with engine.begin() as conn:
            conn.execute(sa.update(users.users).values(expires_on=clock.today_madrid() - timedelta(days=1)))
    elif change == "deactivate":
        users.set_active(engine, "luis", False)
    elif change == "force_logout":
        accounts.force_logout(engine, "luis", actor="ana")
    elif change == "reset":
        users.revoke_sessions(engine, "luis", reason="password")
    else:
        accounts.set_password(settings, engine, "luis", "otra frase de acceso muy larga", actor="ana")
    at.run()
    assert shows_sign_in_form(at)
    assert all(row["revoked_at"] is not None for row in session_rows(settings))


# --- signing in: the hand-off -----------------------------------------------------------------------------------


def test_signing_in_hands_off_a_one_time_ticket_and_opens_a_new_session_each_time(settings):
    first = sign_in_with_form(app(), "luis", PASSWORD)
    assert not shows_sign_in_form(first)
    second = app()
    jar(second)
    second.run()
    submit_password(second, "luis", PASSWORD)
    assert complete_hand_off(second)
    assert not complete_hand_off(second)  # the same ticket again: refused
    tokens = {row["token_hash"] for row in session_rows(settings)}
    assert len(tokens) == 2  # a new session id at every sign-in, never a reused one


def test_a_ticket_is_useless_to_a_browser_without_the_pre_sign_in_cookie_it_was_bound_to(settings):
    at = app()
    jar(at)
    at.run()
    submit_password(at, "luis", PASSWORD)
    ticket = handed_off_ticket(at)
    engine = engine_of(settings)
    assert ticket and sessions.open_from_handoff(settings, engine, ticket, sessions.new_token()) is None
    assert sessions.open_from_handoff(settings, engine, ticket, None) is None
    later = clock.now_utc() + timedelta(seconds=sessions.HANDOFF_SECONDS + 1)
    binding = jar(at)[sessions.pre_cookie_name(settings)]
    assert sessions.open_from_handoff(settings, engine, ticket, binding, now=later) is None  # expired
    assert sessions.open_from_handoff(settings, engine, ticket, binding) is not None


def test_without_the_pre_sign_in_cookie_the_form_says_why_and_checks_nothing(settings):
    at = app().run()  # no jar: the browser sent no cookie at all
    submit_password(at, "luis", PASSWORD)
    assert [e.value for e in at.error] == [signin.NO_PRE_COOKIE]
    assert users.get_user(engine_of(settings), "luis")["failed_attempts"] == 0


# --- the routes, called as ASGI apps ----------------------------------------------------------------------------


def call(route_path: str, *, form: dict | None = None, cookies: dict | None = None, headers: dict | None = None):
    """POST to one of web.routes' routes through its ASGI interface; (status, headers as (name, value) list)."""
    [route] = [r for r in routes.ROUTES if r.path == route_path]
    body = urlencode(form or {}).encode()
    raw = {"host": "portal.test", "content-type": "application/x-www-form-urlencoded", **(headers or {})}
    if cookies:
        raw["cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
    scope = {
        "type": "http",
        "method": "POST",
        "path": route_path,
        "raw_path": route_path.encode(),
        "query_string": b"",
        "headers": [(k.encode(), v.encode()) for k, v in raw.items()],
        "client": ("127.0.0.1", 5000),
        "server": ("portal.test", 80),
        "scheme": "http",
        "root_path": "",
    }
    sent: list[dict] = []

    async def receive():
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message):
        sent.append(message)

    asyncio.run(route.app(scope, receive, send))
    start = next(m for m in sent if m["type"] == "http.response.start")
    return start["status"], [(k.decode(), v.decode()) for k, v in start["headers"]]


def ticket_for(settings, username: str, binding: str) -> str:
    user = users.get_user(engine_of(settings), username)
    return sessions.issue_handoff(engine_of(settings), user["id"], binding, mfa=False)


@pytest.mark.parametrize("https", [False, True])
def test_the_session_route_sets_an_httponly_cookie_and_redirects(settings, monkeypatch, https):
    if https:
        monkeypatch.setenv("PORTAL_BASE_URL", "https://portal.test")
    current = load_settings()
    binding = sessions.new_token()
    status, headers = call(
        "/_portal/sesion",
        form={"ticket": ticket_for(current, "luis", binding), "next": "/contabilidad"},
        cookies={sessions.pre_cookie_name(current): binding},
        headers={"sec-fetch-site": "same-origin"},
    )
    assert status == 303 and ("location", "/contabilidad") in headers
    [cookie] = [v for k, v in headers if k == "set-cookie"]
    name = "__Host-portal_session" if https else "portal_session"
    assert cookie.startswith(f"{name}=")
    lowered = cookie.lower()
    assert "httponly" in lowered and "samesite=lax" in lowered and "path=/" in lowered
    assert ("secure" in lowered.split("; ")) is https and "domain=" not in lowered and "max-age" not in lowered
    token = cookie.split(";")[0].split("=", 1)[1]
    assert sessions.check(current, engine_of(current), token).user["username"] == "luis"


@pytest.mark.parametrize(
    "headers",
    [{"sec-fetch-site": "cross-site"}, {"origin": "https://evil.example"}, {}],
    ids=["site", "origin", "none"],
)
def test_the_session_route_refuses_a_post_from_another_site(settings, headers):
    binding = sessions.new_token()
    status, sent = call(
        "/_portal/sesion",
        form={"ticket": ticket_for(settings, "luis", binding)},
        cookies={sessions.pre_cookie_name(settings): binding},
        headers=headers,
    )
    assert status == 303 and not [v for k, v in sent if k == "set-cookie"]
    assert session_rows(settings) == []


@pytest.mark.parametrize("target", ["//evil.example/", "https://evil.example/", "/\\evil", "/_stcore/health", "x"])
def test_the_session_route_only_redirects_to_local_pages(settings, target):
    binding = sessions.new_token()
    _, headers = call(
        "/_portal/sesion",
        form={"ticket": ticket_for(settings, "luis", binding), "next": target},
        cookies={sessions.pre_cookie_name(settings): binding},
        headers={"sec-fetch-site": "same-origin"},
    )
    assert ("location", "/") in headers


def test_the_sign_out_route_ends_the_session_and_deletes_the_cookie(settings):
    at = app()
    token = give_session(at, "luis")
    status, headers = call(
        "/_portal/salir", cookies={"portal_session": token}, headers={"sec-fetch-site": "same-origin"}
    )
    [cookie] = [v for k, v in headers if k == "set-cookie"]
    assert status == 303 and cookie.startswith('portal_session=""') and "max-age=0" in cookie.lower()
    assert session_rows(settings)[0]["revoked_reason"] == "signed_out"


# --- Mi cuenta ------------------------------------------------------------------------------------------------


def open_cuenta(at: AppTest) -> AppTest:
    at.switch_page("views/cuenta.py").run()
    assert not at.exception, at.exception
    return at


def test_mi_cuenta_lists_the_open_sessions_and_ends_one(settings):
    engine = engine_of(settings)
    luis = users.get_user(engine, "luis")
    other = sessions.create(
        settings, engine, luis["id"], mfa=False, user_agent="Mozilla/5.0 (Windows NT 10.0) Chrome/156.0 Safari/537"
    )
    at = open_cuenta(_signed_in_app("luis"))
    page = texts(at)
    assert "Chrome en Windows" in page and "Esta sesión" in [c.value for c in at.caption]
    [close] = [b for b in at.button if b.label == "Cerrar"]
    close.click().run()
    assert sessions.check(settings, engine, other) is None
    assert not shows_sign_in_form(at)  # this session goes on


def test_mi_cuenta_ends_every_other_session_and_lists_recent_sign_ins(settings):
    engine = engine_of(settings)
    sign_in_with_form(app(), "luis", "una contraseña equivocada")
    other = sign_in_with_form(app(), "luis", PASSWORD)
    assert not shows_sign_in_form(other)
    at = open_cuenta(_signed_in_app("luis"))
    table = at.dataframe[0].value
    assert list(table["Resultado"])[:2] == ["Correcto", "Fallido"]
    [close_all] = [b for b in at.button if b.label == "Cerrar todas las demás sesiones"]
    close_all.click().run()
    other.run()
    assert shows_sign_in_form(other) and not shows_sign_in_form(at)
    assert len(sessions.active(settings, engine, users.get_user(engine, "luis")["id"])) == 1


def test_a_password_change_in_mi_cuenta_ends_the_other_sessions_and_keeps_this_one(settings):
    other = app()
    give_session(other, "luis")
    other.run()
    at = open_cuenta(_signed_in_app("luis"))
    for label, value in (
        ("Contraseña actual", PASSWORD),
        ("Nueva contraseña", "otra frase de acceso muy larga"),
        ("Repita la nueva contraseña", "otra frase de acceso muy larga"),
    ):
        [field] = [t for t in at.text_input if t.label == label]
        field.input(value)
    [change] = [b for b in at.button if b.label == "Cambiar la contraseña"]
    change.click().run()
    at.run()
    other.run()
    assert shows_sign_in_form(other) and not shows_sign_in_form(at)


def _signed_in_app(username: str) -> AppTest:
    at = app()
    give_session(at, username)
    at.run()
    assert not at.exception, at.exception
    return at
