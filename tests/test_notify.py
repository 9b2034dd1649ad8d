"""The daily e-mail digest through a real local SMTP server: once a Madrid day, opt-out, only the user's own companies
and modules, new portal and ETL documents, failures recorded, the dry run, the CLI, the scheduler job and Mi cuenta."""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from apscheduler.schedulers.background import BackgroundScheduler

from auth import passwords, users
from etl import service
from ops.__main__ import main as portal_main
from ops.schedule import add_notify_job, scheduled_notify
from portal import audit, clock, mail
from portal.db import documents, get_engine, notifications_sent
from portal.db import users as users_table
from portal.settings import load_settings
from services import notify
from tests.smtp_server import SmtpServer, free_port
from tests.test_security import ALFA, BETA, World, build_world, client, make_world, open_page, signed_in, write_journal

EMAILS = {"ana": "ana@alfa.example", "bea": "bea@beta.example", "duo": "duo@grupo.example", "dora": "dora@alfa.example"}
AMOUNT_WORDS = ("€", "1.210", "1210", "500,00", "1.000")


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    """alfa and beta published; ana (alfa: contabilidad, impuestos), bea (beta), duo (both: contabilidad), dora (alfa:
    documentos), imma (alfa: impuestos only) and nomail (alfa: contabilidad, no e-mail)."""
    data = tmp_path_factory.mktemp("notify") / "data"
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(passwords, "BCRYPT_ROUNDS", 4)
        build_world(data)
        engine = get_engine(load_settings({"PORTAL_DATA_DIR": str(data)}).db_url)
        client(engine, "dora", {"alfa": ["documentos"]})
        client(engine, "imma", {"alfa": ["impuestos"]})
        client(engine, "nomail", {"alfa": ["contabilidad"]})
    with engine.begin() as conn:
        for username, email in {**EMAILS, "imma": "imma@alfa.example"}.items():
            conn.execute(sa.update(users_table).where(users_table.c.username == username).values(email=email))
    engine.dispose()
    return data


@pytest.fixture
def smtp():
    with SmtpServer() as server:
        yield server


@pytest.fixture
def world(template, tmp_path, monkeypatch, smtp) -> World:
    world = make_world(template, tmp_path, monkeypatch)
    for name, value in {**smtp.env(), "PORTAL_BASE_URL": "https://portal.asesoria.example"}.items():
        monkeypatch.setenv(name, value)
    return World(load_settings(), world.engine)


def republish(world: World, company: str, extra: str = "") -> None:
    """A new load of the company (one more entry), published now: news for the users created before."""
    base = {"alfa": ALFA, "beta": BETA}[company]
    lines = extra or "28/02/2025;9;6290000;Gasto nuevo;50,00;\n28/02/2025;9;5720001;Gasto nuevo;;50,00\n"
    write_journal(world.settings, company, base + lines)
    [result] = service.load_all(world.settings, companies=[company])
    assert result.outcome == "published", result.message


def by_user(digests) -> dict[str, str]:
    return {d.username: d.status for d in digests}


def inboxes(smtp) -> dict[str, list]:
    found: dict[str, list] = {}
    for message in smtp.messages:
        for rcpt in message.rcpt_tos:
            found.setdefault(rcpt, []).append(message)
    return found


def sent_rows(world: World) -> list[dict]:
    with world.engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(sa.select(notifications_sent).order_by(notifications_sent.c.id))]


def user_id(world: World, username: str) -> int:
    return users.get_user(world.engine, username)["id"]


def share(world: World, company: str, *, direction: str = "firm", deleted: bool = False, title: str = "Doc") -> None:
    now = clock.now_utc()
    with world.engine.begin() as conn:
        conn.execute(
            sa.insert(documents).values(
                company_code=company,
                direction=direction,
                category="fiscal",
                year=2025,
                title=title,
                file_name="doc.pdf",
                stored_name=f"{company}-{direction}-{title}-{deleted}",
                media_type="application/pdf",
                size=10,
                sha256="0" * 64,
                uploaded_by="sara",
                uploaded_at=now,
                deleted_at=now if deleted else None,
            )
        )


