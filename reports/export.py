"""Exports of the report tables: Spanish CSV and Excel for the pages, machine CSV/JSON for scripts, PDF.

Every report is first turned into a flat table by one of the ``*_table`` functions (machine column names:
statements ``line_code,label,amount[,prior_amount]``; ledgers ``date,entry,description,debit,credit,balance``;
trial balance ``account,name,debit,credit,balance``; ratios ``ratio,value``). What a user downloads from a page is
Spanish (``to_csv_es``, ``to_xlsx``): headers from ``HEADERS_ES``, ``;``, decimal comma, dd/mm/aaaa, UTF-8 with BOM,
CRLF; Excel with real number and date cells. ``python -m reports`` keeps the machine layout (``to_csv``,
``to_json``: comma, decimal point, ISO dates, the column names above). Money stays ``Decimal`` to the end.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Mapping
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

import pandas as pd

from portal.fmt import date_es, money
from reports.ledger import Ledger
from reports.statements import Statement
from reports.trial_balance import TrialBalance

CENT = Decimal("0.01")
MONEY_FORMAT = '#,##0.00 "€";[Red]-#,##0.00 "€"'
NUMBER_FORMAT = "#,##0.0000"
DATE_FORMAT = "DD/MM/YYYY"
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")  # a spreadsheet would run text cells starting so as formulas
PDF_FONT = "Helvetica"
PDF_ENCODING = "windows-1252"  # the core fonts' WinAnsiEncoding: Latin-1 plus '€', '—', '–', '“”', '…'
PDF_SIZE = 8  # points, the statement lines and headers
PDF_LINE = 5.0  # mm, one line of a statement
PDF_HEAD_LINE = 4.0  # mm, one line of a wrapped column header
PDF_INDENT = 4.0  # mm per level of depth
PDF_AMOUNT_MIN = 28.0  # mm, the narrowest amount column
PDF_HEAD_MAX = 32.0  # mm, a header wider than this wraps instead of widening its column
PDF_GAP = 3.0  # mm of air between two amount columns, besides the cells' own padding
# The Spanish header of every machine column name a page exports (names already Spanish pass through unchanged).
HEADERS_ES = {
    "account": "Cuenta",
    "amount": "Importe",
    "annual": "Anual",
    "balance": "Saldo",
    "bank": "Banco",
    "base": "Base imponible",
    "base_10": "Base 10 %",
    "base_21": "Base 21 %",
    "base_4": "Base 4 %",
    "box": "Casilla",
    "code": "Código",
    "collections": "Cobros",
    "concept": "Concepto",
    "contingency": "Contingencia",
    "contract_code": "Clave de contrato",
    "contract_days": "Días de contrato",
    "contract_description": "Contrato",
    "counterparty": "Tercero",
    "credit": "Haber",
    "date": "Fecha",
    "days": "Días",
    "days_overdue": "Días vencido",
    "deadline": "Plazo",
    "debit": "Debe",
    "description": "Concepto",
    "difference": "Diferencia",
    "direct_debit_until": "Domiciliación hasta",
    "document": "Documento",
    "due_date": "Vencimiento",
    "employer_cost": "Coste empresa",
    "end": "Fin",
    "end_date": "Fecha de fin",
    "entry": "Asiento",
    "explanation": "Explicación",
    "filed": "Presentada",
    "final_result": "Resultado final",
    "first_date": "Primera fecha",
    "formula": "Fórmula",
    "fte_indefinido": "Plantilla media indefinida",
    "fte_temporal": "Plantilla media temporal",
    "fte_total": "Plantilla media total",
    "gross": "Bruto",
    "has_receipt": "Justificante disponible",
    "headcount_at_end": "Plantilla al cierre",
    "hires": "Altas",
    "how": "Cómo se estima",
    "iban": "IBAN",
    "indefinido": "Indefinidos",
    "input_base": "Base soportada",
    "input_vat": "IVA soportado",
    "irpf": "IRPF",
    "issue_date": "Fecha de emisión",
    "items": "Efectos",
    "kind": "Tipo",
    "label": "Partida",
    "last_date": "Última fecha",
    "leave_days": "Días de baja",
    "leavers": "Bajas",
    "line_code": "Código",
    "model": "Modelo",
    "month": "Mes",
    "name": "Nombre",
    "net": "Líquido",
    "nif": "NIF",
    "not_due": "No vencido",
    "number": "Número",
    "offset_after": "A compensar después",
    "offset_applied": "Compensado",
    "offset_before": "A compensar antes",
    "open": "Pendiente",
    "other_deductions": "Otras deducciones",
    "output_vat": "IVA repercutido",
    "overdue": "Vencido",
    "overdue_1_30": "Vencido 1-30 días",
    "overdue_31_60": "Vencido 31-60 días",
    "overdue_61_90": "Vencido 61-90 días",
    "overdue_over_90": "Vencido más de 90 días",
    "payment_method": "Forma de pago",
    "payments": "Pagos",
    "payroll": "Nóminas y Seguridad Social (estimado)",
    "payslips": "Nóminas",
    "period": "Periodo",
    "periods_sum": "Suma de los periodos",
    "prior_amount": "Importe anterior",
    "range_text": "Rango saludable",
    "rate": "Tipo (%)",
    "ratio": "Ratio",
    "reason": "Motivo",
    "receipt": "Justificante",
    "recipients": "Perceptores",
    "result": "Resultado",
    "result_type": "Tipo de resultado",
    "signed": "Importe con signo",
    "ss_employer": "Seguridad Social empresa",
    "ss_worker": "Seguridad Social trabajador",
    "start": "Inicio",
    "start_date": "Fecha de inicio",
    "state": "Estado",
    "status": "Situación",
    "taxes": "Impuestos (estimado)",
    "temporal": "Temporales",
    "total": "Total",
    "unit": "Unidad",
    "value": "Valor",
    "vat_10": "IVA 10 %",
    "vat_21": "IVA 21 %",
    "vat_4": "IVA 4 %",
    "week": "Semana",
    "withholding": "Retención",
    "year": "Ejercicio",
}


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


def spanish_headers(columns: Iterable[object]) -> list[str]:
    """The Spanish header of each column (``HEADERS_ES``); a header that would repeat gets its column's number."""
    headers: list[str] = []
    for position, column in enumerate(columns, start=1):
        header = HEADERS_ES.get(str(column), str(column))
        headers.append(f"{header} ({position})" if header in headers else header)
    return headers


