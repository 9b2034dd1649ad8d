"""The Impuestos pages through AppTest on the small company of tests/test_taxes.py: hand-known VAT and IRPF figures,
exports, the audited receipt download, the calendar's month view, the staff VAT check, and no page without the
impuestos grant."""

from __future__ import annotations

import shutil
from datetime import date

import pytest
from streamlit.testing.v1 import AppTest

from auth import passwords, signin, users
from etl import service
from portal import audit
from portal.db import get_engine
from portal.settings import load_settings
from reports import tax_calendar as cal
from reports import taxes as reports
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
from tests.test_taxes import JOURNAL, PDF, write_company
from views import _client

# «desvio»: the same returns, but a February sale of 100 + 21 % VAT booked and left out of the 1T 303.
EXTRA_SALE = (
    "28/02/2024;9;4300001;Factura A-9;121,00;;normal\n"
    "28/02/2024;9;7000000;Factura A-9;;100,00;normal\n"
    "28/02/2024;9;4770000;Factura A-9;;21,00;normal\n"
)


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    data = tmp_path_factory.mktemp("tax-pages") / "data"
    settings = load_settings({"PORTAL_DATA_DIR": str(data)})
    write_company(settings.sources)
    write_company(settings.sources, "desvio", diario=JOURNAL + EXTRA_SALE)
    shutil.rmtree(write_company(settings.sources, "llana") / "impuestos")
    results = service.load_all(settings, companies=["fisco", "desvio", "llana"])
    assert [r.outcome for r in results] == ["published"] * 3, [r.message for r in results]
    engine = get_engine(settings.db_url)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(passwords, "BCRYPT_ROUNDS", 4)
        client(engine, "fiscal", {"fisco": ["impuestos"]})
        client(engine, "conta", {"fisco": ["contabilidad"]})
        client(engine, "sinimp", {"llana": ["impuestos"]})
        users.create_user(engine, "sara", PASSWORD, role="staff", name="Sara")
    engine.dispose()
    return data


@pytest.fixture
def world(template, tmp_path, monkeypatch) -> World:
    return make_world(template, tmp_path, monkeypatch)


def snapshot_id(world: World, company: str = "fisco") -> str:
    return world.store().current(company).snapshot_id


def show_tab(at, world: World, label: str):
    at.session_state[f"impuestos-tab-fisco-{snapshot_id(world)}"] = label
    at.run()
    assert not at.exception, at.exception
    return at


def test_the_vat_tab_shows_the_hand_known_303s_chart_and_the_reconciled_390(world):
    at = open_page(signed_in("fiscal"), "impuestos")
    assert [t.value for t in at.title] == ["Impuestos"]
    assert [t.label for t in at.tabs] == ["IVA", "IRPF", "Presentaciones"]
    first, second = table(at, 0)
    assert (first["Periodo"], first["Presentada"], first["Base 10 %"], first["IVA 10 %"]) == (
        "1T 2024",
        "15/04/2024",
        "500,00 €",
        "50,00 €",
    )
    assert (first["IVA devengado (27)"], first["IVA deducible (45)"], first["Resultado de la liquidación (71)"]) == (
        "260,00 €",
        "84,00 €",
        "176,00 €",
    )
    assert (second["Resultado (46)"], second["Tipo"]) == ("-105,00 €", "A compensar")
    assert "Base 4 %" not in first  # no return uses the 4 % rate
    assert len(at.get("plotly_chart")) == 1
    assert "El modelo 390 coincide con la suma de los 2 modelos 303 del año." in texts(at)
    rec = {r["Casilla"]: r for r in table(at, 1)}
    assert (rec["47"]["Modelo 390"], rec["47"]["Suma de los 303"], rec["47"]["Diferencia"]) == (
        "365,00 €",
        "365,00 €",
        "0,00 €",
    )


