"""The demo's VAT record books in the AEAT format: every invoice with VAT the simulation booked, by year.

Most companies get one workbook per year (sheets EXPEDIDAS_INGRESOS and RECIBIDAS_GASTOS, title lines, the two
header rows); ``mgarcia`` and ``mediterraneo`` get two ';' files per year with the same two header rows.
The books hold exactly what the journal's 477/472 hold, so they reconcile to every 303 except norte's 3T 2024.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import openpyxl
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

from etl.demo.journal import BookedInvoice, Books
from etl.demo.writers import FIXED_STAMP, _rezip, day_text, money
from etl.modules.vat_books import ISSUED_LAYOUT, RECEIVED_LAYOUT

BOOK_FORMATS = {"levante": "xlsx", "norte": "xlsx", "labrasa": "xlsx", "mgarcia": "csv", "mediterraneo": "csv"}
SHEETS = {"issued": "EXPEDIDAS_INGRESOS", "received": "RECIBIDAS_GASTOS"}
TITLES = {"issued": "LIBRO REGISTRO DE FACTURAS EXPEDIDAS", "received": "LIBRO REGISTRO DE FACTURAS RECIBIDAS"}
LAYOUTS = {"issued": ISSUED_LAYOUT, "received": RECEIVED_LAYOUT}
CSV_NAMES = {"issued": "expedidas", "received": "recibidas"}
BOLD = Font(bold=True)
MONEY_COLUMNS = {"Total Factura", "Base Imponible", "Cuota IVA Repercutida", "Cuota IVA Soportado", "Cuota Deducible"}


def write_vat_books(folder: Path, books: Books) -> list[Path]:
    """The company's books under impuestos/libros/ (nothing for a company without a format)."""
    kind = BOOK_FORMATS.get(books.company.code)
    if kind is None:
        return []
    folder.mkdir(parents=True, exist_ok=True)
    by_year: dict[int, list[BookedInvoice]] = defaultdict(list)
    for invoice in books.invoices:
        by_year[invoice.day.year].append(invoice)
    written = []
    for year, invoices in sorted(by_year.items()):
        rows = {book: book_rows(book, [i for i in invoices if i.book == book]) for book in SHEETS}
        if kind == "xlsx":
            path = folder / f"libros_iva_{year}.xlsx"
            write_workbook(path, books, year, rows)
            written.append(path)
        else:
            for book, values in rows.items():
                path = folder / f"{CSV_NAMES[book]}_{year}.csv"
                write_csv(path, book, values)
                written.append(path)
    return written


def book_rows(book: str, invoices: list[BookedInvoice]) -> list[dict[tuple[str, str], object]]:
    """Each invoice as its book line: (group, sub-heading) -> value (dates as dates, money in cents as int)."""
    rows = []
    for number, invoice in enumerate(sorted(invoices, key=lambda i: i.day), start=1):
        period = f"{(invoice.day.month - 1) // 3 + 1}T"
        row: dict[tuple[str, str], object] = {
            ("Autoliquidación", "Ejercicio"): invoice.day.year,
            ("Autoliquidación", "Periodo"): period,
            ("Tipo de Factura", ""): invoice.kind,
            ("Fecha Expedición", ""): invoice.day,
            ("Clave de Operación", ""): "01",
            ("Total Factura", ""): invoice.base + invoice.vat,
            ("Base Imponible", ""): invoice.base,
            ("Tipo de IVA", ""): invoice.rate,
        }
        if book == "issued":
            series = invoice.number.split("-")[0] if "-" in invoice.number else ""
            row |= {
                ("Identificación de la Factura", "Serie"): series,
                ("Identificación de la Factura", "Número"): invoice.number,
                ("NIF Destinatario", "Identificación"): invoice.nif,
                ("Nombre Destinatario", ""): invoice.name,
                ("Calificación de la Operación", ""): "S1",
                ("Cuota IVA Repercutida", ""): invoice.vat,
            }
        else:
            row |= {
                ("Identificación Factura del Expedidor", "(Serie-Número)"): invoice.number,
                ("Fecha Recepción", ""): invoice.day,
                ("Número Recepción", ""): f"{number:05d}",
                ("NIF Expedidor", "Identificación"): invoice.nif,
                ("Nombre Expedidor", ""): invoice.name,
                ("Bien de Inversión", ""): "S" if invoice.capital else "N",
                ("Inversión del Sujeto Pasivo", ""): "N",
                ("Deducible en Periodo Posterior", ""): "N",
                ("Cuota IVA Soportado", ""): invoice.vat,
                ("Cuota Deducible", ""): invoice.vat,
            }
        rows.append(row)
    return rows


