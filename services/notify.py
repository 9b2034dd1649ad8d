"""The daily e-mail digest: new accounting data and new shared documents of each client user's companies.

For every active client user with an e-mail who has not opted out (table ``notification_settings``), the digest
lists what is new since the user's last digest sent (table ``notifications_sent``; none yet: since the user was
created, at most the last 24 hours), per company and only for the modules the user holds there:

- ``contabilidad``: the company's published snapshot (the store's ``CURRENT`` pointer, the same one the pages read)
  was published after that moment, with what it changes over the previous publication in counts (entries added,
  changed, removed; corrected lines of closed years: ``reports.changes``);
- ``facturas`` / ``impuestos``: the firm's invoices and the tax returns that publication brings (counts);
- ``documentos``: the items of the firm's document requests still to send that are due within a week or overdue
  (``services.requests.reminder``: counts and the first due date, no document names);
- alerts: every alert of the user that fired (``services.alerts``: checked at the start of each round, and by the
  scheduler after publications) and was not e-mailed yet, by kind and without amounts; marked sent with the digest;
- ``documentos``: documents of the published snapshot that the previously published one did not carry, and files
  staff shared in the portal (table ``documents``, direction 'firm', not withdrawn) after that moment.

At most one digest is sent per user and Madrid day; every attempt is recorded in ``notifications_sent`` (status
'sent', 'queued' when the SMTP server could not take it and the outbox retries it, or 'failed' when refused for
good; detail JSON) and in the audit log (``notification_sent``). The body names companies only: no amounts, no
personal data: counts only.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from auth import access, users
from etl.store import Snapshot, Store, StoreError
from portal import audit, clock, fmt, mail
from portal.db import advisory_locks, companies, documents, notification_settings, notifications_sent
from portal.db import users as users_table
from portal.errors import PortalError
from portal.settings import Settings
from reports import alerts as alert_rules
from reports import changes
from reports import documents as shared
from services import alerts as user_alerts
from services import requests as document_requests

KIND = "digest"
ROUND_LOCK = "portal-notify"  # PostgreSQL advisory lock of a digest round
ROUND_LOCK_FILE = "notify.lock"  # its file lock in the data folder
ON_ITS_WAY = ("sent", "queued")  # a digest in the outbox counts as sent: the outbox delivers it
ACTOR = "sistema:avisos"
FIRST_WINDOW = timedelta(hours=24)  # a user never notified hears about the last day at most
SUBJECT = "Novedades en su Portal del Cliente"
NEWS_MODULES = {"contabilidad", "documentos", "facturas", "impuestos"}  # the modules a digest speaks of


@dataclass(frozen=True)
class CompanyNews:
    """What is new for one user in one company."""

    company: str
    name: str
    accounting: str | None = None  # the snapshot id newly published (granted 'contabilidad' only)
    data_until: str | None = None  # the «datos a fecha» of that snapshot (ISO date), when known
    documents: int = 0  # new shared documents (granted 'documentos' only)
    snapshot: str | None = None  # the snapshot whose changes are announced (any module but documentos)
    changes: tuple[str, ...] = ()  # what it changes, in words and counts (reports.changes.summary)
    alerts: tuple[str, ...] = ()  # the short words of each alert that fired (no amounts)
    alert_events: tuple[int, ...] = ()  # their alert_events ids, marked sent with the digest
    requested: str | None = None  # documents the firm asked for, due within a week or overdue (no names)

    def line(self) -> str:
        """The company's line of the e-mail body (no amounts, no personal data)."""
        parts = []
        if self.accounting:
            until = f" (datos a fecha {fmt.date_es(self.data_until)})" if self.data_until else ""
            parts.append(f"nuevos datos contables publicados{until}")
        parts += self.changes
        if self.requested:
            parts.append(self.requested)
        if self.alerts:
            many = "s" if len(self.alerts) != 1 else ""
            parts.append(f"{len(self.alerts)} alerta{many} ({', '.join(dict.fromkeys(self.alerts))})")
        if self.documents:
            many = "s" if self.documents != 1 else ""
            parts.append(f"{self.documents} documento{many} nuevo{many}")
        return f"- {self.name}: {'; '.join(parts)}."


