"""The portal database: table definitions, engine creation and schema migration (Alembic)."""

from __future__ import annotations

import os
import random
import sqlite3
import threading
import time
from pathlib import Path

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Connection,
    Date,
    DateTime,
    Engine,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    create_engine,
    event,
    text,
)

metadata = MetaData()

users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("username", String(64), nullable=False, unique=True),
    Column("name", String(200), nullable=False, default=""),
    Column("email", String(320), nullable=False, default=""),
    Column("office_email", String(320), nullable=False, default=""),
    Column("role", String(16), nullable=False),  # 'staff' or 'client'
    Column("password_hash", String(200), nullable=True),  # None: never activated
    Column("active", Boolean, nullable=False, default=True),
    Column("failed_attempts", Integer, nullable=False, default=0),
    Column("max_attempts", Integer, nullable=False, default=5),
    Column("locked_at", DateTime(timezone=True), nullable=True),
    Column("expires_on", Date, nullable=True),  # last day of access
    Column("tokens_valid_after", DateTime(timezone=True), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("last_login_at", DateTime(timezone=True), nullable=True),
    # second factor (migration 0004): TOTP secret (base32), when enrolled, last time step used (no replay)
    Column("mfa_secret", String(64), nullable=True),
    Column("mfa_enabled_at", DateTime(timezone=True), nullable=True),
    Column("mfa_last_step", BigInteger, nullable=True),
    Column("mfa_required", Boolean, nullable=False, default=False),  # the firm requires it of this user
    # the company a client user last chose in the selector (migration 0007): a new session opens on it while the
    # user still holds it; never trusted otherwise (views/_client.py checks it against the grants)
    Column("last_company", String(32), nullable=True),
)

companies = Table(
    "companies",
    metadata,
    Column("code", String(32), primary_key=True),
    Column("name", String(200), nullable=False, default=""),
    Column("nif", String(16), nullable=False, default=""),
    Column("publish_mode", String(16), nullable=False, default="auto"),  # 'auto' or 'manual'
    Column("updated_at", DateTime(timezone=True), nullable=True),
    # users without the labour module read payroll entries of the journal without employee names (migration 0004)
    Column("hide_payroll_names", Boolean, nullable=False, default=False),
    # staff let the company's clients (with Contabilidad) see the reconciliations page «Cuadres» (migration 0010)
    Column("show_reconciliations", Boolean, nullable=False, default=False),
)

etl_runs = Table(
    "etl_runs",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("company", String(32), nullable=False),
    Column("trigger", String(16), nullable=False),  # 'cli', 'schedule', 'portal'
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("finished_at", DateTime(timezone=True), nullable=True),
    # 'running', 'published', 'staged', 'unchanged', 'rejected', 'failed'
    Column("outcome", String(16), nullable=False),
    Column("snapshot_id", String(64), nullable=True),
    Column("source_hash", String(64), nullable=True),
    Column("rows_read", Integer, nullable=False, default=0),
    Column("rows_accepted", Integer, nullable=False, default=0),
    Column("errors", Integer, nullable=False, default=0),
    Column("warnings", Integer, nullable=False, default=0),
    Column("message", Text, nullable=False, default=""),
    Index("ix_etl_runs_company_started", "company", "started_at"),
)

