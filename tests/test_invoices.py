"""The facturas module: every rejection rule names file and line, a missing PDF only warns, and the invoice list
gives hand-computed states (paid, paid late, pending, overdue around a fixed day), totals and fees by month."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from etl import service
from etl.modules import invoices
from etl.sources import CompanyInfo
from etl.store import Store
from portal.settings import load_settings
from reports import invoices as reports
from tests.test_cases import JOURNAL, write_cases

D = Decimal
TODAY = date(2025, 6, 15)
FACTURAS = (
    "numero;fecha;concepto;base;tipo_iva;cuota_iva;tipo_irpf;retencion_irpf;total;vencimiento;forma_pago;fecha_cobro\n"
    "FD-2024-0090;31/12/2024;Cierre contable 2024;1000,00;21,00;210,00;15,00;150,00;1060,00;10/01/2025;"
    "transferencia;10/01/2025\n"
    "FD-2025-0001;31/01/2025;Honorarios 01/2025;100,00;21,00;21,00;15,00;15,00;106,00;10/02/2025;"
    "domiciliacion;10/02/2025\n"
    "FD-2025-0002;28/02/2025;Honorarios 02/2025 y alta censal;250,50;21,00;52,61;15,00;37,58;265,53;10/03/2025;"
    "transferencia;02/04/2025\n"
    "FD-2025-0003;31/05/2025;Honorarios 05/2025;60,00;21,00;12,60;15,00;9,00;63,60;10/06/2025;transferencia;\n"
    "FD-2025-0004;13/06/2025;Consultoría laboral;80,00;21,00;16,80;15,00;12,00;84,80;15/06/2025;transferencia;\n"
)  # fmt: skip
# By hand: 250,50 × 21 % = 52,605 -> 52,61 and × 15 % = 37,575 -> 37,58 (half up); 250,50 + 52,61 − 37,58 = 265,53.
LINEAS = (
    "numero;linea;descripcion;cantidad;precio;importe\n"
    "FD-2024-0090;1;Cierre contable 2024;1;1000,00;1000,00\n"
    "FD-2025-0001;1;Iguala mensual 01/2025;1;100,00;100,00\n"
    "FD-2025-0002;1;Iguala mensual 02/2025;1;200,50;200,50\n"
    "FD-2025-0002;2;Alta censal (036);2;25,00;50,00\n"
    "FD-2025-0003;1;Iguala mensual 05/2025;1;60,00;60,00\n"
    "FD-2025-0004;1;Horas de consultoría;2,5;32,00;80,00\n"
)
WITH_PDF = ("FD-2024-0090", "FD-2025-0001", "FD-2025-0002", "FD-2025-0003")  # FD-2025-0004 has none


def pdf_bytes(number: str) -> bytes:
    """A small stand-in PDF whose bytes name the invoice."""
    return f"%PDF-1.4\n% factura {number}\n%%EOF\n".encode()


def write_invoices(folder: Path, **files: str | None) -> None:
    """facturas/ under a company folder (override facturas=, lineas=; None leaves a file out)."""
    base = folder / "facturas"
    (base / "pdf").mkdir(parents=True, exist_ok=True)
    for name, default in (("facturas", FACTURAS), ("lineas", LINEAS)):
        content = files.get(name, default)
        if content is not None:
            (base / f"{name}.csv").write_text(content, encoding="utf-8")
    for number in WITH_PDF:
        (base / "pdf" / f"{number}.pdf").write_bytes(pdf_bytes(number))


def write_company(sources: Path, code: str = "desp", name: str = "Despacho Cliente SL") -> Path:
    """A company folder with a small journal, the invoices and the case files of tests/test_cases.py."""
    folder = sources / code
    write_invoices(folder)
    write_cases(folder)
    (folder / "diario.csv").write_text(JOURNAL, encoding="utf-8")
    (folder / "empresa.json").write_text(json.dumps({"nombre": name}), encoding="utf-8")
    return folder


def read_folder(tmp_path: Path, **files: str | None):
    """The reader's output on a company folder with only the invoices."""
    folder = tmp_path / "src" / "desp"
    write_invoices(folder, **files)
    return invoices.read(duckdb.connect(), folder, CompanyInfo(code="desp", name="Desp"))


