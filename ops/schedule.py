"""The installation's clock of jobs (APScheduler, Madrid time): scheduled loads and the daily e-mail digest."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger
from rich.console import Console

from etl import jobs, service
from etl.load import RunResult
from portal import clock
from portal.db import get_engine
from portal.errors import PortalError
from portal.settings import Settings
from services import alerts, notify

TIMEZONE = "Europe/Madrid"
log = logging.getLogger(__name__)


class ScheduleError(PortalError):
    """The schedule cannot be understood."""


def cron_trigger(cron: str) -> CronTrigger:
    """A trigger from a 5-field crontab line in Spain's time zone."""
    try:
        return CronTrigger.from_crontab(cron, timezone=TIMEZONE)
    except ValueError as exc:
        raise ScheduleError(f"Programación no válida «{cron}»: {exc}") from exc


def scheduled_load(settings: Settings, *, now: datetime | None = None) -> jobs.QueuedLoad | None:
    """One scheduled tick: a load of every company of the source folder, queued for the workers (etl.jobs).

    Several schedulers of one installation (one per machine, say) queue one load per tick between them: the first
    to claim the tick queues it, the others skip (None)."""
    if not jobs.claim_tick(settings, "load", now or clock.now_utc()):
        log.info("scheduled load skipped: another scheduler took this tick")
        return None
    job = jobs.enqueue_load(settings, None, trigger="schedule", actor="schedule")
    log.info("scheduled load queued as job %s", job.job_id)
    return job


def load_now(settings: Settings) -> list[RunResult]:
    """``schedule --once``: the scheduled load run here, in the foreground, without the queue."""
    results = service.load_all(settings, trigger="schedule")
    for r in results:
        log.info("scheduled load %s: %s %s", r.company, r.outcome, r.message)
    return results


def add_cron_job(
    scheduler: BaseScheduler, job: Callable[[Settings], object], settings: Settings, cron: str, name: str
) -> None:
    """Register a job at a cron time: never two at once, missed runs coalesced into one (up to an hour late)."""
    scheduler.add_job(
        job,
        cron_trigger(cron),
        args=[settings],
        id=name,
        max_instances=1,
        coalesce=True,
        misfire_grace_time=3600,
        replace_existing=True,
    )


def add_load_job(scheduler: BaseScheduler, settings: Settings, cron: str) -> None:
    """Register the load job (it queues a load of every company for the workers)."""
    add_cron_job(scheduler, scheduled_load, settings, cron, "load")


def scheduled_notify(settings: Settings, *, now: datetime | None = None) -> None:
    """One scheduled round of the daily e-mail digest (services.notify), once per tick for the installation."""
    if not jobs.claim_tick(settings, "notify", now or clock.now_utc()):
        log.info("scheduled notify skipped: another scheduler took this tick")
        return
    try:
        digests = notify.run(settings, get_engine(settings.db_url))
    except notify.NotifyBusy as exc:  # another scheduler of the installation fired at the same tick
        log.info("scheduled notify skipped: %s", exc)
        return
    for d in digests:
        log.info("scheduled notify %s: %s %s", d.username, d.status, d.error)


def add_notify_job(scheduler: BaseScheduler, settings: Settings, cron: str) -> None:
    """Register the daily digest job (settings.notify_cron), next to the load job and with the same rules."""
    add_cron_job(scheduler, scheduled_notify, settings, cron, "notify")


def scheduled_alerts(settings: Settings, *, now: datetime | None = None) -> None:
    """One check of every client alert on the published snapshots (services.alerts). No tick to claim: two
    schedulers checking at once record each alert once a day all the same (a unique alert and day)."""
    moment = now or clock.now_utc()
    for fired in alerts.check(settings, get_engine(settings.db_url), moment):
        log.info("alert %s of user %s on %s: %s", fired.alert_id, fired.user_id, fired.company, fired.message)


def add_alerts_job(scheduler: BaseScheduler, settings: Settings, cron: str) -> None:
    """Register the alert check (settings.alerts_cron): what a publication makes true is recorded within minutes."""
    add_cron_job(scheduler, scheduled_alerts, settings, cron, "alerts")


def run_scheduler(
    settings: Settings,
    *,
    cron: str,
    once: bool = False,
    console: Console | None = None,
    scheduler_factory: Callable[[], BaseScheduler] = lambda: BlockingScheduler(timezone=TIMEZONE),
) -> None:
    """Block running loads at each cron time (or run one now with ``once``)."""
    out = console or Console()
    if once:
        for r in load_now(settings):
            out.print(f"{r.company}: {r.outcome} {r.message}")
        return
    scheduler = scheduler_factory()
    add_load_job(scheduler, settings, cron)
    add_notify_job(scheduler, settings, settings.notify_cron)
    add_alerts_job(scheduler, settings, settings.alerts_cron)
    next_run = cron_trigger(cron).get_next_fire_time(None, datetime.now(ZoneInfo(TIMEZONE)))
    out.print(f"Cargas programadas «{cron}» ({TIMEZONE}); próxima: {next_run:%d/%m/%Y %H:%M}. Ctrl+C para detener.")
    out.print(f"Avisos por correo «{settings.notify_cron}» ({TIMEZONE}).")
    try:
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        out.print("Programación detenida.")
