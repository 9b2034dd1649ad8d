"""A workbook whose sheet is damaged (the zip is sound, the sheet's XML is cut): every reader of Excel files rejects it
with a Spanish message naming the file, never with a traceback. openpyxl's read-only mode parses a sheet while its
rows are iterated, so the damage shows up after the workbook has opened."""

from __future__ import annotations

import zipfile
from datetime import date
from pathlib import Path

import duckdb
import openpyxl

from etl.journal import read_journal
from etl.modules.vat_books import workbook_sheets
from etl.problems import Problem
from etl.sources import CompanyInfo, journal_files
from etl.trial_balance_input import read_trial_balances

COMPANY = CompanyInfo("ACME", "ACME S.L.", fiscal_years=(2025,))


def damaged_workbook(path: Path, rows: list[tuple]) -> Path:
    """A valid workbook with ``rows`` whose first sheet's XML is then cut in half."""
    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(row)
    book.save(path)
    with zipfile.ZipFile(path) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    sheet = "xl/worksheets/sheet1.xml"
    members[sheet] = members[sheet][: len(members[sheet]) // 2]
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def many(header: tuple, row: tuple) -> list[tuple]:
    return [header, *([row] * 200)]


def test_a_journal_workbook_with_a_damaged_sheet_is_refused_by_name(tmp_path):
    folder = tmp_path / "ACME"
    folder.mkdir()
    rows = many(
        ("fecha", "asiento", "cuenta", "concepto", "debe", "haber"), (date(2025, 1, 2), 1, "5720001", "x", 1, 0)
    )
    damaged_workbook(folder / "diario.xlsx", rows)
    result = read_journal(duckdb.connect(), journal_files(folder), COMPANY)
    [problem] = [p for p in result.problems if p.severity == "error"]
    assert (problem.rule, problem.file) == ("unreadable_file", "ACME/diario.xlsx")
    assert problem.message.startswith("no se puede leer la hoja del libro Excel")


def test_a_trial_balance_workbook_with_a_damaged_sheet_is_refused_by_name(tmp_path):
    folder = tmp_path / "ACME"
    folder.mkdir()
    path = damaged_workbook(
        folder / "sumas_y_saldos_2025.xlsx", many(("Cuenta", "Saldo deudor", "Saldo acreedor"), ("5720001", 10, 0))
    )
    result = read_trial_balances(duckdb.connect(), [path], COMPANY)
    [problem] = [p for p in result.problems if p.severity == "error"]
    assert (problem.rule, problem.file) == ("unreadable_file", "ACME/sumas_y_saldos_2025.xlsx")
    assert problem.message.startswith("no se puede leer el archivo")


def test_a_vat_book_workbook_with_a_damaged_sheet_is_refused_by_name(tmp_path):
    folder = tmp_path / "ACME" / "impuestos" / "libros"
    folder.mkdir(parents=True)
    path = damaged_workbook(folder / "libros_2025.xlsx", many(("Fecha Expedición", "Número"), ("02/01/2025", "1")))
    problems: list[Problem] = []
    assert workbook_sheets(path, problems) == []
    [problem] = problems
    assert problem.rule == "vatbook_file" and problem.file.endswith("libros_2025.xlsx")
    assert problem.message.startswith("No se puede leer una hoja del libro Excel")
