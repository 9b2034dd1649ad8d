"""The Tesorería page (client) and the «Control de cartera» page (staff) through AppTest, on the «caja» company of
tests/test_treasury.py moved so that its 10/03/2025 is today: every figure below is the hand-computed one there."""

from __future__ import annotations

import io
from datetime import date, timedelta

import openpyxl
import pytest
from streamlit.testing.v1 import AppTest

from auth import passwords, signin, users
from etl import service
from etl.store import Store
from portal import audit
from portal.db import get_engine
from portal.settings import load_settings
from reports import treasury as reports
from tests.test_accounting_pages import downloaded, spanish_csv, table  # noqa: F401 - fixture
from tests.test_security import (
    PASSWORD,
    ROOT,
    World,
    client,
    make_world,
    open_page,
    request_url_path,
    signed_in,
    texts,
)
from tests.test_treasury import ITEMS, TODAY, items_text, with_row, write_company
from views import _client

TABS = ["Cobros y pagos pendientes", "Próximos vencimientos", "Bancos", "Previsión 13 semanas"]


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    data = tmp_path_factory.mktemp("treasury-pages") / "data"
    settings = load_settings({"PORTAL_DATA_DIR": str(data)})
    shift = date.today() - TODAY
    write_company(settings.sources, "caja", shift=shift)
    write_company(settings.sources, "descuadre", efectos=with_row(0, importe="1100,00"))  # C1 100,00 over 430
    closed = [row for row in ITEMS if row[10] in ("cobrado", "pagado")]
    write_company(settings.sources, "vacia", efectos=items_text(closed), statements={})  # nothing open, no banks
    results = service.load_all(settings, companies=["caja", "descuadre", "vacia"])
    assert [r.outcome for r in results] == ["published"] * 3, [r.message for r in results]
    engine = get_engine(settings.db_url)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(passwords, "BCRYPT_ROUNDS", 4)
        client(engine, "tere", {"caja": ["tesoreria"]})
        client(engine, "vale", {"vacia": ["tesoreria"]})
        client(engine, "conta", {"caja": ["contabilidad"]})
        users.create_user(engine, "sara", PASSWORD, role="staff", name="Sara")
    engine.dispose()
    return data


@pytest.fixture
def world(template, tmp_path, monkeypatch) -> World:
    return make_world(template, tmp_path, monkeypatch)


def show_tab(at, world: World, label: str, company: str = "caja"):
    snapshot = Store(world.settings.stores).current(company)
    at.session_state[f"tesoreria-tab-{company}-{snapshot.snapshot_id}"] = label
    at.run()
    assert not at.exception, at.exception
    return at