def write_workbook(path: Path, books: Books, year: int, rows: dict[str, list[dict]]) -> None:
    """One workbook with both books as the AEAT's template lays them out (title lines, then a group heading over its
    sub-headings); real date and number cells; fixed dates, so identical bytes."""
    company = books.company
    book = openpyxl.Workbook(write_only=True)  # streamed: a normal workbook takes seconds for a year of invoices
    for kind, sheet_name in SHEETS.items():
        sheet = book.create_sheet(sheet_name)
        layout = LAYOUTS[kind]
        for line in (
            TITLES[kind],
            f"Ejercicio: {year}",
            f"NIF: {company.nif}",
            f"NOMBRE O RAZÓN SOCIAL: {company.name}",
        ):
            sheet.append([line])
        sheet.append([])
        sheet.append([_bold(sheet, g) for g in group_row(layout)])
        sheet.append([_bold(sheet, sub) for _, sub in layout])
        for values in rows[kind]:
            sheet.append([_typed(sheet, _cell(column, values.get(column))) for column in layout])
    book.properties.creator = "Asesoría Demo"
    book.properties.created = FIXED_STAMP.replace(tzinfo=None)
    raw = io.BytesIO()
    book.save(raw)
    _rezip(path, zipfile.ZipFile(raw), {})  # fixed timestamps: two runs write identical bytes


def group_row(layout: tuple[tuple[str, str], ...]) -> list[str]:
    """The first header row: each group heading over the first of its sub-headings, empty over the rest."""
    return [g if i == 0 or layout[i - 1][0] != g or not sub else "" for i, (g, sub) in enumerate(layout)]


def _bold(sheet, text: str) -> WriteOnlyCell | None:
    if not text:
        return None
    cell = WriteOnlyCell(sheet, value=text)
    cell.font = BOLD
    return cell


def _typed(sheet, value: object) -> object:
    """A date or amount cell with its number format; anything else as it is."""
    if hasattr(value, "year") or isinstance(value, float):
        cell = WriteOnlyCell(sheet, value=value)
        cell.number_format = "dd/mm/yyyy" if hasattr(value, "year") else "0.00"
        return cell
    return value


def _cell(column: tuple[str, str], value: object) -> object:
    """A workbook cell: money (cents) as a number of euros, a rate as a number, the rest as it is."""
    if isinstance(value, int) and column[0] in MONEY_COLUMNS:
        return value / 100
    if isinstance(value, Decimal):
        return float(value)
    return value


def write_csv(path: Path, book: str, rows: list[dict]) -> None:
    """A ';' file with the AEAT's two header rows; money and rates '1234,56', dates dd/mm/aaaa, UTF-8."""
    layout = LAYOUTS[book]
    groups = group_row(layout)
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, delimiter=";", lineterminator="\n")
        writer.writerow(groups)
        writer.writerow([sub for _, sub in layout])
        for values in rows:
            writer.writerow([_text(column, values.get(column)) for column in layout])


def _text(column: tuple[str, str], value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, int) and column[0] in MONEY_COLUMNS:
        return money(value)
    if isinstance(value, Decimal):
        return f"{value:.2f}".replace(".", ",")
    if hasattr(value, "year") and not isinstance(value, int):
        return day_text(value)  # type: ignore[arg-type]
    return str(value)
