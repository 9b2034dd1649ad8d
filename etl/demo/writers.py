"""File writers of the demo: the journal formats, Spanish CSV tables, xlsx, PDF and Norma 43."""

from __future__ import annotations

import csv
import io
import re
import unicodedata
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from xml.sax.saxutils import escape

from fpdf import FPDF
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell

FIXED_STAMP = datetime(2026, 1, 1, tzinfo=UTC)
ZIP_STAMP = (2026, 1, 1, 0, 0, 0)
KIND_WORDS = {"normal": "normal", "apertura": "apertura", "regularizacion": "regularizacion", "cierre": "cierre"}
KIND_LETTERS = {"normal": "N", "apertura": "A", "regularizacion": "R", "cierre": "C"}
SPANISH_HEADER = ("fecha", "asiento", "cuenta", "concepto", "debe", "haber")
ENGLISH_HEADER = ("date", "entry", "account", "description", "debit", "credit")

# One journal row: date, entry number, account, description, debit cents, credit cents, entry kind.
JournalRow = tuple[date, int, str, str, int, int, str]


@dataclass(frozen=True)
class JournalFormat:
    """How one company's accounting package exports its journal."""

    encoding: str = "utf-8"
    delimiter: str = ";"
    decimal: str = ","
    thousands: str = ""
    iso_dates: bool = False
    newline: str = "\n"
    kinds: dict[str, str] | None = None
    english: bool = False
    per_year: bool = False
    xlsx: bool = False
    package: str = ""  # 'contaplus' (backup zip with DIARIO.DBF) or 'a3eco' (one amount and a D/H key)


JOURNAL_FORMATS = {
    "a": JournalFormat(encoding="utf-8-sig", thousands=".", newline="\r\n", kinds=KIND_WORDS),
    "b": JournalFormat(encoding="cp1252", newline="\r\n", per_year=True),
    "c": JournalFormat(xlsx=True, kinds=KIND_WORDS),
    "d": JournalFormat(delimiter=",", decimal=".", iso_dates=True, english=True),
    "e": JournalFormat(delimiter="\t", kinds=KIND_LETTERS),
    "contaplus": JournalFormat(package="contaplus"),
    "a3eco": JournalFormat(encoding="cp1252", thousands=".", newline="\r\n", package="a3eco"),
}
A3ECO_HEADER = ("Fecha", "Asiento", "Cuenta", "Concepto", "Importe", "D/H")


def amount_text(value: int, decimal: str = ",", thousands: str = "") -> str:
    """Integer cents as text with two decimals: 123456 → '1.234,56' (or '1234.56')."""
    sign = "-" if value < 0 else ""
    units, hundredths = divmod(abs(value), 100)
    whole = f"{units:,}".replace(",", thousands)
    return f"{sign}{whole}{decimal}{hundredths:02d}"


def money(value: int) -> str:
    """Module-file money: decimal comma, no thousands separator."""
    return amount_text(value)


def day_text(value: date | None) -> str:
    """dd/mm/yyyy, or empty."""
    return value.strftime("%d/%m/%Y") if value else ""


def write_journal(folder: Path, rows: list[JournalRow], fmt: JournalFormat) -> list[Path]:
    """Write a company's journal in its format; returns the files written."""
    if fmt.package == "contaplus":
        return [write_contaplus_backup(folder / "copia_contaplus.zip", rows)]
    if fmt.package == "a3eco":
        path = folder / "diario.csv"
        write_a3eco_csv(path, rows, fmt)
        return [path]
    if fmt.xlsx:
        path = folder / "diario.xlsx"
        write_journal_xlsx(path, rows, fmt)
        return [path]
    if not fmt.per_year:
        path = folder / "diario.csv"
        write_journal_csv(path, rows, fmt)
        return [path]
    paths = []
    for year in sorted({row[0].year for row in rows}):
        path = folder / f"diario_{year}.csv"
        write_journal_csv(path, [r for r in rows if r[0].year == year], fmt)
        paths.append(path)
    return paths


