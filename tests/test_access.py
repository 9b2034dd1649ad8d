"""The access model on a real SQLite file: clients, companies, client users, grants, the guard and the audit log."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from auth import access, users
from auth.access import AccessDenied, AccessError, Grant
from auth.passwords import hash_password
from portal import audit
from portal.db import companies, get_engine

STAFF = "ana"
PASSPHRASE = "tortuga ventana azul montaña"


@pytest.fixture
def engine(tmp_path):
    """A fresh portal database with three companies (as a load registers them) and one client owning two."""
    eng = get_engine(f"sqlite:///{tmp_path / 'portal.db'}")
    with eng.begin() as conn:
        for code, name in (("acme", "Acme SL"), ("beta", "Beta SA"), ("gamma", "Gamma SL")):
            conn.execute(sa.insert(companies).values(code=code, name=name, nif="", publish_mode="auto"))
    access.create_client(eng, "grupo-a", "Grupo A", "B12345674", actor=STAFF)
    access.link_company(eng, "grupo-a", "acme", actor=STAFF)
    access.link_company(eng, "grupo-a", "beta", actor=STAFF)
    return eng


def client_user(engine, name="lucia", client="grupo-a", **kwargs) -> dict:
    access.create_client_user(engine, name, client_code=client, email=f"{name}@cliente.es", actor=STAFF, **kwargs)
    with engine.begin() as conn:  # as if the user had activated the account through the e-mailed link
        conn.execute(
            sa.text("UPDATE users SET password_hash = :h WHERE username = :u"),
            {"h": hash_password(PASSPHRASE), "u": name},
        )
    return users.get_user(engine, name)


def test_a_client_needs_a_valid_nif_and_a_unique_code(engine):
    with pytest.raises(AccessError, match="NIF no válido: «B12345678»"):
        access.create_client(engine, "otro", "Otro", "B12345678", actor=STAFF)
    with pytest.raises(AccessError, match="Ya existe un cliente con el código «grupo-a»"):
        access.create_client(engine, "grupo-a", "Otra vez", actor=STAFF)
    with pytest.raises(AccessError, match="Código de cliente no válido"):
        access.create_client(engine, "../x", "Malo", actor=STAFF)
    [row] = access.list_clients(engine)
    assert (row["code"], row["name"], row["nif"], row["companies"], row["users"]) == (
        "grupo-a",
        "Grupo A",
        "B12345674",
        ["acme", "beta"],
        0,
    )


def test_only_companies_with_a_store_can_be_linked(engine):
    with pytest.raises(AccessError, match="«nadie» no existe o aún no tiene datos"):
        access.link_company(engine, "grupo-a", "nadie", actor=STAFF)
    access.link_company(engine, "grupo-a", "acme", actor=STAFF)  # again: nothing changes
    assert access.client_companies(engine, "grupo-a") == ["acme", "beta"]


def test_a_new_client_user_has_no_password_and_is_not_activated(engine):
    user_id = access.create_client_user(
        engine, "Lucia", client_code="grupo-a", email="lucia@cliente.es", max_attempts=3, actor=STAFF
    )
    user = users.get_user(engine, "lucia")
    assert user["id"] == user_id and user["password_hash"] is None and user["role"] == "client"
    assert user["max_attempts"] == 3
    assert access.user_state(user) == "sin activar"
    assert access.client_of(engine, user_id) == "grupo-a"
    with pytest.raises(AccessError, match="Correo electrónico del usuario no válido"):
        access.create_client_user(engine, "pepe", client_code="grupo-a", email="pepe@", actor=STAFF)
    with pytest.raises(AccessError, match="de 1 a 20"):
        access.create_client_user(engine, "pepe", client_code="grupo-a", email="p@x.es", max_attempts=0, actor=STAFF)


def test_user_states_at_a_glance(engine):
    user = client_user(engine)
    today = date(2026, 11, 28)
    assert access.user_state(user, today=today) == "activo"
    assert access.user_state({**user, "expires_on": today}, today=today) == "activo"  # the last day still counts
    assert access.user_state({**user, "expires_on": today - timedelta(days=1)}, today=today) == "caducado"
    assert access.user_state({**user, "failed_attempts": 5}, today=today) == "bloqueado"
    assert access.user_state({**user, "active": False}, today=today) == "desactivado"


def test_grants_are_per_company_and_replace_the_previous_set(engine):
    client_user(engine)
    access.set_grants(engine, "lucia", "acme", {"contabilidad": {}, "expedientes": {"cases": "open"}}, actor=STAFF)
    access.set_grants(engine, "lucia", "beta", {"laboral": {"tables": ["altas_bajas", "resumen_nominas"]}}, actor=STAFF)
    assert access.grants_of(engine, "lucia") == [
        Grant("acme", "expedientes", {"cases": "open"}),
        Grant("acme", "contabilidad", {}),
        Grant("beta", "laboral", {"tables": ["resumen_nominas", "altas_bajas"]}),
    ]
    access.set_grants(engine, "lucia", "acme", {"impuestos": {}}, actor=STAFF)
    user = users.get_user(engine, "lucia")
    assert access.modules_of(engine, user, "acme") == {"impuestos": {}}
    assert access.companies_of(engine, user) == ["acme", "beta"]
    access.set_grants(engine, "lucia", "beta", {}, actor=STAFF)
    assert access.companies_of(engine, user) == ["acme"]


def test_grants_refuse_unknown_modules_options_and_foreign_companies(engine):
    client_user(engine)
    with pytest.raises(AccessError, match="Módulo desconocido: «nominas»"):
        access.set_grants(engine, "lucia", "acme", {"nominas": {}}, actor=STAFF)
    with pytest.raises(AccessError, match="«todos» no es válido"):
        access.set_grants(engine, "lucia", "acme", {"expedientes": {"cases": "todos"}}, actor=STAFF)
    with pytest.raises(AccessError, match="Tablas laborales desconocidas: salarios"):
        access.set_grants(engine, "lucia", "acme", {"laboral": {"tables": ["salarios"]}}, actor=STAFF)
    with pytest.raises(AccessError, match="«gamma» no está vinculada al cliente «grupo-a»"):
        access.set_grants(engine, "lucia", "gamma", {"contabilidad": {}}, actor=STAFF)
    assert access.grants_of(engine, "lucia") == []


def test_unlinking_a_company_removes_its_grants(engine):
    client_user(engine)
    access.grant(engine, "lucia", "acme", "contabilidad", actor=STAFF)
    access.grant(engine, "lucia", "beta", "contabilidad", actor=STAFF)
    access.unlink_company(engine, "grupo-a", "beta", actor=STAFF)
    assert [g.company for g in access.grants_of(engine, "lucia")] == ["acme"]


def test_grant_and_revoke_keep_the_other_modules(engine):
    client_user(engine)
    access.grant(engine, "lucia", "acme", "contabilidad", actor=STAFF)
    access.grant(engine, "lucia", "acme", "tesoreria", actor=STAFF)
    access.revoke(engine, "lucia", "acme", "contabilidad", actor=STAFF)
    assert [g.module for g in access.grants_of(engine, "lucia")] == ["tesoreria"]


def test_the_guard_lets_through_exactly_what_is_granted(engine):
    user = client_user(engine)
    access.grant(engine, "lucia", "acme", "contabilidad", actor=STAFF)
    assert access.guard(engine, user, "acme", "contabilidad") == Grant("acme", "contabilidad", {})
    for company, module in (("acme", "laboral"), ("beta", "contabilidad"), ("gamma", "contabilidad")):
        with pytest.raises(AccessDenied, match="No tiene acceso a estos datos"):
            access.guard(engine, user, company, module)
    denied = audit.entries(engine, event="access_denied")
    assert [(e["actor"], e["company"], e["target"], e["detail"]) for e in reversed(denied)] == [
        ("lucia", "acme", "laboral", "módulo no concedido"),
        ("lucia", "beta", "contabilidad", "módulo no concedido"),
        ("lucia", "gamma", "contabilidad", "módulo no concedido"),
    ]


@pytest.mark.parametrize("company", ["../acme", "..%2facme", "/etc/passwd", "acme\0", "", "a" * 40])
def test_the_guard_refuses_malformed_company_codes(engine, company):
    user = client_user(engine)
    access.grant(engine, "lucia", "acme", "contabilidad", actor=STAFF)
    with pytest.raises(AccessDenied):
        access.guard(engine, user, company, "contabilidad")
    [event] = audit.entries(engine, event="access_denied")
    assert event["company"] is None and "código de empresa no válido" in event["detail"]


def test_the_guard_reads_the_user_as_the_database_has_it_now(engine):
    user = client_user(engine)
    access.grant(engine, "lucia", "acme", "contabilidad", actor=STAFF)
    access.update_client_user(engine, "lucia", expires_on=date(2026, 11, 27), actor=STAFF)
    with pytest.raises(AccessDenied):
        access.guard(engine, user, "acme", "contabilidad", today=date(2026, 11, 28))
    assert access.guard(engine, user, "acme", "contabilidad", today=date(2026, 11, 27)).module == "contabilidad"
    users.set_active(engine, "lucia", False)
    with pytest.raises(AccessDenied):
        access.guard(engine, user, "acme", "contabilidad", today=date(2026, 11, 27))
    users.set_active(engine, "lucia", True)
    for _ in range(5):
        users.record_failed_attempt(engine, "lucia")
    with pytest.raises(AccessDenied):
        access.guard(engine, user, "acme", "contabilidad", today=date(2026, 11, 27))


def test_the_guard_refuses_staff_and_nobody(engine):
    users.create_user(engine, STAFF, PASSPHRASE, role="staff")
    with pytest.raises(AccessDenied):
        access.guard(engine, users.get_user(engine, STAFF), "acme", "contabilidad")
    with pytest.raises(AccessDenied):
        access.guard(engine, None, "acme", "contabilidad")


def test_changing_a_users_client_drops_its_grants(engine):
    client_user(engine)
    access.grant(engine, "lucia", "acme", "contabilidad", actor=STAFF)
    access.create_client(engine, "grupo-b", "Grupo B", actor=STAFF)
    access.update_client_user(engine, "lucia", client_code="grupo-b", actor=STAFF)
    assert access.grants_of(engine, "lucia") == []
    assert access.client_of(engine, users.get_user(engine, "lucia")["id"]) == "grupo-b"


def test_every_staff_change_is_audited_without_secrets(engine):
    client_user(engine)
    access.set_grants(engine, "lucia", "acme", {"contabilidad": {}, "impuestos": {}}, actor=STAFF)
    events = [(e["event"], e["actor"], e["actor_role"], e["company"], e["target"]) for e in audit.entries(engine)]
    assert list(reversed(events)) == [
        ("client_created", STAFF, "staff", None, "grupo-a"),
        ("client_company_linked", STAFF, "staff", "acme", "grupo-a"),
        ("client_company_linked", STAFF, "staff", "beta", "grupo-a"),
        ("user_created", STAFF, "staff", None, "lucia"),
        ("grants_changed", STAFF, "staff", "acme", "lucia"),
    ]
    assert audit.entries(engine, event="grants_changed")[0]["detail"] == "contabilidad, impuestos"
    with engine.connect() as conn:
        text = " ".join(str(v) for row in conn.execute(sa.text("SELECT * FROM audit_log")) for v in row)
    assert "$2b$" not in text and PASSPHRASE not in text


def test_audit_filters_by_madrid_day(engine):
    from datetime import UTC, datetime

    # 23:30 UTC on 30/11 is already 01/12 in Madrid (UTC+1 in winter).
    audit.record(engine, "sign_in_ok", actor="x", actor_role="client", at=datetime(2026, 11, 30, 23, 30, tzinfo=UTC))
    audit.record(engine, "sign_in_ok", actor="x", actor_role="client", at=datetime(2026, 11, 30, 22, 30, tzinfo=UTC))
    december = audit.entries(engine, actor="x", since=date(2026, 12, 1), until=date(2026, 12, 1))
    november = audit.entries(engine, actor="x", since=date(2026, 11, 30), until=date(2026, 11, 30))
    assert [e["at"].hour for e in december] == [23] and [e["at"].hour for e in november] == [22]
    with pytest.raises(audit.AuditError):
        audit.record(engine, "made_up_event")


def test_audit_about_a_user_finds_what_it_did_and_what_was_done_to_it(engine):
    client_user(engine)
    audit.record(engine, "sign_in_ok", actor="lucia", actor_role="client")
    about = [(e["event"], e["actor"]) for e in audit.entries(engine, about="lucia")]
    assert about == [("sign_in_ok", "lucia"), ("user_created", STAFF)]
