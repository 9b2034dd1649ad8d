"""Second factor: TOTP (RFC 6238) with single-use recovery codes; who must use it; enrolment, checks and reset.

No Streamlit here (the widgets are in ``views/_mfa.py``). Secrets stay in ``users.mfa_secret``; recovery codes
are stored only as SHA-256. A TOTP code is accepted once: its time step must be above ``users.mfa_last_step``,
moved by one conditional UPDATE, so of two simultaneous uses of one code exactly one wins. ``verify`` counts
nothing: callers count the attempt toward the lockout before calling it.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from datetime import UTC, datetime

import pyotp
import segno
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from auth import users
from portal import audit
from portal.db import grants, mfa_recovery_codes
from portal.db import users as users_table
from portal.errors import PortalError
from portal.settings import Settings

RECOVERY_CODES = 10
RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz"  # letters only (never mistaken for a TOTP code), no i, l, o
RECOVERY_GROUPS = 3
RECOVERY_GROUP_LENGTH = 4  # 12 letters of 23: 54 bits per code
VALID_WINDOW = 1  # the previous and next 30-second step are accepted too (clock drift)
TOTP_DIGITS = 6
SECRET_SHAPE = re.compile(r"^[A-Z2-7]{16,64}$")
LABOUR_MODULE = "laboral"
WRONG_CODE = "El código no es correcto. Escriba el código de 6 cifras que muestra ahora la aplicación."


class MfaError(PortalError):
    """A second-factor operation the portal refuses; the message says why, in Spanish."""


# --- policy ---------------------------------------------------------------------------------------------------


def required(settings: Settings, engine: Engine, user: dict, *, holdings=None) -> bool:
    """Whether this user must sign in with a second factor now.

    Staff always; users the firm marks one by one; with policy ``all`` everyone; with ``labour`` every client
    user holding the labour module on any company (one indexed query, only for that policy). ``user`` is a
    users row; a partial dict (without role or flag) is completed from the database rather than guessed.
    ``holdings`` (``access.Holdings``), when the caller has just read them, answers the labour question instead.
    """
    if "role" not in user or "mfa_required" not in user:
        full = _user_by_id(engine, user["id"])
        if full is None:
            return False
        user = full
    if user["role"] == "staff" or user["mfa_required"] or settings.mfa_required == "all":
        return True
    if settings.mfa_required == "labour" and user["role"] == "client":
        if holdings is not None:
            return any(LABOUR_MODULE in held for held in holdings.modules.values())
        query = sa.select(grants.c.user_id).where(grants.c.user_id == user["id"], grants.c.module == LABOUR_MODULE)
        with engine.connect() as conn:
            return conn.execute(query.limit(1)).first() is not None
    return False


def enrolled(user: dict) -> bool:
    """True when the user has a confirmed TOTP secret."""
    return bool(user.get("mfa_secret"))


# --- enrolment ------------------------------------------------------------------------------------------------


def new_secret() -> str:
    """A fresh random base32 secret (160 bits) for a user about to enrol."""
    return pyotp.random_base32()


def provisioning_uri(settings: Settings, user: dict, secret: str) -> str:
    """The ``otpauth://`` address an authenticator app reads from the QR code (issuer: the firm)."""
    return pyotp.TOTP(secret).provisioning_uri(name=user["username"], issuer_name=settings.firm_name)


def qr_svg(uri: str) -> str:
    """The QR code of ``uri`` as inline SVG, drawn here (no third-party service ever sees the secret)."""
    return segno.make(uri, error="m").svg_inline(scale=6, border=4, light="#fff")


def confirm_enrolment(
    engine: Engine, user_id: int, secret: str, code: str, *, now: datetime | None = None
) -> list[str]:
    """Turn the second factor on once the user proves the app shows codes of ``secret``; the recovery codes.

    The confirming code cannot be used again (its step becomes the last one used). Earlier recovery codes are
    replaced by ten new ones, returned in clear this once and stored as SHA-256 only. Refused (MfaError) for a
    wrong code, or when the user already has a second factor (it must be reset or disabled first).
    """
    moment = _moment(now)
    secret = (secret or "").strip().upper()
    if not SECRET_SHAPE.match(secret):
        raise MfaError("La clave del segundo factor no es válida. Vuelva a empezar la activación.")
    digits = _totp_digits(code)
    if digits is None:
        raise MfaError(WRONG_CODE)
    steps = _matching_steps(secret, digits, moment)
    if not steps:
        raise MfaError(WRONG_CODE)
    plain_codes = _new_recovery_codes()
    with engine.begin() as conn:
        user = conn.execute(sa.select(users_table).where(users_table.c.id == user_id)).first()
        if user is None:
            raise MfaError("El usuario no existe.")
        done = conn.execute(
            sa.update(users_table)
            .where(users_table.c.id == user_id, users_table.c.mfa_secret.is_(None))
            .values(mfa_secret=secret, mfa_enabled_at=moment, mfa_last_step=max(steps))
        ).rowcount
        if not done:
            raise MfaError("Ya tiene activado el segundo factor.")
        _replace_recovery_codes(conn, user_id, plain_codes, moment)
        audit.record(conn, "mfa_enrolled", actor=user.username, actor_role=user.role, at=moment)
    return plain_codes