def _es_cell(value: Any) -> str:
    """A cell as a Spanish Excel reads it: 1234,56 (no thousands mark), 31/12/2025, sí/no; formulas defused."""
    if value is None or value is pd.NaT:
        return ""
    if isinstance(value, datetime):  # pandas' Timestamps too
        return value.strftime("%d/%m/%Y" if value.time() == time(0) else "%d/%m/%Y %H:%M")
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    value = _plain(value)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "sí" if value else "no"
    if isinstance(value, Decimal):
        return f"{value:f}".replace(".", ",")
    if isinstance(value, float):
        return repr(value).replace(".", ",")
    return str(value)


def to_csv_es(table: pd.DataFrame) -> bytes:
    """The CSV a user downloads: Spanish headers, ``;``, decimal comma, dd/mm/aaaa, UTF-8 with BOM, CRLF."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(spanish_headers(table.columns))
    for row in table.itertuples(index=False):
        writer.writerow([_es_cell(x) for x in row])
    return out.getvalue().encode("utf-8-sig")


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


def to_xlsx(sheets: Mapping[str, pd.DataFrame], *, title: str = "", stamp: str = "", spanish: bool = True) -> bytes:
    """An Excel workbook, one sheet per table; money as real number cells with the euro format, dates as dates;
    Spanish headers (``spanish=False``: the machine column names, for ``python -m reports``)."""
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
        headers = spanish_headers(table.columns) if spanish else [str(c) for c in table.columns]
        for col, header in enumerate(headers, start=1):
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
        for col, header in enumerate(headers, start=1):
            width = max([len(str(header))] + [len(str(v)) for v in table.iloc[:, col - 1].head(200)]) + 4
            sheet.column_dimensions[sheet.cell(row=1, column=col).column_letter].width = min(width, 70)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def statement_pdf(statement: Statement, *, firm: str, company: str, stamp: str) -> bytes:
    """A printable PDF of a balance sheet or P&L with the firm's header, amounts as Spanish money ('1.234,56 €').

    Core Helvetica with the Windows-1252 encoding, so '€', '—' and '«»' print as themselves without a font file.
    The amount columns are as wide as their widest amount or header word (headers wrap inside their column, never
    into the next one); each line is indented one step per level of its ``depth``, totals included; long labels wrap.
    """

    pdf = _pdf_page("P", 15, firm, company, statement.title, f"{statement.label} · {stamp}", gap=3)
    compare = statement.prior_label is not None
    heads = [statement.label] + ([statement.prior_label or ""] if compare else [])
    columns = [[money(_present(row.amount)) for row in statement.lines.itertuples()]]
    if compare:
        columns.append([money(_present(row.prior_amount)) for row in statement.lines.itertuples()])
    widths = [_amount_width(pdf, head, texts) for head, texts in zip(heads, columns, strict=True)]
    widths.insert(0, pdf.epw - sum(widths))
    _statement_heads(pdf, widths, heads)
    for index, row in enumerate(statement.lines.itertuples()):
        pdf.set_font(PDF_FONT, "B" if row.kind == "total" else "", PDF_SIZE)
        indent = PDF_INDENT * max(int(row.depth), 0)
        label = _pdf_text(row.label)
        label_width = widths[0] - indent
        lines = pdf.multi_cell(label_width, PDF_LINE, label, align="L", dry_run=True, output="LINES")
        height = PDF_LINE * max(len(lines), 1)
        if pdf.will_page_break(height):
            pdf.add_page()
            _statement_heads(pdf, widths, heads)
            pdf.set_font(PDF_FONT, "B" if row.kind == "total" else "", PDF_SIZE)
        top = pdf.get_y()
        pdf.set_x(pdf.l_margin + indent)
        pdf.multi_cell(label_width, PDF_LINE, label, align="L", new_x="RIGHT", new_y="TOP")
        pdf.set_xy(pdf.l_margin + widths[0], top)
        for width, texts in zip(widths[1:], columns, strict=True):
            pdf.cell(width, PDF_LINE, _pdf_text(texts[index]), align="R")
        pdf.set_xy(pdf.l_margin, top + height)
    if statement.kind == "balance":
        pdf.ln(2)
        pdf.set_font(PDF_FONT, "B", PDF_SIZE)
        text = "Cuadre activo = patrimonio neto + pasivo: " + ("correcto" if statement.check == 0 else "DESCUADRE")
        pdf.multi_cell(0, PDF_LINE, _pdf_text(f"{text} ({money(statement.check)})"), new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def table_pdf(table: pd.DataFrame, *, title: str, firm: str, company: str, stamp: str) -> bytes:
    """A printable PDF (A4 landscape) of a table already in Spanish (text cells, '1.234,56 €'): the firm's header,
    the title, the stamp, then the rows; each column as wide as its widest cell (shrunk to fit), header repeated on
    every page, texts that end in '€' or '%' aligned right."""
    pdf = _pdf_page("L", 12, firm, company, title, stamp, gap=0)
    heads = [_pdf_text(str(c)) for c in table.columns]
    rows = [[_pdf_text("" if v is None else str(v)) for v in row] for row in table.itertuples(index=False)]
    pdf.set_font(PDF_FONT, "B", PDF_SIZE - 1)
    widths = [
        max([pdf.get_string_width(h)] + [pdf.get_string_width(r[i]) for r in rows[:500]]) + 2 * pdf.c_margin + 1
        for i, h in enumerate(heads)
    ]
    scale = min(1.0, pdf.epw / sum(widths))
    widths = [w * scale for w in widths]

    def line(texts: list[str], bold: bool) -> None:
        """One row; a text wider than its column wraps inside it (the row grows), never over the next column."""
        pdf.set_font(PDF_FONT, "B" if bold else "", PDF_SIZE - 1)
        count = max(
            len(pdf.multi_cell(w, PDF_LINE, t, dry_run=True, output="LINES"))
            for w, t in zip(widths, texts, strict=True)
        )
        if pdf.will_page_break(PDF_LINE * count):
            pdf.add_page()
            if not bold:
                line(heads, True)
                pdf.set_font(PDF_FONT, "", PDF_SIZE - 1)
        top, x = pdf.get_y(), pdf.l_margin
        for width, text in zip(widths, texts, strict=True):
            align = "R" if not bold and text.endswith(("€", "%")) else "L"
            pdf.set_xy(x, top)
            pdf.multi_cell(width, PDF_LINE, text, align=align, border="B" if bold else 0, new_x="RIGHT", new_y="TOP")
            x += width
        pdf.set_xy(pdf.l_margin, top + PDF_LINE * count)

    line(heads, True)
    for row in rows:
        line(row, False)
    return bytes(pdf.output())


def _pdf_page(orientation: str, margin: float, firm: str, company: str, title: str, subtitle: str, *, gap: float):
    """A new A4 document with the firm's header: firm, company, (gap), title and subtitle."""
    from fpdf import FPDF

    pdf = FPDF(orientation=orientation, unit="mm", format="A4")
    pdf.core_fonts_encoding = PDF_ENCODING
    pdf.set_auto_page_break(auto=True, margin=margin)
    pdf.add_page()
    for size, height, text in ((11, 6, firm), (9, 5, company)):
        pdf.set_font(PDF_FONT, "B" if size == 11 else "", size)
        pdf.multi_cell(0, height, _pdf_text(text), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(gap)
    pdf.set_font(PDF_FONT, "B", 13)
    pdf.multi_cell(0, 7, _pdf_text(title), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(PDF_FONT, "", 9)
    pdf.multi_cell(0, 5, _pdf_text(subtitle), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    return pdf


def _present(value: Any) -> Any:
    """None for a missing amount (None or NaN), else the amount."""
    return None if value is None or pd.isna(value) else value


def _amount_width(pdf: Any, head: str, texts: Iterable[str]) -> float:
    """The width of an amount column: its widest amount (in bold: totals), its header up to ``PDF_HEAD_MAX`` and its
    longest header word, plus the cell padding and ``PDF_GAP``."""
    pdf.set_font(PDF_FONT, "B", PDF_SIZE)
    head = _pdf_text(head)
    content = max([pdf.get_string_width(_pdf_text(t)) for t in texts] + [0.0])
    words = max([pdf.get_string_width(w) for w in head.split()] + [0.0])
    heading = min(pdf.get_string_width(head), PDF_HEAD_MAX)
    return max(content, words, heading, PDF_AMOUNT_MIN - 2 * pdf.c_margin - PDF_GAP) + 2 * pdf.c_margin + PDF_GAP


def _statement_heads(pdf: Any, widths: list[float], heads: list[str]) -> None:
    """The header row: each amount header right-aligned and wrapped inside its own column, bottom-aligned."""
    pdf.set_font(PDF_FONT, "B", PDF_SIZE)
    texts = [_pdf_text(h) for h in heads]
    counts = [
        len(pdf.multi_cell(w, PDF_HEAD_LINE, t, dry_run=True, output="LINES"))
        for w, t in zip(widths[1:], texts, strict=True)
    ]
    rows = max([*counts, 1])
    if pdf.will_page_break(rows * PDF_HEAD_LINE + PDF_LINE):
        pdf.add_page()
        pdf.set_font(PDF_FONT, "B", PDF_SIZE)
    top = pdf.get_y()
    x = pdf.l_margin + widths[0]
    for width, text, count in zip(widths[1:], texts, counts, strict=True):
        pdf.set_xy(x, top + (rows - count) * PDF_HEAD_LINE)
        pdf.multi_cell(width, PDF_HEAD_LINE, text, align="R")
        x += width
    pdf.set_xy(pdf.l_margin, top + rows * PDF_HEAD_LINE + 1)


def _pdf_text(text: str) -> str:
    """Text the core fonts can print with the Windows-1252 encoding (anything else becomes '?')."""
    return str(text).encode(PDF_ENCODING, "replace").decode(PDF_ENCODING)


def stamp_of(manifest: Mapping[str, Any]) -> str:
    """'Datos a fecha 28/11/2026' from a snapshot manifest."""
    return f"Datos a fecha {date_es(manifest.get('last_date'))}"
