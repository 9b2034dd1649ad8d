"""Reader of the VAT record books (libros registro de IVA, AEAT format of Orden HAC/773/2019) under impuestos/libros/.

Every ``impuestos/libros/*.xlsx`` and ``*.csv`` (docs/sources.md §4, «Libros registro de IVA») holds the issued book
(«facturas expedidas»), the received book («facturas recibidas») or, in a workbook, one sheet of each. A book is told
by its header, never by its name: the AEAT's two header rows (group heading over sub-heading, e.g. «NIF Destinatario»
over «Identificación») or a single row of plain names, found in the first rows of the sheet and matched through
``ALIASES``. Unreadable values are errors naming file (and sheet) and row; arithmetic (cuota = base × tipo, total) and
NIF checks are warnings.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import duckdb
from stdnum.es import nif as es_nif

from etl.modules import ModuleOutput, ModuleReader
from etl.modules._csv import store_rows
from etl.problems import Problem
from etl.sources import CompanyInfo, display_name, source_files

FOLDER = ("impuestos", "libros")
SUFFIXES = (".xlsx", ".csv")
ISSUED, RECEIVED = "issued", "received"
BOOK_NAMES = {ISSUED: "facturas expedidas", RECEIVED: "facturas recibidas"}
HEADER_SEARCH_ROWS = 20  # the header is looked for in the first rows (the AEAT workbook has title lines above it)
PERIODS = ("1T", "2T", "3T", "4T", *(f"{m:02d}" for m in range(1, 13)))
CENT = Decimal("0.01")
MAX_PROBLEMS = 200
# Invoice types that must identify the counterparty (AEAT validation «Identificación del destinatario»).
IDENTIFIED_TYPES = ("F1", "F3", "R1", "R2", "R3", "R4")
RECTIFYING_TYPES = ("R1", "R2", "R3", "R4", "R5")
UNTOTALLED_KEYS = ("03", "05", "09")  # «Total Factura» is not base + cuotas for these operation keys (REBU, REAV…)

# The AEAT layout (group heading, sub-heading) of each book, in column order: what the demo writes and what the
# reader recognises first. Checked against the AEAT's design workbook LSIJ.xlsx (docs/sources.md §4).
ISSUED_LAYOUT: tuple[tuple[str, str], ...] = (
    ("Autoliquidación", "Ejercicio"),
    ("Autoliquidación", "Periodo"),
    ("Actividad", "Código"),
    ("Actividad", "Tipo"),
    ("Actividad", "Grupo o Epígrafe del IAE"),
    ("Tipo de Factura", ""),
    ("Concepto de Ingreso", ""),
    ("Ingreso Computable", ""),
    ("Fecha Expedición", ""),
    ("Fecha Operación", ""),
    ("Identificación de la Factura", "Serie"),
    ("Identificación de la Factura", "Número"),
    ("Identificación de la Factura", "Número-Final"),
    ("NIF Destinatario", "Tipo"),
    ("NIF Destinatario", "Código País"),
    ("NIF Destinatario", "Identificación"),
    ("Nombre Destinatario", ""),
    ("Clave de Operación", ""),
    ("Calificación de la Operación", ""),
    ("Operación Exenta", ""),
    ("Total Factura", ""),
    ("Base Imponible", ""),
    ("Tipo de IVA", ""),
    ("Cuota IVA Repercutida", ""),
    ("Tipo de Recargo Eq.", ""),
    ("Cuota Recargo Eq.", ""),
    ("Cobro", "Fecha"),
    ("Cobro", "Importe"),
    ("Cobro", "Medio Utilizado"),
    ("Cobro", "Identificación Medio Utilizado"),
    ("Tipo Retención del IRPF", ""),
    ("Importe Retenido del IRPF", ""),
    ("Registro Acuerdo Facturación", ""),
    ("Inmueble", "Situación"),
    ("Inmueble", "Referencia Catastral"),
    ("Referencia Externa", ""),
)
RECEIVED_LAYOUT: tuple[tuple[str, str], ...] = (
    ("Autoliquidación", "Ejercicio"),
    ("Autoliquidación", "Periodo"),
    ("Actividad", "Código"),
    ("Actividad", "Tipo"),
    ("Actividad", "Grupo o Epígrafe del IAE"),
    ("Tipo de Factura", ""),
    ("Concepto de Gasto", ""),
    ("Gasto Deducible", ""),
    ("Fecha Expedición", ""),
    ("Fecha Operación", ""),
    ("Identificación Factura del Expedidor", "(Serie-Número)"),
    ("Identificación Factura del Expedidor", "Número-Final"),
    ("Fecha Recepción", ""),
    ("Número Recepción", ""),
    ("Número Recepción Final", ""),
    ("NIF Expedidor", "Tipo"),
    ("NIF Expedidor", "Código País"),
    ("NIF Expedidor", "Identificación"),
    ("Nombre Expedidor", ""),
    ("Clave de Operación", ""),
    ("Bien de Inversión", ""),
    ("Inversión del Sujeto Pasivo", ""),
    ("Deducible en Periodo Posterior", ""),
    ("Periodo Deducción", "Ejercicio"),
    ("Periodo Deducción", "Periodo"),
    ("Total Factura", ""),
    ("Base Imponible", ""),
    ("Tipo de IVA", ""),
    ("Cuota IVA Soportado", ""),
    ("Cuota Deducible", ""),
    ("Tipo de Recargo Eq.", ""),
    ("Cuota Recargo Eq.", ""),
    ("Pago", "Fecha"),
    ("Pago", "Importe"),
    ("Pago", "Medio Utilizado"),
    ("Pago", "Identificación Medio Utilizado"),
    ("Tipo Retención del IRPF", ""),
    ("Importe Retenido del IRPF", ""),
    ("Registro Acuerdo Facturación", ""),
    ("Inmueble", "Situación"),
    ("Inmueble", "Referencia Catastral"),
    ("Referencia Externa", ""),
)

# Field -> the header names it is read from (normalised: lower case, no accents, no note numbers; «group|sub» for a
# two-row header). Fields shared by both books first, then each book's own.
COMMON_ALIASES: dict[str, tuple[str, ...]] = {
    "year": ("autoliquidacion|ejercicio", "ejercicio"),
    "period": ("autoliquidacion|periodo", "periodo"),
    "invoice_type": ("tipo de factura", "tipo factura"),
    "issue_date": ("fecha expedicion", "fecha de expedicion", "fecha factura"),
    "operation_date": ("fecha operacion", "fecha de operacion"),
    "operation_key": ("clave de operacion", "clave operacion"),
    "total": ("total factura", "total"),
    "base": ("base imponible", "base"),
    "rate": ("tipo de iva", "tipo iva", "% iva"),
    "surcharge_rate": ("tipo de recargo eq", "tipo recargo eq", "tipo de recargo de equivalencia"),
    "surcharge": ("cuota recargo eq", "cuota de recargo eq", "cuota recargo de equivalencia"),
    "withholding": ("importe retenido del irpf", "importe retenido irpf", "retencion irpf"),
}
ISSUED_ALIASES: dict[str, tuple[str, ...]] = {
    **COMMON_ALIASES,
    "series": ("identificacion de la factura|serie", "serie"),
    "number": ("identificacion de la factura|numero", "numero", "numero factura", "numero de factura"),
    "number_end": ("identificacion de la factura|numero-final", "numero-final", "numero final"),
    "nif_type": ("nif destinatario|tipo", "tipo nif destinatario"),
    "country": ("nif destinatario|codigo pais", "codigo pais destinatario", "codigo pais"),
    "nif": ("nif destinatario|identificacion", "nif destinatario", "nif"),
    "name": ("nombre destinatario", "destinatario", "nombre"),
    "vat": ("cuota iva repercutida", "cuota repercutida", "cuota iva"),
}
RECEIVED_ALIASES: dict[str, tuple[str, ...]] = {
    **COMMON_ALIASES,
    "number": (
        "identificacion factura del expedidor|serie-numero",
        "serie-numero",
        "numero",
        "numero factura",
        "numero de factura",
    ),
    "number_end": ("identificacion factura del expedidor|numero-final", "numero-final", "numero final"),
    "received_date": ("fecha recepcion", "fecha de recepcion"),
    "nif_type": ("nif expedidor|tipo", "tipo nif expedidor"),
    "country": ("nif expedidor|codigo pais", "codigo pais expedidor", "codigo pais"),
    "nif": ("nif expedidor|identificacion", "nif expedidor", "nif"),
    "name": ("nombre expedidor", "expedidor", "proveedor", "nombre"),
    "capital": ("bien de inversion",),
    "later": ("deducible en periodo posterior",),
    "vat": ("cuota iva soportado", "cuota soportada", "cuota iva"),
    "deductible": ("cuota deducible",),
}
ALIASES = {ISSUED: ISSUED_ALIASES, RECEIVED: RECEIVED_ALIASES}
REQUIRED = ("issue_date", "number", "base", "rate", "vat")
# A header naming one of these is that book's (the cuota columns tell the two books apart).
MARKERS = {RECEIVED: ("cuota iva soportado", "cuota deducible"), ISSUED: ("cuota iva repercutida",)}

TABLE = "vat_book_lines"
ORDER = "book, year, period, issue_date, source_file, source_line"
DDL = """CREATE TABLE vat_book_lines (book VARCHAR, year INTEGER, period VARCHAR, invoice_type VARCHAR,
issue_date DATE, operation_date DATE, received_date DATE, series VARCHAR, number VARCHAR, number_end VARCHAR,
nif_type VARCHAR, country VARCHAR, nif VARCHAR, name VARCHAR, operation_key VARCHAR, capital BOOLEAN, later BOOLEAN,
base DECIMAL(18,2), rate DECIMAL(6,2), vat DECIMAL(18,2), deductible DECIMAL(18,2), surcharge_rate DECIMAL(6,2),
surcharge DECIMAL(18,2), withholding DECIMAL(18,2), total DECIMAL(18,2), source_file VARCHAR, source_line INTEGER)"""


class CellError(ValueError):
    """A value that cannot be read: the Spanish reason naming the column and the value."""


@dataclass(frozen=True)
class Sheet:
    """One book as read: where it is (file, sheet) and its rows (row number, cell values)."""

    file: str
    sheet: str  # the workbook sheet's name; '' for a CSV file
    rows: list[tuple[int, list[object]]]

    @property
    def where(self) -> str:
        return f"{self.file} (hoja {self.sheet})" if self.sheet else self.file


# --- headers ----------------------------------------------------------------------------------------------------


def normalise(text: object) -> str:
    """A header as compared: no accents, lower case, note numbers «(11)» and brackets dropped, spaces collapsed."""
    plain = unicodedata.normalize("NFKD", str(text or "")).encode("ascii", "ignore").decode()
    plain = re.sub(r"\(\d+\)", " ", plain.lower()).replace("(", " ").replace(")", " ")
    return re.sub(r"\s+", " ", plain).strip(" .")


def header_names(top: list[object], sub: list[object] | None) -> list[str]:
    """Each column's name: «group|sub» under a group heading (a heading spans the empty cells to its right while the
    sub-heading row goes on), the heading alone where there is no sub-heading."""
    names, group = [], ""
    width = max(len(top), len(sub or []))
    for i in range(width):
        head = normalise(top[i]) if i < len(top) else ""
        below = normalise(sub[i]) if sub is not None and i < len(sub) else ""
        if head:
            group = head
        names.append((f"{group}|{below}" if group else below) if below else head)
    return names


def match_columns(names: list[str], aliases: dict[str, tuple[str, ...]]) -> dict[str, int]:
    """Field -> column index, by the first alias found (an alias only matches a column no other field took)."""
    taken: set[int] = set()
    found = {}
    for field, choices in aliases.items():
        for choice in choices:
            index = next((i for i, n in enumerate(names) if n == choice and i not in taken), None)
            if index is not None:
                found[field] = index
                taken.add(index)
                break
    return found


def find_header(rows: list[tuple[int, list[object]]]) -> tuple[int, list[str]] | None:
    """(position of the first data row in ``rows``, column names), or None when no row names «Fecha Expedición»."""
    for position, (_, cells) in enumerate(rows[:HEADER_SEARCH_ROWS]):
        heads = [normalise(c) for c in cells]
        dates = [i for i, h in enumerate(heads) if h in COMMON_ALIASES["issue_date"]]
        if not dates:
            continue
        following = rows[position + 1][1] if position + 1 < len(rows) else []
        # A second header row has no date under «Fecha Expedición»: a data row always has one.
        two_rows = (
            bool(following)
            and not _filled(following, dates[0])
            and any(_filled(following, i) for i in range(len(following)))
        )
        if two_rows:
            return position + 2, header_names(cells, following)
        return position + 1, header_names(cells, None)
    return None


def _filled(cells: list[object], index: int) -> bool:
    return index < len(cells) and cells[index] not in (None, "") and str(cells[index]).strip() != ""


def book_of(names: list[str]) -> str | None:
    """Which book a header is (issued or received), or None."""
    for book, markers in MARKERS.items():
        if any(n in markers or n.split("|")[0] in markers for n in names):
            return book
    return None


# --- cells --------------------------------------------------------------------------------------------------------


def cell_text(value: object) -> str:
    """A text cell (numbers written as text: 4444 -> '4444')."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def cell_money(column: str, value: object, *, required: bool = False) -> Decimal | None:
    """An amount: a number cell or Spanish text '1234,56' (two decimals at most, no thousands mark)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise CellError(f"{column} está vacío")
        return None
    if isinstance(value, bool | datetime | date):
        raise CellError(f"{column} «{value}» no es un importe")
    if isinstance(value, int | float | Decimal):
        amount = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    else:
        text = str(value).strip()
        if text.startswith("="):
            raise CellError(f"{column} «{text}» es una fórmula sin valor calculado (guarde el libro desde Excel)")
        if not re.fullmatch(r"-?\d+(,\d{1,2})?", text):
            raise CellError(f"{column} «{text}» no es un importe (formato 1234,56, sin separador de miles)")
        amount = Decimal(text.replace(",", "."))
    rounded = amount.quantize(CENT)
    if abs(amount - rounded) > Decimal("0.000001"):
        raise CellError(f"{column} «{value}» tiene más de dos decimales")
    return rounded


def cell_date(column: str, value: object, *, required: bool = False) -> date | None:
    """A date: a date cell or text dd/mm/aaaa."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = cell_text(value)
    if not text:
        if required:
            raise CellError(f"{column} está vacía")
        return None
    try:
        if not re.fullmatch(r"\d{2}/\d{2}/\d{4}", text):
            raise ValueError(text)
        return datetime.strptime(text, "%d/%m/%Y").date()
    except ValueError:
        raise CellError(f"{column} «{text}» no es una fecha dd/mm/aaaa") from None