def errors(problems: list) -> list[tuple[str, int | None, str]]:
    return [(p.file, p.line, p.message) for p in problems if p.severity == "error"]


def test_the_hand_files_read_with_only_the_missing_pdf_warning(tmp_path):
    output = read_folder(tmp_path)
    assert [(p.severity, p.file, p.line, p.message) for p in output.problems] == [
        ("warning", "facturas/facturas.csv", 6, "Falta el PDF de la factura FD-2025-0004 (pdf/FD-2025-0004.pdf)")
    ]
    assert output.manifest == {"invoices": 5, "invoice_lines": 6, "invoice_pdfs": 4}
    assert set(output.tables) == {"invoices.parquet", "invoice_lines.parquet", "invoice_pdfs.parquet"}


REJECTIONS = [
    ("facturas", FACTURAS.replace("FD-2025-0003;31/05", "F-2025-3;31/05"), 5,
     "numero «F-2025-3» no tiene el formato FD-<año>-<nnnn>"),
    ("facturas", FACTURAS.replace("FD-2025-0004;13/06", "FD-2025-0003;13/06"), 6,
     "numero «FD-2025-0003» repetido (ya en la línea 5)"),
    ("facturas", FACTURAS.replace("FD-2025-0001;31/01/2025", "FD-2025-0001;31/01/2026"), 3,
     "numero «FD-2025-0001» es de la serie de 2025 pero fecha es «31/01/2026»"),
    ("facturas", FACTURAS.replace("21,00;52,61", "21,00;52,60"), 4,
     "cuota_iva «52,60» no es base × tipo_iva = 52,61"),
    ("facturas", FACTURAS.replace("15,00;37,58;265,53", "15,00;37,57;265,54"), 4,
     "retencion_irpf «37,57» no es base × tipo_irpf = 37,58"),
    ("facturas", FACTURAS.replace("9,00;63,60", "9,00;63,70"), 5,
     "total «63,70» no es base + cuota_iva − retencion_irpf = 63,60"),
    ("facturas", FACTURAS.replace("1000,00;21,00;210,00", "1.000,00;21,00;210,00"), 2,
     "base «1.000,00» no es un importe (formato 1234,56)"),
    ("facturas", FACTURAS.replace("10/03/2025;transferencia", "31/02/2025;transferencia"), 4,
     "vencimiento «31/02/2025» no es una fecha dd/mm/aaaa"),
    ("facturas", FACTURAS.replace("10/06/2025;transferencia", "10/05/2025;transferencia"), 5,
     "vencimiento «10/05/2025» es anterior a fecha «31/05/2025»"),
    ("facturas", FACTURAS.replace("domiciliacion;10/02/2025", "domiciliacion;30/01/2025"), 3,
     "fecha_cobro «30/01/2025» es anterior a fecha «31/01/2025»"),
    ("facturas", FACTURAS.replace(";fecha;", ";dia;"), 1, "Faltan columnas: fecha"),
    ("lineas", LINEAS.replace("(036);2;25,00;50,00", "(036);1;25,00;25,00"), 4,
     "base «250,50» de FD-2025-0002 no es la suma de sus 2 líneas de lineas.csv = 225,50"),
    ("lineas", LINEAS.replace("2,5;32,00;80,00", "2,5;32,00;81,00"), 7,
     "importe «81,00» no es cantidad × precio = 80,00"),
    ("lineas", LINEAS + "FD-2025-0009;1;Otra;1;10,00;10,00\n", 8, "numero «FD-2025-0009» no está en facturas.csv"),
    ("lineas", LINEAS + "FD-2025-0001;1;Repetida;1;0,00;0,00\n", 8,
     "numero y linea «FD-2025-0001 1» repetido (ya en la línea 3)"),
    ("lineas", LINEAS.replace("2,5;32,00", "2.5;32,00"), 7, "cantidad «2.5» no es una cantidad"),
]  # fmt: skip


