"""The layout of the PDFs users download, read back from the files: the statements' column headers never overlap,
amounts are Spanish money with a real '€', one indent step per level; the demo invoices' labels are never cut.

No PDF library is installed, so the test reads the files itself: it inflates the content streams and takes every
``x y Td (text) Tj`` with its font; text widths come from the core fonts' metrics (fpdf's tables, Adobe's widths).
"""

from __future__ import annotations

import itertools
import re
import zlib
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path

import pandas as pd
import pytest
from fpdf import FPDF

from etl.demo import COMPANIES, Simulator, plan_invoices
from etl.demo.modules import write_invoices
from etl.demo.writers import write_pdf
from etl.store import Store
from reports import export
from reports.periods import year_to_date
from reports.statements import balance_sheet, calendar_of, profit_and_loss
from tests.reports_books import JOURNAL, load_company

A4_WIDTH = 595.28  # points
A4_LANDSCAPE_WIDTH = 841.89
MARGIN = 28.35  # fpdf's default 10 mm margin, in points
MM = 72 / 25.4  # points per millimetre
STREAM = re.compile(rb"stream\r?\n(.*?)\r?\nendstream", re.S)
TEXT = re.compile(
    rb"BT /(F\d+) ([\d.]+) Tf ET|BT ([\d.]+) ([\d.]+) Td (?:[\d.]+ Tw )?\(((?:\\.|[^\\)])*)\) Tj ET", re.S
)
FONT_OBJECT = re.compile(rb"(\d+) 0 obj\s*<<\s*/BaseFont /([\w-]+)")
FONT_NAME = re.compile(rb"/(F\d+) (\d+) 0 R")
ESCAPES = {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"(": b"(", b")": b")", b"\\": b"\\"}


@dataclass(frozen=True)
class Run:
    """One piece of text drawn: page (from 1), font (base name), size and position in points, text."""

    page: int
    font: str
    size: float
    x: float
    y: float
    text: str

    @property
    def width(self) -> float:
        return string_width(self.font, self.size, self.text)

    @property
    def right(self) -> float:
        return self.x + self.width


@cache
def string_width(font: str, size: float, text: str) -> float:
    """The width in points of a text in a core font, from the font's own metrics."""
    pdf = FPDF(unit="pt")
    pdf.core_fonts_encoding = "windows-1252"
    family, _, style = font.partition("-")
    pdf.set_font(family, {"": "", "Bold": "B", "Oblique": "I", "BoldOblique": "BI"}[style], size)
    return pdf.get_string_width(text)


def runs(data: bytes) -> list[Run]:
    """Every text run of a PDF written by fpdf with the core fonts (WinAnsiEncoding), in drawing order."""
    objects = {number: name.decode() for number, name in FONT_OBJECT.findall(data)}
    fonts = {name.decode(): objects[number] for name, number in FONT_NAME.findall(data)}
    out: list[Run] = []
    font, size = "", 0.0
    for page, match in enumerate(STREAM.finditer(data), start=1):
        content = zlib.decompress(match.group(1))
        for name, points, x, y, raw in TEXT.findall(content):
            if name:
                font, size = fonts[name.decode()], float(points)
                continue
            text = re.sub(rb"\\(.)", lambda m: ESCAPES.get(m.group(1), m.group(1)), raw, flags=re.S)
            out.append(Run(page, font, size, float(x), float(y), text.decode("cp1252")))
    return out


def on_line(found: list[Run], anchor: Run) -> list[str]:
    """The texts drawn on the same line as ``anchor``, left to right."""
    same = [r for r in found if r.page == anchor.page and abs(r.y - anchor.y) < 0.01]
    return [r.text for r in sorted(same, key=lambda r: r.x)]


def the(found: list[Run], text: str) -> Run:
    [run] = [r for r in found if r.text == text]
    return run


def assert_nothing_overlaps(found: list[Run], page_width: float = A4_WIDTH) -> None:
    """No two texts on one line share a point (0,5 pt of air at least), and every text is inside the margins."""
    for run in found:
        assert run.x >= MARGIN - 0.01 and run.right <= page_width - MARGIN + 0.01, run
    for index, one in enumerate(found):
        for other in found[index + 1 :]:
            if one.page == other.page and abs(one.y - other.y) < max(one.size, other.size):
                left, right = sorted((one, other), key=lambda r: r.x)
                assert left.right + 0.5 <= right.x, (left, right)


# --- statements -----------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def snapshot(tmp_path_factory):
    root = tmp_path_factory.mktemp("pdf")
    load_company(root, "hand", JOURNAL, {"nombre": "Mano SL", "modelo_pgc": "pymes", "ejercicios": [2024, 2025]})
    return Store(root / "data" / "stores").current("hand")


@pytest.fixture(scope="module")
def pyg_pdf(snapshot) -> list[Run]:
    statement = profit_and_loss(snapshot, year_to_date(calendar_of(snapshot), date(2025, 6, 30)))
    return runs(export.statement_pdf(statement, firm="Asesoría Demo", company="Mano SL", stamp="Datos a fecha x"))