def quarter_of(day: date) -> str:
    """'1T'…'4T'."""
    return f"{(day.month - 1) // 3 + 1}T"


# --- rows ---------------------------------------------------------------------------------------------------------


def parse_line(book: str, columns: dict[str, int], cells: list[object]) -> dict:
    """One book line as a row of ``vat_book_lines``; a CellError names the bad column and value."""

    def raw(field: str) -> object:
        index = columns.get(field)
        return cells[index] if index is not None and index < len(cells) else None

    issued = cell_date("Fecha Expedición", raw("issue_date"), required=True)
    operation = cell_date("Fecha Operación", raw("operation_date"))
    received = cell_date("Fecha Recepción", raw("received_date"))
    number = cell_text(raw("number"))
    if not number:
        raise CellError("Número de factura está vacío")
    year_text, period = cell_text(raw("year")), cell_text(raw("period")).upper()
    if year_text or period:
        if not (len(year_text) == 4 and year_text.isdigit()):
            raise CellError(f"Ejercicio «{year_text}» no es un año de cuatro cifras")
        if period not in PERIODS:
            raise CellError(f"Periodo «{period}» no es uno de 1T, 2T, 3T, 4T o 01…12")
        year = int(year_text)
    else:  # the AEAT rule: the quarter of the operation date, else of the issue (received: reception) date
        day = operation or (received if book == RECEIVED else None) or issued
        year, period = day.year, quarter_of(day)
    base = cell_money("Base Imponible", raw("base"), required=True)
    rate = cell_money("Tipo de IVA", raw("rate")) or Decimal("0.00")
    vat = cell_money("Cuota IVA", raw("vat")) or Decimal("0.00")
    deductible = cell_money("Cuota Deducible", raw("deductible")) if book == RECEIVED else None
    if book == RECEIVED and deductible is None:
        deductible = vat  # the AEAT: when the whole cuota is deductible both columns are equal
    return {
        "book": book,
        "year": year,
        "period": period,
        "invoice_type": cell_text(raw("invoice_type")).upper() or "F1",
        "issue_date": issued,
        "operation_date": operation,
        "received_date": received,
        "series": cell_text(raw("series")),
        "number": number,
        "number_end": cell_text(raw("number_end")),
        "nif_type": cell_text(raw("nif_type")),
        "country": cell_text(raw("country")).upper(),
        "nif": cell_text(raw("nif")).upper().replace(" ", "").replace("-", ""),
        "name": cell_text(raw("name")),
        "operation_key": cell_text(raw("operation_key")).zfill(2) if cell_text(raw("operation_key")) else "",
        "capital": cell_text(raw("capital")).upper() == "S",
        "later": cell_text(raw("later")).upper() == "S",
        "base": base,
        "rate": rate,
        "vat": vat,
        "deductible": deductible,
        "surcharge_rate": cell_money("Tipo de Recargo Eq.", raw("surcharge_rate")),
        "surcharge": cell_money("Cuota Recargo Eq.", raw("surcharge")) or Decimal("0.00"),
        "withholding": cell_money("Importe Retenido del IRPF", raw("withholding")) or Decimal("0.00"),
        "total": cell_money("Total Factura", raw("total")),
    }


