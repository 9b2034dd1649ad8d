"""Server-side sessions: a random id in an HttpOnly cookie, only its SHA-256 stored, checked on every click."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from types import SimpleNamespace

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from auth import access, tokens, users
from auth.tokens import digest  # the SHA-256 stored in place of a session id, as for every token
from portal import clock
from portal.clock import to_madrid
from portal.db import companies, grants, sessions
from portal.db import users as users_table
from portal.settings import Settings

COOKIE = "portal_session"  # "__Host-portal_session" over HTTPS
PRE_COOKIE = "portal_pre"  # a random per-browser value set before sign-in: binds the hand-off to this browser
TOKEN_BYTES = 32  # 256 random bits
TOKEN_SHAPE = re.compile(r"^[A-Za-z0-9_-]{20,128}$")
TOUCH_SECONDS = 15  # last_seen_at is written at most this often per session (idle limits are in minutes)
HANDOFF_SECONDS = 60
MAX_USER_AGENT = 300

# Why a session ended (sessions.revoked_reason): signed_out, idle, lifetime, revoked, password, deactivated,
# account (locked, expired or deactivated), mfa (a second factor is now required).


@dataclass(frozen=True)
class Session:
    """A live session and the user it proves (public fields only)."""

    id: int
    user: dict  # id, username, name, email, role
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime
    mfa: bool
    user_row: dict = field(repr=False, compare=False, default_factory=dict)  # the whole users row, never stored
    holdings: access.Holdings = field(repr=False, compare=False, default_factory=access.Holdings)


def cookie_name(settings: Settings) -> str:
    """The session cookie's name: with the ``__Host-`` prefix when the portal is served over HTTPS."""
    return f"__Host-{COOKIE}" if settings.https else COOKIE


def pre_cookie_name(settings: Settings) -> str:
    """The pre-sign-in cookie's name (``__Host-`` over HTTPS)."""
    return f"__Host-{PRE_COOKIE}" if settings.https else PRE_COOKIE


def cookie_attributes(settings: Settings) -> dict:
    """Starlette ``set_cookie`` keywords shared by the portal's cookies: HttpOnly, SameSite=Lax, Path=/, Secure."""
    return {"httponly": True, "samesite": "lax", "path": "/", "secure": settings.https}


def well_formed(token: object) -> bool:
    """True for a string that could be one of our ids (anything else is never looked up)."""
    return isinstance(token, str) and bool(TOKEN_SHAPE.match(token))