@dataclass
class Digest:
    """One user's digest: to whom, since when, and the news per company (empty: nothing to send)."""

    user_id: int
    username: str
    email: str
    since: datetime
    news: list[CompanyNews] = field(default_factory=list)
    status: str = "pending"  # 'sent', 'queued' (outbox), 'failed', 'already_sent', 'nothing_new', 'dry_run'
    error: str = ""

    def detail(self) -> str:
        """The JSON kept in notifications_sent: the window and what was announced (codes and counts only)."""
        return json.dumps(
            {
                "since": self.since.isoformat(),
                "companies": [
                    {
                        "company": n.company,
                        "accounting": n.accounting,
                        "snapshot": n.snapshot,
                        "changes": list(n.changes),
                        "documents": n.documents,
                        "alerts": list(n.alert_events),
                        "requested": n.requested,
                    }
                    for n in self.news
                ],
            },
            ensure_ascii=False,
        )


def body(settings: Settings, news: list[CompanyNews]) -> str:
    """The Spanish plain-text body: company names and what kind of news, the portal link, how to opt out."""
    lines = [
        "Hola:",
        "",
        f"{settings.firm_name} ha publicado novedades en su Portal del Cliente:",
        "",
        *[n.line() for n in news],
        "",
        f"Puede consultarlas en {settings.base_url}",
        "",
        "Recibirá como máximo un aviso al día. Si no desea recibir estos avisos, desmarque «Recibir avisos por "
        "correo» en «Mi cuenta» del portal.",
        "",
        "Este mensaje se ha enviado automáticamente; no lo responda.",
    ]
    return "\n".join(lines)


# --- who, since when ------------------------------------------------------------------------------------------------


def madrid_midnight(now: datetime) -> datetime:
    """The start (UTC) of the Madrid day of ``now``."""
    return clock.madrid_midnight(clock.to_madrid(now).date())


def recipients(engine: Engine, now: datetime) -> list[dict]:
    """Client users who may receive the digest: usable account (not inactive, locked, expired or never activated),
    an e-mail address, and no opt-out row."""
    opted_out = sa.select(notification_settings.c.user_id).where(notification_settings.c.opt_out.is_(True))
    with engine.connect() as conn:
        rows = [
            dict(r._mapping)
            for r in conn.execute(
                sa.select(users_table)
                .where(users_table.c.role == "client", users_table.c.email != "", users_table.c.id.not_in(opted_out))
                .order_by(users_table.c.username)
            )
        ]
    today = clock.to_madrid(now).date()
    return [u for u in rows if u["email"].strip() and users.access_problem(u, today=today) is None]


def last_sent(engine: Engine, user_id: int) -> datetime | None:
    """When the user's last digest was sent or queued in the outbox (failed attempts do not count)."""
    with engine.connect() as conn:
        found = conn.execute(
            sa.select(sa.func.max(notifications_sent.c.sent_at)).where(
                notifications_sent.c.user_id == user_id,
                notifications_sent.c.kind == KIND,
                notifications_sent.c.status.in_(ON_ITS_WAY),
            )
        ).scalar()
    return clock.as_utc(found)


def window_start(engine: Engine, user: dict, now: datetime) -> datetime:
    """Since when news count for the user: the last digest sent, else the user's creation within the last 24 h."""
    last = last_sent(engine, user["id"])
    if last is not None:
        return last
    created = clock.as_utc(user["created_at"]) or now - FIRST_WINDOW
    return max(created, now - FIRST_WINDOW)


def opted_out(engine: Engine, user_id: int) -> bool:
    """True when the user asked not to receive the e-mail digest."""
    with engine.connect() as conn:
        value = conn.execute(
            sa.select(notification_settings.c.opt_out).where(notification_settings.c.user_id == user_id)
        ).scalar()
    return bool(value)


def set_opt_out(engine: Engine, user: dict, opt_out: bool, *, now: datetime | None = None) -> None:
    """Save the user's choice (audited as notification_settings)."""
    moment = now or clock.now_utc()
    with engine.begin() as conn:
        updated = conn.execute(
            sa.update(notification_settings)
            .where(notification_settings.c.user_id == user["id"])
            .values(opt_out=opt_out, updated_at=moment)
        ).rowcount
        if not updated:
            conn.execute(
                sa.insert(notification_settings).values(user_id=user["id"], opt_out=opt_out, updated_at=moment)
            )
        audit.record(
            conn,
            "notification_settings",
            actor=str(user["username"]),
            actor_role="client",
            target=str(user["username"]),
            detail="avisos por correo: " + ("no" if opt_out else "sí"),
        )


# --- what is new ---------------------------------------------------------------------------------------------------


def published(store: Store, company: str) -> tuple[Snapshot, datetime, list[str]] | None:
    """The published snapshot of a company, when it was published and the publish history (None: nothing)."""
    pointer = store.publication(company)  # the CURRENT pointer carries published_at
    if pointer is None:
        return None
    snapshot = store.snapshot(company, str(pointer["snapshot_id"]))
    moment = datetime.fromisoformat(str(pointer.get("published_at") or snapshot.created_at))
    return snapshot, clock.as_utc(moment), store.history(company)


