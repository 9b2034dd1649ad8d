"""Sign-in steps without Streamlit: password, then second factor; every attempt counted before any check."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.engine import Engine

from auth import mfa, users
from auth.passwords import check_password
from portal import audit, clock
from portal.clock import to_madrid
from portal.settings import Settings

log = logging.getLogger("portal.auth")

FAILED = (
    "No se ha podido iniciar sesión: revise el usuario, la contraseña y, si lo usa, el código de verificación. "
    "Tras varios intentos fallidos la cuenta se bloquea; si no consigue entrar, contacte con el despacho."
)


@dataclass(frozen=True)
class Step:
    """What a sign-in step decided: refused, ask for a code, enrol a second factor first, or signed in."""

    outcome: str  # "refused" | "code" | "enrol" | "done"
    user: dict | None = None


def password_step(
    settings: Settings, engine: Engine, username: str, password: str, *, now: datetime | None = None
) -> Step:
    """Check a username and password; the same answer and the same cost for every kind of refusal.

    The attempt is counted before the password is checked (``users.claim_attempt``): past the account's
    maximum nothing is checked, only a throw-away hash of the same cost. A right password is not counted
    against the user, but a second factor is still to come: the counter goes back to zero only after it.
    """
    moment = now or clock.now_utc()
    login = (username or "").strip().lower()[:64]
    claimed = users.claim_attempt(engine, login, lock_minutes=settings.lock_minutes, now=moment) if login else None
    if claimed is None:
        check_password(password or "-", None)  # same cost as a real check
        _failed(engine, login, None, "cuenta bloqueada o usuario desconocido", moment)
        return Step("refused")
    matches = check_password(password or "", claimed["password_hash"])
    problem = users.access_problem(claimed, today=to_madrid(moment).date(), now=moment)
    if not matches or problem not in (None, "locked"):  # 'locked' here is only this attempt's own count
        _failed(engine, login, claimed, "usuario o contraseña incorrectos" if not matches else problem, moment)
        return Step("refused")
    if mfa.enrolled(claimed):
        users.release_attempt(engine, claimed["id"])
        return Step("code", claimed)
    if mfa.required(settings, engine, claimed):
        users.release_attempt(engine, claimed["id"])
        return Step("enrol", claimed)
    return _signed_in(engine, claimed, moment, "")


def code_step(settings: Settings, engine: Engine, user: dict, code: str, *, now: datetime | None = None) -> Step:
    """Check the second factor (TOTP or a recovery code) of a user whose password was right; counted like one."""
    moment = now or clock.now_utc()
    claimed = _claim(settings, engine, user, moment)
    if claimed is None:
        return Step("refused")
    if not mfa.verify(engine, claimed["id"], code or "", now=moment):
        _failed(engine, user["username"], claimed, "código de verificación incorrecto", moment)
        return Step("refused")
    return _signed_in(engine, claimed, moment, "con segundo factor")


def enrolment_step(
    settings: Settings, engine: Engine, user: dict, secret: str, code: str, *, now: datetime | None = None
) -> list[str] | None:
    """Enrol the second factor during sign-in (counted like a code); the recovery codes, or None when refused."""
    moment = now or clock.now_utc()
    claimed = _claim(settings, engine, user, moment)
    if claimed is None:
        return None
    try:
        codes = mfa.confirm_enrolment(engine, claimed["id"], secret, code or "", now=moment)
    except mfa.MfaError:
        _failed(engine, user["username"], claimed, "código de verificación incorrecto al activar", moment)
        return None
    if _signed_in(engine, claimed, moment, "segundo factor activado").outcome != "done":
        return None
    return codes


def _claim(settings: Settings, engine: Engine, user: dict, moment: datetime) -> dict | None:
    """Count a second-factor attempt of a user whose password was right; its row, or None (refusal audited)."""
    claimed = users.claim_attempt(engine, user["username"], lock_minutes=settings.lock_minutes, now=moment)
    if claimed is None:
        _failed(engine, user["username"], None, "cuenta bloqueada", moment)
    return claimed


def _signed_in(engine: Engine, user: dict, moment: datetime, detail: str) -> Step:
    if not users.record_success(engine, user["id"], now=moment):  # locked by other attempts meanwhile
        _failed(engine, user["username"], None, "cuenta bloqueada", moment)
        return Step("refused")
    audit.record(engine, "sign_in_ok", actor=user["username"], actor_role=user["role"], detail=detail, at=moment)
    log.info("sign-in of %r", user["username"])
    return Step("done", user)


def _failed(engine: Engine, login: str, claimed: dict | None, reason: str, moment: datetime) -> None:
    """Audit a refused attempt (the typed username as target) and lock the account once it reaches its maximum."""
    user = claimed or (users.get_user(engine, login) if login else None)
    audit.record(
        engine,
        "sign_in_failed",
        actor=user["username"] if user else "",
        actor_role=user["role"] if user else "",
        target=login,
        detail=reason if user else "usuario desconocido",
        at=moment,
    )
    if user is not None and users.record_failure(engine, user["id"], now=moment):
        detail = f"{user['max_attempts']} intentos fallidos seguidos"
        audit.record(
            engine, "account_locked", actor=user["username"], actor_role=user["role"], target=login, detail=detail
        )
        log.warning("account %r locked", login)
