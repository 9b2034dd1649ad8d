"""What one click costs the portal database: one round trip for the gate and the navigation, whatever the size
of the firm, and this click's reading never standing in for another user or another click."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from sqlalchemy import event

from auth import access, sessions, users
from portal.db import grants
from portal.db import users as users_table
from tests.test_security import World, build_world, make_world, open_page, signed_in, texts


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    data = tmp_path_factory.mktemp("clicks") / "data"
    build_world(data)  # alfa and beta; ana (alfa: contabilidad, impuestos), bea (beta), duo (both: contabilidad)
    return data


@pytest.fixture
def world(template, tmp_path, monkeypatch) -> World:
    return make_world(template, tmp_path, monkeypatch)


PAGES = ["contabilidad", "contabilidad_pyg", "contabilidad_balance", "contabilidad_mayor", "contabilidad_ratios"]
PAGES += ["inicio"]


@contextmanager
def statements_run(engine) -> Iterator[list[str]]:
    """The SQL statements sent to the portal database meanwhile (their text)."""
    seen: list[str] = []

    def hook(conn, cursor, statement, parameters, context, executemany):
        seen.append(" ".join(statement.split()))

    event.listen(engine, "before_cursor_execute", hook)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", hook)


def click(at, engine) -> list[str]:
    """Rerun the page as a click does; the statements it sent."""
    with statements_run(engine) as seen:
        at.run()
    assert not at.exception, at.exception
    return seen


def about_the_user(statement: str) -> bool:
    """A statement that reads the session, the user or the grants (the gate's and navigation's business)."""
    tables = ("sessions", "users", "grants")
    return any(f"FROM {table}" in statement or f"JOIN {table}" in statement for table in tables)


@pytest.mark.parametrize("page", PAGES)
def test_a_click_reads_session_user_grants_and_company_names_in_one_statement(world, monkeypatch, page):
    """Before: 12 to 14 statements per click (4 on users, 3 on companies, 5 on grants) for the gate, the
    navigation, the company selector and the guard. Now the gate's single query serves them all."""
    monkeypatch.setattr(sessions, "TOUCH_SECONDS", 10**9)  # the last-activity write (every 15 s) is not a read
    engine = world.engine
    at = signed_in("duo")  # two companies: the selector lists both by name
    open_page(at, page)
    seen = click(at, engine)
    gate = [s for s in seen if about_the_user(s)]
    assert len(gate) == 1, gate
    assert gate[0].startswith("SELECT") and "sessions.token_hash" in gate[0]
    assert len(seen) <= 2, seen  # at most one more: the company's payroll privacy (blocked employees), page data


def add_users(engine, count: int) -> None:
    """``count`` more client users, each with a grant on «mano» (a big firm)."""
    moment = datetime.now(UTC)
    rows = [
        {"username": f"cliente{n:05d}", "name": f"Cliente {n}", "role": "client", "active": True, "created_at": moment}
        for n in range(count)
    ]
    with engine.begin() as conn:
        conn.execute(sa.insert(users_table), rows)
        ids = conn.execute(sa.select(users_table.c.id).where(users_table.c.username.like("cliente%"))).scalars()
        conn.execute(
            sa.insert(grants),
            [{"user_id": i, "company_code": "alfa", "module": "contabilidad", "granted_at": moment} for i in ids],
        )


def test_the_statements_of_a_click_do_not_change_with_ten_thousand_more_users(world, monkeypatch):
    """The same statements, with the same text, before and after the firm grows from 3 to 10,003 users: nothing a
    click sends lists the users or scans every grant."""
    monkeypatch.setattr(sessions, "TOUCH_SECONDS", 10**9)
    engine = world.engine
    at = signed_in("duo")
    open_page(at, "contabilidad_pyg")
    before = click(at, engine)
    add_users(engine, 10_000)
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(users_table)).scalar() == 10_003
    after = click(at, engine)
    assert after == before
    assert "Pérdidas y ganancias" in texts(at)


def test_a_grant_withdrawn_between_two_clicks_is_gone_at_the_next_one(world):
    """The gate's reading lasts one click: the next click reads the grants again."""
    at = signed_in("bea")
    open_page(at, "contabilidad_pyg")
    assert "No tiene acceso" not in texts(at)
    access.revoke(world.engine, "bea", "beta", "contabilidad", actor="test")
    at.run()
    assert "No tiene acceso" in texts(at)


def test_this_clicks_reading_never_answers_for_another_user(world):
    """Inside a click of «bea» (whose reading is made up here), the grants and the row of «ana» still come from
    the database; after the click, bea's too."""
    engine = world.engine
    bea, ana = users.get_user(engine, "bea"), users.get_user(engine, "ana")
    made_up = access.Holdings({"alfa": {"laboral": {}}}, {"alfa": "Alfa"})
    with access.this_click(bea, made_up):
        assert access.modules_of(engine, ana, "alfa") == {"impuestos": {}, "contabilidad": {}}
        assert access.companies_of(engine, ana) == ["alfa"]
        with pytest.raises(access.AccessDenied):
            access.guard(engine, ana, "alfa", "laboral")
        assert access.modules_of(engine, bea, "alfa") == {"laboral": {}}  # bea's own: this click's reading
    assert access.modules_of(engine, bea, "alfa") == {}  # after the click: the database again
    assert access.companies_of(engine, bea) == ["beta"]


def test_the_holdings_of_one_query_match_the_grants_one_by_one(world):
    engine = world.engine
    duo = users.get_user(engine, "duo")
    held = access.holdings_of(engine, duo["id"])
    assert held.companies() == access.companies_of(engine, duo) == ["alfa", "beta"]
    assert set(held.names) == {"alfa", "beta"}
    assert held.on("beta") == {"contabilidad": {}}
    assert access.holdings_of(engine, 10**6) == access.Holdings()