# --- once a day ---------------------------------------------------------------------------------------------------


def test_a_new_publication_is_mailed_once_to_its_users_with_no_amounts_and_recorded(world, smtp):
    republish(world, "alfa")
    digests = notify.run(world.settings, world.engine)
    assert by_user(digests) == {
        "ana": "sent",
        "bea": "nothing_new",
        "dora": "nothing_new",  # documentos only: a new journal is not a document
        "duo": "sent",
        "imma": "nothing_new",  # impuestos only: the load brings no new tax return
    }  # nomail has no address: not even looked at
    boxes = inboxes(smtp)
    assert set(boxes) == {EMAILS["ana"], EMAILS["duo"]} and all(len(v) == 1 for v in boxes.values())
    [message] = boxes[EMAILS["ana"]]
    assert message.message["Subject"] == notify.SUBJECT
    body = message.body
    # What the load changed, in counts only: republish() added one entry.
    assert "- alfa: nuevos datos contables publicados (datos a fecha 28/02/2025); 1 asiento nuevo." in body
    assert "https://portal.asesoria.example" in body and "Recibir avisos por correo" in body
    assert not [w for w in (*AMOUNT_WORDS, "Ana", "ana@", "beta", "Gasto nuevo") if w in body]
    rows = sent_rows(world)
    assert [(r["user_id"], r["email"], r["status"], r["kind"]) for r in rows] == [
        (user_id(world, "ana"), EMAILS["ana"], "sent", "digest"),
        (user_id(world, "duo"), EMAILS["duo"], "sent", "digest"),
    ]
    detail = json.loads(rows[0]["detail"])
    snapshot_id = world.store().current("alfa").snapshot_id
    assert detail["companies"] == [
        {
            "company": "alfa",
            "accounting": snapshot_id,
            "snapshot": snapshot_id,
            "changes": ["1 asiento nuevo"],
            "documents": 0,
            "alerts": [],
            "requested": None,
        }
    ]
    events = audit.entries(world.engine, event="notification_sent")
    assert sorted((e["target"], e["actor_role"]) for e in events) == [("ana", "system"), ("duo", "system")]
    assert all("estado=sent" in e["detail"] for e in events)


def test_a_second_run_the_same_day_sends_nothing_even_with_news(world, smtp):
    republish(world, "alfa")
    notify.run(world.settings, world.engine)
    assert len(smtp.wait_for(2)) == 2
    republish(world, "alfa", "01/03/2025;10;6290000;Otro gasto;10,00;\n01/03/2025;10;5720001;Otro gasto;;10,00\n")
    digests = notify.run(world.settings, world.engine)
    assert by_user(digests)["ana"] == "already_sent" and by_user(digests)["duo"] == "already_sent"
    assert len(smtp.messages) == 2 and len(sent_rows(world)) == 2
    # The next Madrid day the news since the last digest go out, once more; with nothing new, nothing is sent.
    tomorrow = clock.now_utc() + timedelta(days=1)
    assert by_user(notify.run(world.settings, world.engine, now=tomorrow))["ana"] == "sent"
    assert "datos a fecha 01/03/2025" in smtp.wait_for(4)[-1].body
    later = tomorrow + timedelta(days=1)
    assert by_user(notify.run(world.settings, world.engine, now=later))["ana"] == "nothing_new"
    assert len(smtp.messages) == 4


def test_a_rollback_announces_nothing_it_brings_back_data_already_announced(world, smtp):
    republish(world, "alfa")
    assert by_user(notify.run(world.settings, world.engine))["ana"] == "sent"
    service.rollback(world.settings, "alfa", actor="sara")  # publishes the older snapshot again, a new published_at
    tomorrow = clock.now_utc() + timedelta(days=1)
    assert by_user(notify.run(world.settings, world.engine, now=tomorrow))["ana"] == "nothing_new"
    assert len(smtp.messages) == 2  # ana and duo, the first day only


def test_the_madrid_day_decides_not_24_hours(world):
    evening = datetime(2026, 1, 10, 22, 30, tzinfo=UTC)  # 23:30 in Madrid
    assert notify.madrid_midnight(evening) == datetime(2026, 1, 9, 23, 0, tzinfo=UTC)
    assert notify.madrid_midnight(evening + timedelta(hours=1)) == datetime(2026, 1, 10, 23, 0, tzinfo=UTC)


