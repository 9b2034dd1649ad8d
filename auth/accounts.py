"""Account flows shared by pages and CLI: credentials, activation, reset, password change, contact, staff actions."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from auth import access, tokens, users
from auth.passwords import check_password, hash_password
from portal import audit, clock, fmt, mail
from portal.db import clients, companies, one_time_tokens
from portal.db import users as users_table
from portal.errors import PortalError
from portal.settings import Settings

INVALID_LINK = "El enlace no es válido o ha caducado. Pida al despacho uno nuevo o use «He olvidado mi contraseña»."
MAX_SUBJECT = 150
MAX_BODY = 5000
MAX_IDENTIFIER = 320


class AccountError(PortalError):
    """An account operation the portal refuses; the message says why, in Spanish."""


# --- helpers --------------------------------------------------------------------------------------------------


def _moment(now: datetime | None) -> datetime:
    if now is None:
        return datetime.now(UTC)
    return now.replace(tzinfo=UTC) if now.tzinfo is None else now.astimezone(UTC)


def _existing(engine: Engine, username: str) -> dict:
    user = users.get_user(engine, username)
    if user is None:
        raise AccountError(f"No existe el usuario «{username.strip().lower()}».")
    return user


def _office_address(settings: Settings, user: dict) -> str:
    return (user.get("office_email") or "").strip() or settings.office_email.strip()


def link(settings: Settings, parameter: str, token: str) -> str:
    """The e-mailed address that opens the portal with a one-time token: ``{base}/?activar=<token>``."""
    return f"{settings.base_url.rstrip('/')}/?{parameter}={token}"


def policy_context(settings: Settings, engine: Engine, user: dict) -> list[str]:
    """Words a password of this user may not contain: username, e-mail local part, name, firm, client, companies."""
    client = access.client_of(engine, user["id"])
    codes = set(access.companies_of(engine, user)) | set(access.client_companies(engine, client) if client else ())
    words = [user["username"], user["email"].partition("@")[0], user["name"], settings.firm_name, *codes]
    with engine.connect() as conn:
        for name, nif in conn.execute(sa.select(companies.c.name, companies.c.nif).where(companies.c.code.in_(codes))):
            words += [name, nif]
        if client:
            words += list(conn.execute(sa.select(clients.c.name, clients.c.nif).where(clients.c.code == client)).one())
    return [word for word in words if word]


def _store_password(conn: Connection, user_id: int, password_hash: str) -> None:
    """Set the hash and lift any lockout (the caller ends the sessions it must)."""
    values: dict = dict(password_hash=password_hash, failed_attempts=0, locked_at=None)
    conn.execute(sa.update(users_table).where(users_table.c.id == user_id).values(**values))


# --- credentials, activation and reset --------------------------------------------------------------------------


def send_credentials(
    settings: Settings, engine: Engine, username: str, *, actor: str, now: datetime | None = None
) -> mail.Posted:
    """E-mail the user its user code and a one-time activation link (earlier activation links stop working).

    The new link replaces the earlier ones unless the server refuses the message for good (the recipient): then
    the token rolls back and MailError says why. A server that cannot take it now leaves it in the outbox, retried
    until the link expires; the result says which (``sent``).
    """
    user = _existing(engine, username)
    if not user["active"]:
        raise AccountError(f"El usuario «{user['username']}» está desactivado: reactívelo antes de enviarle el acceso.")
    if not user["email"].strip():
        raise AccountError(f"El usuario «{user['username']}» no tiene correo electrónico.")
    moment = _moment(now)
    ttl = timedelta(hours=settings.activation_hours)
    until = fmt.datetime_es(moment + ttl)
    office = _office_address(settings, user)
    subject = f"{settings.firm_name}: su acceso al Portal del Cliente"
    with engine.begin() as conn:
        token = tokens.issue(conn, user["id"], "activation", ttl=ttl, now=moment)
        body = _credentials_body(settings, user, link(settings, "activar", token), until, office)
        posted = mail.post(
            conn, settings, user["email"], subject, body, kind="credentials", reply_to=office,
            expires_at=moment + ttl, now=moment,
        )  # fmt: skip
    audit.by_staff(
        engine,
        "credentials_sent",
        actor=actor,
        target=user["username"],
        detail=f"enlace de activación válido hasta {until}" + ("" if posted.sent else f"; en cola: {posted.error}"),
    )
    return posted


def queued_notice(posted: mail.Posted) -> str:
    """What staff are told when the credentials e-mail waits in the outbox (it has not left yet)."""
    return (
        f"El servidor de correo no lo ha aceptado ahora ({posted.error}). El mensaje queda en cola (página Correo) "
        "y el portal lo reintentará hasta que caduque el enlace."
    )


def _credentials_body(settings: Settings, user: dict, url: str, until: str, office: str) -> str:
    return (
        f"Hola{' ' + user['name'] if user['name'] else ''}:\n\n"
        f"{settings.firm_name} le ha dado acceso al Portal del Cliente.\n\n"
        f"Su usuario es: {user['username']}\n\n"
        f"Para elegir su contraseña, abra este enlace (sirve una sola vez y hasta el {until}, hora de Madrid):\n"
        f"{url}\n\n"
        "Si no esperaba este mensaje, no abra el enlace y avise al despacho"
        f"{' (' + office + ')' if office else ''}.\n"
    )


def _token_user(engine: Engine, token: str, purpose: str, moment: datetime) -> dict:
    """The user a valid token belongs to, if that user may still use it (active, not expired); else AccountError."""
    user_id = tokens.peek(engine, token, purpose, now=moment)
    with engine.connect() as conn:
        row = conn.execute(sa.select(users_table).where(users_table.c.id == user_id)).first() if user_id else None
    user = dict(row._mapping) if row else None
    if user is None or users.access_problem(user, today=clock.to_madrid(moment).date()) in ("inactive", "expired"):
        raise AccountError(INVALID_LINK)
    return user


def _set_with_token(
    settings: Settings, engine: Engine, token: str, password: str, purpose: str, now: datetime | None
) -> dict:
    moment = _moment(now)
    user = _token_user(engine, token, purpose, moment)
    password_hash = hash_password(password, context=policy_context(settings, engine, user))  # before using the token
    with engine.begin() as conn:
        if tokens.redeem(conn, token, purpose, now=moment) != user["id"]:  # used meanwhile by another request
            raise AccountError(INVALID_LINK)
        _store_password(conn, user["id"], password_hash)
        if purpose == "activation":
            audit.record(conn, "account_activated", actor=user["username"], actor_role=user["role"], at=moment)
        else:
            detail = "restablecida con el enlace enviado por correo; sesiones abiertas cerradas"
            audit.record(
                conn, "password_changed", actor=user["username"], actor_role=user["role"], detail=detail, at=moment
            )
    if purpose == "reset":
        users.revoke_sessions(engine, user["username"], now=moment, reason="password")
    return user


def activate(settings: Settings, engine: Engine, token: str, password: str, *, now: datetime | None = None) -> str:
    """Set the first password through an activation link (once, before it expires); the username."""
    return _set_with_token(settings, engine, token, password, "activation", now)["username"]


def reset_password(
    settings: Settings, engine: Engine, token: str, password: str, *, now: datetime | None = None
) -> str:
    """Set a new password through a reset link: unlocks the account and ends every open session; the username."""
    return _set_with_token(settings, engine, token, password, "reset", now)["username"]


def request_reset(
    settings: Settings, engine: Engine, identifier: str, *, now: datetime | None = None, wait: bool = False
) -> None:
    """«He olvidado mi contraseña»: e-mail a reset link to the active user(s) with that username or e-mail.

    Returns at once and the same way whether or not such a user exists (no enumeration, not even by time):
    the look-up and the e-mail happen in a background thread. ``wait=True`` joins it (tests, CLI).
    """
    worker = threading.Thread(
        target=_send_reset, args=(settings, engine, identifier, now), name="password-reset", daemon=False
    )
    worker.start()
    if wait:
        worker.join()


def _send_reset(settings: Settings, engine: Engine, identifier: str, now: datetime | None) -> None:
    wanted = identifier.strip().lower()[:MAX_IDENTIFIER]
    if not wanted:
        return
    moment = _moment(now)
    today = clock.to_madrid(moment).date()
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(users_table).where(
                sa.or_(users_table.c.username == wanted, sa.func.lower(users_table.c.email) == wanted)
            )
        ).all()
    found = [
        dict(r._mapping)
        for r in rows
        if r.role in users.ROLES
        and r.email.strip()
        and users.access_problem(dict(r._mapping), today=today) not in ("inactive", "expired")
    ]
    outcomes = []
    for user in found:
        if _resets_in_last_hour(engine, user["id"], moment) >= settings.reset_emails_per_hour:
            outcomes.append(f"no enviado a {user['username']}: límite de {settings.reset_emails_per_hour} por hora")
            continue
        try:
            with engine.begin() as conn:  # a refusal for good rolls the token back
                posted = _mail_reset(settings, conn, user, moment)
        except PortalError as exc:
            outcomes.append(f"no se pudo enviar a {user['username']}: {exc}")
        else:
            queued = f"en cola ({posted.error})"
            outcomes.append(f"enlace {'enviado' if posted.sent else queued} a {user['username']}")
    audit.record(
        engine,
        "password_reset_requested",
        actor=found[0]["username"] if len(found) == 1 else "",
        actor_role="",
        target=wanted,
        detail="; ".join(outcomes) or "ningún usuario activo con ese usuario o correo",
        at=moment,
    )


def _mail_reset(settings: Settings, conn: Connection, user: dict, moment: datetime) -> mail.Posted:
    """Issue a reset link and post it to the user, in the caller's transaction."""
    ttl = timedelta(minutes=settings.reset_minutes)
    token = tokens.issue(conn, user["id"], "reset", ttl=ttl, now=moment)
    body = (
        f"Hola{' ' + user['name'] if user['name'] else ''}:\n\n"
        f"Se ha pedido una nueva contraseña para el usuario {user['username']} del Portal del Cliente "
        f"de {settings.firm_name}.\n\n"
        f"Para elegirla, abra este enlace (sirve una sola vez y hasta el {fmt.datetime_es(moment + ttl)}, "
        f"hora de Madrid):\n{link(settings, 'restablecer', token)}\n\n"
        "Si no lo ha pedido usted, ignore este mensaje: su contraseña actual sigue siendo válida.\n"
    )
    subject = f"{settings.firm_name}: nueva contraseña del Portal del Cliente"
    reply_to = _office_address(settings, user) or None
    return mail.post(
        conn,
        settings,
        user["email"],
        subject,
        body,
        kind="reset",
        reply_to=reply_to,
        expires_at=moment + ttl,
        now=moment,
    )