# --- checks ---------------------------------------------------------------------------------------------------


def verify(engine: Engine, user_id: int, code: str, *, now: datetime | None = None) -> bool:
    """True for a TOTP code of the current step ±1 newer than the last one used, or an unused recovery code.

    Each is used up atomically (conditional UPDATE; its row count decides), so a code is accepted once even
    when two requests present it at the same moment. Failures are not counted here.
    """
    moment = _moment(now)
    user = _user_by_id(engine, user_id)
    if user is None or not enrolled(user) or not isinstance(code, str):
        return False
    digits = _totp_digits(code)
    if digits is not None:
        return _use_totp(engine, user, digits, moment)
    recovery = _recovery_form(code)
    if recovery is None:
        return False
    return _use_recovery_code(engine, user, recovery, moment)


def _use_totp(engine: Engine, user: dict, digits: str, moment: datetime) -> bool:
    for step in _matching_steps(user["mfa_secret"], digits, moment):  # ascending
        with engine.begin() as conn:
            won = conn.execute(
                sa.update(users_table)
                .where(
                    users_table.c.id == user["id"],
                    users_table.c.mfa_secret == user["mfa_secret"],  # not reset or re-enrolled meanwhile
                    sa.or_(users_table.c.mfa_last_step.is_(None), users_table.c.mfa_last_step < step),
                )
                .values(mfa_last_step=step)
            ).rowcount
        if won:
            return True
    return False


def _use_recovery_code(engine: Engine, user: dict, recovery: str, moment: datetime) -> bool:
    with engine.begin() as conn:
        used = conn.execute(
            sa.update(mfa_recovery_codes)
            .where(
                mfa_recovery_codes.c.user_id == user["id"],
                mfa_recovery_codes.c.code_hash == _hash(recovery),
                mfa_recovery_codes.c.used_at.is_(None),
            )
            .values(used_at=moment)
        ).rowcount
        if not used:
            return False
        left = _remaining(conn, user["id"])
        audit.record(
            conn,
            "mfa_recovery_used",
            actor=user["username"],
            actor_role=user["role"],
            detail=f"quedan {left} códigos de recuperación",
            at=moment,
        )
    return True


# --- recovery codes -------------------------------------------------------------------------------------------


def remaining_recovery_codes(engine: Engine, user_id: int) -> int:
    """How many recovery codes of the user are still unused."""
    with engine.connect() as conn:
        return _remaining(conn, user_id)


def regenerate_recovery_codes(engine: Engine, user_id: int, *, actor: str, now: datetime | None = None) -> list[str]:
    """Ten new recovery codes in place of every earlier one (used or not); returned in clear this once.

    Only for an enrolled user; the caller checks a current code of the user first.
    """
    moment = _moment(now)
    plain_codes = _new_recovery_codes()
    with engine.begin() as conn:
        user = conn.execute(sa.select(users_table).where(users_table.c.id == user_id)).first()
        if user is None or not user.mfa_secret:
            raise MfaError("El segundo factor no está activado: no hay códigos de recuperación que renovar.")
        _replace_recovery_codes(conn, user_id, plain_codes, moment)
        audit.record(
            conn,
            "mfa_recovery_codes",
            actor=actor,
            actor_role=_role_of(actor, user),
            target=None if actor == user.username else user.username,
            at=moment,
        )
    return plain_codes


# --- the user's and the firm's choices ------------------------------------------------------------------------


def disable(settings: Settings, engine: Engine, user_id: int, *, now: datetime | None = None) -> None:
    """The user turns off its own second factor; refused (MfaError) when it is required of the user.

    The caller checks a current code of the user first (``verify``, counted toward the lockout).
    """
    moment = _moment(now)
    user = _user_by_id(engine, user_id)
    if user is None or not enrolled(user):
        raise MfaError("El segundo factor no está activado.")
    if required(settings, engine, user):
        raise MfaError("El despacho exige el segundo factor para su usuario: no se puede desactivar.")
    with engine.begin() as conn:
        _clear(conn, user_id)
        audit.record(conn, "mfa_disabled", actor=user["username"], actor_role=user["role"], at=moment)


