"""Portal users in the database: creation, password checks, lockout counters, access state and revocation."""

from __future__ import annotations

import os
import re
from datetime import date, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from auth.passwords import check_password, generate_password, hash_password
from portal import clock
from portal.db import sessions, users
from portal.errors import PortalError

ROLES = ("staff", "client")
USERNAME = re.compile(r"^[a-z0-9][a-z0-9._@-]{1,63}$")
DEMO_STAFF_USERNAME = "despacho"


class UserError(PortalError):
    """A user operation the portal refuses; the message says why, in Spanish."""


def normalize_username(username: str) -> str:
    """The stored form of a username (lower case, as the sign-in form compares it), or a UserError."""
    name = username.strip().lower()
    if not USERNAME.match(name):
        raise UserError(
            f"Nombre de usuario no válido: «{username}». Use de 2 a 64 caracteres: letras minúsculas "
            "sin tilde, cifras, punto, guion, guion bajo o @."
        )
    return name


def create_user(engine: Engine, username: str, password: str, *, role: str, name: str = "", email: str = "") -> int:
    """Create a user with a bcrypt-hashed password and return its id; refuses an existing username."""
    if role not in ROLES:
        raise UserError(f"Rol no válido: «{role}» (staff o client).")
    login = normalize_username(username)
    password_hash = hash_password(password, context=(login, email.partition("@")[0], name))
    values = dict(username=login, name=name.strip(), email=email.strip(), role=role, password_hash=password_hash)
    try:
        with engine.begin() as conn:
            if conn.execute(sa.select(users.c.id).where(users.c.username == login)).first():
                raise UserError(f"Ya existe un usuario «{login}».")
            return conn.execute(sa.insert(users).values(**values, created_at=clock.now_utc())).inserted_primary_key[0]
    except sa.exc.IntegrityError as exc:  # created by someone else between the check and the insert
        raise UserError(f"Ya existe un usuario «{login}».") from exc


def get_user(engine: Engine, username: str) -> dict | None:
    """The user's row as a dict, or None."""
    with engine.connect() as conn:
        row = conn.execute(sa.select(users).where(users.c.username == username.strip().lower())).first()
    return dict(row._mapping) if row else None


def list_users(engine: Engine) -> list[dict]:
    """Every user, by username (rows include the hash: never print them whole)."""
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(sa.select(users).order_by(users.c.username))]


def any_staff(engine: Engine) -> bool:
    """True when at least one staff user exists."""
    with engine.connect() as conn:
        return conn.execute(sa.select(users.c.id).where(users.c.role == "staff").limit(1)).first() is not None


def is_locked(user: dict, *, lock_minutes: float = 0, now: datetime | None = None) -> bool:
    """Locked by too many failed sign-ins: until staff unlock it, or until ``lock_minutes`` after the lock (if > 0)."""
    if user["locked_at"] is None:
        return user["failed_attempts"] >= user["max_attempts"]
    return not lock_minutes or clock.as_utc(user["locked_at"]) > (now or clock.now_utc()) - timedelta(
        minutes=lock_minutes
    )


def access_problem(
    user: dict | None, *, today: date | None = None, lock_minutes: float = 0, now: datetime | None = None
) -> str | None:
    """Why this user may not use the portal now ('unknown', 'inactive', 'no_password', 'locked', 'expired'), or None."""
    if user is None:
        return "unknown"
    if not user["active"]:
        return "inactive"
    if user["password_hash"] is None:
        return "no_password"
    if is_locked(user, lock_minutes=lock_minutes, now=now):
        return "locked"
    if user["expires_on"] is not None and (today or clock.today_madrid()) > user["expires_on"]:
        return "expired"
    return None


def session_revoked(user: dict, signed_in_at: datetime | None) -> bool:
    """True when the user's sessions were revoked (sign-out, deactivation) after this session signed in."""
    cutoff = clock.as_utc(user["tokens_valid_after"])
    if cutoff is None:
        return False
    return signed_in_at is None or clock.as_utc(signed_in_at) <= cutoff


def verify(engine: Engine, username: str, password: str, *, today: date | None = None) -> dict | None:
    """The user's row when the password matches and the account may sign in now; None otherwise (same cost)."""
    user = get_user(engine, username)
    matches = check_password(password, user["password_hash"] if user else None)
    return user if matches and access_problem(user, today=today) is None else None


def claim_attempt(
    engine: Engine, username: str, *, lock_minutes: float = 0, now: datetime | None = None
) -> dict | None:
    """Count one sign-in attempt *before* any secret is checked; the user's row if this attempt may be checked.

    One conditional UPDATE per attempt, committed before the check: of N simultaneous attempts against a
    maximum of M, at most M ever reach a password or code check, every attempt is counted (no lost update)
    and the ones past the maximum are refused without checking anything. A lock older than ``lock_minutes``
    (when > 0) is lifted first. None for an unknown username or an attempt past the maximum.
    """
    moment = now or clock.now_utc()
    login = username.strip().lower()
    with engine.begin() as conn:
        if lock_minutes:
            conn.execute(
                sa.update(users)
                .where(
                    users.c.username == login,
                    users.c.locked_at.is_not(None),
                    users.c.locked_at <= moment - timedelta(minutes=lock_minutes),
                )
                .values(failed_attempts=0, locked_at=None)
            )
        row = conn.execute(
            sa.update(users)
            .where(users.c.username == login)
            .values(failed_attempts=users.c.failed_attempts + 1)
            .returning(*users.c)
        ).first()
    if row is None:
        return None
    user = dict(row._mapping)
    within = user["locked_at"] is None and user["failed_attempts"] <= user["max_attempts"]
    return user if within else None