@pytest.fixture(scope="module")
def balance(snapshot):
    return balance_sheet(snapshot, date(2025, 12, 31))


@pytest.fixture(scope="module")
def balance_pdf(balance) -> list[Run]:
    return runs(export.statement_pdf(balance, firm="Asesoría Demo", company="Mano SL", stamp="Datos a fecha x"))


def test_the_long_headers_of_the_pyg_wrap_inside_their_own_columns(pyg_pdf):
    # «Ejercicio 2025 hasta el 30/06/2025» is wider than an amount column: it wraps, it never runs into the next one.
    top = the(pyg_pdf, "Ejercicio 2025 hasta el 30/06/2025 · Datos a fecha x").y
    first = the(pyg_pdf, "1. Importe neto de la cifra de negocios").y
    columns: dict[float, list[Run]] = {}  # the header runs by their right edge (right-aligned), top line first
    for run in sorted((r for r in pyg_pdf if r.page == 1 and first < r.y < top), key=lambda r: -r.y):
        columns.setdefault(round(run.right, 1), []).append(run)
    current, prior = (columns[right] for right in sorted(columns))
    assert " ".join(r.text for r in current) == "Ejercicio 2025 hasta el 30/06/2025"
    assert " ".join(r.text for r in prior) == "Ejercicio 2024 hasta el 30/06/2024"
    assert {r.font for r in current + prior} == {"Helvetica-Bold"}
    assert max(r.right for r in current) + 2 * MM <= min(r.x for r in prior)
    assert_nothing_overlaps(pyg_pdf)


def test_the_pyg_amounts_are_spanish_money_under_their_headers(pyg_pdf):
    # Up to 30/06/2025: sale 3.000,00 − salaries 1.500,00 − interest 50,00; up to 30/06/2024: sale 2.000,00 −
    # purchase 800,00.
    result = the(pyg_pdf, "D) RESULTADO DEL EJERCICIO")
    assert on_line(pyg_pdf, result) == ["D) RESULTADO DEL EJERCICIO", "1.450,00 €", "1.200,00 €"]
    assert on_line(pyg_pdf, the(pyg_pdf, "6. Gastos de personal")) == ["6. Gastos de personal", "-1.500,00 €", "0,00 €"]
    amounts = [r for r in pyg_pdf if r.y == result.y][1:]
    heads = [the(pyg_pdf, "30/06/2025"), the(pyg_pdf, "30/06/2024")]
    assert [round(r.right, 1) for r in amounts] == [round(r.right, 1) for r in heads]  # right-aligned together


def test_the_balance_writes_the_euro_sign_never_eur(balance_pdf):
    texts = [r.text for r in balance_pdf]
    assert not [t for t in texts if "EUR" in t]
    # 31/12/2025: machine 6.000,00 − depreciation 1.200,00 + client 3.630,00 − allowance 200,00 + VAT 378,00 + loan
    # to a partner 500,00 + bank 1 4.670,00 = 13.778,00; 31/12/2024: 5.400,00 + 2.220,00 + 168,00 + 4.000,00.
    assert on_line(balance_pdf, the(balance_pdf, "TOTAL ACTIVO (A + B)")) == [
        "TOTAL ACTIVO (A + B)",
        "13.778,00 €",
        "11.788,00 €",
    ]
    assert "Cuadre activo = patrimonio neto + pasivo: correcto (0,00 €)" in texts
    assert_nothing_overlaps(balance_pdf)


def test_the_balance_indents_one_step_per_level_totals_included(balance, balance_pdf):
    positions: dict[int, set[float]] = {}
    for line in balance.lines.itertuples():
        [run] = {r.x: r for r in balance_pdf if r.text == line.label}.values()  # repeated labels share their x
        positions.setdefault(int(line.depth), set()).add(run.x)
    assert sorted(positions) == [0, 1, 2, 3, 4]
    assert all(len(xs) == 1 for xs in positions.values()), positions
    x = [positions[depth].pop() for depth in range(5)]
    assert x[0] == pytest.approx(MARGIN + MM, abs=0.01)  # the margin and the cell padding of 1 mm
    steps = {round(b - a, 2) for a, b in itertools.pairwise(x)}
    assert len(steps) == 1 and steps.pop() > 0
    # «II. Deudores comerciales…» is a subtotal beside «I. Existencias»: same level, same indent.
    assert (
        the(balance_pdf, "II. Deudores comerciales y otras cuentas a cobrar").x == the(balance_pdf, "I. Existencias").x
    )


# --- demo invoices --------------------------------------------------------------------------------------------------


