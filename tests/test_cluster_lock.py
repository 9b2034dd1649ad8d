"""The company lock across machines: on PostgreSQL a load also takes an advisory lock, so two machines sharing the
stores (each with its own file locks) never write one company at once; a process that dies lets go of it."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import sqlalchemy as sa

from etl import service
from etl.store import Store, StoreLocked
from portal.db import advisory_locks, get_engine
from tests.pg import fresh_postgresql_database, pg_settings

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def pg_url(pg_cluster):
    with fresh_postgresql_database(pg_cluster) as url:
        yield url


def machine(tmp_path: Path, name: str, url: str) -> Store:
    """A store as one machine sees it: its own lock files (flock is per machine), the shared database's locks."""
    return Store(tmp_path / name, cluster=advisory_locks(get_engine(url)))


def held_in_database(url: str) -> int:
    """How many advisory locks the database holds right now (all sessions)."""
    with get_engine(url).connect() as conn:
        return conn.execute(sa.text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'")).scalar()


def test_two_machines_never_hold_one_company_at_once(tmp_path, pg_url):
    one, two = machine(tmp_path, "one", pg_url), machine(tmp_path, "two", pg_url)
    with one.lock("ACME"):
        with pytest.raises(StoreLocked, match="Ya hay una carga en curso para la empresa ACME"), two.lock("ACME"):
            pass
        with two.lock("BETA"):  # another company is free
            assert held_in_database(pg_url) == 2
        with one.lock("ACME"):  # re-entrant in the holding thread: one database lock, not two
            assert held_in_database(pg_url) == 1
    with two.lock("ACME"):  # let go on the first machine: the second takes it
        pass
    assert held_in_database(pg_url) == 0


def test_a_refused_cluster_lock_leaves_the_file_lock_free(tmp_path, pg_url):
    one, two = machine(tmp_path, "one", pg_url), machine(tmp_path, "two", pg_url)
    with one.lock("ACME"), pytest.raises(StoreLocked):
        two.new_snapshot("ACME", "a" * 64)
    local = Store(tmp_path / "two")  # the same machine's file lock alone: free again
    with local.lock("ACME"):
        pass


def test_sqlite_needs_no_cluster_lock(tmp_path):
    assert advisory_locks(get_engine(f"sqlite:///{tmp_path / 'portal.db'}")) is None


LOCK_AND_WAIT = """
    import sys, time
    from pathlib import Path
    from etl.store import Store
    from portal.db import advisory_locks, get_engine
    store = Store(Path(sys.argv[1]), cluster=advisory_locks(get_engine(sys.argv[2])))
    with store.lock("ACME"):
        print("held", flush=True)
        time.sleep(600)
"""


def test_a_machine_killed_while_loading_lets_go_of_the_lock(tmp_path, pg_url):
    get_engine(pg_url)  # migrated once, before the other process starts
    holder = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(LOCK_AND_WAIT), str(tmp_path / "one"), pg_url],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        other = machine(tmp_path, "two", pg_url)
        with pytest.raises(StoreLocked), other.lock("ACME"):
            pass
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=30)
        with other.lock("ACME", timeout=30):  # the server ends the dead session and its lock with it
            pass
    finally:
        holder.kill()
        holder.wait()


def test_the_load_service_takes_the_database_lock(tmp_path, pg_url):
    settings = pg_settings(tmp_path / "data", pg_url)
    store = service.store_of(settings)
    assert store.cluster is not None
    other = machine(tmp_path, "elsewhere", pg_url)
    with store.lock("ACME"), pytest.raises(StoreLocked), other.lock("ACME"):
        pass