def etl_document_keys(snapshot: Snapshot | None) -> set[str]:
    """The sha256 of every document the snapshot shares (empty when the documents module is absent)."""
    return set(shared.documents(snapshot)["sha256"].astype(str)) if snapshot is not None else set()


def new_etl_documents(store: Store, company: str, snapshot: Snapshot, history: list[str]) -> int:
    """Documents of the published snapshot that the previously published one (still on disk) did not carry."""
    current = etl_document_keys(snapshot)
    if not current:
        return 0
    previous: set[str] = set()
    for snapshot_id in history[1:]:
        try:
            previous = etl_document_keys(store.snapshot(company, snapshot_id))
        except StoreError:
            continue
        break
    return len(current - previous)


def new_uploads(engine: Engine, company: str, since: datetime) -> int:
    """Files staff shared with the company in the portal after ``since`` (withdrawn ones left out)."""
    with engine.connect() as conn:
        return int(
            conn.execute(
                sa.select(sa.func.count()).where(
                    documents.c.company_code == company,
                    documents.c.direction == "firm",
                    documents.c.deleted_at.is_(None),
                    documents.c.uploaded_at > since,
                )
            ).scalar()
            or 0
        )


def announced(engine: Engine, user_id: int, company: str) -> str | None:
    """The newest accounting snapshot of the company already announced to the user (None: none yet)."""
    with engine.connect() as conn:
        details = conn.execute(
            sa.select(notifications_sent.c.detail).where(
                notifications_sent.c.user_id == user_id,
                notifications_sent.c.kind == KIND,
                notifications_sent.c.status.in_(ON_ITS_WAY),
            )
        ).scalars()
        ids = [
            str(item.get("snapshot") or item["accounting"])
            for detail in details
            for item in json.loads(detail or "{}").get("companies", [])
            if item.get("company") == company and (item.get("snapshot") or item.get("accounting"))
        ]
    return max(ids, default=None)


def news_for(
    settings: Settings, engine: Engine, user: dict, since: datetime, today: date | None = None
) -> list[CompanyNews]:
    """What is new since ``since`` in each company of the user, for the modules the user holds there (and the
    documents the firm asked for that are due soon, on ``today``)."""
    today = today or clock.today_madrid()
    store = Store(settings.stores)
    fired: dict[str, list[dict]] = {}
    for event in user_alerts.unsent(engine, user["id"]):
        fired.setdefault(event["company_code"], []).append(event)
    found = []
    for company in access.companies_of(engine, user):
        modules = access.modules_of(engine, user, company)
        events = [e for e in fired.get(company, []) if alert_rules.KINDS[e["kind"]].module in modules]
        if not set(modules) & NEWS_MODULES and not events:
            continue
        current = published(store, company)
        accounting, data_until, snapshot_id, words, count = None, None, None, (), 0
        if current is not None:
            snapshot, published_at, history = current
            if published_at > since:
                newest = announced(engine, user["id"], company)  # a rollback brings back data already announced
                if newest is None or snapshot.snapshot_id > newest:  # ids sort by time
                    snapshot_id = snapshot.snapshot_id
                    words = change_words(store, company, snapshot, set(modules) - {"documentos"})
                    if "contabilidad" in modules:
                        accounting = snapshot.snapshot_id
                        data_until = snapshot.manifest.get("last_date") or None
                if "documentos" in modules:
                    count += new_etl_documents(store, company, snapshot, history)
        requested = None
        if "documentos" in modules:
            count += new_uploads(engine, company, since)
            requested = document_requests.reminder(engine, company, today)
        if accounting or words or count or events or requested:
            name = company_name(engine, company)
            shorts = tuple(alert_rules.KINDS[e["kind"]].short for e in events)
            ids = tuple(e["id"] for e in events)
            found.append(
                CompanyNews(company, name, accounting, data_until, count, snapshot_id, words, shorts, ids, requested)
            )
    return found


def change_words(store: Store, company: str, snapshot: Snapshot, modules: set[str]) -> tuple[str, ...]:
    """What the publication changes over the previous one, in counts, for these modules (none: the first one)."""
    previous = changes.previous_published(store, company, snapshot.snapshot_id)
    if previous is None:
        return ()
    return tuple(
        changes.summary(_counts(str(store.root), company, snapshot.snapshot_id, previous.snapshot_id), modules)
    )


