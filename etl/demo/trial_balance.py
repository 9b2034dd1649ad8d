"""The demo company without a journal export: its simulated books written as cumulative «sumas y saldos» workbooks."""

from __future__ import annotations

import io
import zipfile
from collections import defaultdict
from datetime import date
from pathlib import Path

import openpyxl

from etl.demo.journal import Books
from etl.demo.model import FIRST_YEAR, month_end
from etl.demo.modules import account_names, write_empresa
from etl.demo.writers import FIXED_STAMP, _rezip

FORMAT = "sumas_y_saldos"  # Company.journal_format of a company whose firm exports only trial balances
HEADER = ("Cuenta", "Título", "Sumas Debe", "Sumas Haber", "Saldo Deudor", "Saldo Acreedor")
YEAR_END_KINDS = ("regularizacion", "cierre")  # left out: the balances are taken before closing


def write_trial_balance_company(books: Books, folder: Path) -> list[Path]:
    """empresa.json and one workbook per period end: each closed year's 31/12 and the open year's month ends."""
    folder.mkdir(parents=True, exist_ok=True)
    write_empresa(folder, books.company, books.until)
    names = account_names(books.company)
    written = []
    for end in period_ends(books.until):
        suffix = f"{end.year}" if (end.month, end.day) == (12, 31) else f"{end.year}-{end.month:02d}"
        path = folder / f"sumas_y_saldos_{suffix}.xlsx"
        write_workbook(path, books, end, names)
        written.append(path)
    return written


def period_ends(until: date) -> list[date]:
    """Year ends of the closed years, then the month ends of the open year reached by ``until``."""
    ends = [date(year, 12, 31) for year in range(FIRST_YEAR, until.year)]
    ends += [month_end(until.year, m) for m in range(1, 13) if month_end(until.year, m) <= until]
    return ends


def sums(books: Books, end: date) -> dict[str, tuple[int, int]]:
    """Per account, Σ debit and Σ credit in cents from the start of ``end``'s year to ``end`` (apertura included)."""
    found: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for entry in books.ledger.entries:
        if entry.day.year != end.year or entry.day > end or entry.kind in YEAR_END_KINDS:
            continue
        for line in entry.lines:
            found[line.account][0] += line.debit
            found[line.account][1] += line.credit
    return {a: (d, c) for a, (d, c) in sorted(found.items()) if d or c}


def write_workbook(path: Path, books: Books, end: date, names: dict[str, str]) -> None:
    """A «Balance de sumas y saldos» as accounting packages print it: title, period, header, sub-accounts, totals."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Sumas y saldos"
    sheet.append([f"{books.company.name} — Balance de sumas y saldos"])
    sheet.append([f"Periodo: 01/01/{end.year} a {end:%d/%m/%Y}"])
    sheet.append([])
    sheet.append(list(HEADER))
    totals = [0, 0, 0, 0]
    for account, (debit, credit) in sums(books, end).items():
        balance = debit - credit
        row = [debit, credit, max(balance, 0), max(-balance, 0)]
        totals = [t + v for t, v in zip(totals, row, strict=True)]
        sheet.append([int(account), names.get(account, ""), *(v / 100 for v in row)])
    sheet.append([None, "TOTALES", *(v / 100 for v in totals)])
    for row in sheet.iter_rows(min_row=5, min_col=3, max_col=6):
        for cell in row:
            cell.number_format = "#,##0.00"
    book.properties.creator = "Asesoría Demo"
    book.properties.created = FIXED_STAMP.replace(tzinfo=None)
    raw = io.BytesIO()
    book.save(raw)
    _rezip(path, zipfile.ZipFile(raw), {})  # fixed timestamps: two runs write identical bytes