def invoice_label(row: dict) -> str:
    """'factura A-2024/0079' (series and number as the book writes them)."""
    number = (
        row["number"] if not row["series"] or row["number"].startswith(row["series"]) else row["series"] + row["number"]
    )
    return f"factura {number}"


def line_checks(row: dict, sheet: Sheet, line: int) -> list[Problem]:
    """Warnings on one parsed line: cuota = base × tipo (to the cent), the total, the deductible part, the NIF."""
    found = []

    def warn(rule: str, message: str) -> None:
        found.append(
            Problem(
                rule, f"{_prefix(sheet)}{invoice_label(row)}: {message}", file=sheet.file, line=line, severity="warning"
            )
        )

    expected = (row["base"] * row["rate"] / 100).quantize(CENT)
    if abs(expected - row["vat"]) > CENT:
        warn(
            "vatbook_quota",
            f"la cuota {_es(row['vat'])} no es la base {_es(row['base'])} × {_es(row['rate'])} % = {_es(expected)}",
        )
    if row["surcharge_rate"] is not None and row["surcharge"]:
        expected_surcharge = (row["base"] * row["surcharge_rate"] / 100).quantize(CENT)
        if abs(expected_surcharge - row["surcharge"]) > CENT:
            warn("vatbook_quota", f"el recargo {_es(row['surcharge'])} no es la base × {_es(row['surcharge_rate'])} %")
    if (
        row["total"] is not None
        and row["invoice_type"] not in RECTIFYING_TYPES
        and row["operation_key"] not in UNTOTALLED_KEYS
    ):
        total = row["base"] + row["vat"] + row["surcharge"]
        if row["total"] != total:
            warn("vatbook_total", f"el total {_es(row['total'])} no es base + cuotas = {_es(total)}")
    if row["deductible"] is not None and abs(row["deductible"]) > abs(row["vat"]):
        warn("vatbook_deductible", f"la cuota deducible {_es(row['deductible'])} supera la soportada {_es(row['vat'])}")
    who = "destinatario" if row["book"] == ISSUED else "expedidor"
    if not row["nif"]:
        if row["invoice_type"] in IDENTIFIED_TYPES:
            warn("vatbook_nif", f"falta el NIF del {who} (obligatorio en una factura {row['invoice_type']})")
    elif row["nif_type"] in ("", "01") and not row["country"] and not es_nif.is_valid(row["nif"]):
        warn("vatbook_nif", f"el NIF del {who} «{row['nif']}» no es válido (letra o dígito de control)")
    return found


