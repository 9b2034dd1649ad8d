"""The VAT record books (libros registro de IVA): a small hand-written book read from a one-row CSV and an AEAT
two-row workbook, hand-computed totals and the 303 / journal comparison, a difference named with its invoice, row
errors naming file and row, the demo's norte 3T 2024 (493,77 €), the «Libros de IVA» page and who may open it."""

from __future__ import annotations

import shutil
from datetime import date
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

from auth import passwords
from etl import load, service
from etl.demo.companies import COMPANIES
from etl.demo.firm import plan_invoices
from etl.demo.journal import Simulator
from etl.demo.model import cif
from etl.demo.modules import write_company as write_demo_company
from etl.demo.trial_balance import FORMAT as TRIAL_BALANCE_FORMAT
from etl.demo.vat_books import group_row
from etl.modules import taxes, vat_books
from etl.sources import CompanyInfo
from etl.store import Store
from portal.db import get_engine
from portal.settings import load_settings
from reports import vat_books as reports
from tests.test_accounting_pages import downloaded, spanish_csv, table  # noqa: F401 - fixture
from tests.test_security import World, client, make_world, open_page, request_url_path, signed_in, texts
from tests.test_taxes import JOURNAL, journal_con, write_company
from tests.test_taxes_pages import EXTRA_SALE

D = Decimal
CUSTOMER, SUPPLIER = cif("B", "4612345"), cif("A", "2800001")
# Issued: 1T A-1 1.000 at 21 % (210) and A-2 500 at 10 % (50); 2T A-3 500 at 21 % (105): the journal's sales.
# Totals: 3 invoices, base 2.000, VAT 365, total 2.365. 1T: 27 = 260 (07/09 1.000/210, 04/06 500/50); 2T: 27 = 105.
ISSUED_CSV = (
    "Fecha Expedición;Serie;Número;NIF Destinatario;Nombre Destinatario;Base Imponible;Tipo de IVA;"
    "Cuota IVA Repercutida;Total Factura\n"
    f"15/01/2024;A;A-1;{CUSTOMER};Cliente Uno SL;1000,00;21,00;210,00;1210,00\n"
    f"20/02/2024;A;A-2;{CUSTOMER};Cliente Uno SL;500,00;10,00;50,00;550,00\n"
    f"15/05/2024;A;A-3;{CUSTOMER};Cliente Uno SL;500,00;21,00;105,00;605,00\n"
)
EXTRA_LINE = f"28/02/2024;A;A-9;{CUSTOMER};Cliente Uno SL;100,00;21,00;21,00;121,00\n"  # booked, not in the 1T 303
# Received: 1T C-1 400 at 21 % (84); 2T C-2 1.000 at 21 % (210): boxes 28/29 and 45, and the 472 debits.
RECEIVED = [(date(2024, 3, 10), "C-1", 400, 84), (date(2024, 4, 10), "C-2", 1000, 210)]


def write_received_workbook(path: Path) -> None:
    """The received book as the AEAT's workbook: title lines, the group and sub-heading rows, real cells."""
    layout = vat_books.RECEIVED_LAYOUT
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "RECIBIDAS_GASTOS"
    sheet.append(["LIBRO REGISTRO DE FACTURAS RECIBIDAS"])
    sheet.append(["Ejercicio: 2024"])
    sheet.append([])
    sheet.append(group_row(layout))
    sheet.append([sub for _, sub in layout])
    for day, number, base, vat in RECEIVED:
        values = {
            ("Autoliquidación", "Ejercicio"): 2024,
            ("Autoliquidación", "Periodo"): f"{(day.month - 1) // 3 + 1}T",
            ("Tipo de Factura", ""): "F1",
            ("Fecha Expedición", ""): day,
            ("Identificación Factura del Expedidor", "(Serie-Número)"): number,
            ("NIF Expedidor", "Identificación"): SUPPLIER,
            ("Nombre Expedidor", ""): "Proveedor Dos SA",
            ("Total Factura", ""): base + vat,
            ("Base Imponible", ""): base,
            ("Tipo de IVA", ""): 21,
            ("Cuota IVA Soportado", ""): vat,
            ("Cuota Deducible", ""): vat,
        }
        sheet.append([values.get(column) for column in layout])
    book.save(path)