def metrics(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def test_pending_tab_shows_the_hand_computed_ageing_with_totals(world):
    at = open_page(signed_in("tere"), "tesoreria")
    assert [t.value for t in at.title] == ["Tesorería"]
    assert [t.label for t in at.tabs] == TABS
    assert metrics(at) == {
        "Cobros pendientes": "2.850,00 €",
        "Cobros vencidos": "1.650,00 €",
        "Pagos pendientes": "930,00 €",
        "Pagos vencidos": "80,00 €",
    }
    receivables = table(at, 0)
    assert [r["Tercero"] for r in receivables] == ["Alfa SL", "Beta SA", "TOTAL"]
    alfa, beta, total = receivables
    assert (alfa["Total pendiente"], alfa["Vencido"], alfa["A vencer"]) == ("1.650,00 €", "1.150,00 €", "500,00 €")
    assert (alfa["Vencido 31–60 días"], alfa["Vencido 61–90 días"]) == ("1.000,00 €", "150,00 €")
    assert (beta["Vencido 1–30 días"], beta["Vencido > 90 días"], beta["A vencer"]) == (
        "200,00 €",
        "300,00 €",
        "700,00 €",
    )
    assert (total["Efectos"], total["Total pendiente"], total["Vencido"]) == ("6", "2.850,00 €", "1.650,00 €")
    payables = table(at, 1)
    assert [(r["Tercero"], r["Total pendiente"], r["Vencido"]) for r in payables] == [
        ("Gamma SL", "850,00 €", "0,00 €"),
        ("Delta Asesores SL", "80,00 €", "80,00 €"),
        ("TOTAL", "930,00 €", "80,00 €"),
    ]
    assert len(at.get("plotly_chart")) == 1


def test_the_ageing_tables_export_to_csv_and_excel(world, downloaded):  # noqa: F811
    open_page(signed_in("tere"), "tesoreria")
    snapshot = Store(world.settings.stores).current("caja").snapshot_id[:8]
    assert sorted(downloaded) == [
        f"cobros-pendientes-caja-{snapshot}.csv",
        f"cobros-pendientes-caja-{snapshot}.xlsx",
        f"pagos-pendientes-caja-{snapshot}.csv",
        f"pagos-pendientes-caja-{snapshot}.xlsx",
    ]
    rows = spanish_csv(downloaded[f"cobros-pendientes-caja-{snapshot}.csv"])
    assert [(r["Tercero"], r["Total"], r["Vencido"], r["Vencido 31-60 días"]) for r in rows] == [
        ("Alfa SL", "1650,00", "1150,00", "1000,00"),
        ("Beta SA", "1200,00", "500,00", "0,00"),
    ]
    book = openpyxl.load_workbook(io.BytesIO(downloaded[f"pagos-pendientes-caja-{snapshot}.xlsx"]))
    values = [c for row in book.active.iter_rows(values_only=True) for c in row]
    assert 850 in values and 80 in values  # real number cells


def test_upcoming_tab_lists_overdue_first_and_fills_the_calendar(world):
    at = show_tab(open_page(signed_in("tere"), "tesoreria"), world, "Próximos vencimientos")
    rows = table(at, 0)
    assert [r["Efecto"] for r in rows] == ["C4", "C7", "C1", "P3", "C3", "P1", "C2", "P2"]  # 30 days by default
    assert [r["Situación"] for r in rows[:2]] == ["Vencido hace 129 días", "Vencido hace 64 días"]
    assert [(r["Importe"], r["Situación"]) for r in rows[5:]] == [
        ("-250,00 €", "Vence hoy"),
        ("500,00 €", "Vence en 2 días"),
        ("-600,00 €", "Vence en 21 días"),
    ]
    assert metrics(at) == {
        "Cobros en 30 días": "500,00 €",
        "Pagos en 30 días": "850,00 €",
        "Vencidos sin cobrar ni pagar": "5",
    }
    today = date.today()
    c2 = today + timedelta(days=2)
    [month] = [s for s in at.selectbox if s.label == "Mes"]
    month.set_value((c2.year, c2.month)).run()
    cells = [str(v) for v in at.dataframe[1].value.to_numpy().ravel()]
    assert f"{c2.day}: +500,00 €" in cells
    [radio] = [r for r in at.radio if r.label == "Próximos"]
    radio.set_value(7).run()
    assert [r["Efecto"] for r in table(at, 0)] == ["C4", "C7", "C1", "P3", "C3", "P1", "C2"]


def test_banks_tab_shows_each_balance_and_the_total(world):
    at = show_tab(open_page(signed_in("tere"), "tesoreria"), world, "Bancos")
    rows = table(at, 0)
    assert [(r["Banco"], r["Cuenta"], r["Saldo"]) for r in rows] == [
        ("CaixaBank", "5720001", "3.095,00 €"),
        ("Banco Santander", "5720002", "-700,00 €"),
        ("TOTAL", "", "2.395,00 €"),
    ]
    assert len(at.get("plotly_chart")) == 1


def test_forecast_tab_weeks(world):
    at = show_tab(open_page(signed_in("tere"), "tesoreria"), world, "Previsión 13 semanas")
    rows = table(at, 0)
    assert len(rows) == 13
    assert (rows[0]["Cobros"], rows[0]["Pagos"], rows[0]["Saldo previsto"]) == ("1.850,00 €", "330,00 €", "3.915,00 €")
    assert [r["Saldo previsto"] for r in rows[3:6]] == ["3.315,00 €", "3.315,00 €", "4.015,00 €"]
    assert rows[-1]["Saldo previsto"] == "4.015,00 €"
    assert "saldo bancario de partida 2.395,00 €" in texts(at)
    assert "Impagados fuera de la previsión: cobros 300,00 €, pagos 0,00 €." in texts(at)


def test_without_the_tesoreria_grant_there_is_no_page_and_the_script_refuses_and_reads_nothing(world, monkeypatch):
    at = request_url_path(signed_in("conta"), "tesoreria")
    assert "No tiene acceso a esta página." in texts(at)
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page("views/tesoreria.py")
    opened = []
    real = reports.open_items
    monkeypatch.setattr(reports, "open_items", lambda *a, **k: opened.append(a) or real(*a, **k))
    # The page script itself with conta's session and company (as if the navigation had let it through).
    page = AppTest.from_file(str(ROOT / "views" / "tesoreria.py"), default_timeout=30)
    page.session_state[signin.USER_KEY] = dict(at.session_state[signin.USER_KEY])
    page.session_state[_client.COMPANY_KEY] = "caja"
    page.run()
    assert not page.exception
    assert "No tiene acceso a estos datos." in texts(page)
    assert not page.dataframe and not page.tabs and not page.metric and opened == []
    [denied] = [e for e in audit.entries(world.engine, event="access_denied") if e["actor"] == "conta"]
    assert (denied["company"], denied["target"]) == ("caja", "tesoreria")


def test_a_company_with_nothing_open_and_no_bank_statements_shows_notices(world):
    at = open_page(signed_in("vale"), "tesoreria")
    assert [i.value for i in at.info] == ["No hay efectos pendientes.", "No hay efectos pendientes."]
    assert metrics(at)["Cobros pendientes"] == "0,00 €"
    assert [i.value for i in show_tab(at, world, "Próximos vencimientos", "vacia").info] == [
        "No hay vencimientos en este periodo."
    ]
    assert [i.value for i in show_tab(at, world, "Bancos", "vacia").info] == ["No hay extractos bancarios publicados."]
    at = show_tab(at, world, "Previsión 13 semanas", "vacia")
    assert table(at, 0)[-1]["Saldo previsto"] == "0,00 €"
    assert "sin extractos bancarios: se parte de 0,00 €" in texts(at)


def test_staff_control_flags_the_company_whose_cartera_differs_from_430(world):
    at = open_page(signed_in("sara"), "control_cartera")
    assert [t.value for t in at.title] == ["Control de cartera"]
    summary = {r["Empresa"]: r for r in table(at, 0)}
    assert (summary["caja"]["Cobros pendientes"], summary["caja"]["Saldo 430"]) == ("2.850,00 €", "2.850,00 €")
    assert (summary["caja"]["Pagos pendientes"], summary["caja"]["Saldo 400 + 410"]) == ("930,00 €", "930,00 €")
    assert summary["caja"]["Estado"] == "Cuadra"
    assert (summary["descuadre"]["Cobros pendientes"], summary["descuadre"]["Diferencia cobros"]) == (
        "2.950,00 €",
        "100,00 €",
    )
    assert summary["descuadre"]["Estado"] == "Diferencia"
    assert [e.value.replace("\\", "") for e in at.error] == ["Con diferencias: descuadre, vacia."]  # escaped
    [box] = [s for s in at.selectbox if s.label == "Empresa"]
    box.set_value("descuadre").run()
    assert [(r["Cuenta"], r["Cartera"], r["Diario"], r["Diferencia"]) for r in table(at, 1)] == [
        ("4300001", "1.750,00 €", "1.650,00 €", "100,00 €")
    ]


def test_a_client_cannot_open_the_staff_control(world):
    at = request_url_path(signed_in("tere"), "control-cartera")
    assert "No tiene acceso a esta página." in texts(at)
    assert not at.dataframe