def write_contaplus_backup(path: Path, rows: list[JournalRow]) -> Path:
    """A ContaPlus backup: one DIARIO.DBF per fiscal year (ContaPlus keeps each year as a company), in EMP/<code>/.

    The first record of each year is written twice, the copy marked deleted, as ContaPlus leaves deleted records.
    """
    from etl.demo.dbf import DIARIO_FIELDS, dbf_bytes

    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for year in sorted({row[0].year for row in rows}):
            records = [
                {
                    "ASIEN": number,
                    "FECHA": day,
                    "SUBCTA": account,
                    "CONCEPTO": concept,
                    "MONEDAUSO": "2",
                    "EURODEBE": amount_text(debit, "."),
                    "EUROHABER": amount_text(credit, "."),
                }
                for day, number, account, concept, debit, credit, _kind in rows
                if day.year == year
            ]
            data = dbf_bytes(DIARIO_FIELDS, [records[0], *records], updated=date(year, 12, 31), deleted=frozenset({0}))
            info = zipfile.ZipInfo(f"EMP/EBRO{year}/DIARIO.DBF", date_time=ZIP_STAMP)
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
    return path


def write_a3eco_csv(path: Path, rows: list[JournalRow], fmt: JournalFormat) -> None:
    """A journal as an a3ECO-style listing: one amount and a D/H key per line, amounts 1.234,56."""
    with path.open("w", encoding=fmt.encoding, newline="") as fh:
        writer = csv.writer(fh, delimiter=fmt.delimiter, lineterminator=fmt.newline)
        writer.writerow(A3ECO_HEADER)
        for day, number, account, concept, debit, credit, _kind in rows:
            key, value = ("D", debit) if debit else ("H", credit)
            writer.writerow([day_text(day), number, account, concept, amount_text(value, ",", "."), key])


def journal_header(fmt: JournalFormat) -> list[str]:
    """The header of a journal export."""
    header = list(ENGLISH_HEADER if fmt.english else SPANISH_HEADER)
    if fmt.kinds:
        header.append("type" if fmt.english else "tipo")
    return header


def write_journal_csv(path: Path, rows: list[JournalRow], fmt: JournalFormat) -> None:
    """A delimited journal export."""
    with path.open("w", encoding=fmt.encoding, newline="") as fh:
        writer = csv.writer(fh, delimiter=fmt.delimiter, lineterminator=fmt.newline)
        writer.writerow(journal_header(fmt))
        dates: dict[date, str] = {}
        for day, number, account, concept, debit, credit, kind in rows:
            if day not in dates:
                dates[day] = day.isoformat() if fmt.iso_dates else day_text(day)
            record = [
                dates[day],
                number,
                account,
                concept,
                amount_text(debit, fmt.decimal, fmt.thousands),
                amount_text(credit, fmt.decimal, fmt.thousands),
            ]
            if fmt.kinds:
                record.append(fmt.kinds[kind])
            writer.writerow(record)


def write_journal_xlsx(path: Path, rows: list[JournalRow], fmt: JournalFormat) -> None:
    """A journal workbook with real date and number cells.

    openpyxl writes the package (styles, workbook, the header and one sample row that registers the date
    and amount formats); the rows themselves are streamed into the sheet XML with the same cell styles,
    an order of magnitude faster than appending them through openpyxl.
    """
    book = Workbook(write_only=True)
    sheet = book.create_sheet("Diario")
    sheet.append(journal_header(fmt))
    sample_day = WriteOnlyCell(sheet, value=date(2023, 1, 1))
    sample_day.number_format = "dd/mm/yyyy"
    sample_amount = WriteOnlyCell(sheet, value=0)
    sample_amount.number_format = "#,##0.00"
    sheet.append([sample_day, 0, "", "", sample_amount, 0])
    book.properties.creator = "Asesoría Demo"
    book.properties.created = FIXED_STAMP.replace(tzinfo=None)
    raw = io.BytesIO()
    book.save(raw)
    source = zipfile.ZipFile(raw)
    skeleton = source.read("xl/worksheets/sheet1.xml").decode("utf-8")
    date_style = _style_of(skeleton, "A2")
    amount_style = _style_of(skeleton, "E2")
    body = [skeleton[skeleton.index("<row ") : skeleton.index('<row r="2"')]]
    epoch = date(1899, 12, 30).toordinal()
    for r, (day, number, account, concept, debit, credit, kind) in enumerate(rows, start=2):
        cells = [
            f'<c r="A{r}" s="{date_style}" t="n"><v>{day.toordinal() - epoch}</v></c>',
            f'<c r="B{r}" t="n"><v>{number}</v></c>',
            f'<c r="C{r}" t="inlineStr"><is><t>{account}</t></is></c>',
            f'<c r="D{r}" t="inlineStr"><is><t>{escape(concept)}</t></is></c>',
            f'<c r="E{r}" s="{amount_style}" t="n"><v>{amount_text(debit, ".")}</v></c>',
            f'<c r="F{r}" s="{amount_style}" t="n"><v>{amount_text(credit, ".")}</v></c>',
        ]
        if fmt.kinds:
            cells.append(f'<c r="G{r}" t="inlineStr"><is><t>{fmt.kinds[kind]}</t></is></c>')
        body.append(f'<row r="{r}">{"".join(cells)}</row>')
    start, end = skeleton.index("<sheetData>") + len("<sheetData>"), skeleton.index("</sheetData>")
    sheet_xml = (skeleton[:start] + "".join(body) + skeleton[end:]).encode("utf-8")
    _rezip(path, source, {"xl/worksheets/sheet1.xml": sheet_xml})