def write_books(folder: Path, issued: str = ISSUED_CSV) -> None:
    books = folder / "impuestos" / "libros"
    books.mkdir(parents=True, exist_ok=True)
    (books / "expedidas_2024.csv").write_text(issued, encoding="utf-8")
    write_received_workbook(books / "libros_2024.xlsx")


def read_books(tmp_path: Path, issued: str) -> list:
    """The reader's problems on a folder whose issued book is ``issued``."""
    folder = tmp_path / "src" / "fisco"
    write_books(folder, issued)
    return vat_books.read(journal_con(), folder, CompanyInfo(code="fisco", name="Fisco")).problems


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    """«fisco» (the books square) and «desvio» (sale A-9 booked and in the book, left out of the 1T 303)."""
    data = tmp_path_factory.mktemp("vat-books") / "data"
    settings = load_settings({"PORTAL_DATA_DIR": str(data)})
    write_books(write_company(settings.sources))
    write_books(write_company(settings.sources, "desvio", diario=JOURNAL + EXTRA_SALE), ISSUED_CSV + EXTRA_LINE)
    results = service.load_all(settings, companies=["fisco", "desvio"])
    assert [r.outcome for r in results] == ["published"] * 2, [r.message for r in results]
    engine = get_engine(settings.db_url)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(passwords, "BCRYPT_ROUNDS", 4)
        client(engine, "fiscal", {"fisco": ["impuestos"]})
        client(engine, "conta", {"fisco": ["contabilidad"]})
        client(engine, "ajeno", {"desvio": ["impuestos"]})
    engine.dispose()
    return data


@pytest.fixture
def world(template, tmp_path, monkeypatch) -> World:
    return make_world(template, tmp_path, monkeypatch)


def snapshot_of(world: World, code: str = "fisco"):
    return world.store().current(code)


# --- reading ------------------------------------------------------------------------------------------------------


def test_both_books_load_with_the_hand_known_totals(world):
    snapshot = snapshot_of(world)
    assert snapshot.manifest["modules"]["impuestos/libros"]["issued"] == 3
    assert snapshot.manifest["modules"]["impuestos/libros"]["received"] == 2
    issued = reports.book_lines(snapshot, vat_books.ISSUED, 2024)
    assert issued["invoice"].tolist() == ["A-1", "A-2", "A-3"]
    assert issued["period"].tolist() == ["1T", "1T", "2T"]  # no Periodo column: the quarter of the date
    totals = reports.totals(issued)
    assert (totals.invoices, totals.base, totals.vat, totals.total) == (3, D("2000.00"), D("365.00"), D("2365.00"))
    received = reports.totals(reports.book_lines(snapshot, vat_books.RECEIVED, 2024))
    assert (received.invoices, received.base, received.vat, received.deductible) == (
        2,
        D("1400.00"),
        D("294.00"),
        D("294.00"),
    )
    first = reports.book_lines(snapshot, vat_books.ISSUED, 2024, period="1T", only_rates=(D("10.00"),))
    assert first[["invoice", "base", "vat"]].values.tolist() == [["A-2", D("500.00"), D("50.00")]]


def test_the_books_square_with_the_303s_and_the_journal(world):
    frame = reports.reconciliation(snapshot_of(world), 2024)
    assert frame["matches"].all()
    assert set(frame["explanation"]) == {"Cuadra"}
    rows = {(r.period, r.box): r for r in frame.itertuples()}
    assert (rows[("1T", "27")].book, rows[("1T", "27")].declared, rows[("1T", "27")].booked) == (
        D("260.00"),
        D("260.00"),
        D("260.00"),
    )
    assert (rows[("1T", "04")].book, rows[("1T", "07")].book, rows[("2T", "09")].book) == (
        D("500.00"),
        D("1000.00"),
        D("105.00"),
    )
    assert (rows[("2T", "45")].book, rows[("2T", "45")].declared, rows[("2T", "45")].booked) == (
        D("210.00"),
        D("210.00"),
        D("210.00"),
    )


