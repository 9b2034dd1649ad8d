"""Alerts of client users: create and remove them (the user must hold the module), check them on the published
snapshots, record every alert that fires (once per alert and Madrid day) and hand them to the e-mail digest."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from auth import access
from etl.store import Store, StoreError
from portal import audit, clock
from portal.db import alert_events, alerts, users
from portal.errors import PortalError
from portal.settings import Settings
from reports import alerts as rules

MAX_PER_USER_COMPANY = 20


class AlertsError(PortalError):
    """An alert the portal refuses; the message says why, in Spanish."""


@dataclass(frozen=True)
class Recorded:
    """An alert that fired and was recorded by a check."""

    alert_id: int
    user_id: int
    company: str
    message: str


def _rule(row) -> rules.Alert:
    return rules.Alert(row.id, row.kind, row.threshold, row.ratio_code)


def create(
    engine: Engine, user: dict, company: str, kind: str, threshold: str = "", ratio_code: str = "", *, actor: str
) -> int:
    """A new alert of a client user on a company; the user must hold the module the figure belongs to."""
    if user.get("role") != "client":
        raise AlertsError("Las alertas son de usuarios cliente.")
    try:
        threshold, ratio_code = rules.check_threshold(kind, threshold, ratio_code)
    except rules.AlertError as exc:
        raise AlertsError(str(exc)) from None
    module = rules.KINDS[kind].module
    if module not in access.modules_of(engine, user, company):
        raise AlertsError(f"El usuario no tiene el módulo {access.MODULE_LABELS[module]} en la empresa {company}.")
    with engine.begin() as conn:
        count = conn.execute(
            sa.select(sa.func.count()).where(
                alerts.c.user_id == user["id"], alerts.c.company_code == company, alerts.c.deleted_at.is_(None)
            )
        ).scalar()
        if count >= MAX_PER_USER_COMPANY:
            raise AlertsError(f"Como máximo {MAX_PER_USER_COMPANY} alertas por usuario y empresa.")
        new_id = conn.execute(
            sa.insert(alerts).values(
                user_id=user["id"],
                company_code=company,
                kind=kind,
                threshold=threshold,
                ratio_code=ratio_code,
                created_by=actor,
                created_at=clock.now_utc(),
            )
        ).inserted_primary_key[0]
        described = rules.describe(rules.Alert(new_id, kind, threshold, ratio_code))
        audit.record(
            conn,
            "alert_created",
            actor=actor,
            actor_role="client" if actor == user["username"] else audit.actor_role(actor),
            company=company,
            target=user["username"],
            detail=described,
        )
    return int(new_id)


def remove(engine: Engine, alert_id: int, *, owner: dict | None, actor: str) -> None:
    """Remove an alert (kept for the record of what it sent); a client may only remove their own."""
    with engine.begin() as conn:
        row = conn.execute(sa.select(alerts).where(alerts.c.id == alert_id, alerts.c.deleted_at.is_(None))).first()
        if row is None or (owner is not None and row.user_id != owner["id"]):
            raise AlertsError("Esa alerta no existe.")
        conn.execute(sa.update(alerts).where(alerts.c.id == alert_id).values(deleted_at=clock.now_utc()))
        username = conn.execute(sa.select(users.c.username).where(users.c.id == row.user_id)).scalar()
        audit.record(
            conn,
            "alert_removed",
            actor=actor,
            actor_role="client" if owner is not None else audit.actor_role(actor),
            company=row.company_code,
            target=username,
            detail=rules.describe(_rule(row)),
        )


def of_user(engine: Engine, user_id: int, company: str | None = None) -> list[dict]:
    """A user's alerts in force (one company, or all), oldest first, each with its description."""
    query = sa.select(alerts).where(alerts.c.user_id == user_id, alerts.c.deleted_at.is_(None))
    if company is not None:
        query = query.where(alerts.c.company_code == company)
    with engine.connect() as conn:
        rows = conn.execute(query.order_by(alerts.c.id)).all()
    return [{**row._mapping, "description": rules.describe(_rule(row))} for row in rows]


def every_alert(engine: Engine) -> list[dict]:
    """Every alert in force with its user (for staff), by user and company."""
    query = (
        sa.select(alerts, users.c.username, users.c.name)
        .join(users, users.c.id == alerts.c.user_id)
        .where(alerts.c.deleted_at.is_(None))
        .order_by(users.c.username, alerts.c.company_code, alerts.c.id)
    )
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    return [{**row._mapping, "description": rules.describe(_rule(row))} for row in rows]