# --- opt-out, who is looked at --------------------------------------------------------------------------------------


def test_an_opted_out_user_gets_nothing_and_the_choice_is_audited(world, smtp):
    ana = users.get_user(world.engine, "ana")
    notify.set_opt_out(world.engine, ana, True)
    assert notify.opted_out(world.engine, ana["id"])
    republish(world, "alfa")
    digests = notify.run(world.settings, world.engine)
    assert "ana" not in by_user(digests) and by_user(digests)["duo"] == "sent"
    assert set(inboxes(smtp)) == {EMAILS["duo"]}
    [event] = audit.entries(world.engine, event="notification_settings")
    assert (event["actor"], event["actor_role"], event["detail"]) == ("ana", "client", "avisos por correo: no")
    notify.set_opt_out(world.engine, ana, False)  # back on: the next publication reaches it
    assert not notify.opted_out(world.engine, ana["id"])
    republish(world, "alfa", "01/03/2025;10;6290000;Otro gasto;10,00;\n01/03/2025;10;5720001;Otro gasto;;10,00\n")
    assert by_user(notify.run(world.settings, world.engine))["ana"] == "sent"


@pytest.mark.parametrize("change", ["inactive", "locked", "expired", "no_email"])
def test_unusable_accounts_get_no_digest(world, smtp, change):
    values = {
        "inactive": {"active": False},
        "locked": {"locked_at": clock.now_utc()},
        "expired": {"expires_on": clock.today_madrid() - timedelta(days=1)},
        "no_email": {"email": ""},
    }[change]
    with world.engine.begin() as conn:
        conn.execute(sa.update(users_table).where(users_table.c.username == "ana").values(**values))
    republish(world, "alfa")
    assert "ana" not in by_user(notify.run(world.settings, world.engine))
    assert EMAILS["ana"] not in inboxes(smtp)


def test_a_user_of_alfa_never_hears_about_beta(world, smtp):
    republish(world, "beta")
    share(world, "beta")
    digests = notify.run(world.settings, world.engine)
    assert by_user(digests) == {
        "ana": "nothing_new",
        "bea": "sent",
        "dora": "nothing_new",  # documentos on alfa only: beta's document is not hers
        "duo": "sent",
        "imma": "nothing_new",
    }
    boxes = inboxes(smtp)
    assert set(boxes) == {EMAILS["bea"], EMAILS["duo"]}
    for message in (boxes[EMAILS["bea"]][0], boxes[EMAILS["duo"]][0]):
        assert "- beta: nuevos datos contables publicados" in message.body
        assert "alfa" not in message.body and "documento" not in message.body  # neither holds documentos on beta


def test_a_user_created_after_the_publication_is_not_told_about_it(world, smtp):
    client(world.engine, "nueva", {"alfa": ["contabilidad"]})
    with world.engine.begin() as conn:
        conn.execute(sa.update(users_table).where(users_table.c.username == "nueva").values(email="n@alfa.example"))
    assert by_user(notify.run(world.settings, world.engine))["nueva"] == "nothing_new"


# --- documents ------------------------------------------------------------------------------------------------------


def test_documents_shared_in_the_portal_reach_documentos_users_only(world, smtp):
    share(world, "alfa", title="Uno")
    share(world, "alfa", title="Dos")
    share(world, "alfa", direction="client", title="Del cliente")  # sent to the firm: not news for the client
    share(world, "alfa", deleted=True, title="Retirado")
    digests = notify.run(world.settings, world.engine)
    assert by_user(digests) == {
        "ana": "nothing_new",
        "bea": "nothing_new",
        "dora": "sent",
        "duo": "nothing_new",
        "imma": "nothing_new",
    }
    [message] = smtp.wait_for(1)
    assert message.rcpt_tos == [EMAILS["dora"]]
    assert "- alfa: 2 documentos nuevos." in message.body and "Uno" not in message.body
    assert json.loads(sent_rows(world)[0]["detail"])["companies"] == [
        {
            "company": "alfa",
            "accounting": None,
            "snapshot": None,
            "changes": [],
            "documents": 2,
            "alerts": [],
            "requested": None,
        }
    ]


