"""Loads out of the web process: a job queue (huey) beside the portal database; ``python -m etl worker`` runs it.

«Cargar ahora» on Cargas de datos and the scheduler only *enqueue* a load; a worker process dequeues it and runs
``etl.service.load_all`` with its own settings (the job carries company codes, trigger, actor and time, never
settings or secrets). The queue lives where the portal database lives: PostgreSQL → ``PostgresHuey`` (tables
``queue_*`` in the same database, LISTEN/NOTIFY wake-ups, ``FOR UPDATE SKIP LOCKED``: several workers on several
machines each take a different job); SQLite → ``SqliteHuey`` in a file next to the database, for the one worker
that ``make run`` starts. Two workers never load one company at once: the store's company lock (a file lock, and
on PostgreSQL also an advisory lock) refuses the second, and its run is recorded as failed with the reason.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from huey import PostgresHuey, SqliteHuey
from huey.api import Huey, TaskWrapper
from sqlalchemy.engine import make_url

from etl import service
from portal import clock, mail
from portal.db import get_engine
from portal.settings import Settings, load_settings

QUEUE_NAME = "portal-loads"
TABLE_PREFIX = "queue"  # PostgreSQL tables queue_task, queue_schedule, queue_kv, queue_counter
SQLITE_QUEUE_FILE = "queue.sqlite3"


@dataclass(frozen=True)
class QueuedLoad:
    """A load waiting for a worker: the job id, its companies (None: every company), who asked and when."""

    job_id: str
    companies: tuple[str, ...] | None
    trigger: str
    actor: str
    requested_at: datetime


log = logging.getLogger(__name__)
_queues: dict[str, tuple[Huey, TaskWrapper]] = {}
_queues_lock = threading.Lock()
_worker_settings: Settings | None = None  # the settings a worker runs its jobs with (set by work() and drain())


def sqlite_queue_file(database_url: str) -> Path:
    """The queue file of a SQLite portal database: beside it, so each database has its own queue."""
    return Path(make_url(database_url).database or "").resolve().with_name(SQLITE_QUEUE_FILE)


def _new_queue(database_url: str) -> Huey:
    url = make_url(database_url)
    if url.get_backend_name() == "postgresql":
        dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
        return PostgresHuey(QUEUE_NAME, dsn=dsn, table_prefix=TABLE_PREFIX, results=False, utc=True)
    if url.get_backend_name() == "sqlite":
        return SqliteHuey(QUEUE_NAME, filename=str(sqlite_queue_file(database_url)), results=False, utc=True)
    raise ValueError(f"No hay cola de cargas para la base de datos {url.get_backend_name()}")


def _queue(settings: Settings) -> tuple[Huey, TaskWrapper]:
    """The installation's queue and its registered load task (one per database URL and process)."""
    with _queues_lock:
        found = _queues.get(settings.db_url)
        if found is None:
            huey = _new_queue(settings.db_url)
            found = _queues[settings.db_url] = (huey, huey.task(name="load")(run_load))
        return found


def queue_of(settings: Settings) -> Huey:
    """The huey instance of the installation's queue."""
    return _queue(settings)[0]


def run_load(companies: list[str] | None, trigger: str, actor: str, requested_at: str) -> None:
    """The job, in a worker: load the companies with the worker's settings (each outcome lands in etl_runs)."""
    settings = _worker_settings or load_settings()
    service.load_all(settings, companies=companies, trigger=trigger)


def pending_loads(settings: Settings) -> list[QueuedLoad]:
    """The loads waiting for a worker, oldest first."""
    found = []
    for task in queue_of(settings).pending():
        companies, trigger, actor, requested_at = task.args
        codes = tuple(companies) if companies is not None else None
        found.append(QueuedLoad(task.id, codes, trigger, actor, datetime.fromisoformat(requested_at)))
    return found


def enqueue_load(settings: Settings, companies: list[str] | None, *, trigger: str, actor: str) -> QueuedLoad:
    """Queue a load of the companies (None: all of the source folder); an identical waiting job is not repeated."""
    wanted = tuple(companies) if companies is not None else None
    for waiting in pending_loads(settings):
        if waiting.companies == wanted:
            return waiting
    huey, task = _queue(settings)
    requested_at = clock.now_utc()
    job = task.s(list(wanted) if wanted is not None else None, trigger, actor, requested_at.isoformat())
    huey.enqueue(job)
    return QueuedLoad(job.id, wanted, trigger, actor, requested_at)


def claim_tick(settings: Settings, job: str, moment: datetime) -> bool:
    """Whether this scheduler runs ``job`` for the cron tick of ``moment`` (its minute): the first to ask, across
    every scheduler of the installation, gets True (an atomic insert-if-absent in the queue's key-value table)."""
    minute = clock.as_utc(moment).replace(second=0, microsecond=0)
    return queue_of(settings).put_if_empty(f"tick:{job}:{minute.isoformat()}", "1")


@contextlib.contextmanager
def _running_with(settings: Settings) -> Iterator[None]:
    global _worker_settings
    before, _worker_settings = _worker_settings, settings
    try:
        yield
    finally:
        _worker_settings = before


def drain(settings: Settings) -> int:
    """Run every waiting job here and now, one after the other (tests, and ``etl worker --drain``); how many ran."""
    huey = queue_of(settings)
    done = 0
    with _running_with(settings):
        while (job := huey.dequeue()) is not None:
            huey.execute(job)
            done += 1
    return done


def retry_mail(settings: Settings, stop: threading.Event) -> None:
    """Every ``PORTAL_MAIL_RETRY_SECONDS``, try again the e-mails waiting in the outbox (until ``stop``)."""
    engine = get_engine(settings.db_url)
    while not stop.wait(settings.mail_retry_seconds):
        try:
            mail.retry_due(engine, settings)
        except Exception:  # a database hiccup must not end the worker: the next round tries again
            log.exception("Reintento del correo en cola fallido")


def work(settings: Settings, *, workers: int = 1) -> None:
    """Run the consumer until SIGINT/SIGTERM: ``workers`` threads, each one job at a time (huey's own loop).

    Beside it a thread retries the e-mails waiting in the outbox (every worker on every machine may: each message
    is claimed by one of them at a time).
    """
    huey = queue_of(settings)
    stop = threading.Event()
    threading.Thread(target=retry_mail, args=(settings, stop), name="mail-retry", daemon=True).start()
    try:
        with _running_with(settings):
            huey.create_consumer(workers=workers, worker_type="thread", periodic=False, check_worker_health=True).run()
    finally:
        stop.set()