def test_an_invoice_in_the_book_but_not_in_the_303_is_named(world):
    frame = reports.reconciliation(snapshot_of(world, "desvio"), 2024)
    assert reports.differing_periods(frame) == ["1T"]
    [row] = [r for r in frame.itertuples() if r.box == "27" and r.period == "1T"]
    assert (row.book, row.declared, row.booked, row.difference_303, row.difference_journal) == (
        D("281.00"),
        D("260.00"),
        D("281.00"),
        D("21.00"),
        D("0.00"),
    )
    assert row.explanation == (
        "El libro suma 21,00 € más que la casilla 27 del 303. Lo explica la factura A-9 del 28/02/2024 "
        "(IVA 21,00 €): está en el libro pero no en el 303."
    )
    [base] = [r for r in frame.itertuples() if r.box == "07" and r.period == "1T"]
    assert "100,00 €" in base.explanation and "A-9" in base.explanation


def test_row_errors_name_file_and_row(tmp_path):
    bad = ISSUED_CSV + (
        f"31/02/2024;A;A-4;{CUSTOMER};Cliente Uno SL;10,00;21,00;2,10;12,10\n"
        f"01/06/2024;A;A-5;{CUSTOMER};Cliente Uno SL;1.234,56;21,00;259,26;1493,82\n"
    )
    problems = read_books(tmp_path, bad)
    errors = [(p.rule, p.file, p.line, p.message) for p in problems if p.severity == "error"]
    assert errors == [
        ("vatbook_row", "libros/expedidas_2024.csv", 5, "Fecha Expedición «31/02/2024» no es una fecha dd/mm/aaaa"),
        (
            "vatbook_row",
            "libros/expedidas_2024.csv",
            6,
            "Base Imponible «1.234,56» no es un importe (formato 1234,56, sin separador de miles)",
        ),
    ]


def test_cuota_total_and_nif_are_checked_as_warnings(tmp_path):
    odd = ISSUED_CSV + "30/06/2024;A;A-6;B12345678;Cliente Raro SL;100,00;21,00;20,00;125,00\n"
    warnings = [(p.rule, p.line, p.message) for p in read_books(tmp_path, odd) if p.severity == "warning"]
    assert warnings == [
        ("vatbook_quota", 5, "factura A-6: la cuota 20,00 no es la base 100,00 × 21,00 % = 21,00"),
        ("vatbook_total", 5, "factura A-6: el total 125,00 no es base + cuotas = 120,00"),
        ("vatbook_nif", 5, "factura A-6: el NIF del destinatario «B12345678» no es válido (letra o dígito de control)"),
    ]


def test_a_file_without_a_book_header_is_an_error(tmp_path):
    problems = read_books(tmp_path, "fecha;importe\n01/01/2024;1,00\n")
    assert [(p.rule, p.file) for p in problems if p.severity == "error"] == [
        ("vatbook_columns", "libros/expedidas_2024.csv")
    ]


# --- the demo -----------------------------------------------------------------------------------------------------


