"""Solicitudes de documentación: staff ask, the client uploads to an item (the inbox's checks), staff accept or reject
with a reason, the client sends again; never across companies; Inicio, the digest reminder (a real SMTP exchange)
and both pages through AppTest."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa

from auth import access, users
from portal import audit, clock
from portal.db import users as users_table
from portal.settings import load_settings
from services import documents, notify, requests
from tests.smtp_server import SmtpServer
from tests.test_security import make_world, open_page, signed_in, template, texts  # noqa: F401 (a fixture)

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
TODAY = date(2026, 12, 3)


@pytest.fixture
def world(template, tmp_path, monkeypatch):  # noqa: F811 (fixture)
    """alfa and beta published; ana holds documentos on alfa (with an e-mail), bea on beta; sofi is staff."""
    found = make_world(template, tmp_path, monkeypatch)
    access.grant(found.engine, "ana", "alfa", "documentos", actor="test")
    access.grant(found.engine, "bea", "beta", "documentos", actor="test")
    users.create_user(found.engine, "sofi", "una frase de acceso bastante larga", role="staff", name="Sofía")
    with found.engine.begin() as conn:
        conn.execute(sa.update(users_table).where(users_table.c.username == "ana").values(email="ana@alfa.example"))
    monkeypatch.setattr(clock, "today_madrid", lambda: TODAY)
    return found


def user(world, username: str) -> dict:
    return users.get_user(world.engine, username)


def ask(world, company: str = "alfa") -> int:
    return requests.create(
        world.engine,
        company,
        "Cierre del 4T 2026",
        [("Facturas de gastos del 4T", date(2026, 12, 10)), ("Contrato del nuevo empleado", date(2027, 1, 15))],
        note="Gracias",
        actor="sofi",
    )


def items(world, company: str = "alfa") -> dict[str, requests.Item]:
    return {i.label: i for r in requests.open_requests(world.engine, company) for i in r["items"]}


def test_the_whole_cycle_of_an_item(world):
    ask(world)
    facturas = items(world)["Facturas de gastos del 4T"]
    assert [i.state for i in items(world).values()] == ["pendiente", "pendiente"]
    document_id = requests.deliver(
        world.engine, world.settings, user(world, "ana"), "alfa", facturas.id, "facturas.pdf", PDF
    )
    assert items(world)["Facturas de gastos del 4T"].state == "entregado"
    [sent] = documents.uploads(world.engine, "alfa", "client")  # in the firm's inbox, titled by the item
    assert (sent["id"], sent["title"]) == (document_id, "Cierre del 4T 2026: Facturas de gastos del 4T")
    with pytest.raises(requests.RequestError, match="Explique al cliente"):
        requests.review(world.engine, facturas.id, accept=False, actor="sofi")
    requests.review(world.engine, facturas.id, accept=False, reason="Falta la de diciembre", actor="sofi")
    rejected = items(world)["Facturas de gastos del 4T"]
    assert (rejected.state, rejected.reason) == ("rechazado", "Falta la de diciembre")
    requests.deliver(world.engine, world.settings, user(world, "ana"), "alfa", facturas.id, "todas.pdf", PDF)
    requests.review(world.engine, facturas.id, accept=True, actor="sofi")
    assert items(world)["Facturas de gastos del 4T"].state == "aceptado"
    with pytest.raises(requests.RequestError, match="ya está aceptado"):
        requests.deliver(world.engine, world.settings, user(world, "ana"), "alfa", facturas.id, "otra.pdf", PDF)
    events = [e["event"] for e in audit.entries(world.engine, company="alfa") if e["event"].startswith("request_")]
    assert sorted(events) == sorted(
        ["request_created", "request_delivered", "request_reviewed", "request_delivered", "request_reviewed"]
    )


def test_an_upload_gets_the_inbox_checks(world):
    ask(world)
    facturas = items(world)["Facturas de gastos del 4T"]
    with pytest.raises(documents.UploadRejected):
        requests.deliver(
            world.engine, world.settings, user(world, "ana"), "alfa", facturas.id, "virus.exe", b"MZ\x90\x00" * 64
        )
    assert items(world)["Facturas de gastos del 4T"].state == "pendiente"
    assert documents.uploads(world.engine, "alfa", "client") == []


def test_never_across_companies(world):
    ask(world, "alfa")
    facturas = items(world, "alfa")["Facturas de gastos del 4T"]
    with pytest.raises(requests.RequestError, match="no existe"):  # bea (beta) with alfa's item id
        requests.deliver(world.engine, world.settings, user(world, "bea"), "beta", facturas.id, "f.pdf", PDF)
    with pytest.raises(requests.RequestError, match="No tiene acceso"):  # bea naming alfa
        requests.deliver(world.engine, world.settings, user(world, "bea"), "alfa", facturas.id, "f.pdf", PDF)
    assert items(world, "beta") == {} and items(world, "alfa")["Facturas de gastos del 4T"].state == "pendiente"


def test_a_closed_request_leaves_the_clients_list(world):
    request_id = ask(world)
    requests.close(world.engine, request_id, actor="sofi")
    assert requests.to_deliver(world.engine, "alfa") == []
    with pytest.raises(requests.RequestError, match="cerrada"):
        requests.close(world.engine, request_id, actor="sofi")


def test_the_digest_reminds_of_items_due_within_a_week(world):
    ask(world)
    # 03/12/2026: the invoices are due on 10/12 (7 days: reminded), the contract on 15/01/2027 (not yet).
    assert requests.reminder(world.engine, "alfa", TODAY) == (
        "1 documento solicitado por entregar (el primero vence el 10/12/2026)"
    )
    assert requests.reminder(world.engine, "alfa", date(2026, 12, 11)) == (
        "1 documento solicitado por entregar (1 fuera de plazo)"
    )
    assert requests.reminder(world.engine, "alfa", date(2026, 12, 2)) is None  # 8 days before
    with SmtpServer() as smtp, pytest.MonkeyPatch.context() as patch:
        for name, value in smtp.env().items():
            patch.setenv(name, value)
        digests = notify.run(load_settings(), world.engine, now=datetime(2026, 12, 3, 8, 0, tzinfo=UTC))
        assert {d.username: d.status for d in digests}["ana"] == "sent"
        [message] = smtp.wait_for(1)
    assert "1 documento solicitado por entregar (el primero vence el 10/12/2026)" in message.body
    assert "Facturas" not in message.body  # no document names by e-mail


# --- the pages ------------------------------------------------------------------------------------------------------


def test_inicio_and_the_client_page_show_what_is_asked(world):
    ask(world)
    home = signed_in("ana")
    assert "Su despacho le pide 2 documentos: la primera fecha límite es el 10/12/2026." in texts(home)
    at = open_page(signed_in("ana"), "solicitudes")
    shown = texts(at)
    assert "Cierre del 4T 2026" in shown and "Facturas de gastos del 4T" in shown
    assert "Fecha límite: 10/12/2026" in shown and "Fecha límite: 15/01/2027" in shown
    assert [b.label for b in at.button if b.label == "Entregar"] == ["Entregar", "Entregar"]


def test_a_client_without_documentos_cannot_open_the_page(world):
    ask(world)
    at = signed_in("duo")  # contabilidad only
    assert "Su despacho le pide" not in texts(at)
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page("views/solicitudes.py")


def test_staff_ask_from_their_page_and_review_a_delivery(world):
    at = signed_in("sofi")
    at.switch_page("views/solicitudes_despacho.py").run()
    assert [t.value for t in at.title] == ["Solicitudes de documentación"]
    at.selectbox(key="solicitud-empresa").select("alfa").run()
    at.text_input(key="solicitud-titulo").input("Alta de empleado").run()
    at.button(key="solicitud-crear").click().run()
    assert not at.exception, at.exception
    assert "Añada al menos un documento" in texts(at)  # the editor's three rows start empty
    request_id = ask(world)  # (rows are typed in the browser test; here the service makes the request)
    facturas = items(world)["Facturas de gastos del 4T"]
    requests.deliver(world.engine, world.settings, user(world, "ana"), "alfa", facturas.id, "f.pdf", PDF)
    at = signed_in("sofi")
    at.switch_page("views/solicitudes_despacho.py").run()
    assert "alfa · Cierre del 4T 2026" in texts(at) and request_id
    at.text_input(key=f"solicitud-motivo-{facturas.id}").input("Ilegible").run()
    at.button(key=f"solicitud-rechazar-{facturas.id}").click().run()
    assert not at.exception, at.exception
    assert items(world)["Facturas de gastos del 4T"].reason == "Ilegible"