etl_problems = Table(
    "etl_problems",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("run_id", Integer, ForeignKey("etl_runs.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("severity", String(8), nullable=False),  # 'error' or 'warning'
    Column("rule", String(48), nullable=False),
    Column("file", String(300), nullable=False, default=""),
    Column("line", Integer, nullable=True),
    Column("entry", String(32), nullable=True),
    Column("message", Text, nullable=False),
)

store_events = Table(
    "store_events",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("company", String(32), nullable=False, index=True),
    Column("action", String(16), nullable=False),  # 'publish', 'rollback'
    Column("snapshot_id", String(64), nullable=True),
    Column("actor", String(64), nullable=False),
)

# --- Access model (migration 0002) -------------------------------------------------------------------------------

clients = Table(  # the firm's internal clients; a client groups one or more companies
    "clients",
    metadata,
    Column("code", String(32), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("nif", String(16), nullable=False, default=""),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

client_companies = Table(  # which companies (with data stores) belong to a client
    "client_companies",
    metadata,
    Column("client_code", String(32), ForeignKey("clients.code", ondelete="CASCADE"), primary_key=True),
    Column("company_code", String(32), ForeignKey("companies.code", ondelete="CASCADE"), primary_key=True),
)

client_users = Table(  # a client portal user belongs to exactly one client (staff users have no row)
    "client_users",
    metadata,
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("client_code", String(32), ForeignKey("clients.code", ondelete="CASCADE"), nullable=False, index=True),
)

grants = Table(  # one row per (user, company, module) the user may see; options per module as JSON text
    "grants",
    metadata,
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("company_code", String(32), ForeignKey("companies.code", ondelete="CASCADE"), primary_key=True),
    Column("module", String(16), primary_key=True),
    # expedientes: {"cases": "open"|"closed"|"both"}; laboral: {"tables": [...]}; others: {}
    Column("options", Text, nullable=False, default="{}"),
    Column("granted_at", DateTime(timezone=True), nullable=False),
    Column("granted_by", String(64), nullable=False, default=""),
)

one_time_tokens = Table(  # activation and password-reset links: only the SHA-256 of the token is stored
    "one_time_tokens",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("purpose", String(16), nullable=False),  # 'activation' or 'reset'
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("used_at", DateTime(timezone=True), nullable=True),
    Column("binding", String(64), nullable=True),  # session hand-off: SHA-256 of the browser's pre-sign-in cookie
)

audit_log = Table(  # append-only (database triggers refuse UPDATE and DELETE); never passwords, tokens or hashes
    "audit_log",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("at", DateTime(timezone=True), nullable=False, index=True),
    Column("actor", String(64), nullable=False, default=""),  # username, '' when unknown, 'sistema' for jobs
    Column("actor_role", String(16), nullable=False, default=""),  # 'staff', 'client', '' (anonymous), 'system'
    Column("event", String(32), nullable=False, index=True),
    Column("company", String(32), nullable=True, index=True),
    Column("target", String(200), nullable=True),  # the user, table or file the event is about
    Column("detail", Text, nullable=False, default=""),
)

# --- Module data kept by the portal itself (migration 0003) -------------------------------------------------------

employee_blocks = Table(  # employees whose payroll data staff have blocked: absent from every client view and export
    "employee_blocks",
    metadata,
    Column("company_code", String(32), primary_key=True),
    Column("nif", String(16), primary_key=True),
    Column("blocked_by", String(64), nullable=False),
    Column("blocked_at", DateTime(timezone=True), nullable=False),
    Column("reason", String(300), nullable=False, default=""),
)

documents = Table(  # files uploaded in the portal: by staff for the client ('firm') or by a client to the firm's inbox
    "documents",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("company_code", String(32), nullable=False, index=True),
    Column("direction", String(8), nullable=False),  # 'firm' (shared with the client) or 'client' (sent to the firm)
    Column("category", String(16), nullable=False),  # fiscal, laboral, contable, societario, otros
    Column("year", Integer, nullable=False),
    Column("title", String(200), nullable=False),
    Column("file_name", String(255), nullable=False),  # the cleaned original name, shown and used for downloads
    Column("stored_name", String(64), nullable=False, unique=True),  # random name in the upload folder
    Column("media_type", String(100), nullable=False),
    Column("size", Integer, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("uploaded_by", String(64), nullable=False),
    Column("uploaded_at", DateTime(timezone=True), nullable=False),
    Column("deleted_at", DateTime(timezone=True), nullable=True),
)

document_reads = Table(  # which documents a user has opened (the rest are marked «nuevo»)
    "document_reads",
    metadata,
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("company_code", String(32), primary_key=True),
    Column("document_key", String(100), primary_key=True),  # 'etl:<sha256>' or 'portal:<id>'
    Column("read_at", DateTime(timezone=True), nullable=False),
)

notification_settings = Table(  # per-user e-mail notification choice (no row: notifications on)
    "notification_settings",
    metadata,
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("opt_out", Boolean, nullable=False, default=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

notifications_sent = Table(  # every notification e-mail attempted, with what it announced
    "notifications_sent",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("email", String(320), nullable=False),
    Column("sent_at", DateTime(timezone=True), nullable=False, index=True),
    Column("kind", String(16), nullable=False),  # 'digest'
    Column("subject", String(200), nullable=False),
    Column("detail", Text, nullable=False, default=""),  # JSON: the publications and documents announced
    Column("status", String(16), nullable=False),  # 'sent' or 'failed'
    Column("error", Text, nullable=False, default=""),
)

# --- Sessions and second factor (migration 0004) ------------------------------------------------------------------

sessions = Table(  # server-side sessions: the browser holds a random id in an HttpOnly cookie, only its SHA-256 is here
    "sessions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("last_seen_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),  # absolute lifetime
    Column("revoked_at", DateTime(timezone=True), nullable=True),
    Column("revoked_reason", String(32), nullable=False, default=""),
    Column("user_agent", String(300), nullable=False, default=""),
    Column("ip", String(64), nullable=False, default=""),
    Column("mfa", Boolean, nullable=False, default=False),  # signed in with a second factor
)

mfa_recovery_codes = Table(  # single-use recovery codes of the second factor, stored as SHA-256
    "mfa_recovery_codes",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("code_hash", String(64), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("used_at", DateTime(timezone=True), nullable=True),
)

# --- Mail outbox (migration 0006) ---------------------------------------------------------------------------------

mail_outbox = Table(  # every e-mail the portal sends; one the SMTP server did not take waits here and is retried
    "mail_outbox",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("created_at", DateTime(timezone=True), nullable=False, index=True),
    Column("kind", String(32), nullable=False),  # credentials, reset, contact, digest, ...
    Column("recipient", String(320), nullable=False),
    Column("subject", String(300), nullable=False),
    Column("reply_to", String(320), nullable=False, default=""),
    Column("body", Text, nullable=True),  # only while it waits: emptied once sent, refused or expired
    Column("status", String(16), nullable=False, index=True),  # pending, sent, refused, expired
    Column("attempts", Integer, nullable=False, default=0),
    Column("last_error", Text, nullable=False, default=""),
    Column("next_attempt_at", DateTime(timezone=True), nullable=True),
    Column("claimed_until", DateTime(timezone=True), nullable=True),  # a retrier is sending it (until then)
    Column("expires_at", DateTime(timezone=True), nullable=True),  # a message carrying a link is useless after it
    Column("sent_at", DateTime(timezone=True), nullable=True),
)

# --- Alerts (migration 0008) ---------------------------------------------------------------------------------------

alerts = Table(  # a threshold a client user (or staff for them) watches on one company
    "alerts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("company_code", String(32), nullable=False),
    Column("kind", String(24), nullable=False),  # saldo_bancos, cobros_vencidos, ratio, vencimiento (reports.alerts)
    Column("threshold", String(32), nullable=False, default=""),  # euros as exact text, or days
    Column("ratio_code", String(32), nullable=False, default=""),
    Column("created_by", String(64), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("deleted_at", DateTime(timezone=True), nullable=True),  # removed: kept for the record of its alerts
)

alert_events = Table(  # every time an alert fired (at most once per alert and Madrid day), and when it was e-mailed
    "alert_events",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("alert_id", Integer, ForeignKey("alerts.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("company_code", String(32), nullable=False),
    Column("day", Date, nullable=False),
    Column("snapshot_id", String(64), nullable=False),
    Column("message", Text, nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    Column("sent_at", DateTime(timezone=True), nullable=True),  # in a digest handed to the mail outbox
    UniqueConstraint("alert_id", "day", name="uq_alert_events_alert_day"),
)

# --- Document requests (migration 0009) ----------------------------------------------------------------------------

document_requests = Table(  # the firm asks a company for documents: a checklist with a due date per item
    "document_requests",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("company_code", String(32), nullable=False, index=True),
    Column("title", String(200), nullable=False),
    Column("note", Text, nullable=False, default=""),
    Column("created_by", String(64), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("closed_at", DateTime(timezone=True), nullable=True),
    Column("closed_by", String(64), nullable=True),
)

request_items = Table(  # one document asked for; the client fulfils it by uploading to it
    "request_items",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("request_id", Integer, ForeignKey("document_requests.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("label", String(200), nullable=False),
    Column("due_date", Date, nullable=False),
    Column("state", String(12), nullable=False, default="pendiente"),  # pendiente, entregado, aceptado, rechazado
    Column("reason", Text, nullable=False, default=""),  # why it was rejected
    Column("document_id", Integer, ForeignKey("documents.id", ondelete="SET NULL"), nullable=True),
    Column("delivered_at", DateTime(timezone=True), nullable=True),
    Column("delivered_by", String(64), nullable=True),
    Column("reviewed_at", DateTime(timezone=True), nullable=True),
    Column("reviewed_by", String(64), nullable=True),
)

MIGRATIONS_DIR = Path(__file__).with_name("migrations")


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA busy_timeout=10000")
    switch_to_wal(cursor)
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


WAL_ATTEMPTS = 50


def switch_to_wal(cursor, sleep=time.sleep) -> None:
    """Put the database in WAL mode (stored in the file: a no-op once done).

    Processes opening a fresh file together may each hold a shared lock and want the exclusive one to switch it;
    SQLite then refuses one of them at once ("database is locked") without waiting, to avoid a deadlock, so the
    switch is tried again, for up to about 5 s (the other has switched it by then, or it fails for good).
    """
    for attempt in range(1, WAL_ATTEMPTS + 1):
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or attempt == WAL_ATTEMPTS:
                raise
            sleep(0.05 + random.random() * 0.1)


_engines: dict[str, Engine] = {}
_engines_lock = threading.Lock()


def _private_sqlite_file(path: Path) -> None:
    """Create the SQLite database file readable by its owner only (0600) before SQLite opens it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if str(path) != ":memory:":
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
        os.chmod(path, 0o600)


def get_engine(url: str) -> Engine:
    """One engine per URL and process, with its schema migrated to the latest revision.

    Thread-safe: the scheduler and Streamlit's script threads may ask at once, and two concurrent
    migrations of one fresh database would collide on Alembic's version table.
    """
    with _engines_lock:
        engine = _engines.get(url)
        if engine is None:
            if url.startswith("sqlite:///"):
                _private_sqlite_file(Path(url.removeprefix("sqlite:///")))
            engine = create_engine(url, future=True)
            if engine.dialect.name == "sqlite":
                event.listen(engine, "connect", _sqlite_pragmas)
            migrate(engine)
            _engines[url] = engine
        return engine


def migrate(engine: Engine) -> None:
    """Bring the schema to Alembic's head revision (idempotent)."""
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    with engine.begin() as connection:
        _lock_for_migration(connection)
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, "head")


MIGRATION_LOCK_KEY = 0x706F7274616C  # 'portal': PostgreSQL advisory lock held while the schema is migrated


def _lock_for_migration(connection: Connection) -> None:
    """One migration at a time across processes (the portal, the scheduler, the CLI may start together).

    The loser waits, then finds the schema at head and does nothing. PostgreSQL: a transaction-level advisory
    lock (its DDL is transactional already). SQLite: ``BEGIN IMMEDIATE`` takes the write lock first (waiting up
    to busy_timeout for another migration); it also makes the migration one transaction, all or nothing, where
    the sqlite3 driver would otherwise commit each CREATE/ALTER on its own.
    """
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
    elif connection.dialect.name == "sqlite":
        connection.exec_driver_sql("BEGIN IMMEDIATE")


class AdvisoryLocks:
    """Named locks across every machine that shares one PostgreSQL database (session-level advisory locks).

    Each held lock keeps its own connection checked out of the engine's pool: PostgreSQL ties a session lock to its
    connection, so a process that dies (even SIGKILL) drops its locks with its connection.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def try_acquire(self, name: str) -> Connection | None:
        """Take the lock ``name`` without waiting: the connection that holds it, or None when another session does."""
        connection = self.engine.connect()
        try:
            key = {"name": name}
            taken = connection.execute(text("SELECT pg_try_advisory_lock(hashtextextended(:name, 0))"), key).scalar()
            connection.commit()  # end the implicit transaction: the session lock outlives it, the snapshot does not
        except BaseException:
            connection.close()
            raise
        if not taken:
            connection.close()
            return None
        return connection

    def release(self, name: str, connection: Connection) -> None:
        """Let the lock go and return its connection to the pool."""
        try:
            connection.execute(text("SELECT pg_advisory_unlock(hashtextextended(:name, 0))"), {"name": name})
            connection.commit()
        finally:
            connection.close()


def advisory_locks(engine: Engine) -> AdvisoryLocks | None:
    """The cross-machine locks of a PostgreSQL database; None for SQLite (one machine: a file lock is enough)."""
    return AdvisoryLocks(engine) if engine.dialect.name == "postgresql" else None