def test_documents_of_a_new_snapshot_count_once(world, smtp):
    folder = world.settings.sources / "alfa" / "documentos"
    (folder / "fiscal" / "2025").mkdir(parents=True)
    (folder / "fiscal" / "2025" / "m303.pdf").write_bytes(b"%PDF-1.4\n% modelo 303\n%%EOF\n")
    (folder / "indice.csv").write_text(
        "titulo;categoria;fecha;archivo\nModelo 303 1T;fiscal;20/04/2025;fiscal/2025/m303.pdf\n", encoding="utf-8"
    )
    republish(world, "alfa")
    if not world.store().current("alfa").has("documents.parquet"):
        pytest.skip("the documentos reader does not publish documents.parquet")
    digests = notify.run(world.settings, world.engine)
    assert by_user(digests)["dora"] == "sent" and by_user(digests)["ana"] == "sent"
    boxes = inboxes(smtp)
    assert "- alfa: 1 documento nuevo." in boxes[EMAILS["dora"]][0].body
    assert "documento" not in boxes[EMAILS["ana"]][0].body  # ana does not hold documentos
    # A reload that keeps the same document is not news again.
    republish(world, "alfa", "02/03/2025;11;6290000;Más;5,00;\n02/03/2025;11;5720001;Más;;5,00\n")
    tomorrow = clock.now_utc() + timedelta(days=1)
    assert by_user(notify.run(world.settings, world.engine, now=tomorrow))["dora"] == "nothing_new"


# --- failures, dry run, CLI, scheduler ------------------------------------------------------------------------------


def test_a_server_that_is_down_leaves_the_digest_in_the_outbox_and_the_retry_delivers_it(world, smtp):
    republish(world, "beta")
    down = load_settings({"PORTAL_DATA_DIR": str(world.settings.data_dir), "PORTAL_SMTP_PORT": str(free_port())})
    down = type(world.settings)(**{**world.settings.__dict__, "smtp_port": down.smtp_port})
    digests = notify.run(down, world.engine)
    assert by_user(digests)["bea"] == "queued"
    rows = sent_rows(world)
    assert {(r["email"], r["status"]) for r in rows} == {(EMAILS["bea"], "queued"), (EMAILS["duo"], "queued")}
    assert all("No se pudo conectar con el servidor de correo" in r["error"] for r in rows)
    events = audit.entries(world.engine, event="notification_sent")
    assert len(events) == 2 and all("estado=queued" in e["detail"] for e in events)
    assert mail.waiting_count(world.engine) == 2 and smtp.messages == []
    # The day's digest is on its way: a second round does not write another one; the outbox delivers it.
    assert by_user(notify.run(world.settings, world.engine))["bea"] == "already_sent"
    outcomes = mail.retry_due(world.engine, world.settings, now=clock.now_utc() + timedelta(minutes=1))
    assert [o.sent for o in outcomes] == [True, True]
    assert {m.rcpt_tos[0] for m in smtp.wait_for(2)} == {EMAILS["bea"], EMAILS["duo"]}
    assert mail.waiting_count(world.engine) == 0 and len(smtp.messages) == 2


def test_a_refused_address_is_recorded_as_failed_and_tried_again_the_next_round(world, smtp):
    republish(world, "beta")
    smtp.refused.add(EMAILS["bea"])
    digests = notify.run(world.settings, world.engine)
    assert by_user(digests)["bea"] == "failed"
    assert mail.waiting_count(world.engine) == 0  # refused for good: nothing queued
    smtp.refused.clear()
    assert by_user(notify.run(world.settings, world.engine))["bea"] == "sent"


def test_the_dry_run_sends_and_records_nothing(world, smtp):
    republish(world, "alfa")
    digests = notify.run(world.settings, world.engine, dry_run=True)
    assert by_user(digests)["ana"] == "dry_run"
    assert smtp.messages == [] and sent_rows(world) == []