def _prefix(sheet: Sheet) -> str:
    return f"hoja {sheet.sheet}, " if sheet.sheet else ""


def _es(value: Decimal) -> str:
    return f"{value:.2f}".replace(".", ",")


def read_sheet(sheet: Sheet, problems: list[Problem]) -> tuple[str | None, list[dict]]:
    """The book a sheet holds and its parsed lines; problems name file, sheet and row."""
    found = find_header(sheet.rows)
    if found is None:
        return None, []
    start, names = found
    book = book_of(names)
    if book is None:
        return None, []
    columns = match_columns(names, ALIASES[book])
    missing = [f for f in REQUIRED if f not in columns]
    if missing:
        shown = ", ".join(ALIASES[book][f][0].split("|")[-1] for f in missing)
        line = sheet.rows[start - 1][0]
        problems.append(
            Problem(
                "vatbook_columns",
                f"{_prefix(sheet)}faltan columnas del libro de {BOOK_NAMES[book]}: {shown}",
                file=sheet.file,
                line=line,
            )
        )
        return book, []
    lines = []
    for line, cells in sheet.rows[start:]:
        if not any(_filled(cells, i) for i in range(len(cells))):
            continue
        try:
            row = parse_line(book, columns, cells)
        except CellError as exc:
            problems.append(Problem("vatbook_row", f"{_prefix(sheet)}{exc}", file=sheet.file, line=line))
            continue
        problems += line_checks(row, sheet, line)
        lines.append({**row, "source_file": sheet.file, "source_line": line})
    return book, lines