def new_token() -> str:
    """A fresh random id (also the pre-sign-in cookie's value)."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def create(
    settings: Settings,
    engine: Engine,
    user_id: int,
    *,
    mfa: bool,
    user_agent: str = "",
    ip: str = "",
    now: datetime | None = None,
) -> str:
    """Open a session for the user; the id for the cookie (never stored, never logged)."""
    moment = now or clock.now_utc()
    token = new_token()
    with engine.begin() as conn:
        conn.execute(
            sa.insert(sessions).values(
                token_hash=digest(token),
                user_id=user_id,
                created_at=moment,
                last_seen_at=moment,
                expires_at=moment + timedelta(hours=settings.session_max_hours),
                user_agent=(user_agent or "")[:MAX_USER_AGENT],
                ip=(ip or "")[:64],
                mfa=mfa,
            )
        )
    return token


def check(settings: Settings, engine: Engine, token: object, *, now: datetime | None = None) -> Session | None:
    """The live session behind a cookie value, or None; a session found dead (idle, too old, account) is revoked.

    Checked every time: not revoked, idle under ``session_idle_minutes``, younger than ``session_max_hours``,
    the user active, unlocked, unexpired, with a password, not revoked since, and with a second factor when
    the policy now requires one. A live session's last activity moves to now.
    """
    if not well_formed(token):
        return None
    moment = now or clock.now_utc()
    with engine.connect() as conn:
        rows = conn.execute(_GATE_QUERY, {"token_hash": digest(token)}).all()
    if not rows:
        return None
    row, user = SimpleNamespace(**_columns(rows[0], "s_")), _columns(rows[0], "u_")
    holdings = access.Holdings.from_rows(tuple(row)[-len(access.HOLDINGS_COLUMNS) :] for row in rows)
    reason = _dead(settings, engine, row, user, moment, holdings)
    if reason is not None:
        revoke(engine, row.id, reason, now=moment)
        return None
    if moment - clock.as_utc(row.last_seen_at) >= timedelta(seconds=TOUCH_SECONDS):
        with engine.begin() as conn:
            conn.execute(sa.update(sessions).where(sessions.c.id == row.id).values(last_seen_at=moment))
    public = {key: user[key] for key in ("id", "username", "name", "email", "role")}
    created, expires = clock.as_utc(row.created_at), clock.as_utc(row.expires_at)
    return Session(row.id, public, created, moment, expires, bool(row.mfa), user, holdings)


# The gate's one round trip: the unrevoked session of the token, its user, the user's grants and their companies'
# names (one row per grant; a user without grants gives one row with empty grant columns).
_GATE_QUERY = (
    sa.select(
        *[column.label(f"s_{column.name}") for column in sessions.c],
        *[column.label(f"u_{column.name}") for column in users_table.c],
        *access.HOLDINGS_COLUMNS,  # last: what Holdings.from_rows reads
    )
    .select_from(
        sessions.join(users_table, users_table.c.id == sessions.c.user_id)
        .outerjoin(grants, grants.c.user_id == users_table.c.id)
        .outerjoin(companies, companies.c.code == grants.c.company_code)
    )
    .where(sessions.c.token_hash == sa.bindparam("token_hash"), sessions.c.revoked_at.is_(None))
)


def _columns(row: sa.Row, prefix: str) -> dict:
    """The columns of one table out of a gate row, by their own names: the session's ("s_") or the user's ("u_")."""
    return {key[len(prefix) :]: value for key, value in row._mapping.items() if key.startswith(prefix)}


def _user_by_id(conn, user_id: int) -> dict | None:
    """The user's row as a dict (as ``users.get_user`` gives it), or None."""
    found = conn.execute(sa.select(users_table).where(users_table.c.id == user_id)).first()
    return dict(found._mapping) if found else None


def _dead(
    settings: Settings, engine: Engine, row, user: dict, moment: datetime, holdings: access.Holdings
) -> str | None:
    """Why a stored, unrevoked session may no longer be used, or None."""
    if moment - clock.as_utc(row.last_seen_at) >= timedelta(minutes=settings.session_idle_minutes):
        return "idle"
    if moment >= clock.as_utc(row.expires_at):
        return "lifetime"
    today = to_madrid(moment).date()
    if users.access_problem(user, today=today, lock_minutes=settings.lock_minutes, now=moment) is not None:
        return "account"
    if users.session_revoked(user, clock.as_utc(row.created_at)):
        return "revoked"
    from auth import mfa  # late: mfa imports the policy of modules and grants

    if not row.mfa and mfa.required(settings, engine, user, holdings=holdings):
        return "mfa"
    return None


def revoke(engine: Engine, session_id: int, reason: str, *, now: datetime | None = None) -> None:
    """End one session (idempotent: a session already ended keeps its first reason)."""
    with engine.begin() as conn:
        conn.execute(
            sa.update(sessions)
            .where(sessions.c.id == session_id, sessions.c.revoked_at.is_(None))
            .values(revoked_at=now or clock.now_utc(), revoked_reason=reason)
        )


def revoke_token(engine: Engine, token: object, reason: str = "signed_out") -> None:
    """End the session behind a cookie value, if any (sign-out)."""
    if not well_formed(token):
        return
    with engine.connect() as conn:
        session_id = conn.execute(sa.select(sessions.c.id).where(sessions.c.token_hash == digest(token))).scalar()
    if session_id is not None:
        revoke(engine, session_id, reason)


