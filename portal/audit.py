"""The audit log: one append-only row per security-relevant event (never passwords, tokens, hashes or salaries)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from portal import clock
from portal.db import audit_log

# Every event the portal writes, with its Spanish label (the staff page filters and shows these).
EVENTS: dict[str, str] = {
    "sign_in_ok": "Inicio de sesión",
    "sign_in_failed": "Inicio de sesión fallido",
    "account_locked": "Cuenta bloqueada",
    "sign_out": "Cierre de sesión",
    "password_changed": "Cambio de contraseña",
    "password_reset_requested": "Solicitud de nueva contraseña",
    "account_activated": "Cuenta activada",
    "unlock": "Desbloqueo",
    "user_created": "Alta de usuario",
    "user_updated": "Modificación de usuario",
    "user_deactivated": "Baja de usuario",
    "user_activated": "Reactivación de usuario",
    "sessions_revoked": "Sesiones cerradas por el despacho",
    "mfa_enrolled": "Segundo factor activado",
    "mfa_disabled": "Segundo factor desactivado por el usuario",
    "mfa_reset": "Segundo factor restablecido por el despacho",
    "mfa_requirement": "Cambio de la exigencia del segundo factor",
    "mfa_recovery_codes": "Nuevos códigos de recuperación",
    "mfa_recovery_used": "Código de recuperación usado",
    "credentials_sent": "Envío de credenciales",
    "grants_changed": "Cambio de módulos",
    "client_created": "Alta de cliente",
    "client_company_linked": "Empresa vinculada a cliente",
    "client_company_unlinked": "Empresa desvinculada de cliente",
    "publish": "Publicación de datos",
    "rollback": "Vuelta a una versión anterior",
    "publish_mode_changed": "Cambio del modo de publicación",
    "access_denied": "Acceso denegado",
    "labour_view": "Consulta de datos laborales",
    "labour_export": "Exportación de datos laborales",
    "contact_message": "Mensaje al despacho",
    "employee_blocked": "Bloqueo de datos de un empleado",
    "employee_unblocked": "Desbloqueo de datos de un empleado",
    "payroll_names_changed": "Cambio de nombres en las nóminas de la contabilidad",
    "document_upload": "Subida de documento",
    "document_download": "Descarga de documento",
    "document_delete": "Retirada de documento",
    "tax_receipt_download": "Descarga de justificante",
    "invoice_download": "Descarga de factura",
    "notification_sent": "Aviso por correo",
    "notification_settings": "Cambio de avisos por correo",
    "alert_created": "Alta de alerta",
    "alert_removed": "Baja de alerta",
    "request_created": "Solicitud de documentación",
    "request_delivered": "Entrega de documentación solicitada",
    "request_reviewed": "Revisión de documentación entregada",
    "request_closed": "Cierre de solicitud de documentación",
    "reconciliations_visibility": "Cambio de la visibilidad de los cuadres",
}

ROLES = ("staff", "client", "system", "")
MAX_DETAIL = 2000


SYSTEM_ACTORS = ("cli", "sistema", "schedule")


def actor_role(actor: str) -> str:
    """The audit role of a staff-side actor name: command-line and scheduled actors are the system, the rest staff."""
    return "system" if actor.split(":")[0] in SYSTEM_ACTORS else "staff"


class AuditError(ValueError):
    """A programming error: an event or role the log does not know."""


def record(
    bind: Engine | Connection,
    event: str,
    *,
    actor: str = "",
    actor_role: str = "",
    company: str | None = None,
    target: str | None = None,
    detail: str = "",
    at: datetime | None = None,
) -> None:
    """Append one event; inside ``bind``'s transaction when given a Connection (so it commits with the change)."""
    if event not in EVENTS:
        raise AuditError(f"unknown audit event {event!r}")
    if actor_role not in ROLES:
        raise AuditError(f"unknown actor role {actor_role!r}")
    values = dict(
        at=at or datetime.now(UTC),
        actor=actor[:64],
        actor_role=actor_role,
        event=event,
        company=company[:32] if company else None,
        target=target[:200] if target else None,
        detail=detail[:MAX_DETAIL],
    )
    if isinstance(bind, Connection):
        bind.execute(sa.insert(audit_log).values(**values))
    else:
        with bind.begin() as conn:
            conn.execute(sa.insert(audit_log).values(**values))


def by_staff(
    bind: Engine | Connection,
    event: str,
    *,
    actor: str,
    company: str | None = None,
    target: str | None = None,
    detail: str = "",
    at: datetime | None = None,
) -> None:
    """Append an event done by a staff-side actor (a person, or the command line and the scheduler: the system)."""
    record(bind, event, actor=actor, actor_role=actor_role(actor), company=company, target=target, detail=detail, at=at)


def entries(
    engine: Engine,
    *,
    actor: str | None = None,
    about: str | None = None,
    company: str | None = None,
    event: str | None = None,
    since: date | None = None,
    until: date | None = None,
    limit: int = 1000,
) -> list[dict]:
    """Events matching every filter given, newest first; ``since``/``until`` are Madrid days, both included.

    ``actor`` matches who did it; ``about`` matches a user either way (who did it, or whom it was done to).
    """
    query = sa.select(audit_log).order_by(audit_log.c.at.desc(), audit_log.c.id.desc()).limit(limit)
    if actor:
        query = query.where(audit_log.c.actor == actor)
    if about:
        query = query.where(sa.or_(audit_log.c.actor == about, audit_log.c.target == about))
    if company:
        query = query.where(audit_log.c.company == company)
    if event:
        query = query.where(audit_log.c.event == event)
    if since:
        query = query.where(audit_log.c.at >= clock.madrid_midnight(since))
    if until:
        query = query.where(audit_log.c.at < clock.madrid_midnight(until + timedelta(days=1)))
    with engine.connect() as conn:
        rows = [dict(r._mapping) for r in conn.execute(query)]
    for row in rows:  # SQLite hands moments back naive: they are UTC
        if row["at"].tzinfo is None:
            row["at"] = row["at"].replace(tzinfo=UTC)
    return rows