@functools.lru_cache(maxsize=32)
def _counts(store_root: str, company: str, snapshot_id: str, previous_id: str) -> dict[str, int]:
    """The change counts of a pair of snapshots (immutable: computed once per process for all its users)."""
    store = Store(Path(store_root))
    return changes.compare(store.snapshot(company, snapshot_id), store.snapshot(company, previous_id)).counts()


def company_name(engine: Engine, company: str) -> str:
    with engine.connect() as conn:
        name = conn.execute(sa.select(companies.c.name).where(companies.c.code == company)).scalar()
    return name or company


# --- sending -------------------------------------------------------------------------------------------------------


def sent_today(engine: Engine, user_id: int, now: datetime) -> bool:
    """True when a digest already went to the user on this Madrid day."""
    last = last_sent(engine, user_id)
    return last is not None and last >= madrid_midnight(now)


def record(engine: Engine, digest: Digest, subject: str, now: datetime) -> None:
    """Write the attempt to notifications_sent and the audit log, in one transaction."""
    with engine.begin() as conn:
        conn.execute(
            sa.insert(notifications_sent).values(
                user_id=digest.user_id,
                email=digest.email,
                sent_at=now,
                kind=KIND,
                subject=subject,
                detail=digest.detail(),
                status=digest.status,
                error=digest.error[:2000],
            )
        )
        audit.record(
            conn,
            "notification_sent",
            actor=ACTOR,
            actor_role="system",
            target=digest.username,
            detail=f"estado={digest.status}; empresas={','.join(n.company for n in digest.news)}"
            + (f"; error={digest.error}" if digest.error else ""),
            at=now,
        )


class NotifyBusy(PortalError):
    """Another process of the installation is sending the digest right now."""


@contextlib.contextmanager
def one_round(settings: Settings, engine: Engine) -> Iterator[None]:
    """Hold the installation's digest lock for one round, or raise NotifyBusy without waiting.

    A file lock in the data folder keeps two processes of one machine apart; on PostgreSQL an advisory lock does
    the same across machines. Inside it, «already sent today» is read after the previous round wrote its records,
    so two schedulers firing at the same tick send each user one digest, not two.
    """
    busy = NotifyBusy("Otro proceso está enviando ahora los avisos por correo; esta ronda no envía nada.")
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    with open(settings.data_dir / ROUND_LOCK_FILE, "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise busy from None
        locks = advisory_locks(engine)
        held = locks.try_acquire(ROUND_LOCK) if locks is not None else None
        if locks is not None and held is None:
            raise busy
        try:
            yield
        finally:
            if held is not None:
                locks.release(ROUND_LOCK, held)


def run(settings: Settings, engine: Engine, *, now: datetime | None = None, dry_run: bool = False) -> list[Digest]:
    """One digest round over every recipient; returns each user's outcome (nothing sent or recorded on a dry run).

    One round at a time for the whole installation (``one_round``): a second one meanwhile raises NotifyBusy.
    """
    with one_round(settings, engine):
        return _round(settings, engine, now or clock.now_utc(), dry_run)


def _round(settings: Settings, engine: Engine, moment: datetime, dry_run: bool) -> list[Digest]:
    if not dry_run:
        user_alerts.check(settings, engine, moment)  # the daily check of every alert, recorded before the mail
    digests = []
    for user in recipients(engine, moment):
        digest = Digest(user["id"], user["username"], user["email"].strip(), window_start(engine, user, moment))
        digests.append(digest)
        if sent_today(engine, user["id"], moment):
            digest.status = "already_sent"
            continue
        digest.news = news_for(settings, engine, user, digest.since, clock.to_madrid(moment).date())
        if not digest.news:
            digest.status = "nothing_new"
            continue
        if dry_run:
            digest.status = "dry_run"
            continue
        try:
            with engine.begin() as conn:
                posted = mail.post(conn, settings, digest.email, SUBJECT, body(settings, digest.news), kind=KIND)
                user_alerts.mark_sent(conn, [i for n in digest.news for i in n.alert_events], moment)
        except mail.MailError as exc:  # refused for good (the address)
            digest.status, digest.error = "failed", str(exc)
        else:  # sent, or in the outbox to be retried: either way the day's digest is on its way
            digest.status, digest.error = ("sent", "") if posted.sent else ("queued", posted.error)
        record(engine, digest, SUBJECT, moment)
    return digests


def history(engine: Engine, user_id: int | None = None, limit: int = 200) -> list[dict]:
    """The notifications attempted, newest first (optionally of one user)."""
    query = sa.select(notifications_sent).order_by(notifications_sent.c.id.desc()).limit(limit)
    if user_id is not None:
        query = query.where(notifications_sent.c.user_id == user_id)
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(query)]