@pytest.mark.parametrize(("name", "content", "line", "message"), REJECTIONS)
def test_each_rejection_rule_names_file_line_column_and_value(tmp_path, name, content, line, message):
    output = read_folder(tmp_path, **{name: content})
    where = "facturas/facturas.csv" if message.startswith("base «250,50» de") else f"facturas/{name}.csv"
    assert (where, line, message) in [(f, n, m[: len(message)]) for f, n, m in errors(output.problems)]
    assert output.tables == {}


def test_a_missing_lines_file_is_an_error(tmp_path):
    output = read_folder(tmp_path, lineas=None)
    assert ("facturas/lineas.csv", None, "Falta el archivo lineas.csv") in errors(output.problems)


def test_a_file_that_is_not_a_pdf_and_an_unlisted_pdf_only_warn(tmp_path):
    folder = tmp_path / "src" / "desp"
    write_invoices(folder)
    (folder / "facturas" / "pdf" / "FD-2025-0001.pdf").write_bytes(b"<html>no</html>")
    (folder / "facturas" / "pdf" / "FD-2025-0777.pdf").write_bytes(pdf_bytes("FD-2025-0777"))
    output = invoices.read(duckdb.connect(), folder, CompanyInfo(code="desp", name="Desp"))
    assert {(p.severity, p.rule, p.file) for p in output.problems} == {
        ("warning", "invoice_pdf_invalid", "pdf/FD-2025-0001.pdf"),
        ("warning", "invoice_pdf_unlisted", "pdf/FD-2025-0777.pdf"),
        ("warning", "invoice_pdf_missing", "facturas/facturas.csv"),
    }
    assert output.manifest["invoice_pdfs"] == 3


def test_a_facturae_xml_is_not_read_and_says_why(tmp_path):
    folder = tmp_path / "src" / "desp"
    write_invoices(folder)
    (folder / "facturas" / "FD-2025-0001.xml").write_text("<Facturae/>", encoding="utf-8")
    assert folder / "facturas" / "FD-2025-0001.xml" in invoices.inputs(folder)  # adding one reloads the company
    output = invoices.read(duckdb.connect(), folder, CompanyInfo(code="desp", name="Desp"))
    [skipped] = [p for p in output.problems if p.rule == "invoice_facturae_skipped"]
    assert (skipped.severity, skipped.file) == ("warning", "facturas/FD-2025-0001.xml")
    assert "esquema oficial (XSD)" in skipped.message and output.manifest["invoices"] == 5


def test_an_invoice_error_rejects_the_company_load_and_the_published_snapshot_stays(tmp_path):
    settings = load_settings({"PORTAL_DATA_DIR": str(tmp_path / "data")})
    folder = write_company(settings.sources)
    [first] = service.load_all(settings, companies=["desp"])
    assert first.outcome == "published", first.message
    published = Store(settings.stores).current("desp").snapshot_id
    (folder / "facturas" / "facturas.csv").write_text(FACTURAS.replace("9,00;63,60", "9,00;63,70"), encoding="utf-8")
    [second] = service.load_all(settings, companies=["desp"])
    assert second.outcome == "rejected"
    assert Store(settings.stores).current("desp").snapshot_id == published


# --- read side --------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def snapshot(tmp_path_factory):
    data = tmp_path_factory.mktemp("invoices") / "data"
    settings = load_settings({"PORTAL_DATA_DIR": str(data)})
    write_company(settings.sources)
    [result] = service.load_all(settings, companies=["desp"])
    assert result.outcome == "published", result.message
    return Store(settings.stores).current("desp")