def test_the_cli_runs_a_round_and_reports_each_user(world, smtp, capsys):
    republish(world, "alfa")
    assert portal_main(["notify", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "ana: se enviaría (prueba, no se envía) (alfa)" in out and smtp.messages == []
    assert portal_main(["notify"]) == 0
    out = capsys.readouterr().out
    assert "ana: enviado (alfa)" in out and "Avisos enviados: 2; fallidos: 0" in out
    assert portal_main(["notify"]) == 0
    assert "ana: ya enviado hoy" in capsys.readouterr().out


def test_the_scheduler_registers_the_notify_job_and_the_job_sends(world, smtp):
    scheduler = BackgroundScheduler(timezone="Europe/Madrid")
    add_notify_job(scheduler, world.settings, world.settings.notify_cron)
    job = scheduler.get_job("notify")
    assert job is not None and job.max_instances == 1 and job.coalesce
    assert str(job.trigger) == "cron[month='*', day='*', day_of_week='*', hour='8', minute='0']"  # 0 8 * * *
    republish(world, "alfa")
    job.func(*job.args)
    assert {m.rcpt_tos[0] for m in smtp.wait_for(2)} == {EMAILS["ana"], EMAILS["duo"]}


# --- Mi cuenta ------------------------------------------------------------------------------------------------------


def test_mi_cuenta_checkbox_saves_the_opt_out_and_audits_it(world):
    at = open_page(signed_in("ana"), "cuenta")
    [box] = [c for c in at.checkbox if c.label == "Recibir avisos por correo"]
    assert box.value is True
    box.uncheck().run()
    assert not at.exception
    assert notify.opted_out(world.engine, user_id(world, "ana"))
    assert "Ya no recibirá avisos por correo." in [s.value for s in at.success]
    [event] = audit.entries(world.engine, event="notification_settings")
    assert event["actor"] == "ana"
    at = open_page(signed_in("ana"), "cuenta")  # a new session reads the saved choice
    assert [c.value for c in at.checkbox if c.label == "Recibir avisos por correo"] == [False]


# --- one round at a time for the installation -------------------------------------------------------------------------


def test_two_rounds_at_the_same_tick_send_each_user_one_digest(world, smtp):
    republish(world, "beta")
    smtp.gate.clear()  # the first round's first e-mail waits at DATA: that round holds the lock meanwhile
    first: list = []
    runner = threading.Thread(target=lambda: first.append(notify.run(world.settings, world.engine)))
    runner.start()
    deadline = time.monotonic() + 10
    while not (world.settings.data_dir / notify.ROUND_LOCK_FILE).exists() and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.3)  # the round is inside its first SMTP exchange
    with pytest.raises(notify.NotifyBusy, match="Otro proceso está enviando ahora los avisos"):
        notify.run(world.settings, world.engine)
    smtp.gate.set()
    runner.join(30)
    assert by_user(first[0])["bea"] == "sent"
    assert sorted(m.rcpt_tos[0] for m in smtp.wait_for(2)) == sorted([EMAILS["bea"], EMAILS["duo"]])
    # The lock is free again; a later round finds the day's digests sent and sends nothing more.
    assert by_user(notify.run(world.settings, world.engine))["bea"] == "already_sent"
    assert len(smtp.messages) == 2


def test_a_scheduler_whose_round_is_busy_skips_it_quietly(world, smtp, caplog):
    republish(world, "beta")
    with notify.one_round(world.settings, world.engine), caplog.at_level("INFO"):
        scheduled_notify(world.settings)
    assert smtp.messages == [] and "scheduled notify skipped" in caplog.text


def test_on_postgresql_the_round_lock_holds_across_machines(db_url, tmp_path):
    if not db_url.startswith("postgresql"):
        pytest.skip("SQLite is one machine: the file lock is the installation's lock")
    engine = get_engine(db_url)
    here, there = (load_settings({"PORTAL_DATA_DIR": str(tmp_path / n), "PORTAL_DATABASE_URL": db_url}) for n in "ab")
    # Another data folder (another machine) sharing the database waits its turn.
    with notify.one_round(here, engine), pytest.raises(notify.NotifyBusy), notify.one_round(there, engine):
        pass
    with notify.one_round(there, engine):
        pass
