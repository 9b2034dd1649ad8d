"""A throw-away PostgreSQL cluster for the test session, and ``db_url``: a fresh empty database on SQLite or PostgreSQL.

The cluster is Debian's PostgreSQL server (``make dev`` installs it): ``initdb`` into a temporary folder, started
with ``pg_ctl`` listening on 127.0.0.1 at a free port only (plus a Unix socket inside that folder), and stopped and
deleted at the end of the session. No containers, no system service, nothing outside the temporary folder. As root
(as in CI) the server runs as the ``postgres`` OS user, which owns the folder: PostgreSQL refuses to run as root.
A session killed before its teardown leaves its server running: the next session stops and deletes it.

Its time zone is Europe/Madrid on purpose: PostgreSQL hands moments back in the session's time zone, so code that
treats a stored moment as UTC without converting it fails here, as it would on a Spanish production server.

Without the binaries, PostgreSQL tests fail when ``CI`` is set (CI must never pass without them) and are skipped,
with the reason in pytest's summary, elsewhere.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import re
import secrets
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from portal.settings import Settings, load_settings

DATABASES = ("sqlite", "postgresql")
SUPERUSER = "portal"
SERVER_OS_USER = "postgres"  # created by Debian's postgresql-common
START_TRIES = 5
PREFIX = "portal-pg-"
OWNER_FILE = "owner.pid"  # the test process that started the cluster: once it is gone, the next session reaps it
SERVER_SETTINGS = {
    "listen_addresses": "127.0.0.1",
    "max_connections": "200",
    "timezone": "Europe/Madrid",
    "fsync": "off",  # a throw-away cluster: durability is not what these tests measure
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "log_min_messages": "warning",
}


@dataclass(frozen=True)
class Cluster:
    """A running throw-away cluster: where it lives and how to reach it."""

    base: Path
    port: int
    password: str
    bin_dir: Path

    def url(self, database: str) -> str:
        """SQLAlchemy URL of one database of the cluster (psycopg 3, over TCP on 127.0.0.1)."""
        return f"postgresql+psycopg://{SUPERUSER}:{self.password}@127.0.0.1:{self.port}/{database}"

    def conninfo(self, database: str = "postgres") -> str:
        """libpq connection string for psycopg itself."""
        return f"host=127.0.0.1 port={self.port} user={SUPERUSER} password={self.password} dbname={database}"


def postgres_bin_dir() -> Path | None:
    """The newest ``/usr/lib/postgresql/<version>/bin`` that holds initdb, pg_ctl and postgres (Debian's layout)."""

    def version(path: str) -> int:
        found = re.search(r"/postgresql/(\d+)", path)
        return int(found.group(1)) if found else 0

    for initdb in sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=version, reverse=True):
        bin_dir = Path(initdb).parent
        if all(os.access(bin_dir / name, os.X_OK) for name in ("initdb", "pg_ctl", "postgres")):
            return bin_dir
    return None


def tool_missing(message: str) -> None:
    """A system tool the tests need is missing: fail under CI (the suite must not pass without it), skip loudly
    elsewhere."""
    if os.environ.get("CI"):
        pytest.fail(message + " CI is set, so this is a failure.", pytrace=False)
    pytest.skip(message)


def missing(reason: str) -> None:
    """No usable PostgreSQL."""
    tool_missing(
        f"PostgreSQL tests cannot run: {reason}. `make dev` installs Debian's server "
        "(apt-get install postgresql); without it every PostgreSQL-parametrised test is NOT run."
    )