def test_each_vat_table_exports_csv_and_excel(world, downloaded):  # noqa: F811
    open_page(signed_in("fiscal"), "impuestos")
    stems = sorted({name.rsplit(".", 1)[0].rsplit("-", 1)[0] for name in downloaded})
    assert stems == ["modelo-303-2024-fisco", "modelo-390-2024-fisco"]
    assert sorted(n.rsplit(".", 1)[1] for n in downloaded) == ["csv", "csv", "xlsx", "xlsx"]
    [vat_csv] = [content for name, content in downloaded.items() if name.startswith("modelo-303") and ".csv" in name]
    rows = spanish_csv(vat_csv)
    assert [(r["Periodo"], r["IVA repercutido"], r["IVA soportado"], r["Resultado final"]) for r in rows] == [
        ("1T", "260,00", "84,00", "176,00"),
        ("2T", "105,00", "210,00", "-105,00"),
    ]


def test_the_irpf_tab_shows_111_115_and_the_annual_190_180(world):
    at = show_tab(open_page(signed_in("fiscal"), "impuestos"), world, "IRPF")
    withholdings = table(at, 0)
    assert [(r["Periodo"], r["Perceptores"], r["Base"], r["Retenciones"]) for r in withholdings] == [
        ("1T 2024", "1", "2.000,00 €", "300,00 €"),
        ("2T 2024", "3", "3.000,00 €", "450,00 €"),
    ]
    [rent] = table(at, 1)
    assert (rent["Periodo"], rent["Base"], rent["Retenciones"], rent["Importe"]) == (
        "2T 2024",
        "1.000,00 €",
        "190,00 €",
        "190,00 €",
    )
    assert len(at.get("plotly_chart")) == 2
    shown = texts(at)
    assert "El modelo 190 coincide con la suma de los 2 modelos 111 del año." in shown
    assert "El modelo 180 coincide con la suma de los 1 modelos 115 del año." in shown
    assert [(r["Casilla"], r["Modelo 190"]) for r in table(at, 2)] == [("02", "5.000,00 €"), ("03", "750,00 €")]


def test_the_filings_tab_lists_the_returns_and_the_receipt_download_is_audited(world, downloaded):  # noqa: F811
    at = show_tab(open_page(signed_in("fiscal"), "impuestos"), world, "Presentaciones")
    rows = table(at, 0)
    assert len(rows) == 8
    first = rows[0]
    assert (first["Modelo"], first["Periodo"], first["Tipo"], first["Importe"], first["Justificante"]) == (
        "111",
        "1T 2024",
        "A ingresar",
        "300,00 €",
        "1110000000001",
    )
    [chooser] = [s for s in at.selectbox if s.label == "Declaración"]
    assert len(chooser.options) == 7  # the 180's receipt was not exported
    downloaded.clear()
    chooser.set_value("3030000000002").run()
    assert not at.exception, at.exception
    assert downloaded["justificante-3030000000002.pdf"] == PDF
    receipts = [e for e in audit.entries(world.engine, event="tax_receipt_download") if e["target"] == "3030000000002"]
    assert [(e["actor"], e["actor_role"], e["company"]) for e in receipts] == [("fiscal", "client", "fisco")]
    assert receipts[0]["detail"] == "Modelo 303 · 2T 2024 · 3030000000002"


