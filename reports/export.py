"""Exports of the report tables: CSV and JSON (decimal point, two decimals), Excel with real number cells, PDF.

Every report is first turned into a flat table by one of the ``*_table`` functions (the CSV columns of issue 4):
statements ``line_code,label,amount[,prior_amount]``; ledgers ``date,entry,description,debit,credit,balance``;
trial balance ``account,name,debit,credit,balance``; ratios ``ratio,value``. Money stays ``Decimal`` to the end.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from typing import Any

import pandas as pd

from portal.fmt import date_es, money, number
from reports.ledger import Ledger
from reports.statements import Statement
from reports.trial_balance import TrialBalance

CENT = Decimal("0.01")
MONEY_FORMAT = '#,##0.00 "€";[Red]-#,##0.00 "€"'
NUMBER_FORMAT = "#,##0.0000"
DATE_FORMAT = "DD/MM/YYYY"
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")  # a spreadsheet would run text cells starting so as formulas


def statement_table(statement: Statement) -> pd.DataFrame:
    """``line_code,label,amount`` (+ ``prior_amount`` when the statement has a comparison)."""
    columns = ["line_code", "label", "amount"]
    if statement.prior_label is not None:
        columns.append("prior_amount")
    return statement.lines[columns].copy()


def ledger_table(ledger: Ledger) -> pd.DataFrame:
    """``date,entry,description,debit,credit,balance`` of a ledger page."""
    return ledger.rows[["date", "entry", "description", "debit", "credit", "balance"]].copy()


def trial_balance_table(trial: TrialBalance) -> pd.DataFrame:
    """``account,name,debit,credit,balance``."""
    return trial.rows[["account", "name", "debit", "credit", "balance"]].copy()


def ratios_table(table: pd.DataFrame) -> pd.DataFrame:
    """``ratio,value`` (value empty when undefined)."""
    return pd.DataFrame({"ratio": table["code"], "value": table["value"]})


def _plain(value: Any) -> Any:
    """A cell for CSV/JSON: Decimal with a decimal point (money to two decimals), ISO dates, None as empty."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return None
    if isinstance(value, Decimal):
        return value.quantize(CENT) if value.as_tuple().exponent >= -2 else value
    if isinstance(value, date):
        return value.isoformat()
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value  # descriptions come from the firm's exports: never let them run as formulas
    return value


def to_csv(table: pd.DataFrame) -> str:
    """CSV text, comma separated, header first, decimal point."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(table.columns)
    for row in table.itertuples(index=False):
        writer.writerow(["" if (v := _plain(x)) is None else f"{v}" for x in row])
    return out.getvalue()


def to_json(table: pd.DataFrame, meta: Mapping[str, Any] | None = None) -> str:
    """JSON ``{"meta": …, "rows": [...]}``; amounts are JSON numbers written with two decimals (never floats)."""
    marks: dict[str, str] = {}

    def encode(value: Any) -> Any:
        value = _plain(value)
        if isinstance(value, Decimal):
            key = f"\u0000{len(marks)}\u0000"
            marks[key] = f"{value:f}"
            return key
        return value

    rows = [
        {col: encode(val) for col, val in zip(table.columns, row, strict=True)} for row in table.itertuples(index=False)
    ]
    text = json.dumps({"meta": dict(meta or {}), "rows": rows}, ensure_ascii=False, indent=1, default=str)
    for key, literal in marks.items():
        text = text.replace(json.dumps(key), literal)
    return text


def to_xlsx(sheets: Mapping[str, pd.DataFrame], *, title: str = "", stamp: str = "") -> bytes:
    """An Excel workbook, one sheet per table; money as real number cells with the euro format, dates as dates."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    book.remove(book.active)
    for name, table in sheets.items():
        sheet = book.create_sheet(title=name[:31])
        row_no = 1
        for line in (title, stamp):
            if line:
                sheet.cell(row=row_no, column=1, value=line).font = Font(bold=True)
                row_no += 1
        if row_no > 1:
            row_no += 1
        for col, header in enumerate(table.columns, start=1):
            sheet.cell(row=row_no, column=col, value=header).font = Font(bold=True)
        for values in table.itertuples(index=False):
            row_no += 1
            for col, value in enumerate(values, start=1):
                value = None if value is None or (isinstance(value, float) and pd.isna(value)) else value
                cell = sheet.cell(row=row_no, column=col, value=value)
                if isinstance(value, str):
                    cell.data_type = "s"  # openpyxl would store text starting with '=' as a formula
                elif isinstance(value, Decimal):
                    cell.number_format = MONEY_FORMAT if value.as_tuple().exponent >= -2 else NUMBER_FORMAT
                elif isinstance(value, date):
                    cell.number_format = DATE_FORMAT
        for col, header in enumerate(table.columns, start=1):
            width = max([len(str(header))] + [len(str(v)) for v in table.iloc[:, col - 1].head(200)]) + 4
            sheet.column_dimensions[sheet.cell(row=1, column=col).column_letter].width = min(width, 70)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def statement_pdf(statement: Statement, *, firm: str, company: str, stamp: str) -> bytes:
    """A printable PDF of a balance sheet or P&L with the firm's header, amounts in Spanish format."""
    from fpdf import FPDF

    pdf = FPDF(orientation="P", unit="mm", format="A4")
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 11)
    pdf.cell(0, 6, _latin(firm), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 9)
    pdf.cell(0, 5, _latin(company), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    pdf.set_font("Helvetica", "B", 13)
    pdf.cell(0, 7, _latin(statement.title), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 9)
    pdf.cell(0, 5, _latin(f"{statement.label} · {stamp}"), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    compare = statement.prior_label is not None
    widths = (110, 40, 40) if compare else (140, 50)
    pdf.set_font("Helvetica", "B", 8)
    heads = ["", statement.label] + ([statement.prior_label or ""] if compare else [])
    for width, head in zip(widths, heads, strict=True):
        pdf.cell(width, 6, _latin(head), align="R" if head else "L")
    pdf.ln()
    for row in statement.lines.itertuples():
        total = row.kind == "total"
        pdf.set_font("Helvetica", "B" if total else "", 8)
        indent = "   " * (0 if total else min(int(row.depth), 4))
        pdf.cell(widths[0], 5, _latin(indent + row.label)[:95])
        pdf.cell(widths[1], 5, _latin(money(row.amount)), align="R")
        if compare:
            prior = None if row.prior_amount is None or pd.isna(row.prior_amount) else row.prior_amount
            pdf.cell(widths[2], 5, _latin(money(prior)), align="R")
        pdf.ln()
    if statement.kind == "balance":
        pdf.ln(2)
        pdf.set_font("Helvetica", "B", 8)
        text = "Cuadre activo = patrimonio neto + pasivo: " + ("correcto" if statement.check == 0 else "DESCUADRE")
        pdf.cell(0, 5, _latin(f"{text} ({number(statement.check)})"), new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def _latin(text: str) -> str:
    """Text the PDF core fonts can print (Latin-1; '€' becomes 'EUR', other symbols '?')."""
    return text.replace("€", "EUR").replace("—", "-").replace("–", "-").encode("latin-1", "replace").decode("latin-1")


def stamp_of(manifest: Mapping[str, Any]) -> str:
    """'Datos a fecha 28/11/2026' from a snapshot manifest."""
    return f"Datos a fecha {date_es(manifest.get('last_date'))}"
