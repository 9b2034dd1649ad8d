"""Alertas: each kind evaluated on hand-known figures (strict thresholds), who may set what, one record per alert
and day, the digest that carries them without amounts (a real SMTP exchange), and the pages (AppTest)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa

from auth import access, passwords, users
from etl import service
from etl.store import Store
from portal import clock
from portal.db import get_engine
from portal.db import users as users_table
from portal.settings import load_settings
from reports import alerts as rules
from services import alerts, notify
from tests import test_cash_estimates, test_taxes, test_treasury
from tests.reports_books import published
from tests.smtp_server import SmtpServer
from tests.test_security import client, make_world, open_page, signed_in, texts

HEADER = "fecha;asiento;cuenta;concepto;debe;haber;tipo\n"
# Liquidez general = activo corriente / pasivo corriente. «alta»: bank 10.000 / supplier 1.000 = 10,00 (above the
# healthy 1,50–2,00: «Vigilar»). «justa»: bank 1.800 / short-term loan 1.000 = 1,80 (healthy).
HIGH = HEADER + (
    "02/01/2025;1;5720000;Capital;10.000,00;;normal\n02/01/2025;1;1000000;Capital;;10.000,00;normal\n"
    "10/01/2025;2;6000000;Compra;1.000,00;;normal\n10/01/2025;2;4000000;Compra;;1.000,00;normal\n"
)
FAIR = HEADER + (
    "02/01/2025;1;5720000;Capital;800,00;;normal\n02/01/2025;1;1000000;Capital;;800,00;normal\n"
    "10/01/2025;2;5720000;Préstamo;1.000,00;;normal\n10/01/2025;2;5200000;Préstamo;;1.000,00;normal\n"
)


@pytest.fixture(scope="module")
def caja(tmp_path_factory):
    return published(tmp_path_factory.mktemp("caja"), "caja", lambda s: test_treasury.write_company(s.sources))


def books(tmp_path, code: str, journal: str):
    def write(settings):
        folder = settings.sources / code
        folder.mkdir(parents=True)
        (folder / "diario.csv").write_text(journal, encoding="utf-8")

    return published(tmp_path, code, write)


def fires(kind: str, snapshot, today: date, threshold: str = "", ratio: str = "") -> str | None:
    threshold, ratio = rules.check_threshold(kind, threshold, ratio)
    found = rules.evaluate(rules.Alert(1, kind, threshold, ratio), snapshot, today)
    return None if found is None else found.message


# --- each kind on hand-known figures ---------------------------------------------------------------------------------


def test_bank_balance_below_the_threshold(caja):
    # caja's banks: 3.095,00 − 700,00 (overdraft) = 2.395,00 (tests/test_treasury.py).
    assert fires("saldo_bancos", caja, test_treasury.TODAY, "2.400,00") == (
        "Saldo en bancos 2.395,00 €, por debajo de 2.400,00 €"
    )
    assert fires("saldo_bancos", caja, test_treasury.TODAY, "2395") is None  # strictly below


def test_overdue_receivables_above_the_threshold(caja):
    # Overdue on 10/03/2025: C1 1.000 + C7 150 + C3 200 (returned) + C4 300 (unpaid) = 1.650,00.
    assert fires("cobros_vencidos", caja, test_treasury.TODAY, "1.649,99") == (
        "Cobros vencidos 1.650,00 € a 10/03/2025, por encima de 1.649,99 €"
    )
    assert fires("cobros_vencidos", caja, test_treasury.TODAY, "1650,00") is None


def test_a_ratio_leaving_its_healthy_range(tmp_path):
    high = books(tmp_path / "a", "alta", HIGH)
    assert fires("ratio", high, date(2025, 2, 1), ratio="liquidez") == (
        "Liquidez general 10,00 a 10/01/2025: fuera de su rango saludable (entre 1,50 y 2,00)"
    )
    fair = books(tmp_path / "b", "justa", FAIR)
    assert fires("ratio", fair, date(2025, 2, 1), ratio="liquidez") is None  # 1,80


def test_a_tax_deadline_within_the_days(tmp_path):
    settings = load_settings({"PORTAL_DATA_DIR": str(tmp_path / "data")})
    numbers = {row.split(";")[6]: test_taxes.PDF for row in test_cash_estimates.FILINGS}
    test_taxes.write_company(
        settings.sources,
        "prevista",
        diario=test_cash_estimates.JOURNAL,
        presentaciones=test_taxes.filings_text(test_cash_estimates.FILINGS),
        casillas=test_taxes.boxes_text([]),
        receipts=numbers,
    )
    (settings.sources / "prevista" / "empresa.json").write_text('{"nombre": "Prevista SL"}', encoding="utf-8")
    [result] = service.load_all(settings, companies=["prevista"])
    assert result.outcome == "published", result.message
    snapshot = Store(settings.stores).current("prevista")
    today = date(2026, 12, 3)  # the 202 3P is due 20/12/2026, a Sunday: Monday 21/12, 18 days later
    assert fires("vencimiento", snapshot, today, "18") == (
        "Modelo 202 · Pago fraccionado de Sociedades 3P 2026 vence el 21/12/2026 (en 18 días)"
    )
    assert fires("vencimiento", snapshot, today, "17") is None


@pytest.mark.parametrize(
    ("kind", "threshold", "ratio", "error"),
    [
        ("saldo_bancos", "diez mil", "", "no es un importe"),
        ("saldo_bancos", "-5", "", "positivo"),
        ("vencimiento", "0", "", "entre 1 y 366"),
        ("vencimiento", "3,5", "", "entre 1 y 366"),
        ("ratio", "", "inventado", "Ratio desconocido"),
        ("otra", "1", "", "Tipo de alerta desconocido"),
    ],
)
def test_thresholds_the_portal_refuses(kind, threshold, ratio, error):
    with pytest.raises(rules.AlertError, match=error):
        rules.check_threshold(kind, threshold, ratio)


def test_thresholds_are_stored_exactly():
    assert rules.check_threshold("saldo_bancos", "10.000,5") == ("10000.50", "")
    assert rules.check_threshold("cobros_vencidos", "2500") == ("2500.00", "")
    assert rules.check_threshold("vencimiento", " 15 ") == ("15", "")


# --- the service: who may set what, one record a day, the digest --------------------------------------------------


@pytest.fixture
def world(tmp_path, monkeypatch):
    """caja published; «tere» (tesoreria, with an e-mail) and «nadie» (documentos only)."""
    data = tmp_path / "t" / "data"
    settings = load_settings({"PORTAL_DATA_DIR": str(data)})
    test_treasury.write_company(settings.sources)
    [result] = service.load_all(settings, companies=["caja"])
    assert result.outcome == "published", result.message
    monkeypatch.setattr(passwords, "BCRYPT_ROUNDS", 4)
    found = make_world(data, tmp_path, monkeypatch)
    client(found.engine, "tere", {"caja": ["tesoreria"]})
    client(found.engine, "nadie", {"caja": ["documentos"]})
    with found.engine.begin() as conn:
        conn.execute(sa.update(users_table).where(users_table.c.username == "tere").values(email="tere@caja.example"))
    monkeypatch.setattr(clock, "today_madrid", lambda: test_treasury.TODAY)
    return found


def user(world, username: str) -> dict:
    with world.engine.connect() as conn:
        return dict(conn.execute(sa.select(users_table).where(users_table.c.username == username)).first()._mapping)


def test_a_user_may_only_watch_the_figures_of_modules_they_hold(world):
    with pytest.raises(alerts.AlertsError, match="no tiene el módulo Tesorería"):
        alerts.create(world.engine, user(world, "nadie"), "caja", "saldo_bancos", "1000", actor="nadie")
    with pytest.raises(alerts.AlertsError, match="no tiene el módulo Tesorería"):
        alerts.create(world.engine, user(world, "tere"), "otra", "saldo_bancos", "1000", actor="tere")
    alerts.create(world.engine, user(world, "tere"), "caja", "saldo_bancos", "2.400,00", actor="tere")
    [mine] = alerts.of_user(world.engine, user(world, "tere")["id"], "caja")
    assert mine["description"] == "Saldo en bancos por debajo de 2.400,00 €"
    with pytest.raises(alerts.AlertsError, match="no existe"):  # someone else's alert
        alerts.remove(world.engine, mine["id"], owner=user(world, "nadie"), actor="nadie")


def test_each_alert_is_recorded_once_a_day_and_the_digest_carries_it_without_amounts(world):
    tere = user(world, "tere")
    alerts.create(world.engine, tere, "caja", "saldo_bancos", "2.400,00", actor="tere")
    alerts.create(world.engine, tere, "caja", "cobros_vencidos", "5.000,00", actor="tere")  # 1.650: never fires
    # 10/03/2025 10:00 Madrid = 09:00 UTC.
    morning = datetime(2025, 3, 10, 9, 0, tzinfo=UTC)
    [first] = alerts.check(world.settings, world.engine, morning)
    assert first.message == "Saldo en bancos 2.395,00 €, por debajo de 2.400,00 €"
    assert alerts.check(world.settings, world.engine, morning.replace(hour=11)) == []  # the same day: once
    with SmtpServer() as smtp, pytest.MonkeyPatch.context() as patch:
        for name, value in smtp.env().items():
            patch.setenv(name, value)
        settings = load_settings()
        digests = notify.run(settings, world.engine, now=morning.replace(hour=12))
        assert {d.username: d.status for d in digests}["tere"] == "sent"
        [message] = smtp.wait_for(1)
    assert "- Caja Ejemplo SL: 1 alerta (saldo en bancos bajo el umbral)." in message.body
    assert "2.395" not in message.body and "2.400" not in message.body  # no amounts by e-mail
    [event] = alerts.history(world.engine, tere["id"])
    assert event["sent_at"] is not None and event["day"] == date(2025, 3, 10)
    detail = json.loads(notify.history(world.engine, tere["id"])[0]["detail"])
    assert detail["companies"][0]["alerts"] == [event["id"]]
    assert alerts.unsent(world.engine, tere["id"]) == []
    [again] = alerts.check(world.settings, world.engine, datetime(2025, 3, 11, 9, 0, tzinfo=UTC))  # the next day
    assert again.alert_id == first.alert_id


def test_an_alert_sleeps_while_its_module_is_taken_away(world):
    tere = user(world, "tere")
    alerts.create(world.engine, tere, "caja", "saldo_bancos", "2.400,00", actor="tere")
    access.revoke(world.engine, "tere", "caja", "tesoreria", actor="test")
    assert alerts.check(world.settings, get_engine(world.settings.db_url), datetime(2025, 3, 10, 9, tzinfo=UTC)) == []


# --- the pages ------------------------------------------------------------------------------------------------------


def test_a_client_adds_an_alert_and_sees_it_on_inicio(world):
    at = open_page(signed_in("tere"), "alertas")
    assert [t.value for t in at.title] == ["Alertas"]
    assert at.selectbox(key="alerta-tipo").options == [
        "Saldo en bancos por debajo de",
        "Cobros vencidos por encima de",
    ]  # tesoreria only: no ratio nor tax deadline
    at.text_input[0].input("2.400,00")
    [add] = [b for b in at.button if b.label == "Añadir alerta"]
    add.click().run()
    assert not at.exception, at.exception
    shown = texts(at)
    assert "Alerta añadida." in shown and "Saldo en bancos por debajo de 2.400,00 €" in shown
    assert "Saldo en bancos 2.395,00 €, por debajo de 2.400,00 €" in shown
    home = signed_in("tere")
    assert "Saldo en bancos 2.395,00 €, por debajo de 2.400,00 €" in texts(home)


def test_a_user_without_those_modules_is_told_so(world):
    at = open_page(signed_in("nadie"), "alertas")
    assert "no tienen cifras que vigilar" in texts(at)


def test_staff_set_an_alert_for_a_client_user_and_remove_it(world):
    users.create_user(world.engine, "sofi", "una frase de acceso bastante larga", role="staff", name="Sofía")
    at = signed_in("sofi")
    at.switch_page("views/alertas_clientes.py").run()
    assert [t.value for t in at.title] == ["Alertas de clientes"]
    at.selectbox(key="alerta-usuario").select("tere").run()
    at.selectbox(key="alerta-empresa").select("caja").run()
    at.selectbox(key="alerta-k-tipo").select("cobros_vencidos").run()
    at.text_input[0].input("1.000,00")
    [add] = [b for b in at.button if b.label == "Añadir alerta"]
    add.click().run()
    assert not at.exception, at.exception
    assert "Tere (tere) · caja · Cobros vencidos por encima de 1.000,00 €" in texts(at)
    [made] = alerts.of_user(world.engine, user(world, "tere")["id"], "caja")
    assert made["created_by"] == "sofi"
    [remove] = [b for b in at.button if b.label == "Quitar"]
    remove.click().run()
    assert alerts.of_user(world.engine, user(world, "tere")["id"], "caja") == []