def test_the_demo_names_norte_3t_2024_invoice_left_out_of_the_303(tmp_path, monkeypatch):
    """norte alone (its simulation, firm invoices included, is the one `python -m etl demo` writes)."""
    monkeypatch.setattr(load, "readers", lambda: (taxes.READER, vat_books.READER))
    until = date(2026, 3, 15)
    plan = plan_invoices(tuple(c for c in COMPANIES if c.journal_format != TRIAL_BALANCE_FORMAT), until, 2026)
    [norte] = [c for c in COMPANIES if c.code == "norte"]
    settings = load_settings({"PORTAL_DATA_DIR": str(tmp_path / "data")})
    write_demo_company(Simulator(norte, until, 2026, plan["norte"]).run(), settings.sources / "norte", 2026)
    [result] = service.load_all(settings, companies=["norte"])
    assert result.outcome == "published", result.message
    assert not [p for p in result.problems if p.rule.startswith("vatbook")]
    snapshot = Store(settings.stores).current("norte")
    for year in (2023, 2025):
        assert reports.differing_periods(reports.reconciliation(snapshot, year)) == []
    frame = reports.reconciliation(snapshot, 2024)
    assert reports.differing_periods(frame) == ["3T"]
    [row] = [r for r in frame.itertuples() if r.period == "3T" and r.box == "27"]
    assert (row.difference_303, row.difference_journal) == (D("493.77"), D("0.00"))
    assert "Lo explica la factura A-2024/0079 del 30/09/2024 (IVA 493,77 €)" in row.explanation


# --- the page -----------------------------------------------------------------------------------------------------


def metrics(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def test_the_page_shows_the_issued_book_and_its_totals(world, downloaded):  # noqa: F811
    at = open_page(signed_in("fiscal"), "libros_iva")
    assert [t.value for t in at.title] == ["Libros de IVA"]
    assert [t.label for t in at.tabs] == ["Facturas expedidas", "Facturas recibidas", "Cuadre con el 303 y el diario"]
    assert metrics(at) == {
        "Facturas": "3",
        "Base imponible": "2.000,00 €",
        "IVA repercutido": "365,00 €",
        "Total facturado": "2.365,00 €",
    }
    first = table(at, 0)[0]
    assert (first["Fecha"], first["Factura"], first["Cliente"], first["Tipo de IVA"], first["IVA repercutido"]) == (
        "15/01/2024",
        "A-1",
        "Cliente Uno SL",
        "21,00 %",
        "210,00 €",
    )
    assert sorted(n.rsplit(".", 1)[1] for n in downloaded) == ["csv", "pdf", "xlsx"]
    [csv_file] = [content for name, content in downloaded.items() if name.endswith(".csv")]
    assert [r["IVA repercutido"] for r in spanish_csv(csv_file)] == ["210,00", "50,00", "105,00"]
    [pdf] = [content for name, content in downloaded.items() if name.endswith(".pdf")]
    assert pdf.startswith(b"%PDF")


def test_the_page_names_the_difference_with_the_303(world):
    at = open_page(signed_in("ajeno"), "libros_iva")
    at.session_state[f"iva-tab-desvio-{snapshot_of(world, 'desvio').snapshot_id}"] = "Cuadre con el 303 y el diario"
    at.run()
    assert not at.exception, at.exception
    assert "No cuadran: 1T 2024." in texts(at)
    [row] = [r for r in table(at, 0) if r["Casilla"] == "27" and r["Periodo"] == "1T 2024"]
    assert (row["Libro"], row["Modelo 303"], row["Diario"]) == ("281,00 €", "260,00 €", "281,00 €")
    assert "factura A-9" in row["Resultado"]


def test_only_users_with_the_company_and_the_taxes_module_see_the_books(world):
    at = signed_in("conta")  # fisco, but only contabilidad
    request_url_path(at, "libros-iva")
    assert "No tiene acceso a esta página." in texts(at)
    assert len(at.dataframe) == 0 and not at.metric
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page("views/libros_iva.py")
    other = open_page(signed_in("ajeno"), "libros_iva")  # desvio only: never fisco's figures
    assert metrics(other)["Base imponible"] == "2.100,00 €"
    assert "2.000,00 €" not in str(metrics(other))


def test_a_company_without_books_says_so(world, tmp_path):
    shutil.rmtree(world.settings.sources / "fisco" / "impuestos" / "libros")
    assert service.load_all(world.settings, companies=["fisco"])[0].outcome == "published"
    at = open_page(signed_in("fiscal"), "libros_iva")
    assert "El despacho todavía no ha publicado los libros registro de IVA de esta empresa." in texts(at)