def reset(engine: Engine, username: str, *, actor: str, now: datetime | None = None) -> None:
    """Staff clear a user's second factor (secret, last step, recovery codes) and end every session of the user.

    The user enrols again at its next sign-in when the second factor is required of it.
    """
    moment = _moment(now)
    login = users.normalize_username(username)
    with engine.begin() as conn:
        user = conn.execute(sa.select(users_table.c.id).where(users_table.c.username == login)).first()
        if user is None:
            raise MfaError(f"No existe el usuario «{login}».")
        _clear(conn, user.id)
        audit.by_staff(conn, "mfa_reset", actor=actor, target=login, at=moment)
    users.revoke_sessions(engine, login, now=moment, reason="mfa")


def set_required(engine: Engine, username: str, required: bool, *, actor: str) -> None:
    """The firm requires (or stops requiring) a second factor of this user; its sessions without one then end."""
    login = users.normalize_username(username)
    with engine.begin() as conn:
        done = conn.execute(
            sa.update(users_table).where(users_table.c.username == login).values(mfa_required=bool(required))
        ).rowcount
        if not done:
            raise MfaError(f"No existe el usuario «{login}».")
        audit.by_staff(
            conn,
            "mfa_requirement",
            actor=actor,
            target=login,
            detail="exigido" if required else "no exigido",
        )


# --- helpers --------------------------------------------------------------------------------------------------


def _moment(now: datetime | None) -> datetime:
    """An aware UTC moment (a naive ``now`` is UTC: pyotp would read a naive datetime as local time)."""
    if now is None:
        return datetime.now(UTC)
    return now.replace(tzinfo=UTC) if now.tzinfo is None else now.astimezone(UTC)


def _user_by_id(engine: Engine, user_id: int) -> dict | None:
    with engine.connect() as conn:
        row = conn.execute(sa.select(users_table).where(users_table.c.id == user_id)).first()
    return dict(row._mapping) if row else None


def _role_of(actor: str, user) -> str:
    return user.role if actor == user.username else audit.actor_role(actor)


def _totp_digits(code: object) -> str | None:
    """The six digits of a TOTP code as typed (spaces allowed), or None when it is not one."""
    if not isinstance(code, str):
        return None
    digits = "".join(code.split())
    return digits if len(digits) == TOTP_DIGITS and digits.isascii() and digits.isdigit() else None


def _matching_steps(secret: str, digits: str, moment: datetime) -> list[int]:
    """The time steps (current ±1, ascending) whose code is ``digits``; every candidate is compared."""
    totp = pyotp.TOTP(secret)
    current = totp.timecode(moment)
    matches = []
    for step in range(current - VALID_WINDOW, current + VALID_WINDOW + 1):
        if hmac.compare_digest(totp.generate_otp(step), digits):
            matches.append(step)
    return matches


def _recovery_form(code: str) -> str | None:
    """A recovery code as stored (lower case, no spaces or hyphens), or None when it cannot be one."""
    text = "".join(code.split()).replace("-", "").lower()
    length = RECOVERY_GROUPS * RECOVERY_GROUP_LENGTH
    return text if len(text) == length and all(c in RECOVERY_ALPHABET for c in text) else None


def _hash(recovery: str) -> str:
    return hashlib.sha256(recovery.encode("ascii")).hexdigest()


def _new_recovery_codes() -> list[str]:
    """Ten distinct random codes shaped ``abcd-efgh-jkmn``."""
    codes: list[str] = []
    while len(codes) < RECOVERY_CODES:
        groups = (
            "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(RECOVERY_GROUP_LENGTH))
            for _ in range(RECOVERY_GROUPS)
        )
        code = "-".join(groups)
        if code not in codes:
            codes.append(code)
    return codes


def _replace_recovery_codes(conn, user_id: int, plain_codes: list[str], moment: datetime) -> None:
    conn.execute(sa.delete(mfa_recovery_codes).where(mfa_recovery_codes.c.user_id == user_id))
    conn.execute(
        sa.insert(mfa_recovery_codes),
        [
            dict(user_id=user_id, code_hash=_hash(_recovery_form(code)), created_at=moment, used_at=None)
            for code in plain_codes
        ],
    )


def _remaining(conn, user_id: int) -> int:
    return conn.execute(
        sa.select(sa.func.count())
        .select_from(mfa_recovery_codes)
        .where(mfa_recovery_codes.c.user_id == user_id, mfa_recovery_codes.c.used_at.is_(None))
    ).scalar_one()


def _clear(conn, user_id: int) -> None:
    conn.execute(
        sa.update(users_table)
        .where(users_table.c.id == user_id)
        .values(mfa_secret=None, mfa_enabled_at=None, mfa_last_step=None)
    )
    conn.execute(sa.delete(mfa_recovery_codes).where(mfa_recovery_codes.c.user_id == user_id))
