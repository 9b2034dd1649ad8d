"""Staff blocks of employees' payroll data per company, and whether the firm hides payroll names in the books."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from stdnum.es import nif as es_nif

from auth import access
from portal import audit
from portal.db import companies, employee_blocks
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
        audit.by_staff(
            conn,
            "employee_blocked",
            actor=actor,
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
        audit.by_staff(
            conn,
            "employee_unblocked",
            actor=actor,
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


def hides_payroll_names(engine: Engine, company: str) -> bool:
    """True when users without the labour module read the company's journal without employee names."""
    with engine.connect() as conn:
        query = sa.select(companies.c.hide_payroll_names).where(companies.c.code == company)
        return bool(conn.execute(query).scalar())


def payroll_privacy(engine: Engine, company: str) -> tuple[bool, frozenset[str]]:
    """(hides payroll names, blocked NIFs) of a company, in one query."""
    query = (
        sa.select(companies.c.hide_payroll_names, employee_blocks.c.nif)
        .select_from(companies.outerjoin(employee_blocks, employee_blocks.c.company_code == companies.c.code))
        .where(companies.c.code == company)
    )
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    return any(row.hide_payroll_names for row in rows), frozenset(row.nif for row in rows if row.nif is not None)


def set_hide_payroll_names(engine: Engine, company: str, hide: bool, *, actor: str) -> None:
    """Hide (or show) employee names in the company's books to users without the labour module; audited."""
    detail = "ocultos sin el módulo laboral" if hide else "visibles"
    try:
        access.set_company_flag(
            engine, company, "hide_payroll_names", hide, event="payroll_names_changed", detail=detail, actor=actor
        )
    except access.AccessError as exc:
        raise BlockError(str(exc)) from None