def duplicate_lines(lines: list[dict]) -> list[Problem]:
    """A warning for a line repeating an earlier one (same book, invoice, rate, base and cuota)."""
    seen: dict[tuple, tuple[str, int]] = {}
    found = []
    for row in lines:
        key = (row["book"], row["series"], row["number"], row["nif"], row["rate"], row["base"], row["vat"])
        if key in seen:
            file, line = seen[key]
            where = f"línea {line}" if file == row["source_file"] else f"{file}, línea {line}"
            message = f"{invoice_label(row)}: línea repetida (ya en la {where})"
            found.append(
                Problem(
                    "vatbook_duplicate", message, file=row["source_file"], line=row["source_line"], severity="warning"
                )
            )
        else:
            seen[key] = (row["source_file"], row["source_line"])
    return found


# --- files --------------------------------------------------------------------------------------------------------


def workbook_sheets(path: Path, problems: list[Problem]) -> list[Sheet]:
    """Every sheet of a workbook as rows of cell values (merged headings appear in their first cell only)."""
    import openpyxl  # imported here: only workbooks need it

    name = display_name(path)
    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # a damaged or foreign file: openpyxl raises many kinds
        problems.append(Problem("vatbook_file", f"No se puede abrir el libro Excel: {exc}", file=name))
        return []
    try:
        return [
            Sheet(name, sheet.title, [(n, list(r)) for n, r in enumerate(sheet.iter_rows(values_only=True), start=1)])
            for sheet in book.worksheets
        ]
    except Exception as exc:  # read-only sheets are parsed while iterating: a damaged sheet fails here
        problems.append(Problem("vatbook_file", f"No se puede leer una hoja del libro Excel: {exc}", file=name))
        return []
    finally:
        book.close()


