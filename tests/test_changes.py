"""Qué ha cambiado: two real loads of a hand journal, the second one changing, removing and adding entries, and a
correction of a closed year; every figure of the comparison computed by hand."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from auth import passwords
from etl import service
from etl.store import Store
from portal.settings import load_settings
from reports import changes
from tests import test_taxes
from tests.test_security import client, make_world, signed_in, texts

HEADER = "fecha;asiento;cuenta;concepto;debe;haber;tipo\n"
CAPITAL = "01/01/2025;1;5720000;Capital;10.000,00;;normal\n01/01/2025;1;1000000;Capital;;10.000,00;normal\n"
SALE = (
    "15/02/2025;2;4300000;Venta;1.210,00;;normal\n"
    "15/02/2025;2;7000000;Venta;;1.000,00;normal\n"
    "15/02/2025;2;4770000;Venta;;210,00;normal\n"
)
PURCHASE = "20/03/2025;3;6000000;Compra;400,00;;normal\n20/03/2025;3;5720000;Compra;;400,00;normal\n"
# The second export: the sale becomes 1.100 + 21 % VAT, the purchase is gone, a bank fee of April is new.
SALE_V2 = (
    "15/02/2025;2;4300000;Venta;1.331,00;;normal\n"
    "15/02/2025;2;7000000;Venta;;1.100,00;normal\n"
    "15/02/2025;2;4770000;Venta;;231,00;normal\n"
)
FEE = "10/04/2025;4;6260000;Comisión;50,00;;normal\n10/04/2025;4;5720000;Comisión;;50,00;normal\n"


def two_loads(tmp_path, first: str, second: str, code: str = "cambia"):
    settings = load_settings({"PORTAL_DATA_DIR": str(tmp_path / "data")})
    folder = settings.sources / code
    folder.mkdir(parents=True)
    for journal in (first, second):
        (folder / "diario.csv").write_text(HEADER + journal, encoding="utf-8")
        [result] = service.load_all(settings, companies=[code])
        assert result.outcome == "published", result.message
    store = Store(settings.stores)
    new_id, old_id = store.history(code)[:2]
    return store.snapshot(code, new_id), store.snapshot(code, old_id)


@pytest.fixture
def compared(tmp_path) -> changes.Changes:
    new, old = two_loads(tmp_path, CAPITAL + SALE + PURCHASE, CAPITAL + SALE_V2 + FEE)
    return changes.compare(new, old)


def test_entries_added_changed_and_removed_by_month(compared):
    rows = compared.entries.to_dict("records")
    assert [(r["month"].date() if hasattr(r["month"], "date") else r["month"]) for r in rows] == [
        date(2025, 2, 1),
        date(2025, 3, 1),
        date(2025, 4, 1),
    ]
    assert [(r["added"], r["changed"], r["removed"]) for r in rows] == [(0, 1, 0), (0, 0, 1), (1, 0, 0)]
    assert (compared.old_until, compared.new_until) == (date(2025, 3, 20), date(2025, 4, 10))


def test_pnl_and_balance_lines_with_the_difference(compared):
    lines = {(r.statement, r.line_code): r for r in compared.lines.itertuples()}
    pnl = "Pérdidas y ganancias"
    # Year to 20/03: sales 1.000, purchases −400 → 600. Year to 10/04: sales 1.100, fee −50 → 1.050.
    assert (lines[pnl, "40100"].before, lines[pnl, "40100"].after) == (Decimal("1000.00"), Decimal("1100.00"))
    assert lines[pnl, "40400"].difference == Decimal("400.00")  # the purchase is gone
    assert lines[pnl, "40700"].after == Decimal("-50.00")  # the fee
    assert (lines[pnl, "49500"].before, lines[pnl, "49500"].after, lines[pnl, "49500"].difference) == (
        Decimal("600.00"),
        Decimal("1050.00"),
        Decimal("450.00"),
    )
    assert lines[pnl, "49500"].period == "Ejercicio 2025 hasta el 10/04/2025 (antes, hasta el 20/03/2025)"
    # Total assets: bank 9.600 + customers 1.210 = 10.810 before; bank 9.950 + customers 1.331 = 11.281 after.
    total = lines["Balance", "10000"]
    assert (total.before, total.after, total.difference) == (
        Decimal("10810.00"),
        Decimal("11281.00"),
        Decimal("471.00"),
    )
    assert not compared.lines["correction"].any()
    assert compared.counts() | {"lines": 0} == {
        "added": 1,
        "changed": 1,
        "removed": 1,
        "lines": 0,
        "corrections": 0,
        "invoices": 0,
        "returns": 0,
        "documents": 0,
    }


def test_a_change_in_a_closed_year_is_a_correction(tmp_path):
    old_2024 = "10/06/2024;1;4300000;Venta 2024;1.000,00;;normal\n10/06/2024;1;7000000;Venta 2024;;1.000,00;normal\n"
    new_2024 = "10/06/2024;1;4300000;Venta 2024;1.500,00;;normal\n10/06/2024;1;7000000;Venta 2024;;1.500,00;normal\n"
    new, old = two_loads(tmp_path, old_2024 + CAPITAL, new_2024 + CAPITAL)
    found = changes.compare(new, old)
    fixed = found.lines[(found.lines["period"] == "Ejercicio 2024") & (found.lines["line_code"] == "40100")]
    [row] = fixed.itertuples()
    assert (row.before, row.after, row.difference, row.correction) == (
        Decimal("1000.00"),
        Decimal("1500.00"),
        Decimal("500.00"),
        True,
    )
    assert found.counts()["corrections"] >= 1
    assert [(r.added, r.changed, r.removed) for r in found.entries.itertuples()] == [(0, 1, 0)]


def test_the_same_entries_in_another_order_change_nothing(tmp_path):
    shuffled = "".join(reversed(SALE.splitlines(keepends=True))) + CAPITAL  # other bytes, the same entries
    new, old = two_loads(tmp_path, CAPITAL + SALE, shuffled)
    assert new.snapshot_id != old.snapshot_id
    assert set(changes.compare(new, old).counts().values()) == {0}


def test_the_previous_publication_is_the_one_before_in_the_history(tmp_path):
    new, old = two_loads(tmp_path, CAPITAL, CAPITAL + SALE)
    store = Store(load_settings({"PORTAL_DATA_DIR": str(tmp_path / "data")}).stores)
    assert changes.previous_published(store, "cambia", new.snapshot_id).snapshot_id == old.snapshot_id
    assert changes.previous_published(store, "cambia", old.snapshot_id) is None  # the first publication
    assert store.rollback("cambia") == old.snapshot_id  # back to the first: nothing published before it
    assert changes.previous_published(store, "cambia", old.snapshot_id) is None


# --- on Inicio ---------------------------------------------------------------------------------------------------


@pytest.fixture
def home(tmp_path, monkeypatch):
    """«cambia» loaded twice (the second load changes, removes and adds an entry) and two clients of it."""
    two_loads(tmp_path / "t", CAPITAL + SALE + PURCHASE, CAPITAL + SALE_V2 + FEE)
    monkeypatch.setattr(passwords, "BCRYPT_ROUNDS", 4)
    world = make_world(tmp_path / "t" / "data", tmp_path, monkeypatch)
    client(world.engine, "conta", {"cambia": ["contabilidad"]})
    client(world.engine, "docu", {"cambia": ["documentos"]})
    return world


def test_inicio_says_what_changed_in_the_modules_the_user_holds(home):
    at = signed_in("conta")
    shown = texts(at)
    assert "Qué ha cambiado" in shown
    assert "Desde la publicación anterior: datos a fecha 20/03/2025, ahora a 10/04/2025." in shown
    assert "1 asiento nuevo; 1 asiento modificado; 1 asiento eliminado." in shown
    lines = {row["Partida"]: row for row in at.dataframe[0].value.to_dict("records")}
    sales = lines["1. Importe neto de la cifra de negocios"]
    assert (sales["Antes"], sales["Ahora"], sales["Diferencia"]) == ("1.000,00 €", "1.100,00 €", "100,00 €")
    months = at.dataframe[1].value.to_dict("records")
    assert [(m["Mes"], m["Nuevos"], m["Modificados"], m["Eliminados"]) for m in months] == [
        ("Febrero 2025", "0", "1", "0"),
        ("Marzo 2025", "0", "0", "1"),
        ("Abril 2025", "1", "0", "0"),
    ]


def test_inicio_shows_no_accounting_change_to_a_user_without_accounting(home):
    shown = texts(signed_in("docu"))
    assert "Nada nuevo en sus módulos." in shown
    assert "asiento" not in shown and "1.100,00" not in shown


def test_new_tax_returns_are_the_ones_the_previous_publication_did_not_carry(tmp_path):
    settings = load_settings({"PORTAL_DATA_DIR": str(tmp_path / "data")})
    first = test_taxes.FILING_ROWS[:4]  # 303 and 111 of 1T and 2T; then the 115 of 2T and the annual summaries
    keys = {";".join(row.split(";")[:3]) for row in first}
    boxes = [row for row in test_taxes.BOX_ROWS if ";".join(row.split(";")[:3]) in keys]
    for filings, box_rows in ((first, boxes), (test_taxes.FILING_ROWS, test_taxes.BOX_ROWS)):
        test_taxes.write_company(
            settings.sources, presentaciones=test_taxes.filings_text(filings), casillas=test_taxes.boxes_text(box_rows)
        )
        [result] = service.load_all(settings, companies=["fisco"])
        assert result.outcome == "published", result.message
    store = Store(settings.stores)
    new_id, old_id = store.history("fisco")[:2]
    found = changes.compare(store.snapshot("fisco", new_id), store.snapshot("fisco", old_id))
    returns = found.items["returns"]
    assert list(zip(returns["model"], returns["year"], returns["period"], strict=True)) == [
        ("115", 2024, "2T"),
        ("180", 2024, "0A"),
        ("190", 2024, "0A"),
        ("390", 2024, "0A"),
    ]
    assert found.counts()["returns"] == 4 and found.counts()["added"] == 0
    assert changes.summary(found.counts(), ["impuestos"]) == ["4 declaraciones nuevas"]
    assert changes.summary(found.counts(), ["contabilidad"]) == []