def _style_of(sheet_xml: str, cell: str) -> str:
    """The style index openpyxl gave to a cell of the skeleton sheet."""
    match = re.search(rf'<c r="{cell}" s="(\d+)"', sheet_xml)
    if match is None:
        raise ValueError(f"no style on cell {cell}")
    return match.group(1)


def _rezip(path: Path, source: zipfile.ZipFile, replace: dict[str, bytes]) -> None:
    """Copy a zip with fixed timestamps (and a fixed core.xml modified date), replacing some members."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = replace.get(info.filename) or source.read(info.filename)
            if info.filename == "docProps/core.xml":
                data = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*", rb"\g<1>2026-01-01T00:00:00Z", data)
            target.writestr(zipfile.ZipInfo(info.filename, ZIP_STAMP), data, zipfile.ZIP_DEFLATED)


def write_table(path: Path, header: Sequence[str], rows: Iterable[Sequence[object]]) -> None:
    """A module table: UTF-8, ';', LF, values already formatted as text."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, delimiter=";", lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


# --- PDF -------------------------------------------------------------------------------------------------------


PDF_ENCODING = "windows-1252"  # the core fonts' WinAnsiEncoding: Latin-1 plus '€', '–', '—', '…'
TABLE_SIZE = 8  # points, the table font (Helvetica)
TABLE_LINE = 4.5  # mm, one table row
TABLE_GAP = 2.0  # mm of air between two table columns, besides the cells' own padding


def latin1(text: str) -> str:
    """Text the PDF core fonts can draw with the Windows-1252 encoding (the euro sign included; others '?')."""
    return text.encode(PDF_ENCODING, "replace").decode(PDF_ENCODING)


