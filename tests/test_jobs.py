"""Loads out of the web process (etl.jobs): queued on SQLite and PostgreSQL, run by a real ``python -m etl worker``,
progress visible in the run while it loads, and one job per waiting load."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from etl import jobs, service
from etl.load import load_company
from ops.schedule import scheduled_load
from portal.db import etl_runs, get_engine
from tests.pg import pg_settings
from tests.test_load import ACME_V1, ACME_V2, write_company

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def settings(tmp_path, db_url):
    settings = pg_settings(tmp_path / "data", db_url)
    write_company(settings.sources, "acme", ACME_V1)
    write_company(settings.sources, "beta", ACME_V2)
    return settings


def published(settings, company: str) -> list[dict]:
    return [r for r in service.recent_runs(settings, company=company) if r["outcome"] == "published"]


def test_a_queued_load_waits_until_a_worker_takes_it(settings):
    job = jobs.enqueue_load(settings, ["acme"], trigger="portal", actor="despacho")
    [waiting] = jobs.pending_loads(settings)
    assert (waiting.job_id, waiting.companies, waiting.trigger, waiting.actor) == (
        job.job_id,
        ("acme",),
        "portal",
        "despacho",
    )
    assert waiting.requested_at == job.requested_at
    assert service.recent_runs(settings) == []
    assert jobs.drain(settings) == 1
    assert jobs.pending_loads(settings) == []
    [run] = service.recent_runs(settings)
    assert (run["company"], run["trigger"], run["outcome"]) == ("acme", "portal", "published")


def test_the_same_load_waiting_twice_is_one_job(settings):
    first = jobs.enqueue_load(settings, ["acme"], trigger="portal", actor="despacho")
    again = jobs.enqueue_load(settings, ["acme"], trigger="portal", actor="otra")
    other = jobs.enqueue_load(settings, ["beta"], trigger="portal", actor="despacho")
    everything = jobs.enqueue_load(settings, None, trigger="schedule", actor="schedule")
    assert again.job_id == first.job_id and again.actor == "despacho"
    assert [j.job_id for j in jobs.pending_loads(settings)] == [first.job_id, other.job_id, everything.job_id]
    assert jobs.drain(settings) == 3
    assert len(published(settings, "acme")) == 1  # the second acme load of «todas» found nothing new
    assert [r["outcome"] for r in service.recent_runs(settings, company="acme")] == ["unchanged", "published"]


def test_on_postgresql_the_queue_lives_in_the_portal_database(settings):
    if not settings.db_url.startswith("postgresql"):
        assert jobs.sqlite_queue_file(settings.db_url).parent == Path(settings.db_url.removeprefix("sqlite:///")).parent
        jobs.enqueue_load(settings, ["acme"], trigger="portal", actor="despacho")
        assert jobs.sqlite_queue_file(settings.db_url).is_file()
        return
    jobs.enqueue_load(settings, ["acme"], trigger="portal", actor="despacho")
    with get_engine(settings.db_url).connect() as conn:
        tables = set(sa.inspect(conn).get_table_names())
        assert {"queue_task", "queue_kv", "queue_schedule"} <= tables
        assert conn.execute(sa.text("SELECT count(*) FROM queue_task")).scalar() == 1


def test_a_load_shows_its_progress_in_its_run_while_it_runs(settings):
    engine = get_engine(settings.db_url)
    seen = []

    def progress(message: str) -> None:  # called after the run row took the message: read it as another page would
        with engine.connect() as conn:
            row = conn.execute(sa.select(etl_runs.c.outcome, etl_runs.c.message).order_by(etl_runs.c.id.desc())).first()
        seen.append((message, row.outcome, row.message))

    result = load_company(settings, engine, service.store_of(settings), "acme", trigger="cli", progress=progress)
    assert result.outcome == "published"
    assert ("leyendo", "running", "leyendo") in seen
    assert ("escribiendo", "running", "escribiendo") in seen
    [run] = service.recent_runs(settings)
    assert run["message"] == result.message  # the outcome replaces the last progress message


def start_worker(settings) -> subprocess.Popen:
    env = {**os.environ, "PORTAL_DATA_DIR": str(settings.data_dir), "PORTAL_DATABASE_URL": settings.db_url}
    return subprocess.Popen(
        [sys.executable, "-m", "etl", "worker"], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )


def wait_for(predicate, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)


@pytest.mark.slow
def test_a_worker_process_runs_what_the_portal_queues_and_stops_on_sigterm(settings):
    get_engine(settings.db_url)  # migrated before the worker starts
    worker = start_worker(settings)
    try:
        jobs.enqueue_load(settings, ["acme"], trigger="portal", actor="despacho")
        wait_for(lambda: published(settings, "acme"))
        jobs.enqueue_load(settings, ["beta"], trigger="portal", actor="despacho")  # a second job, same worker
        wait_for(lambda: published(settings, "beta"))
        assert jobs.pending_loads(settings) == []
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=60) == 0
    finally:
        worker.kill()
        output = worker.communicate()[0].decode()
    assert "Proceso de cargas en marcha" in output


def test_two_schedulers_at_the_same_tick_queue_one_load(settings):
    tick = datetime(2026, 3, 2, 5, 30, 0, 120_000, tzinfo=UTC)  # 06:30 in Madrid
    assert scheduled_load(settings, now=tick) is not None
    assert scheduled_load(settings, now=tick + timedelta(seconds=20)) is None  # the other scheduler, same minute
    assert len(jobs.pending_loads(settings)) == 1
    assert jobs.claim_tick(settings, "load", tick + timedelta(days=1))  # the next day's tick is a new one
    assert jobs.claim_tick(settings, "notify", tick)  # another job's tick is its own
