"""``python -m etl``: exit codes, the summary, status, publish/rollback, and the scheduler really firing."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from apscheduler.schedulers.background import BackgroundScheduler

from etl import jobs, service
from etl.store import Store
from ops.schedule import ScheduleError, add_load_job, cron_trigger
from portal.settings import load_settings
from tests.test_load import ACME_V1, ACME_V2, UNBALANCED, write_company

ROOT = Path(__file__).resolve().parents[1]


def etl(data_dir: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PORTAL_DATA_DIR": str(data_dir), "COLUMNS": "200"}
    return subprocess.run(
        [sys.executable, "-m", "etl", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )


@pytest.fixture
def data(tmp_path) -> Path:
    return tmp_path / "data"


def test_load_prints_a_summary_and_fails_when_a_company_is_rejected(data):
    settings = load_settings({"PORTAL_DATA_DIR": str(data)})
    write_company(settings.sources, "acme", ACME_V1)
    write_company(settings.sources, "mala", UNBALANCED)
    out = etl(data, "load")
    assert out.returncode == 1, out.stderr
    assert "Resumen de la carga" in out.stdout
    assert "publicada" in out.stdout and "RECHAZADA" in out.stdout
    assert "unbalanced_entry" in out.stdout and "2025/000002" in out.stdout

    ok = etl(data, "load", "--company", "acme")
    assert ok.returncode == 0
    assert "sin cambios" in ok.stdout


def test_status_publish_mode_and_rollback_from_the_command_line(data):
    settings = load_settings({"PORTAL_DATA_DIR": str(data)})
    write_company(settings.sources, "acme", ACME_V1)
    assert etl(data, "load").returncode == 0
    assert etl(data, "mode", "acme", "manual").returncode == 0
    write_company(settings.sources, "acme", ACME_V2)
    assert etl(data, "load").returncode == 0
    store = Store(settings.stores)
    pending = store.pending("acme").snapshot_id
    status = etl(data, "status")
    assert pending in status.stdout and "manual" in status.stdout

    assert etl(data, "publish", "acme").returncode == 0
    assert store.current("acme").snapshot_id == pending
    back = etl(data, "rollback", "acme")
    assert back.returncode == 0
    assert store.current("acme").rows["journal.parquet"] == 5
    nothing = etl(data, "publish", "acme")
    assert nothing.returncode == 2 and "No hay ninguna carga pendiente" in nothing.stdout


def test_runs_lists_every_message_of_a_run(data):
    settings = load_settings({"PORTAL_DATA_DIR": str(data)})
    write_company(settings.sources, "mala", UNBALANCED)
    etl(data, "load")
    run_id = service.recent_runs(settings)[0]["id"]
    out = etl(data, "runs", "--problems", str(run_id))
    assert out.returncode == 0
    assert "unbalanced_entry" in out.stdout and "mala/diario.csv" in out.stdout


def test_an_invalid_cron_line_is_refused_in_spanish():
    with pytest.raises(ScheduleError, match="Programación no válida"):
        cron_trigger("cada día")
    nxt = cron_trigger("30 6 * * *").get_next_fire_time(
        None, datetime(2026, 11, 28, 7, 0, tzinfo=ZoneInfo("Europe/Madrid"))
    )
    assert (nxt.day, nxt.hour, nxt.minute) == (29, 6, 30)


def test_the_scheduler_queues_a_load_that_a_worker_logs_as_scheduled(data):
    settings = load_settings({"PORTAL_DATA_DIR": str(data)})
    write_company(settings.sources, "acme", ACME_V1)
    scheduler = BackgroundScheduler(timezone="Europe/Madrid")
    add_load_job(scheduler, settings, "0 3 * * *")
    scheduler.start()
    try:
        scheduler.get_job("load").modify(next_run_time=datetime.now(ZoneInfo("Europe/Madrid")))
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not jobs.pending_loads(settings):
            time.sleep(0.2)
    finally:
        scheduler.shutdown(wait=True)
    [job] = jobs.pending_loads(settings)
    assert (job.companies, job.trigger, job.actor) == (None, "schedule", "schedule")
    assert service.recent_runs(settings) == []  # the scheduler only queues
    assert jobs.drain(settings) == 1
    [run] = service.recent_runs(settings)
    assert (run["trigger"], run["outcome"], run["company"]) == ("schedule", "published", "acme")


def test_schedule_once_from_the_command_line(data):
    settings = load_settings({"PORTAL_DATA_DIR": str(data)})
    write_company(settings.sources, "acme", ACME_V1)
    out = etl(data, "schedule", "--once")
    assert out.returncode == 0, out.stderr
    assert service.recent_runs(settings)[0]["trigger"] == "schedule"