def write_pdf(
    path: Path,
    title: str,
    header: Sequence[str],
    fields: Sequence[tuple[str, str]],
    table: Sequence[Sequence[str]] = (),
    widths: Sequence[int] = (),
    footer: str = "",
) -> None:
    """A small one-page document: issuer lines, title, key/value fields and an optional table.

    ``widths`` are the columns' least widths in characters (digits of the table font); a column grows to its widest
    text, so nothing is cut. A body row starting with empty cells (an invoice's «Base imponible», «Total a pagar»)
    writes its first text right-aligned across those cells. Numbers are right-aligned.
    """
    pdf = FPDF(format="A4")
    pdf.core_fonts_encoding = PDF_ENCODING
    pdf.set_creation_date(FIXED_STAMP)
    pdf.set_title(latin1(title))
    pdf.set_author("Asesoría Demo")
    pdf.add_page()
    pdf.set_font("Helvetica", size=8)
    for line in header:
        pdf.multi_cell(0, 4, latin1(line), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.set_font("Helvetica", "B", 13)
    pdf.multi_cell(0, 8, latin1(title), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    pdf.set_font("Helvetica", size=9)
    for label, value in fields:
        pdf.multi_cell(0, 5, latin1(f"{label}: {value}"), new_x="LMARGIN", new_y="NEXT")
    if table:
        pdf.ln(3)
        _table(pdf, [[latin1(value) for value in row] for row in table], widths)
    if footer:
        pdf.ln(4)
        pdf.set_font("Helvetica", "I", 7)
        pdf.multi_cell(0, 4, latin1(footer), new_x="LMARGIN", new_y="NEXT")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(bytes(pdf.output()))


def _table(pdf: FPDF, rows: list[list[str]], least: Sequence[int]) -> None:
    """The table: the first row a bold header underlined, column widths from their texts (see ``write_pdf``)."""
    size = TABLE_SIZE
    widths = _table_widths(pdf, rows, least, size)
    while sum(widths) > pdf.epw and size > 4:  # too wide for the page: a smaller font, never a cut text
        size *= pdf.epw / sum(widths)
        widths = _table_widths(pdf, rows, least, size)
    owned = [(row, _own(row)) for row in rows[1:]]
    numeric = [
        bool(values := [row[c] for row, own in owned if c >= own and row[c]]) and all(map(_numeric, values))
        for c in range(len(widths))
    ]
    for index, row in enumerate(rows):
        pdf.set_font("Helvetica", "B" if index == 0 else "", size)
        own = _own(row) if index > 0 else 0
        if own:
            pdf.cell(sum(widths[:own]), TABLE_LINE, row[own - 1], align="R")
        for column in range(own, len(row)):
            right = _numeric(row[column]) if index > 0 else numeric[column]
            border = "B" if index == 0 else 0
            pdf.cell(widths[column], TABLE_LINE, row[column], border=border, align="R" if right else "L")
        pdf.ln(TABLE_LINE)


def _table_widths(pdf: FPDF, rows: list[list[str]], least: Sequence[int], size: float) -> list[float]:
    """Each column as wide as its least width and its widest text (a spanning text may widen its own column)."""
    pdf.set_font("Helvetica", "B", size)
    pad = 2 * pdf.c_margin + TABLE_GAP * size / TABLE_SIZE
    digit = pdf.get_string_width("0")
    widths = [digit * n for n in least] + [0.0] * (len(rows[0]) - len(least))
    for index, row in enumerate(rows):
        pdf.set_font("Helvetica", "B" if index == 0 else "", size)
        for column in range(_own(row) if index > 0 else 0, len(row)):
            widths[column] = max(widths[column], pdf.get_string_width(row[column]) + pad)
    pdf.set_font("Helvetica", "", size)
    for row in rows[1:]:
        if own := _own(row):
            widths[own - 1] += max(0.0, pdf.get_string_width(row[own - 1]) + pad - sum(widths[:own]))
    return widths


def _own(row: Sequence[str]) -> int:
    """The first column drawn as its own cell: a row starting with empty cells writes its first text across them
    and that text's column (returns the column after it); 0 when the row starts with a text (or is empty)."""
    for column, value in enumerate(row):
        if value:
            return column + 1 if column else 0
    return 0


def _numeric(value: str) -> bool:
    return bool(re.fullmatch(r"-?[\d.]+,\d{2}( EUR| €)?|\d+", value))


# --- Norma 43 ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BankMovement:
    """One movement of a bank statement (amount signed: > 0 money in)."""

    day: date
    amount: int
    common: str
    text: str
    document: int


def n43_text(text: str, width: int) -> str:
    """Upper-case ASCII padded or cut to a width."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii").upper()
    return plain[:width].ljust(width)


def n43_date(day: date) -> str:
    """YYMMDD."""
    return day.strftime("%y%m%d")


def n43_statement(iban: str, holder: str, start: date, end: date, opening: int, movements: list[BankMovement]) -> bytes:
    """One account's Norma 43 file (records 11, 22, 23, 33, 88; 80 characters, CRLF, latin-1)."""
    bank, branch, account = iban[4:8], iban[8:12], iban[14:24]
    records = [
        f"11{bank}{branch}{account}{n43_date(start)}{n43_date(end)}{_side(opening)}{abs(opening):014d}9783"
        f"{n43_text(holder, 26)}   "
    ]
    for movement in movements:
        key = "2" if movement.amount > 0 else "1"
        records.append(
            f"22    {branch}{n43_date(movement.day)}{n43_date(movement.day)}{movement.common}000{key}"
            f"{abs(movement.amount):014d}{movement.document:010d}{0:012d}{n43_text('', 16)}"
        )
        records.append(f"2301{n43_text(movement.text, 38)}{n43_text(movement.text[38:], 38)}")
    debits = [m.amount for m in movements if m.amount < 0]
    credits = [m.amount for m in movements if m.amount > 0]
    closing = opening + sum(m.amount for m in movements)
    records.append(
        f"33{bank}{branch}{account}{len(debits):05d}{-sum(debits):014d}{len(credits):05d}{sum(credits):014d}"
        f"{_side(closing)}{abs(closing):014d}978    "
    )
    records.append(f"88{'9' * 18}{len(records):06d}".ljust(80))
    for record in records:
        if len(record) != 80:
            raise ValueError(f"N43 record of {len(record)} characters: {record!r}")
    return ("\r\n".join(records) + "\r\n").encode("latin-1")


def _side(balance: int) -> str:
    """1 = deudor (overdrawn), 2 = acreedor (in the holder's favour)."""
    return "1" if balance < 0 else "2"