def csv_sheet(path: Path, problems: list[Problem]) -> list[Sheet]:
    """A ';' file (UTF-8, a BOM allowed, or Windows-1252 as the AEAT's own files) as one sheet."""
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="replace")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=";")
    rows = []
    for values in reader:
        rows.append((reader.line_num, [v.strip() for v in values]))
    return [Sheet(display_name(path), "", rows)]


def inputs(folder: Path) -> list[Path]:
    """Every workbook and CSV file directly under impuestos/libros/."""
    return source_files(folder, *FOLDER, suffixes=SUFFIXES, recursive=False)


def read(con: duckdb.DuckDBPyConnection, folder: Path, info: CompanyInfo) -> ModuleOutput:
    """Read the company's VAT books into ``vat_book_lines``; errors name file and row, checks warn."""
    files = inputs(folder)
    if not files:
        return ModuleOutput()
    problems: list[Problem] = []
    lines: list[dict] = []
    facts = []
    for path in files:
        sheets = workbook_sheets(path, problems) if path.suffix.lower() == ".xlsx" else csv_sheet(path, problems)
        books = []
        for sheet in sheets:
            book, found = read_sheet(sheet, problems)
            if book is not None:
                books.append(book)
                lines += found
                facts.append({"file": sheet.file, "sheet": sheet.sheet, "book": book, "lines": len(found)})
        if sheets and not books:
            message = (
                "No se reconoce ningún libro registro de IVA (falta la cabecera con «Fecha Expedición» y la cuota "
                "repercutida o soportada)"
            )
            problems.append(Problem("vatbook_columns", message, file=display_name(path), line=None))
    problems += duplicate_lines(lines)
    if any(p.severity == "error" for p in problems):
        return ModuleOutput(problems=problems[:MAX_PROBLEMS])
    store_rows(con, TABLE, DDL, lines)
    warnings = [p for p in problems if p.severity == "warning"]
    return ModuleOutput(
        problems=problems[:MAX_PROBLEMS],
        tables={f"{TABLE}.parquet": f"SELECT * FROM {TABLE} ORDER BY {ORDER}"},
        manifest={
            "lines": len(lines),
            "issued": sum(1 for r in lines if r["book"] == ISSUED),
            "received": sum(1 for r in lines if r["book"] == RECEIVED),
            "warnings": len(warnings),
            "books": facts,
        },
    )


READER = ModuleReader("impuestos/libros", inputs, read)
