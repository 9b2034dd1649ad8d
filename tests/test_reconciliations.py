"""Cuadres: every reconciliation line on hand-known books — the 303 against 477/472, the 111 (+ 115) against 4751,
the bank's daily balance against 572, the open items against 430 and 400 + 410 — with what explains a difference;
the page only when staff share it, and never another company's lines."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from auth import access, passwords
from etl import service
from portal.settings import load_settings
from reports import reconciliations
from tests import test_taxes, test_treasury
from tests.reports_books import published
from tests.test_security import client, make_world, open_page, signed_in, texts

D = Decimal


@pytest.fixture(scope="module")
def fisco(tmp_path_factory):
    return published(tmp_path_factory.mktemp("fisco"), "fisco", lambda s: test_taxes.write_company(s.sources))


# caja's journal plus an income of 25,00 booked to the bank on 15/02/2025 that the bank never saw.
EXTRA = [("15/02/2025", 99, "5720001", "25,00", "0", "normal"), ("15/02/2025", 99, "7590000", "0", "25,00", "normal")]


@pytest.fixture(scope="module")
def caja(tmp_path_factory):
    journal = test_treasury.journal_text(test_treasury.JOURNAL + EXTRA)
    return published(
        tmp_path_factory.mktemp("caja"), "caja", lambda s: test_treasury.write_company(s.sources, journal=journal)
    )


def by_key(lines) -> dict[str, dict]:
    return {row["key"]: row for row in lines}


def test_each_303_against_the_vat_booked(fisco):
    lines = by_key(reconciliations.vat_lines(fisco))
    # 1T: sales VAT 210 + 50 = 260 (box 27), purchase VAT 84 (box 45); 2T: 105 and 210 (tests/test_taxes.py).
    assert [(k, r["left"], r["right"], r["state"]) for k, r in lines.items()] == [
        ("477|2024|1T", D("260.00"), D("260.00"), "cuadra"),
        ("472|2024|1T", D("84.00"), D("84.00"), "cuadra"),
        ("477|2024|2T", D("105.00"), D("105.00"), "cuadra"),
        ("472|2024|2T", D("210.00"), D("210.00"), "cuadra"),
    ]


def test_withholdings_declared_against_4751(fisco):
    lines = by_key(reconciliations.withholding_lines(fisco))
    # 1T: the 111 declares 300 (a professional) but the journal books no 4751 in the quarter.
    first = lines["4751|2024|1T"]
    assert (first["left"], first["right"], first["difference"], first["state"]) == (
        D("300.00"),
        D("0.00"),
        D("300.00"),
        "diferencia",
    )
    # 2T: 111 box 28 450 + 115 box 03 190 = 640 declared; 4751 credits: May's rent, 190.
    second = lines["4751|2024|2T"]
    assert second["left_label"] == "Casilla 28 del 111 + casilla 03 del 115"
    assert (second["left"], second["right"], second["difference"]) == (D("640.00"), D("190.00"), D("450.00"))
    detail = reconciliations.detail(fisco, "retenciones", "4751|2024|2T")
    assert [(r.date, r.entry, r.account, r.amount) for r in detail.itertuples()] == [
        (date(2024, 5, 20), 7, "4751100", D("190.00"))
    ]


def test_the_bank_against_572_day_by_day(caja):
    [bank_a, bank_b] = reconciliations.bank_lines(caja)
    # Bank A (5720001): 1.500 + 1.210 (05/01) − 15 (10/01) + 400 (10/02) = 3.095 from 10/02 on; the books carry 25
    # more from 15/02: 14 days (15/02–28/02) differ, the first one by 3.095 − 3.120 = −25.
    assert bank_a["label"] == "CaixaBank · 5720001 · 14 días con diferencia, el primero el 15/02/2025"
    assert (bank_a["left"], bank_a["right"], bank_a["difference"]) == (D("3095.00"), D("3120.00"), D("-25.00"))
    assert bank_b["state"] == "cuadra" and bank_b["left"] == D("-700.00")  # the overdraft, in both
    days = reconciliations.detail(caja, "bancos", bank_a["key"])
    assert len(days) == 14 and list(days["date"])[:2] == [date(2025, 2, 15), date(2025, 2, 16)]
    assert set(days["difference"]) == {D("-25.00")}


def test_open_items_against_the_ledger(caja):
    lines = by_key(reconciliations.cartera_lines(caja))
    # Receivables Σ 2.850 = 430 (Alfa 1.650, Beta 1.200); payables Σ 930 = 400 + 410 (tests/test_treasury.py).
    assert (lines["cobro"]["left"], lines["cobro"]["right"], lines["cobro"]["state"]) == (
        D("2850.00"),
        D("2850.00"),
        "cuadra",
    )
    assert (lines["pago"]["left"], lines["pago"]["state"]) == (D("930.00"), "cuadra")


def test_all_lines_together(fisco, caja):
    assert set(reconciliations.lines(fisco)["area"]) == {"iva", "retenciones"}
    assert set(reconciliations.lines(caja)["area"]) == {"bancos", "cartera"}


# --- the page ------------------------------------------------------------------------------------------------------


@pytest.fixture
def world(tmp_path, monkeypatch):
    """fisco and caja published; «contable» holds contabilidad on both, «otro» on caja only."""
    data = tmp_path / "t" / "data"
    settings = load_settings({"PORTAL_DATA_DIR": str(data)})
    test_taxes.write_company(settings.sources)
    test_treasury.write_company(settings.sources, journal=test_treasury.journal_text(test_treasury.JOURNAL + EXTRA))
    results = service.load_all(settings, companies=["fisco", "caja"])
    assert [r.outcome for r in results] == ["published"] * 2, [r.message for r in results]
    monkeypatch.setattr(passwords, "BCRYPT_ROUNDS", 4)
    found = make_world(data, tmp_path, monkeypatch)
    client(found.engine, "contable", {"fisco": ["contabilidad"], "caja": ["contabilidad"]})
    client(found.engine, "otro", {"caja": ["contabilidad"]})
    return found


def test_the_page_waits_for_staff_then_names_the_differences(world):
    at = signed_in("contable")
    at.sidebar.selectbox[0].select("fisco").run()
    at = open_page(at, "contabilidad_cuadres")
    assert "Su despacho no comparte todavía los cuadres de esta empresa." in texts(at)
    access.set_reconciliations_visible(world.engine, "fisco", True, actor="sofi")
    at = open_page(signed_in("contable"), "contabilidad_cuadres")
    shown = texts(at)
    assert "2 de 6 cuadres tienen diferencias." in shown
    rows = at.dataframe[0].value.to_dict("records")
    first = next(r for r in rows if r["Estado"] == "Diferencia")
    assert (first["Periodo"], first["Según"], first["Frente a"], first["Diferencia"]) == (
        "1T 2024",
        "Casilla 28 del 111: 300,00 €",
        "4751: 0,00 €",
        "300,00 €",
    )
    assert "7.777" not in shown and "CaixaBank" not in shown  # fisco's page: nothing of caja


def test_another_company_of_the_same_user_keeps_its_own_setting(world):
    access.set_reconciliations_visible(world.engine, "fisco", True, actor="sofi")
    at = signed_in("otro")  # caja only: not shared
    at = open_page(at, "contabilidad_cuadres")
    assert "Su despacho no comparte todavía los cuadres de esta empresa." in texts(at)
    assert not at.dataframe