def revoke_user_session(engine: Engine, user_id: int, session_id: int, reason: str = "revoked") -> bool:
    """End one of the user's own sessions (Mi cuenta): False when it is not the user's."""
    with engine.begin() as conn:
        done = conn.execute(
            sa.update(sessions)
            .where(sessions.c.id == session_id, sessions.c.user_id == user_id, sessions.c.revoked_at.is_(None))
            .values(revoked_at=clock.now_utc(), revoked_reason=reason)
        ).rowcount
    return bool(done)


def active(settings: Settings, engine: Engine, user_id: int, *, now: datetime | None = None) -> list[dict]:
    """The user's sessions still alive (not revoked, not idle, not past their lifetime), newest activity first."""
    moment = now or clock.now_utc()
    idle_since = moment - timedelta(minutes=settings.session_idle_minutes)
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(sessions)
            .where(
                sessions.c.user_id == user_id,
                sessions.c.revoked_at.is_(None),
                sessions.c.last_seen_at > idle_since,
                sessions.c.expires_at > moment,
            )
            .order_by(sessions.c.last_seen_at.desc(), sessions.c.id.desc())
        ).all()
    return [dict(r._mapping) for r in rows]


# --- the one-time hand-off from the sign-in form to the cookie --------------------------------------------------


def issue_handoff(engine: Engine, user_id: int, binding: str, *, mfa: bool, now: datetime | None = None) -> str:
    """A single-use ticket (60 s) that the browser holding the pre-sign-in cookie ``binding`` trades for a session."""
    purpose = "session_mfa" if mfa else "session"
    return tokens.issue(
        engine, user_id, purpose, ttl=timedelta(seconds=HANDOFF_SECONDS), now=now, binding=digest(binding)
    )


def redeem_handoff(engine: Engine, ticket: object, binding: object, *, now: datetime | None = None):
    """(user id, signed in with a second factor) for a valid ticket presented by its own browser; else None."""
    if not well_formed(ticket) or not well_formed(binding):
        return None
    for purpose, mfa in (("session_mfa", True), ("session", False)):
        user_id = tokens.redeem(engine, ticket, purpose, now=now, binding=digest(binding))
        if user_id is not None:
            return user_id, mfa
    return None


def open_from_handoff(
    settings: Settings,
    engine: Engine,
    ticket: object,
    binding: object,
    *,
    user_agent: str = "",
    ip: str = "",
    now: datetime | None = None,
) -> str | None:
    """Exchange a hand-off ticket presented by its own browser for a new session id; None if anything is off."""
    moment = now or clock.now_utc()
    redeemed = redeem_handoff(engine, ticket, binding, now=moment)
    if redeemed is None:
        return None
    user_id, mfa = redeemed
    with engine.connect() as conn:
        user = _user_by_id(conn, user_id)
    today = to_madrid(moment).date()
    if users.access_problem(user, today=today, lock_minutes=settings.lock_minutes, now=moment) is not None:
        return None
    return create(settings, engine, user_id, mfa=mfa, user_agent=user_agent, ip=ip, now=moment)


BROWSERS = (("Edg/", "Edge"), ("OPR/", "Opera"), ("Firefox/", "Firefox"), ("Chrome/", "Chrome"), ("Safari/", "Safari"))
SYSTEMS = (
    ("Android", "Android"),
    ("iPhone", "iPhone"),
    ("iPad", "iPad"),
    ("Windows", "Windows"),
    ("Mac OS X", "Mac"),
    ("Linux", "Linux"),
)


def describe_agent(user_agent: str) -> str:
    """A short Spanish description of a browser from its User-Agent: 'Chrome en Windows', 'Navegador desconocido'."""
    browser = next((name for marker, name in BROWSERS if marker in (user_agent or "")), None)
    system = next((name for marker, name in SYSTEMS if marker in (user_agent or "")), None)
    if browser is None:
        return f"Navegador desconocido en {system}" if system else "Navegador desconocido"
    return f"{browser} en {system}" if system else browser