def test_states_on_a_fixed_day_paid_on_time_paid_late_overdue_and_pending_on_its_due_day(snapshot):
    frame = reports.invoices(snapshot, TODAY)
    assert dict(zip(frame["number"], frame["state"], strict=True)) == {
        "FD-2025-0004": "pending",  # due 15/06/2025 = today: not overdue yet
        "FD-2025-0003": "overdue",  # due 10/06/2025, unpaid
        "FD-2025-0002": "paid",  # paid late (02/04 after the 10/03 due date): paid all the same
        "FD-2025-0001": "paid",
        "FD-2024-0090": "paid",
    }
    earlier = reports.invoices(snapshot, date(2025, 6, 10))
    assert earlier.set_index("number").loc["FD-2025-0003", "state"] == "pending"  # its due day


def test_invoice_state_rule():
    due = date(2025, 6, 10)
    assert reports.invoice_state(due, None, date(2025, 6, 10)) == "pending"
    assert reports.invoice_state(due, None, date(2025, 6, 11)) == "overdue"
    assert reports.invoice_state(due, date(2025, 7, 1), date(2025, 8, 1)) == "paid"


def test_totals_of_2025_and_of_each_state_by_hand(snapshot):
    year = reports.invoices(snapshot, TODAY, year=2025)
    # base 100 + 250,50 + 60 + 80; VAT 21 + 52,61 + 12,60 + 16,80; IRPF 15 + 37,58 + 9 + 12; total 106 + 265,53 + …
    assert reports.totals(year) == reports.InvoiceTotals(4, D("490.50"), D("103.01"), D("73.58"), D("519.93"))
    overdue = reports.invoices(snapshot, TODAY, year=2025, state="overdue")
    assert overdue["number"].tolist() == ["FD-2025-0003"]
    assert reports.totals(overdue) == reports.InvoiceTotals(1, D("60.00"), D("12.60"), D("9.00"), D("63.60"))
    paid = reports.invoices(snapshot, TODAY, state="paid")
    assert reports.totals(paid).total == D("1431.53")  # 1060 + 106 + 265,53
    assert reports.years(snapshot) == [2025, 2024]


def test_fees_by_month_fill_the_months_without_invoices(snapshot):
    fees = reports.fees_by_month(reports.invoices(snapshot, TODAY, year=2025))
    assert list(zip(fees["month"], fees["base"], strict=True)) == [
        (date(2025, 1, 1), D("100.00")),
        (date(2025, 2, 1), D("250.50")),
        (date(2025, 3, 1), D("0.00")),
        (date(2025, 4, 1), D("0.00")),
        (date(2025, 5, 1), D("60.00")),
        (date(2025, 6, 1), D("80.00")),
    ]


def test_lines_and_pdf_of_an_invoice(snapshot):
    lines = reports.lines(snapshot, "FD-2025-0002")
    assert list(zip(lines["description"], lines["quantity"], lines["amount"], strict=True)) == [
        ("Iguala mensual 02/2025", D("1"), D("200.50")),
        ("Alta censal (036)", D("2"), D("50.00")),
    ]
    assert reports.pdf(snapshot, "FD-2025-0002") == ("FD-2025-0002.pdf", pdf_bytes("FD-2025-0002"))
    assert reports.pdf(snapshot, "FD-2025-0004") is None


@pytest.mark.parametrize(
    ("today", "summary"),
    [
        (TODAY, reports.InvoiceSummary(2, D("148.40"), 1)),  # 63,60 overdue + 84,80 pending
        (date(2025, 6, 10), reports.InvoiceSummary(2, D("148.40"), 0)),
        (date(2025, 6, 16), reports.InvoiceSummary(2, D("148.40"), 2)),
    ],
)
def test_home_summary_on_a_fixed_day(snapshot, today, summary):
    assert reports.home_summary(snapshot, today) == summary