def _resets_in_last_hour(engine: Engine, user_id: int, moment: datetime) -> int:
    """Reset links issued to the user in the hour before ``moment`` (the e-mail rate limit counts them)."""
    with engine.connect() as conn:
        return conn.execute(
            sa.select(sa.func.count())
            .select_from(one_time_tokens)
            .where(
                one_time_tokens.c.user_id == user_id,
                one_time_tokens.c.purpose == "reset",
                one_time_tokens.c.created_at > moment - timedelta(hours=1),
            )
        ).scalar_one()


# --- signed-in users ----------------------------------------------------------------------------------------------


def change_password(
    settings: Settings,
    engine: Engine,
    username: str,
    current: str,
    new: str,
    *,
    now: datetime | None = None,
    keep_session_id: int | None = None,
) -> None:
    """Change a signed-in user's password; every other session of the user ends (``keep_session_id`` stays).

    A wrong current password counts as a failed sign-in (the form cannot be used to guess it).
    """
    moment = _moment(now)
    user = _existing(engine, username)
    if users.access_problem(user, today=clock.to_madrid(moment).date()) is not None:
        raise AccountError("Esta cuenta no puede cambiar la contraseña ahora. Vuelva a iniciar sesión.")
    if not check_password(current, user["password_hash"]):
        count = users.record_failed_attempt(engine, user["username"], now=moment)
        role = user["role"]
        detail = "contraseña actual incorrecta al cambiarla"
        audit.record(engine, "sign_in_failed", actor=user["username"], actor_role=role, detail=detail, at=moment)
        if count == user["max_attempts"]:
            audit.record(engine, "account_locked", actor=user["username"], actor_role=role, detail=detail, at=moment)
        raise AccountError("La contraseña actual no es correcta.")
    if new == current:
        raise AccountError("La nueva contraseña debe ser distinta de la actual.")
    password_hash = hash_password(new, context=policy_context(settings, engine, user))
    with engine.begin() as conn:
        _store_password(conn, user["id"], password_hash)
        audit.record(conn, "password_changed", actor=user["username"], actor_role=user["role"], at=moment)
    users.revoke_sessions(engine, user["username"], now=moment, reason="password", keep_session_id=keep_session_id)