def invoice(path: Path, lines: list[tuple[str, str, str, str]], totals: list[tuple[str, str]]) -> list[Run]:
    """An invoice written as the demo writes them (same columns and least widths)."""
    write_pdf(
        path,
        "Factura FD-2025-0001",
        ("Asesoría Demo SLP", "NIF B00000000", "Calle Mayor 1, Valencia"),
        (("Fecha", "31/01/2025"), ("Cliente", "Mano SL")),
        [("Descripción", "Cantidad", "Precio", "Importe"), *lines, *[("", "", label, v) for label, v in totals]],
        (58, 10, 12, 14),
        footer="Documento de prueba.",
    )
    return runs(path.read_bytes())


def test_the_invoice_totals_labels_are_written_whole(tmp_path):
    # 2 × 150,00 + 1 × 700,00 = 1.000,00; VAT 21 % 210,00; IRPF 15 % 150,00; total 1.000 + 210 − 150 = 1.060,00.
    found = invoice(
        tmp_path / "f.pdf",
        [("Iguala mensual 01/2025", "2", "150,00", "300,00"), ("Cierre contable 2024", "1", "700,00", "700,00")],
        [
            ("Base imponible", "1000,00"),
            ("IVA 21 %", "210,00"),
            ("Retención IRPF 15 %", "-150,00"),
            ("Total a pagar", "1060,00"),
        ],
    )
    for label, amount in (
        ("Base imponible", "1000,00"),
        ("IVA 21 %", "210,00"),
        ("Retención IRPF 15 %", "-150,00"),
        ("Total a pagar", "1060,00"),
    ):
        assert on_line(found, the(found, label)) == [label, amount]
    importe = the(found, "Importe")
    assert the(found, "1060,00").right == pytest.approx(importe.right, abs=0.01)
    assert the(found, "Base imponible").right <= the(found, "Precio").right + 0.01
    assert_nothing_overlaps(found)


def test_a_long_label_widens_its_column_instead_of_being_cut(tmp_path):
    label = "Retención del impuesto sobre la renta de las personas físicas al 15 %"
    found = invoice(tmp_path / "f.pdf", [("Iguala", "1", "100,00", "100,00")], [(label, "-15,00")])
    assert on_line(found, the(found, label)) == [label, "-15,00"]
    assert_nothing_overlaps(found)


def test_a_demo_invoice_pdf_shows_every_label_whole(tmp_path):
    # levante's February 2023 invoice: iguala 1 × 180,00 + payslips 5 × 18,00 = 270,00; VAT 21 % 56,70;
    # IRPF 15 % 40,50; total 270,00 + 56,70 − 40,50 = 286,20.
    until = date(2023, 3, 31)
    [company] = [c for c in COMPANIES if c.code == "levante"]
    plan = plan_invoices(COMPANIES, until, 2026)[company.code]
    [february] = [i.number for i in plan if (i.day.year, i.day.month) == (2023, 2)]  # numbered firm-wide
    books = Simulator(company, until, 2026, plan).run()
    write_invoices(tmp_path, books)
    found = runs((tmp_path / "pdf" / f"{february}.pdf").read_bytes())
    assert on_line(found, the(found, "Base imponible")) == ["Base imponible", "270,00"]
    assert on_line(found, the(found, "IVA 21 %")) == ["IVA 21 %", "56,70"]
    assert on_line(found, the(found, "Retención IRPF 15 %")) == ["Retención IRPF 15 %", "-40,50"]
    assert on_line(found, the(found, "Total a pagar")) == ["Total a pagar", "286,20"]
    line = the(found, "Confección de nóminas y seguros sociales 02/2023")
    assert on_line(found, line) == [line.text, "5", "18,00", "90,00"]
    assert_nothing_overlaps(found)


def test_a_table_pdf_wraps_a_long_cell_inside_its_column_and_repeats_the_header():
    # A received-invoices book: a supplier name far wider than its share of the landscape page.
    name = (
        "Suministros Industriales y Mantenimiento Integral de Maquinaria Agrícola del Valle del Ebro y de sus"
        " Afluentes, Sociedad Limitada Unipersonal"
    )
    rows = [
        ("01/02/2026", f"F-{n:04d}", name if n == 3 else "Proveedor SL", "1.000,00 €", "21 %", "210,00 €")
        for n in range(60)
    ]
    table = pd.DataFrame(rows, columns=["Fecha", "Factura", "Proveedor", "Base imponible", "Tipo", "Cuota"])
    data = export.table_pdf(table, title="Libro de facturas recibidas 2026", firm="Despacho", company="Ebro", stamp="1")
    found = runs(data)
    assert_nothing_overlaps(found, page_width=A4_LANDSCAPE_WIDTH)
    column = next(r.x for r in found if r.text == "Proveedor")
    parts = [r.text for r in found if abs(r.x - column) < 0.5 and r.text not in ("Proveedor", "Proveedor SL")]
    assert " ".join(parts) == name  # wrapped inside its column, every word kept
    pages = max(r.page for r in found)
    assert pages >= 2 and sum(r.text == "Proveedor" for r in found) == pages  # the header on every page
    amounts = [r for r in found if r.text == "210,00 €"]
    assert len(amounts) == 60 and len({round(r.right, 1) for r in amounts}) == 1  # right-aligned in one column
