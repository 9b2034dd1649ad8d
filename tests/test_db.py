"""The portal database, on SQLite and PostgreSQL: migrations build exactly the declared schema, re-running them is
harmless, and the audit log is append-only in the database itself."""

from __future__ import annotations

import multiprocessing
import sqlite3
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Barrier

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from portal import db
from portal.db import MIGRATIONS_DIR, get_engine, metadata, migrate


def head_revision() -> str:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return ScriptDirectory.from_config(config).get_current_head()


def test_migrations_match_the_declared_tables(db_url):
    engine = get_engine(db_url)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    assert diff == []
    assert set(sa.inspect(engine).get_table_names()) == {*metadata.tables, "alembic_version"}


def test_migrating_twice_keeps_the_data(db_url):
    engine = get_engine(db_url)
    with engine.begin() as conn:
        conn.execute(
            sa.text("INSERT INTO companies (code, name, nif, publish_mode) VALUES ('acme', 'Acme', '', 'auto')")
        )
    migrate(engine)
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT name FROM companies")).scalar() == "Acme"
        assert conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar() == head_revision()


def test_the_audit_log_refuses_updates_and_deletes(db_url):
    engine = get_engine(db_url)
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO audit_log (at, actor, actor_role, event, detail)"
                " VALUES ('2026-11-28 10:00:00+00:00', 'ana', 'client', 'sign_in_ok', '')"
            )
        )
    statements = ["UPDATE audit_log SET actor = 'otro'", "DELETE FROM audit_log", "DELETE FROM audit_log WHERE id = 1"]
    if engine.dialect.name == "postgresql":
        statements.append("TRUNCATE audit_log")  # not a row-by-row DELETE: a trigger of its own refuses it
    for statement in statements:
        with pytest.raises(sa.exc.DatabaseError, match="append-only"), engine.begin() as conn:
            conn.execute(sa.text(statement))
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT actor FROM audit_log")).all() == [("ana",)]


def test_a_failed_migration_leaves_nothing_half_done(db_url):
    """All migrations run in one transaction, on SQLite too (its driver would commit each CREATE on its own)."""
    bare = sa.create_engine(db_url)
    with bare.begin() as conn:  # in the way of the last table of migration 0003
        conn.execute(sa.text("CREATE TABLE notifications_sent (id INTEGER PRIMARY KEY)"))
    bare.dispose()
    with pytest.raises(sa.exc.DatabaseError, match="notifications_sent"):
        get_engine(db_url)
    bare = sa.create_engine(db_url)
    assert sa.inspect(bare).get_table_names() == ["notifications_sent"]  # no users, no alembic_version
    with bare.begin() as conn:
        conn.execute(sa.text("DROP TABLE notifications_sent"))
    bare.dispose()
    assert set(sa.inspect(get_engine(db_url)).get_table_names()) == {*metadata.tables, "alembic_version"}


def _open_portal_database(url: str, start: Barrier, answers: Queue) -> None:
    start.wait()
    try:
        engine = get_engine(url)
        with engine.connect() as conn:
            answers.put(conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar())
    except Exception as exc:  # reported to the test, which fails with it
        answers.put(f"{type(exc).__name__}: {exc}")


def test_processes_starting_together_on_a_fresh_database_migrate_it_once(db_url):
    """The portal, the scheduler and the CLI may start at once: one migrates, the others wait and find it done."""
    processes = 4
    context = multiprocessing.get_context("fork")  # no other thread runs here; spawning would re-import everything
    start, answers = context.Barrier(processes), context.Queue()
    workers = [context.Process(target=_open_portal_database, args=(db_url, start, answers)) for _ in range(processes)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    assert sorted(answers.get(timeout=5) for _ in workers) == [head_revision()] * processes


class _SwitchingCursor:
    """A cursor whose WAL switch fails with ``error`` ``failures`` times before it succeeds."""

    def __init__(self, failures: int, error: str = "database is locked") -> None:
        self.failures, self.error, self.calls = failures, error, 0

    def execute(self, statement: str) -> None:
        assert statement == "PRAGMA journal_mode=WAL"
        self.calls += 1
        if self.calls <= self.failures:
            raise sqlite3.OperationalError(self.error)


def test_the_wal_switch_waits_for_a_process_switching_the_same_fresh_file():
    """SQLite refuses one of two processes switching a fresh file to WAL at once, without waiting (its deadlock
    rule): the refused one tries again until the file is switched, gives up after WAL_ATTEMPTS, and any other error
    is raised at once."""
    slept: list[float] = []
    cursor = _SwitchingCursor(failures=3)
    db.switch_to_wal(cursor, sleep=slept.append)
    assert cursor.calls == 4 and len(slept) == 3 and all(0.05 <= s <= 0.15 for s in slept)

    stuck = _SwitchingCursor(failures=db.WAL_ATTEMPTS)
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        db.switch_to_wal(stuck, sleep=slept.append)
    assert stuck.calls == db.WAL_ATTEMPTS

    broken = _SwitchingCursor(failures=1, error="disk I/O error")
    with pytest.raises(sqlite3.OperationalError, match="disk I/O"):
        db.switch_to_wal(broken, sleep=slept.append)
    assert broken.calls == 1


def _switch_fresh_file(path: str, start: Barrier, answers: Queue) -> None:
    connection = sqlite3.connect(path, timeout=10)
    start.wait()
    try:
        cursor = connection.cursor()
        cursor.execute("PRAGMA busy_timeout=10000")
        db.switch_to_wal(cursor)
        answers.put(connection.execute("PRAGMA journal_mode").fetchone()[0])
    except Exception as exc:  # reported to the test, which fails with it
        answers.put(f"{type(exc).__name__}: {exc}")
    finally:
        connection.close()


def test_processes_switching_one_fresh_file_to_wal_together_all_succeed(tmp_path):
    """The real race: six processes switch the same fresh SQLite file to WAL at the same moment, twenty times (a bare
    ``PRAGMA journal_mode=WAL`` fails for about one process in forty here, busy timeout or not)."""
    context = multiprocessing.get_context("fork")
    processes = 6
    for round_no in range(20):
        path = tmp_path / f"fresh-{round_no}.db"
        sqlite3.connect(path).close()
        start, answers = context.Barrier(processes), context.Queue()
        workers = [
            context.Process(target=_switch_fresh_file, args=(str(path), start, answers)) for _ in range(processes)
        ]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(timeout=60)
        assert sorted(answers.get(timeout=5) for _ in workers) == ["wal"] * processes, round_no
