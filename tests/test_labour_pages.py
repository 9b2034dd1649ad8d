"""The Laboral page and the staff blocking page through AppTest: only the granted tables, audited views and exports
(security test 37), a blocked employee gone from every table and file, and no page without the module."""

from __future__ import annotations

import io

import openpyxl
import pytest
from streamlit.testing.v1 import AppTest

from auth import access, labour_blocks, passwords, signin, users
from etl import service
from etl.store import Store
from portal import audit
from portal.db import get_engine
from portal.settings import load_settings
from reports import labour as reports
from tests.test_accounting_pages import downloaded, spanish_csv, table  # noqa: F401 - fixture
from tests.test_labour import HIDDEN, write_company
from tests.test_security import (
    PASSWORD,
    ROOT,
    World,
    client,
    everything_drawn,
    make_world,
    open_page,
    request_url_path,
    signed_in,
    texts,
)
from views import _client

HIDDEN_WORDS = (HIDDEN, "Zeta Oculta", "Dora")


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    data = tmp_path_factory.mktemp("labour-pages") / "data"
    settings = load_settings({"PORTAL_DATA_DIR": str(data)})
    write_company(settings.sources)
    [result] = service.load_all(settings, companies=["obra"])
    assert result.outcome == "published", result.message
    engine = get_engine(settings.db_url)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(passwords, "BCRYPT_ROUNDS", 4)
        client(engine, "lola", {"obra": ["laboral"]})  # every table (the default)
        client(engine, "conta", {"obra": ["contabilidad"]})
        client(engine, "parcial", {})
        access.grant(engine, "parcial", "obra", "laboral", {"tables": ["altas_bajas", "resumen_nominas"]}, actor="test")
        users.create_user(engine, "sara", PASSWORD, role="staff", name="Sara")
    engine.dispose()
    return data


@pytest.fixture
def world(template, tmp_path, monkeypatch) -> World:
    return make_world(template, tmp_path, monkeypatch)


def tab_key(world: World) -> str:
    return f"laboral-tab-obra-{Store(world.settings.stores).current('obra').snapshot_id}"


def show_tab(at, world: World, label: str):
    at.session_state[tab_key(world)] = label
    at.run()
    assert not at.exception, at.exception
    return at


def events(world: World, event: str) -> list[dict]:
    return list(reversed(audit.entries(world.engine, event=event)))


def test_only_the_granted_tables_are_tabs_and_the_first_shows_the_hand_known_summary(world):
    at = open_page(signed_in("parcial"), "laboral")
    assert [t.value for t in at.title] == ["Laboral"]
    assert [t.label for t in at.tabs] == ["Resumen mensual de nóminas", "Altas y bajas"]
    rows = table(at)
    assert rows[0]["Mes"] == "Enero 2025" and rows[0]["Nóminas"] == "3"
    assert (rows[0]["Bruto"], rows[0]["Líquido"], rows[0]["Coste empresa"]) == (
        "6.000,00 €",
        "4.560,00 €",
        "7.860,00 €",
    )
    assert len(at.get("plotly_chart")) == 1
    show_tab(at, world, "Altas y bajas")
    march = next(r for r in table(at) if r["Mes"] == "Marzo 2025")
    assert (march["Altas"], march["Bajas"], march["Plantilla a fin de mes"]) == ("1", "1", "4")


def test_every_view_is_audited_with_table_period_and_row_count_but_no_amounts(world):
    at = open_page(signed_in("parcial"), "laboral")
    show_tab(at, world, "Altas y bajas")
    views = events(world, "labour_view")
    assert [(e["actor"], e["actor_role"], e["company"], e["target"]) for e in views] == [
        ("parcial", "client", "obra", "resumen_nominas"),
        ("parcial", "client", "obra", "altas_bajas"),
    ]
    assert views[0]["detail"] == "tabla=resumen_nominas; periodo=2025; filas=3"
    assert views[1]["detail"].startswith("tabla=altas_bajas; periodo=2025; filas=")
    assert not any(word in e["detail"] for e in views for word in ("6000", "6.000", "2000", "€"))


def test_every_export_is_audited_when_the_file_is_built(world, downloaded):  # noqa: F811
    open_page(signed_in("parcial"), "laboral")
    names = sorted(downloaded)
    assert [n.rsplit(".", 1)[1] for n in names] == ["csv", "xlsx"]
    exports = events(world, "labour_export")
    assert sorted(e["detail"] for e in exports) == [
        "tabla=resumen_nominas; periodo=2025; filas=3; formato=csv",
        "tabla=resumen_nominas; periodo=2025; filas=3; formato=xlsx",
    ]
    assert {(e["actor"], e["company"]) for e in exports} == {("parcial", "obra")}
    rows = spanish_csv(downloaded[names[0]])
    assert (rows[0]["Mes"], rows[0]["Bruto"], rows[0]["Líquido"]) == ("1", "6000,00", "4560,00")