def set_password(settings: Settings, engine: Engine, username: str, password: str, *, actor: str) -> None:
    """Set a password for scripted set-up (``python -m auth set-password``): policy-checked, ends every session."""
    user = _existing(engine, username)
    password_hash = hash_password(password, context=policy_context(settings, engine, user))
    with engine.begin() as conn:
        _store_password(conn, user["id"], password_hash)
        detail = "fijada por el despacho"
        audit.by_staff(
            conn,
            "password_changed",
            actor=actor,
            target=user["username"],
            detail=detail,
        )
    users.revoke_sessions(engine, user["username"], reason="password")


def send_contact(settings: Settings, engine: Engine, user: dict, company: str, subject: str, body: str) -> mail.Posted:
    """E-mail a client's message about one of its companies to the office (reply-to: the client).

    A server that cannot take it now leaves it in the outbox, retried until sent: the message is never lost.
    """
    fresh = users.get_user(engine, str(user.get("username", "")))
    if fresh is None or fresh["role"] != "client" or users.access_problem(fresh) is not None:
        raise AccountError("Vuelva a iniciar sesión para escribir al despacho.")
    if company not in access.companies_of(engine, fresh):
        raise AccountError("No puede escribir al despacho sobre esa empresa.")
    subject = " ".join(subject.split())
    body = body.strip()
    if not subject or not body:
        raise AccountError("Escriba el asunto y el mensaje.")
    if len(subject) > MAX_SUBJECT or len(body) > MAX_BODY:
        raise AccountError(f"El asunto admite hasta {MAX_SUBJECT} caracteres y el mensaje hasta {MAX_BODY}.")
    to = _office_address(settings, fresh)
    if not to:
        raise AccountError(
            "El despacho no tiene configurada una dirección de contacto: llámelo o escríbale directamente."
        )
    with engine.connect() as conn:
        company_name = conn.execute(sa.select(companies.c.name).where(companies.c.code == company)).scalar() or company
    text = (
        f"Mensaje enviado desde el Portal del Cliente el {fmt.datetime_es(_moment(None))}.\n"
        f"Usuario: {fresh['username']}{' (' + fresh['name'] + ')' if fresh['name'] else ''}\n"
        f"Correo: {fresh['email'] or '—'}\n"
        f"Empresa: {company_name} ({company})\n\n"
        f"{body}\n"
    )
    reply_to = fresh["email"].strip() or None
    with engine.begin() as conn:
        posted = mail.post(
            conn, settings, to, f"[{settings.firm_name}] {company_name}: {subject}", text, kind="contact",
            reply_to=reply_to,
        )  # fmt: skip
        audit.record(
            conn,
            "contact_message",
            actor=fresh["username"],
            actor_role="client",
            company=company,
            target=to,
            detail=f"asunto: {subject}" + ("" if posted.sent else "; en cola para reintento"),
        )
    return posted


