"""Employees whose payroll data staff have blocked per company: absent from every client labour view and export."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from stdnum.es import nif as es_nif

from portal import audit
from portal.db import employee_blocks
from portal.errors import PortalError

MAX_REASON = 300


class BlockError(PortalError):
    """A block or unblock the portal refuses; the message says why, in Spanish."""


def _nif(nif: str) -> str:
    compact = es_nif.compact(nif or "")
    if not compact or not es_nif.is_valid(compact):
        raise BlockError(f"NIF/NIE no válido: «{(nif or '').strip()}».")
    return compact


def block(engine: Engine, company: str, nif: str, *, actor: str, reason: str) -> None:
    """Block an employee's data in a company (a reason is required); audited as employee_blocked."""
    compact, reason = _nif(nif), reason.strip()
    if not reason:
        raise BlockError("Indique el motivo del bloqueo.")
    with engine.begin() as conn:
        key = (employee_blocks.c.company_code == company) & (employee_blocks.c.nif == compact)
        if conn.execute(sa.select(employee_blocks.c.nif).where(key)).first():
            raise BlockError(f"Los datos del empleado {compact} ya están bloqueados en {company}.")
        conn.execute(
            sa.insert(employee_blocks).values(
                company_code=company,
                nif=compact,
                blocked_by=actor,
                blocked_at=datetime.now(UTC),
                reason=reason[:MAX_REASON],
            )
        )
        audit.record(
            conn,
            "employee_blocked",
            actor=actor,
            actor_role=audit.actor_role(actor),
            company=company,
            target=compact,
            detail=reason[:MAX_REASON],
        )


def unblock(engine: Engine, company: str, nif: str, *, actor: str, reason: str = "") -> None:
    """Lift an employee's block in a company; audited as employee_unblocked."""
    compact = _nif(nif)
    with engine.begin() as conn:
        key = (employee_blocks.c.company_code == company) & (employee_blocks.c.nif == compact)
        if conn.execute(sa.delete(employee_blocks).where(key)).rowcount == 0:
            raise BlockError(f"Los datos del empleado {compact} no están bloqueados en {company}.")
        audit.record(
            conn,
            "employee_unblocked",
            actor=actor,
            actor_role=audit.actor_role(actor),
            company=company,
            target=compact,
            detail=reason.strip()[:MAX_REASON],
        )


def blocked(engine: Engine, company: str) -> frozenset[str]:
    """The NIFs blocked in a company."""
    with engine.connect() as conn:
        rows = conn.execute(sa.select(employee_blocks.c.nif).where(employee_blocks.c.company_code == company))
        return frozenset(r.nif for r in rows)


def blocks(engine: Engine, company: str) -> list[dict]:
    """The company's blocks (nif, blocked_by, blocked_at, reason), by NIF."""
    with engine.connect() as conn:
        query = sa.select(employee_blocks).where(employee_blocks.c.company_code == company)
        return [dict(r._mapping) for r in conn.execute(query.order_by(employee_blocks.c.nif))]
