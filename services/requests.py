"""Solicitudes de documentación: the firm asks a company for documents (a checklist, a due date per item), the client
fulfils an item by uploading to it (the inbox's checks), staff accept it or reject it with a reason; all audited.

States of an item: ``pendiente`` → (upload) ``entregado`` → ``aceptado`` or ``rechazado`` (with a reason; the client
may upload again, back to ``entregado``). A request is open until staff close it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from auth import access
from portal import audit, clock
from portal.db import companies, document_requests, request_items
from portal.errors import PortalError
from portal.fmt import date_es
from portal.settings import Settings
from services import documents

STATES = {"pendiente": "Pendiente", "entregado": "Entregado", "aceptado": "Aceptado", "rechazado": "Rechazado"}
TO_DELIVER = ("pendiente", "rechazado")  # what the client still has to send
MODULE = "documentos"  # clients see and fulfil requests with the documents module
MAX_ITEMS, MAX_LABEL = 50, 200
REMINDER_DAYS = 7  # the digest reminds of items due within this many days (and of overdue ones)


class RequestError(PortalError):
    """A request action the portal refuses; the message says why, in Spanish."""


@dataclass(frozen=True)
class Item:
    """One document asked for, with its request."""

    id: int
    request_id: int
    company: str
    request_title: str
    label: str
    due_date: date
    state: str
    reason: str
    document_id: int | None
    delivered_at: object
    delivered_by: str | None

    @property
    def state_label(self) -> str:
        return STATES[self.state]


def create(
    engine: Engine, company: str, title: str, items: list[tuple[str, date]], *, note: str = "", actor: str
) -> int:
    """A new request to a company: its title, a note and the items (label, due date); its id."""
    title = title.strip()
    items = [(label.strip(), due.date() if isinstance(due, datetime) else due) for label, due in items if label.strip()]
    if not title:
        raise RequestError("Escriba un título para la solicitud (p. ej. «Cierre del 4T»).")
    if not items:
        raise RequestError("Añada al menos un documento a la solicitud.")
    if len(items) > MAX_ITEMS:
        raise RequestError(f"Como máximo {MAX_ITEMS} documentos por solicitud.")
    for label, due in items:
        if len(label) > MAX_LABEL:
            raise RequestError(f"«{label[:40]}…»: como máximo {MAX_LABEL} caracteres por documento.")
        if not isinstance(due, date):
            raise RequestError(f"«{label}»: falta la fecha límite.")
    now = clock.now_utc()
    with engine.begin() as conn:
        if conn.execute(sa.select(companies.c.code).where(companies.c.code == company)).first() is None:
            raise RequestError(f"La empresa «{company}» no existe.")
        request_id = conn.execute(
            sa.insert(document_requests).values(
                company_code=company, title=title[:MAX_LABEL], note=note.strip(), created_by=actor, created_at=now
            )
        ).inserted_primary_key[0]
        conn.execute(
            sa.insert(request_items),
            [{"request_id": request_id, "label": label, "due_date": due, "state": "pendiente"} for label, due in items],
        )
        audit.record(
            conn,
            "request_created",
            actor=actor,
            actor_role=audit.actor_role(actor),
            company=company,
            target=str(request_id),
            detail=f"{title}: {len(items)} documento(s)",
        )
    return int(request_id)


def _items_query():
    return sa.select(
        request_items,
        document_requests.c.company_code,
        document_requests.c.title.label("request_title"),
    ).join(document_requests, document_requests.c.id == request_items.c.request_id)


def _item(row) -> Item:
    return Item(
        row.id,
        row.request_id,
        row.company_code,
        row.request_title,
        row.label,
        row.due_date,
        row.state,
        row.reason,
        row.document_id,
        row.delivered_at,
        row.delivered_by,
    )


def open_requests(engine: Engine, company: str | None = None) -> list[dict]:
    """Open requests (one company's, or every one for staff), oldest first, each with its items by due date."""
    query = sa.select(document_requests).where(document_requests.c.closed_at.is_(None))
    if company is not None:
        query = query.where(document_requests.c.company_code == company)
    with engine.connect() as conn:
        requests = [dict(r._mapping) for r in conn.execute(query.order_by(document_requests.c.id))]
        ids = [r["id"] for r in requests]
        rows = conn.execute(
            _items_query()
            .where(request_items.c.request_id.in_(ids))
            .order_by(request_items.c.due_date, request_items.c.id)
        ).all()
    by_request: dict[int, list[Item]] = {}
    for row in rows:
        by_request.setdefault(row.request_id, []).append(_item(row))
    return [{**r, "items": by_request.get(r["id"], [])} for r in requests]


def to_deliver(engine: Engine, company: str) -> list[Item]:
    """The company's items still to send (pending or rejected) of its open requests, by due date."""
    return [i for r in open_requests(engine, company) for i in r["items"] if i.state in TO_DELIVER]


def _open_item(conn: sa.Connection, item_id: int) -> Item:
    row = conn.execute(
        _items_query().where(request_items.c.id == item_id, document_requests.c.closed_at.is_(None))
    ).first()
    if row is None:
        raise RequestError("Esa solicitud no existe o ya está cerrada.")
    return _item(row)


def deliver(
    engine: Engine, settings: Settings, user: dict, company: str, item_id: int, name: str, content: bytes
) -> int:
    """The client's upload for one item (the inbox's checks, stored as a document sent to the firm); its id."""
    if user.get("role") != "client" or MODULE not in access.modules_of(engine, user, company):
        raise RequestError("No tiene acceso a las solicitudes de documentación de esta empresa.")
    with engine.connect() as conn:
        item = _open_item(conn, item_id)
    if item.company != company:  # an item of another company: never, whatever the browser sends
        raise RequestError("Esa solicitud no existe o ya está cerrada.")
    if item.state not in TO_DELIVER:
        raise RequestError(f"«{item.label}» ya está {item.state_label.lower()}.")
    document_id = documents.store(
        engine,
        settings,
        company=company,
        direction="client",
        name=name,
        content=content,
        actor=str(user["username"]),
        actor_role="client",
        title=f"{item.request_title}: {item.label}",
    )
    with engine.begin() as conn:
        changed = conn.execute(
            sa.update(request_items)
            .where(request_items.c.id == item_id, request_items.c.state.in_(TO_DELIVER))
            .values(
                state="entregado",
                reason="",
                document_id=document_id,
                delivered_at=clock.now_utc(),
                delivered_by=str(user["username"]),
            )
        ).rowcount
        if not changed:
            raise RequestError(f"«{item.label}» acaba de entregarse desde otra sesión.")
        audit.record(
            conn,
            "request_delivered",
            actor=str(user["username"]),
            actor_role="client",
            company=company,
            target=str(item_id),
            detail=f"{item.request_title}: {item.label}; documento portal:{document_id}",
        )
    return document_id


def review(engine: Engine, item_id: int, *, accept: bool, reason: str = "", actor: str) -> None:
    """Staff accept a delivered item, or reject it with a reason (the client then uploads again)."""
    reason = reason.strip()
    if not accept and not reason:
        raise RequestError("Explique al cliente por qué se rechaza el documento.")
    with engine.begin() as conn:
        item = _open_item(conn, item_id)
        if item.state != "entregado":
            raise RequestError(f"«{item.label}» no está entregado (está {item.state_label.lower()}).")
        conn.execute(
            sa.update(request_items)
            .where(request_items.c.id == item_id)
            .values(
                state="aceptado" if accept else "rechazado",
                reason="" if accept else reason,
                reviewed_at=clock.now_utc(),
                reviewed_by=actor,
            )
        )
        audit.record(
            conn,
            "request_reviewed",
            actor=actor,
            actor_role=audit.actor_role(actor),
            company=item.company,
            target=str(item_id),
            detail=f"{item.label}: {'aceptado' if accept else 'rechazado: ' + reason}",
        )


def close(engine: Engine, request_id: int, *, actor: str) -> None:
    """Staff close a request (it leaves the client's pending list; its items stay on record)."""
    with engine.begin() as conn:
        row = conn.execute(
            sa.select(document_requests).where(
                document_requests.c.id == request_id, document_requests.c.closed_at.is_(None)
            )
        ).first()
        if row is None:
            raise RequestError("Esa solicitud no existe o ya está cerrada.")
        conn.execute(
            sa.update(document_requests)
            .where(document_requests.c.id == request_id)
            .values(closed_at=clock.now_utc(), closed_by=actor)
        )
        audit.record(
            conn,
            "request_closed",
            actor=actor,
            actor_role=audit.actor_role(actor),
            company=row.company_code,
            target=str(request_id),
            detail=row.title,
        )


def reminder(engine: Engine, company: str, today: date) -> str | None:
    """The digest's words for the items due within REMINDER_DAYS or overdue (no document names), or None."""
    due = [i for i in to_deliver(engine, company) if (i.due_date - today).days <= REMINDER_DAYS]
    if not due:
        return None
    overdue = sum(1 for i in due if i.due_date < today)
    words = f"{len(due)} documento{'s' if len(due) != 1 else ''} solicitado{'s' if len(due) != 1 else ''} por entregar"
    if overdue:
        return f"{words} ({overdue} fuera de plazo)"
    return f"{words} (el primero vence el {date_es(due[0].due_date)})"