# --- staff actions (pages and CLI share them; each writes its audit record) ----------------------------------------


def end_other_sessions(engine: Engine, user: dict, *, keep_session_id: int | None) -> None:
    """«Cerrar todas las demás sesiones» in Mi cuenta: every session of the user but the one it is using."""
    users.revoke_sessions(engine, user["username"], reason="revoked", keep_session_id=keep_session_id)
    audit.record(
        engine, "sessions_revoked", actor=user["username"], actor_role=user["role"], detail="todas las demás sesiones"
    )


def force_logout(engine: Engine, username: str, *, actor: str) -> None:
    """End every session of a user at its next click."""
    login = users.normalize_username(username)
    users.revoke_sessions(engine, login)
    audit.by_staff(engine, "sessions_revoked", actor=actor, target=login)


def unlock_user(engine: Engine, username: str, *, actor: str) -> None:
    """Lift a lockout (failed attempts back to zero)."""
    login = users.normalize_username(username)
    users.unlock(engine, login)
    audit.by_staff(engine, "unlock", actor=actor, target=login)


def set_user_active(engine: Engine, username: str, active: bool, *, actor: str) -> None:
    """Reactivate or deactivate a user (deactivating ends its sessions)."""
    login = users.normalize_username(username)
    users.set_active(engine, login, active)
    event = "user_activated" if active else "user_deactivated"
    audit.by_staff(engine, event, actor=actor, target=login)