def record_failure(engine: Engine, user_id: int, *, now: datetime | None = None) -> bool:
    """A claimed attempt failed (or was refused): lock the account once its count has reached the maximum.

    True for the one attempt that locked it (so the lock is audited once, however many attempts race).
    """
    with engine.begin() as conn:
        locked = conn.execute(
            sa.update(users)
            .where(
                users.c.id == user_id,
                users.c.locked_at.is_(None),
                users.c.failed_attempts >= users.c.max_attempts,
            )
            .values(locked_at=now or clock.now_utc())
        ).rowcount
    return bool(locked)


def record_success(engine: Engine, user_id: int, *, now: datetime | None = None, last_login: bool = True) -> bool:
    """A claimed attempt succeeded: the counter goes back to zero, unless the account got locked (or other attempts
    took the count past the maximum) meanwhile: then False, and the sign-in is refused."""
    values: dict = {"failed_attempts": 0}
    if last_login:
        values["last_login_at"] = now or clock.now_utc()
    with engine.begin() as conn:
        done = conn.execute(
            sa.update(users)
            .where(
                users.c.id == user_id,
                users.c.locked_at.is_(None),
                users.c.failed_attempts <= users.c.max_attempts,  # not while a burst has gone past the maximum
            )
            .values(**values)
        ).rowcount
    return bool(done)


def release_attempt(engine: Engine, user_id: int) -> None:
    """Give back a claimed attempt whose secret was right while another factor is still to be checked."""
    with engine.begin() as conn:
        conn.execute(
            sa.update(users)
            .where(users.c.id == user_id, users.c.locked_at.is_(None), users.c.failed_attempts > 0)
            .values(failed_attempts=users.c.failed_attempts - 1)
        )


def record_failed_attempt(engine: Engine, username: str, *, now: datetime | None = None) -> int:
    """Count one failed secret check outside the sign-in form (e.g. the current password when changing it).

    Atomic; locks the account at its maximum. The new count, 0 for an unknown user.
    """
    count = users.c.failed_attempts + 1
    reaches_max = sa.and_(users.c.locked_at.is_(None), count >= users.c.max_attempts)
    statement = (
        sa.update(users)
        .where(users.c.username == username)
        .values(
            failed_attempts=count,
            locked_at=sa.case((reaches_max, now or clock.now_utc()), else_=users.c.locked_at),
        )
        .returning(users.c.failed_attempts)
    )
    with engine.begin() as conn:
        row = conn.execute(statement).first()
    return row[0] if row else 0


def _update(engine: Engine, username: str, **values: object) -> None:
    with engine.begin() as conn:
        updated = conn.execute(sa.update(users).where(users.c.username == username).values(**values)).rowcount
    if not updated:
        raise UserError(f"No existe el usuario «{username}».")


def unlock(engine: Engine, username: str) -> None:
    """Lift a lockout: the counter goes back to zero."""
    _update(engine, username, failed_attempts=0, locked_at=None)


def set_active(engine: Engine, username: str, active: bool, *, now: datetime | None = None) -> None:
    """Activate or deactivate a user; deactivating also ends every open session at its next rerun."""
    if active:
        _update(engine, username, active=True)
    else:
        _update(engine, username, active=False)
        revoke_sessions(engine, username, now=now, reason="deactivated")


def revoke_sessions(
    engine: Engine,
    username: str,
    *,
    now: datetime | None = None,
    reason: str = "revoked",
    keep_session_id: int | None = None,
) -> None:
    """End every server-side session of the user (all but ``keep_session_id``) at its next click in every tab.

    Without a session to keep, ``tokens_valid_after`` also moves to now: a session created before it never
    counts again, whatever its row says.
    """
    moment = now or clock.now_utc()
    user = get_user(engine, username)
    if user is None:
        raise UserError(f"No existe el usuario «{username}».")
    with engine.begin() as conn:
        open_rows = sa.and_(sessions.c.user_id == user["id"], sessions.c.revoked_at.is_(None))
        if keep_session_id is not None:
            open_rows = sa.and_(open_rows, sessions.c.id != keep_session_id)
        else:
            conn.execute(sa.update(users).where(users.c.id == user["id"]).values(tokens_valid_after=moment))
        conn.execute(sa.update(sessions).where(open_rows).values(revoked_at=moment, revoked_reason=reason))


def remember_company(engine: Engine, user_id: int, company: str) -> None:
    """Keep the company a client user chose in the selector: the user's next session opens on it (while held)."""
    with engine.begin() as conn:
        conn.execute(sa.update(users).where(users.c.id == user_id).values(last_company=company))


def ensure_demo_staff(engine: Engine, path: Path) -> tuple[str, str] | None:
    """For the demo only: with no staff user, create ``despacho`` with a random password written to ``path`` (0600)."""
    if any_staff(engine):
        return None
    password = generate_password()
    create_user(engine, DEMO_STAFF_USERNAME, password, role="staff", name="Personal del despacho (demo)")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(f"usuario: {DEMO_STAFF_USERNAME}\ncontraseña: {password}\n")
    os.chmod(path, 0o600)  # also when the file existed with wider permissions
    return DEMO_STAFF_USERNAME, password
