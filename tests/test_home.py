"""Inicio through AppTest on the demo firm's «levante» (data until 05/06/2025, today pinned to 15/06/2025, so May's fee
invoice is unpaid and overdue): one card per granted module with hand-computed figures read straight from the source
files, and nothing of the modules not held."""

from __future__ import annotations

import csv
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from auth import access, labour_blocks, passwords
from etl import service
from etl.demo import generate
from portal import clock, fmt
from portal.db import get_engine
from portal.settings import load_settings
from tests.test_security import World, client, make_world, signed_in, texts

TODAY = date(2025, 6, 15)
UNTIL = date(2025, 6, 5)  # the demo's cut-off: FD-2025-0076 (286,20 €, due 09/06/2025) is still unpaid
ALL = ["contabilidad", "tesoreria", "impuestos", "expedientes", "facturas", "documentos", "laboral"]
LINKS = ["Contabilidad", "Tesorería", "Impuestos", "Expedientes", "Facturas del despacho", "Documentos", "Laboral"]


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    data = tmp_path_factory.mktemp("home") / "data"
    settings = load_settings({"PORTAL_DATA_DIR": str(data)})
    generate(settings.sources, until=UNTIL)
    [result] = service.load_all(settings, companies=["levante"])
    assert result.outcome == "published", result.message
    engine = get_engine(settings.db_url)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(passwords, "BCRYPT_ROUNDS", 4)
        client(engine, "todo", {"levante": ALL})
        client(engine, "teso", {"levante": ["tesoreria", "facturas"]})
        client(engine, "nomi", {"levante": ["laboral"]})
        access.grant(engine, "nomi", "levante", "laboral", {"tables": ["resumen_nominas"]}, actor="test")
    engine.dispose()
    return data


@pytest.fixture
def world(template, tmp_path, monkeypatch) -> World:
    monkeypatch.setattr(clock, "today_madrid", lambda: TODAY)
    return make_world(template, tmp_path, monkeypatch)


def rows(world: World, *parts: str) -> list[dict]:
    path = Path(world.settings.sources, "levante", *parts)
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh, delimiter=";"))


def amount(text: str) -> Decimal:
    return Decimal(text.replace(".", "").replace(",", ".") or "0")


def day(text: str) -> date | None:
    return date(int(text[6:10]), int(text[3:5]), int(text[:2])) if text else None


