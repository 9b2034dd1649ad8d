"""What staff can do with loads and stores (status, load, publish, rollback), shared by the CLI and the portal."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from etl.load import RunResult, load_company
from etl.sources import company_folders
from etl.store import Snapshot, Store, StoreError
from portal import audit
from portal.codes import is_company_code
from portal.db import advisory_locks, companies, etl_problems, etl_runs, get_engine, store_events
from portal.settings import Settings

PUBLISH_MODES = ("auto", "manual")


@dataclass(frozen=True)
class CompanyStatus:
    """A company as staff see it: its published and pending snapshots and its last run."""

    code: str
    name: str
    publish_mode: str
    current: Snapshot | None
    pending: Snapshot | None
    snapshots: list[Snapshot]
    last_run: dict | None


def store_of(settings: Settings) -> Store:
    """The configured snapshot store; on PostgreSQL its company locks hold across machines (advisory locks)."""
    return Store(settings.stores, keep=settings.snapshots_kept, cluster=advisory_locks(engine_of(settings)))


def engine_of(settings: Settings) -> Engine:
    """The portal database engine (migrated)."""
    return get_engine(settings.db_url)


def source_companies(settings: Settings) -> list[str]:
    """Company codes present in the source folder."""
    return [p.name for p in company_folders(settings.sources)]


def load_all(
    settings: Settings,
    *,
    companies: list[str] | None = None,
    trigger: str = "cli",
    progress: Callable[[str, str], None] | None = None,
) -> list[RunResult]:
    """Load the named companies (all in the source folder when None); each one independently of the others."""
    engine, store = engine_of(settings), store_of(settings)
    codes = companies if companies is not None else source_companies(settings)
    results = []
    for code in codes:
        report = (lambda msg, c=code: progress(c, msg)) if progress else None
        results.append(load_company(settings, engine, store, code, trigger=trigger, progress=report))
    return results


def company_statuses(settings: Settings) -> list[CompanyStatus]:
    """Every company known to the source folder, the store or the database, sorted by code."""
    engine, store = engine_of(settings), store_of(settings)
    with engine.connect() as conn:
        rows = {r.code: r for r in conn.execute(sa.select(companies))}
    codes = sorted(set(rows) | set(store.companies()) | set(source_companies(settings)))
    statuses = []
    for code in codes:
        if not is_company_code(code):
            continue
        row = rows.get(code)
        runs = recent_runs(settings, company=code, limit=1)
        statuses.append(
            CompanyStatus(
                code=code,
                name=row.name if row else code,
                publish_mode=row.publish_mode if row else "auto",
                current=_safe(store.current, code),
                pending=_safe(store.pending, code),
                snapshots=_safe(store.snapshots, code) or [],
                last_run=runs[0] if runs else None,
            )
        )
    return statuses


def _safe(getter: Callable[[str], object], code: str):
    """A damaged store must not hide the other companies from staff: show it as empty."""
    try:
        return getter(code)
    except StoreError:
        return None


def recent_runs(settings: Settings, *, company: str | None = None, limit: int = 50) -> list[dict]:
    """The latest runs, newest first, as plain dicts."""
    query = sa.select(etl_runs).order_by(etl_runs.c.id.desc()).limit(limit)
    if company is not None:
        query = query.where(etl_runs.c.company == company)
    with engine_of(settings).connect() as conn:
        return [dict(r._mapping) for r in conn.execute(query)]


def run_problems(settings: Settings, run_id: int) -> list[dict]:
    """Every validation message recorded for a run, in the order found."""
    query = sa.select(etl_problems).where(etl_problems.c.run_id == run_id).order_by(etl_problems.c.id)
    with engine_of(settings).connect() as conn:
        return [dict(r._mapping) for r in conn.execute(query)]


def publish_pending(settings: Settings, company: str, *, actor: str) -> str:
    """Publish the company's staged snapshot."""
    snapshot_id = store_of(settings).publish_pending(company)
    _record(settings, company, "publish", snapshot_id, actor)
    return snapshot_id


def rollback(settings: Settings, company: str, *, actor: str) -> str:
    """Go back to the previously published snapshot."""
    snapshot_id = store_of(settings).rollback(company)
    _record(settings, company, "rollback", snapshot_id, actor)
    return snapshot_id


def set_publish_mode(settings: Settings, company: str, mode: str, *, actor: str) -> None:
    """Choose whether loads publish automatically ('auto') or wait for staff ('manual')."""
    if mode not in PUBLISH_MODES:
        raise StoreError(f"Modo de publicación no válido: {mode!r} (auto o manual)")
    if not is_company_code(company):
        raise StoreError(f"Código de empresa no válido: {company!r}")
    engine = engine_of(settings)
    with engine.begin() as conn:
        updated = conn.execute(
            sa.update(companies).where(companies.c.code == company).values(publish_mode=mode, updated_at=_now())
        ).rowcount
        if not updated:
            conn.execute(sa.insert(companies).values(code=company, name=company, publish_mode=mode, updated_at=_now()))
    _record(settings, company, f"mode-{mode}", None, actor)


AUDIT_EVENTS = {
    "publish": "publish",
    "rollback": "rollback",
    "mode-auto": "publish_mode_changed",
    "mode-manual": "publish_mode_changed",
}


def _record(settings: Settings, company: str, action: str, snapshot_id: str | None, actor: str) -> None:
    """The store event and its audit-log entry, in one transaction."""
    with engine_of(settings).begin() as conn:
        conn.execute(
            sa.insert(store_events).values(
                at=_now(), company=company, action=action[:16], snapshot_id=snapshot_id, actor=actor
            )
        )
        detail = snapshot_id or action.removeprefix("mode-")
        role = audit.actor_role(actor)
        audit.record(conn, AUDIT_EVENTS[action], actor=actor, actor_role=role, company=company, detail=detail)


def _now() -> datetime:
    return datetime.now(UTC)