def watched(engine: Engine, user: dict, company: str) -> list[rules.Alert]:
    """The user's alerts on the company of the modules the user still holds (an alert of a module taken away sleeps)."""
    held = access.modules_of(engine, user, company)
    return [
        rules.Alert(a["id"], a["kind"], a["threshold"], a["ratio_code"])
        for a in of_user(engine, user["id"], company)
        if rules.KINDS[a["kind"]].module in held
    ]


def holding(engine: Engine, user: dict, company: str, snapshot, today: date) -> list[rules.Fired]:
    """The user's alerts on the company that hold now on ``snapshot`` (for the Alertas page)."""
    found = [rules.evaluate(alert, snapshot, today) for alert in watched(engine, user, company)]
    return [fired for fired in found if fired is not None]


def check(settings: Settings, engine: Engine, now: datetime | None = None) -> list[Recorded]:
    """Evaluate every alert in force on its company's published snapshot; record each that fires, once per day."""
    moment = now or clock.now_utc()
    today = clock.to_madrid(moment).date()
    store = Store(settings.stores)
    query = (
        sa.select(alerts, users.c.username, users.c.role, users.c.id.label("uid"))
        .join(users, users.c.id == alerts.c.user_id)
        .where(alerts.c.deleted_at.is_(None))
        .order_by(alerts.c.id)
    )
    with engine.connect() as conn:
        rows = conn.execute(query).all()
        done = set(conn.execute(sa.select(alert_events.c.alert_id).where(alert_events.c.day == today)).scalars())
    recorded = []
    snapshots: dict[str, object] = {}
    for row in rows:
        if row.id in done:
            continue
        user = {"id": row.uid, "username": row.username, "role": row.role}
        if rules.KINDS[row.kind].module not in access.modules_of(engine, user, row.company_code):
            continue  # the module was taken away: the alert sleeps
        if row.company_code not in snapshots:
            try:
                snapshots[row.company_code] = store.current(row.company_code)
            except StoreError:
                snapshots[row.company_code] = None
        snapshot = snapshots[row.company_code]
        if snapshot is None:
            continue
        fired = rules.evaluate(_rule(row), snapshot, today)
        if fired is None:
            continue
        try:
            with engine.begin() as conn:
                conn.execute(
                    sa.insert(alert_events).values(
                        alert_id=row.id,
                        user_id=row.user_id,
                        company_code=row.company_code,
                        day=today,
                        snapshot_id=snapshot.snapshot_id,
                        message=fired.message,
                        recorded_at=moment,
                    )
                )
        except sa.exc.IntegrityError:  # another check (another scheduler) recorded it this very day
            continue
        recorded.append(Recorded(row.id, row.user_id, row.company_code, fired.message))
    return recorded


def unsent(engine: Engine, user_id: int) -> list[dict]:
    """The user's recorded alerts not e-mailed yet (with their kind), oldest first."""
    query = (
        sa.select(alert_events, alerts.c.kind)
        .join(alerts, alerts.c.id == alert_events.c.alert_id)
        .where(alert_events.c.user_id == user_id, alert_events.c.sent_at.is_(None))
        .order_by(alert_events.c.id)
    )
    with engine.connect() as conn:
        return [dict(row._mapping) for row in conn.execute(query)]


def mark_sent(conn: sa.Connection, event_ids: list[int], when: datetime) -> None:
    """The events went out in a digest (inside the digest's transaction)."""
    if event_ids:
        conn.execute(sa.update(alert_events).where(alert_events.c.id.in_(event_ids)).values(sent_at=when))


def history(engine: Engine, user_id: int | None = None, limit: int = 200) -> list[dict]:
    """Alerts recorded (one user's, or everyone's for staff), newest first, with the username."""
    query = (
        sa.select(alert_events, users.c.username)
        .join(users, users.c.id == alert_events.c.user_id)
        .order_by(alert_events.c.id.desc())
        .limit(limit)
    )
    if user_id is not None:
        query = query.where(alert_events.c.user_id == user_id)
    with engine.connect() as conn:
        return [dict(row._mapping) for row in conn.execute(query)]