def metrics(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def links(at) -> list[str]:
    return [link.label for link in at.main.get("page_link")]  # the page's own (not the sidebar menu)


def hand_result(world: World, start: date, end: date) -> Decimal:
    """Σ (haber − debe) of groups 6 and 7 between two dates, from diario.csv (no closing entries in the range)."""
    total = Decimal("0.00")
    for row in rows(world, "diario.csv"):
        when = day(row["fecha"])
        if row["cuenta"][0] in "67" and start <= when <= end and row["tipo"] not in ("regularizacion", "cierre"):
            total += amount(row["haber"]) - amount(row["debe"])
    return total


def test_every_granted_module_has_its_card_and_link(world):
    at = signed_in("todo")
    assert [t.value for t in at.title] == ["Portal del Cliente"]
    assert links(at) == LINKS
    assert "Datos a fecha" in texts(at) and "Suministros Industriales Levante SL" in texts(at)
    assert not at.exception
    shown = metrics(at)
    assert {
        "Resultado del ejercicio",
        "Saldo en bancos",
        "Cobros vencidos",
        "Próximo vencimiento",
        "Expedientes abiertos",
        "Facturas pendientes",
        "Importe pendiente",
        "Documentos nuevos",
        "Personas en plantilla",
        "Contratos que terminan en 30 días",
    } == set(shown)


def test_only_the_granted_modules_show(world):
    at = signed_in("teso")
    assert links(at) == ["Tesorería", "Facturas del despacho"]
    assert set(metrics(at)) == {"Saldo en bancos", "Cobros vencidos", "Facturas pendientes", "Importe pendiente"}
    for word in ("Contabilidad", "Impuestos", "Expedientes", "Laboral", "Documentos"):
        assert word not in texts(at)


def test_overdue_receivables_match_the_open_items_file(world):
    overdue = [
        r
        for r in rows(world, "tesoreria", "efectos.csv")
        if r["tipo"] == "cobro" and r["estado"] != "cobrado" and day(r["fecha_vencimiento"]) < TODAY
    ]
    at = signed_in("todo")
    assert metrics(at)["Cobros vencidos"] == fmt.money(sum((amount(r["importe"]) for r in overdue), Decimal("0.00")))
    many = "cobro vencido" if len(overdue) == 1 else "cobros vencidos"
    assert f"{len(overdue)} {many} a 15/06/2025" in texts(at)
    assert len(overdue) > 0


def test_pending_invoices_match_the_invoice_file(world):
    unpaid = [r for r in rows(world, "facturas", "facturas.csv") if not r["fecha_cobro"]]
    overdue = [r for r in unpaid if day(r["vencimiento"]) < TODAY]
    shown = metrics(signed_in("teso"))
    assert shown["Facturas pendientes"] == fmt.integer(len(unpaid))
    assert shown["Importe pendiente"] == fmt.money(sum((amount(r["total"]) for r in unpaid), Decimal("0.00")))
    assert [r["numero"] for r in overdue] == ["FD-2025-0076"] and shown["Importe pendiente"] == "286,20 €"
    assert "1 vencida a 15/06/2025" in texts(signed_in("teso"))


def test_the_result_so_far_against_the_same_stretch_of_last_year(world):
    last = max(day(r["fecha"]) for r in rows(world, "diario.csv"))
    assert last.year == 2025
    now = hand_result(world, date(2025, 1, 1), last)
    before = hand_result(world, date(2024, 1, 1), last.replace(year=2024))
    at = signed_in("todo")
    [metric] = [m for m in at.metric if m.label == "Resultado del ejercicio"]
    assert metric.value == fmt.money(now)
    assert fmt.money(before) in metric.proto.help
    assert fmt.money(before) in texts(at)


def test_open_case_files_and_new_documents_match_their_files(world):
    files = rows(world, "expedientes", "expedientes.csv")
    cases = [r for r in files if r["compartido"] == "s" and not r["fecha_cierre"]]
    shared = rows(world, "documentos", "indice.csv")
    shown = metrics(signed_in("todo"))
    assert shown["Expedientes abiertos"] == fmt.integer(len(cases))
    assert shown["Documentos nuevos"] == fmt.integer(len(shared))  # nothing opened yet: every document is new


def test_a_broken_module_leaves_the_other_cards_standing(world, monkeypatch):
    from reports import treasury

    def broken(*_args, **_kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(treasury, "home_summary", broken)
    at = signed_in("todo")
    assert not at.exception and links(at) == LINKS
    assert "No se ha podido calcular este resumen ahora mismo." in texts(at) and "boom" not in texts(at)
    assert "Cobros vencidos" not in metrics(at) and "Facturas pendientes" in metrics(at)


def test_the_next_tax_deadline_is_the_second_quarter_moved_off_a_sunday(world):
    filed = {(r["modelo"], r["ejercicio"], r["periodo"]) for r in rows(world, "impuestos", "presentaciones.csv")}
    assert {("111", "2025", "1T"), ("303", "2025", "1T")} <= filed and ("111", "2025", "2T") not in filed
    # 111 and 303 of 2T are due on 20 July; 20/07/2025 is a Sunday, so both move to Monday 21/07 (111 sorts first).
    assert date(2025, 7, 20).weekday() == 6
    at = signed_in("todo")
    assert metrics(at)["Próximo vencimiento"] == "21/07/2025"
    assert "Modelo 111 · Retenciones 2T 2025" in texts(at)


def employed_on(world: World, when: date, leave_out: str = "") -> int:
    """Employees of empleados.csv with fecha_alta ≤ when ≤ fecha_baja (or no fecha_baja), counted by hand."""
    return sum(
        1
        for r in rows(world, "laboral", "empleados.csv")
        if r["nif"] != leave_out
        and day(r["fecha_alta"]) <= when
        and (not r["fecha_baja"] or when <= day(r["fecha_baja"]))
    )


def test_the_labour_card_counts_the_staff_by_hand_and_leaves_blocked_people_out(world):
    ending = [
        r
        for r in rows(world, "laboral", "empleados.csv")
        if r["fecha_fin_contrato"]
        and 0 <= (day(r["fecha_fin_contrato"]) - TODAY).days <= 30
        and (not r["fecha_baja"] or day(r["fecha_baja"]) >= TODAY)
    ]
    shown = metrics(signed_in("todo"))
    staff = employed_on(world, TODAY)
    assert staff > 0
    assert shown["Personas en plantilla"] == fmt.integer(staff)
    assert shown["Contratos que terminan en 30 días"] == fmt.integer(len(ending))
    someone = next(r["nif"] for r in rows(world, "laboral", "empleados.csv") if not r["fecha_baja"])
    labour_blocks.block(world.engine, "levante", someone, actor="sara", reason="Solicitud del interesado")
    assert metrics(signed_in("todo"))["Personas en plantilla"] == fmt.integer(employed_on(world, TODAY, someone))


def test_the_labour_card_shows_no_figure_from_a_table_the_firm_does_not_share(world):
    at = signed_in("nomi")
    assert links(at) == ["Laboral"]
    assert not set(metrics(at)) & {"Personas en plantilla", "Contratos que terminan en 30 días"}