def test_a_blocked_employee_is_absent_from_every_table_chart_and_export(world, downloaded):  # noqa: F811
    labour_blocks.block(world.engine, "obra", HIDDEN, actor="sara", reason="Solicitud del interesado")
    at = open_page(signed_in("lola"), "laboral")
    labels = [t.label for t in at.tabs]
    assert labels == list(access.LABOUR_TABLES.values())
    drawn = []
    for label in labels:
        show_tab(at, world, label)
        drawn.append(everything_drawn(at))
        drawn.append(str([c.proto.spec for c in at.get("plotly_chart")]))
    shown = "\n".join(drawn)
    assert not [w for w in HIDDEN_WORDS if w in shown]
    assert "3.000,00 €" in shown  # January gross without Dora: 2.000 + 1.000
    # CSV + Excel of every table with rows (contracts ending depend on today's date: none after 15/12/2025)
    exported = {name.split("-")[1] for name in downloaded}
    assert exported >= set(access.LABOUR_TABLES) - {"fin_contratos"}
    for name, content in downloaded.items():
        if name.endswith(".csv"):
            text = content.decode("utf-8")
        else:
            book = openpyxl.load_workbook(io.BytesIO(content))
            text = str([list(ws.iter_rows(values_only=True)) for ws in book.worksheets])
        assert not [w for w in HIDDEN_WORDS if w in text], name
    assert {e["target"] for e in events(world, "labour_export")} == exported


def test_without_the_laboral_grant_there_is_no_page_and_the_page_script_refuses_and_reads_nothing(world, monkeypatch):
    at = request_url_path(signed_in("conta"), "laboral")
    assert "No tiene acceso a esta página." in texts(at)
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page("views/laboral.py")
    opened = []
    real_employees = reports.employees
    monkeypatch.setattr(reports, "employees", lambda *a, **k: opened.append(a) or real_employees(*a, **k))
    # The page script itself with conta's session and company (as if the navigation had let it through).
    page = AppTest.from_file(str(ROOT / "views" / "laboral.py"), default_timeout=30)
    page.session_state[signin.USER_KEY] = dict(at.session_state[signin.USER_KEY])
    page.session_state[_client.COMPANY_KEY] = "obra"
    page.run()
    assert not page.exception
    assert "No tiene acceso a estos datos." in texts(page)
    assert not page.dataframe and not page.tabs and opened == []
    assert events(world, "labour_view") == []
    [denied] = [e for e in events(world, "access_denied") if e["actor"] == "conta"]
    assert (denied["company"], denied["target"]) == ("obra", "laboral")


def test_staff_block_and_unblock_an_employee_with_a_reason_both_audited(world):
    at = open_page(signed_in("sara"), "laboral_bloqueos")
    assert [t.value for t in at.title] == ["Bloqueos de datos laborales"]
    assert len(table(at)) == 4
    [who] = [s for s in at.selectbox if s.label == "Empleado"]
    who.set_value(HIDDEN).run()
    at.text_input(key=f"motivo-obra-{HIDDEN}").input("Ejercicio del derecho de limitación")
    [submit] = [b for b in at.button if b.label == "Bloquear"]
    submit.click().run()
    assert not at.exception, at.exception
    assert labour_blocks.blocked(world.engine, "obra") == frozenset({HIDDEN})
    rows = {r["NIF"]: r for r in table(at)}
    assert (rows[HIDDEN]["Bloqueado"], rows[HIDDEN]["Por"]) == ("sí", "sara")
    [blocked] = events(world, "employee_blocked")
    assert (blocked["actor"], blocked["company"], blocked["target"]) == ("sara", "obra", HIDDEN)
    assert blocked["detail"] == "Ejercicio del derecho de limitación"
    labour_blocks.unblock(world.engine, "obra", HIDDEN, actor="sara", reason="Fin de la limitación")
    assert labour_blocks.blocked(world.engine, "obra") == frozenset()
    [lifted] = events(world, "employee_unblocked")
    assert (lifted["target"], lifted["detail"]) == (HIDDEN, "Fin de la limitación")


def test_blocking_needs_a_valid_nif_and_a_reason(world):
    with pytest.raises(labour_blocks.BlockError, match="motivo"):
        labour_blocks.block(world.engine, "obra", HIDDEN, actor="sara", reason=" ")
    with pytest.raises(labour_blocks.BlockError, match="no válido"):
        labour_blocks.block(world.engine, "obra", "12345678A", actor="sara", reason="x")
    with pytest.raises(labour_blocks.BlockError, match="no están bloqueados"):
        labour_blocks.unblock(world.engine, "obra", HIDDEN, actor="sara")
    assert events(world, "employee_blocked") == []


def test_a_client_cannot_open_the_staff_blocking_page(world):
    at = request_url_path(signed_in("lola"), "laboral-bloqueos")
    assert "No tiene acceso a esta página." in texts(at) and not at.dataframe
