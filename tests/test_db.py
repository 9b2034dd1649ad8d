"""The portal database: migrations build exactly the declared schema, and re-running them is harmless."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from portal.db import get_engine, metadata


def test_migrations_match_the_declared_tables(tmp_path):
    engine = get_engine(f"sqlite:///{tmp_path / 'portal.db'}")
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    assert diff == []
    assert set(sa.inspect(engine).get_table_names()) == {*metadata.tables, "alembic_version"}


def test_migrating_twice_keeps_the_data(tmp_path):
    url = f"sqlite:///{tmp_path / 'portal.db'}"
    engine = get_engine(url)
    with engine.begin() as conn:
        conn.execute(
            sa.text("INSERT INTO companies (code, name, nif, publish_mode) VALUES ('acme', 'Acme', '', 'auto')")
        )
    from portal.db import migrate

    migrate(engine)
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT name FROM companies")).scalar() == "Acme"
        assert conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar() == "0003"


def test_the_audit_log_refuses_updates_and_deletes(tmp_path):
    engine = get_engine(f"sqlite:///{tmp_path / 'portal.db'}")
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO audit_log (at, actor, actor_role, event, detail)"
                " VALUES ('2026-11-28 10:00:00', 'ana', 'client', 'sign_in_ok', '')"
            )
        )
    for statement in ("UPDATE audit_log SET actor = 'otro'", "DELETE FROM audit_log"):
        with pytest.raises(sa.exc.DatabaseError, match="append-only"), engine.begin() as conn:
            conn.execute(sa.text(statement))
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT actor FROM audit_log")).all() == [("ana",)]