def free_port() -> int:
    """A TCP port on 127.0.0.1 nobody listens on right now (the server may still lose a race for it: retried)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _as_server_user(command: list[str]) -> list[str]:
    """The command run as the ``postgres`` OS user when we are root (initdb and postgres refuse root)."""
    if os.geteuid() != 0:
        return command
    if shutil.which("runuser"):
        return ["runuser", "-u", SERVER_OS_USER, "--", *command]
    return ["su", "-s", "/bin/sh", SERVER_OS_USER, "-c", " ".join(f"'{part}'" for part in command)]


def _run(command: list[str], cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}  # no stray PGHOST/PGPORT/PGDATA
    env.update(LC_ALL="C", LANG="C")
    return subprocess.run(
        _as_server_user(command), cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


def _give_to_server_user(path: Path) -> None:
    if os.geteuid() == 0:
        shutil.chown(path, SERVER_OS_USER, SERVER_OS_USER)


def start_cluster() -> Cluster:
    """initdb + pg_ctl start; raises RuntimeError with the server's own output when it does not come up."""
    bin_dir = postgres_bin_dir()
    if bin_dir is None:
        missing("no initdb/pg_ctl/postgres under /usr/lib/postgresql/*/bin")
    if os.geteuid() == 0:
        try:
            pwd.getpwnam(SERVER_OS_USER)
        except KeyError:
            missing(f"running as root and there is no {SERVER_OS_USER!r} OS user to run the server as")
    reap_orphans(bin_dir)
    base = Path(tempfile.mkdtemp(prefix=PREFIX))  # mode 0700: only the server user (and root) get in
    (base / OWNER_FILE).write_text(f"{os.getpid()}\n")
    password = secrets.token_urlsafe(24)
    try:
        _give_to_server_user(base)
        if _run(["test", "-w", str(base)], cwd=Path("/")).returncode != 0:
            raise RuntimeError(f"the {SERVER_OS_USER} OS user cannot reach {base}: point TMPDIR to a folder it can")
        pwfile = base / "pwfile"
        pwfile.write_text(password + "\n")
        pwfile.chmod(0o600)
        _give_to_server_user(pwfile)
        done = _run(
            [
                str(bin_dir / "initdb"),
                "--pgdata",
                str(base / "data"),
                "--username",
                SUPERUSER,
                "--pwfile",
                str(pwfile),
                "--auth-local",
                "trust",  # the socket lives in the 0700 folder: only the server user and root reach it
                "--auth-host",
                "scram-sha-256",
                "--encoding",
                "UTF8",
                "--no-locale",
                "--no-sync",
            ],
            cwd=base,
        )
        pwfile.unlink()
        if done.returncode != 0:
            raise RuntimeError(f"initdb failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
        log = base / "server.log"
        for _ in range(START_TRIES):
            port = free_port()
            options = {**SERVER_SETTINGS, "port": str(port), "unix_socket_directories": str(base)}
            done = _run(
                [
                    str(bin_dir / "pg_ctl"),
                    "--pgdata",
                    str(base / "data"),
                    "--log",
                    str(log),
                    "--wait",
                    "--timeout",
                    "60",
                    "--options",
                    " ".join(f"-c {key}={value}" for key, value in options.items()),
                    "start",
                ],
                cwd=base,
            )
            if done.returncode == 0:
                return Cluster(base=base, port=port, password=password, bin_dir=bin_dir)
            server_log = log.read_text(errors="replace") if log.exists() else ""
            if "could not bind" not in server_log and "already in use" not in server_log:
                break
        raise RuntimeError(
            f"pg_ctl start failed ({done.returncode}):\n{done.stdout}\n{done.stderr}\n"
            f"server log:\n{log.read_text(errors='replace') if log.exists() else '(none)'}"
        )
    except BaseException:
        stop_cluster(base, bin_dir)
        raise


def stop_cluster(base: Path, bin_dir: Path) -> None:
    """Stop the server (fast, then immediate) and delete its folder."""
    if (base / "data" / "postmaster.pid").exists():
        for mode in ("fast", "immediate"):
            with contextlib.suppress(subprocess.TimeoutExpired):
                stopped = _run(
                    [str(bin_dir / "pg_ctl"), "--pgdata", str(base / "data"), "--mode", mode, "--wait", "stop"],
                    cwd=base,
                    timeout=60,
                )
                if stopped.returncode == 0:
                    break
    shutil.rmtree(base, ignore_errors=True)


def reap_orphans(bin_dir: Path) -> None:
    """Stop and delete the clusters of earlier test sessions that were killed before their teardown ran.

    Only folders of ours (``portal-pg-*`` with an owner file) whose owner process no longer exists.
    """
    for base in Path(tempfile.gettempdir()).glob(f"{PREFIX}*"):
        try:
            owner = int((base / OWNER_FILE).read_text())
        except (OSError, ValueError):
            continue
        try:
            os.kill(owner, 0)
        except ProcessLookupError:
            stop_cluster(base, bin_dir)
        except PermissionError:  # alive, someone else's
            continue


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[Cluster]:
    """The session's PostgreSQL cluster, started on first use and stopped at the end of the session."""
    cluster = start_cluster()
    try:
        yield cluster
    finally:
        stop_cluster(cluster.base, cluster.bin_dir)


def _forget_engine(url: str) -> None:
    """Close the pooled connections ``portal.db.get_engine`` keeps for this URL (so the database can be dropped)."""
    from portal import db

    with db._engines_lock:
        engine = db._engines.pop(url, None)
    if engine is not None:
        engine.dispose()


@contextlib.contextmanager
def fresh_postgresql_database(cluster: Cluster) -> Iterator[str]:
    """A new, empty database with a unique name on the cluster; dropped afterwards (even with connections open)."""
    import psycopg

    name = f"portal_test_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(cluster.conninfo(), autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = cluster.url(name)
    try:
        yield url
    finally:
        _forget_engine(url)
        with psycopg.connect(cluster.conninfo(), autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=DATABASES)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty portal database URL, once per kind: a temporary SQLite file, or a new PostgreSQL database.

    Nothing is migrated yet: ``portal.db.get_engine(db_url)`` does that, as in production.
    """
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'portal.db'}"
        try:
            yield url
        finally:
            _forget_engine(url)
        return
    cluster = request.getfixturevalue("pg_cluster")
    with fresh_postgresql_database(cluster) as url:
        yield url


def pg_settings(tmp_path: Path, db_url: str, extra: dict[str, str] | None = None) -> Settings:
    """Portal settings on ``db_url`` with the data folder in ``tmp_path`` (plus any other ``PORTAL_*`` given)."""
    return load_settings({"PORTAL_DATA_DIR": str(tmp_path), "PORTAL_DATABASE_URL": db_url, **(extra or {})})