def test_the_calendar_lists_the_pending_deadlines_and_a_month_grid(world):
    at = open_page(signed_in("fiscal"), "impuestos_calendario")
    assert [t.value for t in at.title] == ["Calendario fiscal"]
    # The upcoming list depends on today: it must be what the (hand-tested) calendar computes for today.
    expected = cal.deadlines(world.store().current("fisco"), date.today(), 120)
    upcoming = table(at, 0) if expected else []
    assert [r["Declaración"] for r in upcoming] == [d.label for d in expected]
    [month] = [s for s in at.selectbox if s.label == "Mes"]
    month.set_value(date(2024, 4, 1)).run()
    assert not at.exception, at.exception
    grid = table(at, len(at.dataframe) - 2)
    assert list(grid[0]) == ["Lunes", "Martes", "Miércoles", "Jueves", "Viernes", "Sábado", "Domingo"]
    cells = [c for week in grid for c in week.values() if c]
    assert "22 · 111 ✓, 115, 303 ✓" in cells  # 20/04/2024 was a Saturday
    assert cells[0] == "1" and cells[-1] == "30"
    detail = table(at, len(at.dataframe) - 1)
    assert [(r["Fecha límite"], r["Estado"]) for r in detail] == [
        ("22/04/2024", "Presentada el 15/04/2024"),
        ("22/04/2024", "Pendiente"),
        ("22/04/2024", "Presentada el 15/04/2024"),
    ]


def test_staff_see_the_vat_difference_highlighted_per_company(world):
    at = open_page(signed_in("sara"), "control_iva")
    assert [t.value for t in at.title] == ["Control de IVA"]
    summary = {r["Empresa"].split(" · ")[0]: r for r in table(at, 0)}
    assert (summary["desvio"]["Con diferencias"], summary["fisco"]["Con diferencias"]) == ("1", "0")
    assert summary["fisco"]["Modelos 303 comprobados"] == "2"
    [chooser] = [s for s in at.selectbox if s.label == "Empresa"]
    assert chooser.value == "desvio"  # the first company with a difference is shown first
    chooser.set_value("desvio").run()
    assert not at.exception, at.exception
    assert "El IVA declarado no coincide con el contabilizado en: 1T 2024." in texts(at)
    first, second = table(at, 1)
    assert (first["IVA devengado declarado (27)"], first["IVA repercutido contabilizado (477)"]) == (
        "260,00 €",
        "281,00 €",
    )
    assert (first["Diferencia devengado"], first["Diferencia deducible"], first["Estado"]) == (
        "21,00 €",
        "0,00 €",
        "Diferencia",
    )
    assert second["Estado"] == "Cuadra"
    assert "#ffebee" in str(at.dataframe[1].proto)  # the differing row is highlighted (the Styler's CSS)
    chooser.set_value("fisco").run()
    assert "Todos los modelos 303 cuadran con el diario." in texts(at)


def test_without_the_impuestos_grant_there_is_no_page_and_the_script_refuses_and_reads_nothing(world, monkeypatch):
    at = signed_in("conta")
    for url_path in ("impuestos", "impuestos-calendario"):
        request_url_path(at, url_path)
        assert "No tiene acceso a esta página." in texts(at), url_path
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page("views/impuestos.py")
    opened = []
    real = reports.years
    monkeypatch.setattr(reports, "years", lambda *a, **k: opened.append(a) or real(*a, **k))
    for script in ("impuestos.py", "impuestos_calendario.py"):
        page = AppTest.from_file(str(ROOT / "views" / script), default_timeout=30)
        page.session_state[signin.USER_KEY] = dict(at.session_state[signin.USER_KEY])
        page.session_state[_client.COMPANY_KEY] = "fisco"
        page.run()
        assert not page.exception
        assert "No tiene acceso a estos datos." in texts(page)
        assert not page.dataframe and not page.tabs and not page.get("plotly_chart")
    assert opened == []
    assert audit.entries(world.engine, event="tax_receipt_download") == []


def test_a_client_cannot_open_the_staff_vat_check(world):
    at = request_url_path(signed_in("fiscal"), "control-iva")
    assert "No tiene acceso a esta página." in texts(at) and not at.dataframe


def test_a_client_with_the_grant_but_no_tax_data_sees_a_notice(world):
    at = open_page(signed_in("sinimp"), "impuestos")
    assert "Todavía no hay datos de impuestos publicados de esta empresa." in texts(at)
    assert not at.dataframe and not at.tabs
    at = open_page(at, "impuestos_calendario")
    assert "Todavía no hay datos de impuestos publicados de esta empresa." in texts(at) and not at.dataframe
