"""Reader of the facturas module: the firm's invoices to the client, their lines and PDFs (docs/sources.md §7).

Facturae XML invoices are not read: the official XSD (Facturaev3_2_2.xsd) is not available offline, and an XML
the portal cannot validate against the schema is not accepted as an invoice.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import duckdb
import pandas as pd

from etl.modules import ModuleOutput, ModuleReader, files_under
from etl.problems import Problem
from etl.sources import CompanyInfo, display_name

FOLDER = "facturas"
INVOICES, LINES, PDF_FOLDER = "facturas.csv", "lineas.csv", "pdf"
INVOICE_COLUMNS = (
    "numero",
    "fecha",
    "concepto",
    "base",
    "tipo_iva",
    "cuota_iva",
    "tipo_irpf",
    "retencion_irpf",
    "total",
    "vencimiento",
    "forma_pago",
    "fecha_cobro",
)
LINE_COLUMNS = ("numero", "linea", "descripcion", "cantidad", "precio", "importe")
NUMBER = re.compile(r"FD-(\d{4})-\d{4}")
MONEY = re.compile(r"-?\d+,\d{2}")
QUANTITY = re.compile(r"-?\d+(,\d{1,4})?")
DAY = re.compile(r"\d{2}/\d{2}/\d{4}")
CENT = Decimal("0.01")
PDF_MAGIC = b"%PDF-"
MAX_PROBLEMS = 200


class RowError(ValueError):
    """A bad field of one row: the Spanish reason naming column and value."""


@dataclass(frozen=True)
class Table:
    """One parsed ';' file: its display name and rows (line number as an editor shows it, values by column)."""

    name: str
    rows: list[tuple[int, dict[str, str]]]


# --- field parsers (each raises RowError with the Spanish reason; cases.py uses them too) -------------------------


def money(column: str, value: str) -> Decimal:
    """'1234,56' -> Decimal('1234.56')."""
    if not MONEY.fullmatch(value):
        raise RowError(f"{column} «{value}» no es un importe (formato 1234,56)")
    return Decimal(value.replace(",", "."))


def quantity(column: str, value: str) -> Decimal:
    """'2' or '1,5' -> Decimal (at most four decimals)."""
    if not QUANTITY.fullmatch(value):
        raise RowError(f"{column} «{value}» no es una cantidad (formato 2 o 1,5)")
    return Decimal(value.replace(",", "."))


def day(column: str, value: str, *, required: bool = True) -> date | None:
    """'31/12/2025' -> date; empty -> None when not required."""
    if not value:
        if required:
            raise RowError(f"{column} está vacía")
        return None
    try:
        if not DAY.fullmatch(value):
            raise ValueError(value)
        return datetime.strptime(value, "%d/%m/%Y").date()
    except ValueError:
        raise RowError(f"{column} «{value}» no es una fecha dd/mm/aaaa") from None


def text(column: str, value: str) -> str:
    """A required text."""
    if not value:
        raise RowError(f"{column} está vacío")
    return value


def flag(column: str, value: str) -> bool:
    """'s' -> True, 'n' -> False."""
    if value not in ("s", "n"):
        raise RowError(f"{column} «{value}» debe ser s o n")
    return value == "s"


def one_of(column: str, value: str, allowed: tuple[str, ...]) -> str:
    """A value from a fixed list."""
    if value not in allowed:
        raise RowError(f"{column} «{value}» no es uno de: {', '.join(allowed)}")
    return value


def half_up(value: Decimal) -> Decimal:
    """Rounded to cents, half up (as the firm's invoicing software rounds)."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def spanish(value: Decimal) -> str:
    """Decimal('1234.5') -> '1234,50' (as the files write it)."""
    return f"{value:.2f}".replace(".", ",")


# --- reading files ------------------------------------------------------------------------------------------------


def read_table(path: Path, columns: tuple[str, ...], rule: str, problems: list[Problem]) -> Table | None:
    """The rows of a ';' file with the expected header (any order); None after a file-level error."""
    name = display_name(path)
    try:
        content = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError:
        problems.append(Problem(f"{rule}_encoding", "El archivo no está en UTF-8", file=name, line=1))
        return None
    reader = csv.reader(io.StringIO(content, newline=""), delimiter=";")
    header = [h.strip().lower() for h in next(reader, [])]
    missing = [c for c in columns if c not in header]
    if missing:
        problems.append(Problem(f"{rule}_columns", f"Faltan columnas: {', '.join(missing)}", file=name, line=1))
        return None
    extra = [c for c in header if c not in columns]
    if extra:
        message = f"Columnas que no se leen: {', '.join(extra)}"
        problems.append(Problem(f"{rule}_columns", message, file=name, line=1, severity="warning"))
    rows = []
    for values in reader:
        if not any(v.strip() for v in values):
            continue
        if len(values) != len(header):
            message = f"La línea tiene {len(values)} campos y la cabecera {len(header)}"
            problems.append(Problem(f"{rule}_columns", message, file=name, line=reader.line_num))
            continue
        rows.append((reader.line_num, {h: v.strip() for h, v in zip(header, values, strict=True)}))
    return Table(name, rows)


def parse_rows(table: Table, parse: Callable[[dict[str, str]], dict], rule: str, problems: list[Problem]) -> list[dict]:
    """Each row through ``parse``; a RowError becomes an error naming file and line."""
    parsed = []
    for line, values in table.rows:
        try:
            parsed.append({**parse(values), "source_line": line})
        except RowError as exc:
            problems.append(Problem(rule, str(exc), file=table.name, line=line))
    return parsed


def duplicates(rows: list[dict], key: Callable[[dict], tuple], file: str, what: str, rule: str) -> list[Problem]:
    """An error for every row repeating an earlier row's key."""
    seen: dict[tuple, int] = {}
    found = []
    for row in rows:
        k = key(row)
        if k in seen:
            message = f"{what} «{' '.join(map(str, k))}» repetido (ya en la línea {seen[k]})"
            found.append(Problem(rule, message, file=file, line=row["source_line"]))
        else:
            seen[k] = row["source_line"]
    return found


def store_rows(con: duckdb.DuckDBPyConnection, name: str, ddl: str, rows: list[dict]) -> None:
    """(Re)create table ``name`` from ``ddl`` and insert ``rows`` (dicts keyed by its columns)."""
    con.execute(f"DROP TABLE IF EXISTS {name}")  # name: an internal constant
    con.execute(ddl)
    columns = [row[0] for row in con.execute(f"DESCRIBE {name}").fetchall()]
    if rows:
        frame = pd.DataFrame([{c: r[c] for c in columns} for r in rows], columns=columns)  # noqa: F841 - scanned
        con.execute(f"INSERT INTO {name} SELECT * FROM frame")


# --- the invoice rules --------------------------------------------------------------------------------------------


def parse_invoice(values: dict[str, str]) -> dict:
    """One facturas.csv row with its number, amounts (rounded half up) and dates checked."""
    number = values["numero"]
    match = NUMBER.fullmatch(number)
    if not match:
        raise RowError(f"numero «{number}» no tiene el formato FD-<año>-<nnnn> (p. ej. FD-2025-0007)")
    issued = day("fecha", values["fecha"])
    if int(match.group(1)) != issued.year:
        raise RowError(f"numero «{number}» es de la serie de {match.group(1)} pero fecha es «{values['fecha']}»")
    amounts = {c: money(c, values[c]) for c in ("base", "cuota_iva", "retencion_irpf", "total")}
    rates = {c: money(c, values[c]) for c in ("tipo_iva", "tipo_irpf")}
    for column, rate in rates.items():
        if not Decimal(0) <= rate <= Decimal(100):
            raise RowError(f"{column} «{values[column]}» debe estar entre 0,00 y 100,00")
    base = amounts["base"]
    for column, rate_column in (("cuota_iva", "tipo_iva"), ("retencion_irpf", "tipo_irpf")):
        expected = half_up(base * rates[rate_column] / 100)
        if amounts[column] != expected:
            raise RowError(
                f"{column} «{values[column]}» no es base × {rate_column} = {spanish(expected)} (redondeo al céntimo)"
            )
    total = base + amounts["cuota_iva"] - amounts["retencion_irpf"]
    if amounts["total"] != total:
        raise RowError(f"total «{values['total']}» no es base + cuota_iva − retencion_irpf = {spanish(total)}")
    due = day("vencimiento", values["vencimiento"])
    if due < issued:
        raise RowError(f"vencimiento «{values['vencimiento']}» es anterior a fecha «{values['fecha']}»")
    paid = day("fecha_cobro", values["fecha_cobro"], required=False)
    if paid is not None and paid < issued:
        raise RowError(f"fecha_cobro «{values['fecha_cobro']}» es anterior a fecha «{values['fecha']}»")
    return {
        "number": number,
        "issue_date": issued,
        "concept": text("concepto", values["concepto"]),
        "base": base,
        "vat_rate": rates["tipo_iva"],
        "vat": amounts["cuota_iva"],
        "withholding_rate": rates["tipo_irpf"],
        "withholding": amounts["retencion_irpf"],
        "total": amounts["total"],
        "due_date": due,
        "payment_method": values["forma_pago"],
        "paid_date": paid,
    }


def parse_line(values: dict[str, str]) -> dict:
    """One lineas.csv row: cantidad × precio = importe (rounded half up to cents)."""
    if not values["linea"].isdigit() or int(values["linea"]) < 1:
        raise RowError(f"linea «{values['linea']}» debe ser un número entero positivo")
    amount, price = money("importe", values["importe"]), money("precio", values["precio"])
    count = quantity("cantidad", values["cantidad"])
    if half_up(count * price) != amount:
        raise RowError(f"importe «{values['importe']}» no es cantidad × precio = {spanish(half_up(count * price))}")
    return {
        "number": text("numero", values["numero"]),
        "line": int(values["linea"]),
        "description": text("descripcion", values["descripcion"]),
        "quantity": count,
        "price": price,
        "amount": amount,
    }


def line_rules(invoices: list[dict], lines: list[dict], files: tuple[str, str]) -> list[Problem]:
    """Lines of unknown invoices (at the line), and invoices whose lines do not add up to the base (at the invoice)."""
    invoice_file, line_file = files
    known = {i["number"] for i in invoices}
    found = [
        Problem(
            "invoice_line_unknown",
            f"numero «{r['number']}» no está en {INVOICES}",
            file=line_file,
            line=r["source_line"],
        )
        for r in lines
        if r["number"] not in known
    ]
    sums: dict[str, Decimal] = defaultdict(Decimal)
    counts: dict[str, int] = defaultdict(int)
    for row in lines:
        sums[row["number"]] += row["amount"]
        counts[row["number"]] += 1
    for invoice in invoices:
        number = invoice["number"]
        if sums[number] != invoice["base"]:
            found.append(
                Problem(
                    "invoice_lines_total",
                    f"base «{spanish(invoice['base'])}» de {number} no es la suma de sus {counts[number]} líneas "
                    f"de {LINES} = {spanish(sums[number])}",
                    file=invoice_file,
                    line=invoice["source_line"],
                )
            )
    return found


def read_pdfs(folder: Path, invoices: list[dict], invoice_file: str) -> tuple[list[dict], list[Problem]]:
    """The PDF of each invoice; a missing, unlisted or non-PDF file is a warning (the invoice stays)."""
    found, problems = {}, []
    for path in files_under(folder / PDF_FOLDER, suffixes=(".pdf",)):
        content = path.read_bytes()
        name = f"{PDF_FOLDER}/{path.name}"
        if path.parent != folder / PDF_FOLDER or path.stem not in {i["number"] for i in invoices}:
            message = f"{path.name} no corresponde a ninguna factura de {INVOICES}: no se publica"
            problems.append(Problem("invoice_pdf_unlisted", message, file=name, severity="warning"))
        elif not content.startswith(PDF_MAGIC):
            message = f"{path.name} no es un PDF (no empieza por %PDF-): no se publica"
            problems.append(Problem("invoice_pdf_invalid", message, file=name, severity="warning"))
        else:
            sha = hashlib.sha256(content).hexdigest()
            found[path.stem] = {"number": path.stem, "file_name": path.name, "content": content, "sha256": sha}
    for invoice in invoices:
        invoice["has_pdf"] = invoice["number"] in found
        if not invoice["has_pdf"]:
            message = f"Falta el PDF de la factura {invoice['number']} ({PDF_FOLDER}/{invoice['number']}.pdf)"
            problems.append(
                Problem(
                    "invoice_pdf_missing", message, file=invoice_file, line=invoice["source_line"], severity="warning"
                )
            )
    return list(found.values()), problems


# --- the reader ---------------------------------------------------------------------------------------------------

INVOICE_TABLE = """CREATE TABLE invoices (number VARCHAR, issue_date DATE, concept VARCHAR, base DECIMAL(18,2),
    vat_rate DECIMAL(5,2), vat DECIMAL(18,2), withholding_rate DECIMAL(5,2), withholding DECIMAL(18,2),
    total DECIMAL(18,2), due_date DATE, payment_method VARCHAR, paid_date DATE, has_pdf BOOLEAN, source_line INTEGER)"""
LINE_TABLE = """CREATE TABLE invoice_lines (number VARCHAR, line INTEGER, description VARCHAR,
    quantity DECIMAL(18,4), price DECIMAL(18,2), amount DECIMAL(18,2), source_line INTEGER)"""
PDF_TABLE = "CREATE TABLE invoice_pdfs (number VARCHAR, file_name VARCHAR, content BLOB, sha256 VARCHAR)"
ORDERS = {"invoices": "issue_date, number", "invoice_lines": "number, line", "invoice_pdfs": "number"}


def inputs(folder: Path) -> list[Path]:
    """facturas.csv, lineas.csv, every PDF under facturas/pdf/ and any Facturae XML (only to warn about it)."""
    base = folder / FOLDER
    csvs = [p for p in files_under(base) if p.parent == base and p.name in (INVOICES, LINES)]
    return sorted(csvs + files_under(base / PDF_FOLDER, suffixes=(".pdf",)) + facturae_files(folder))


def facturae_files(folder: Path) -> list[Path]:
    """Facturae XML invoices the firm may have dropped in facturas/ (not read: see the module docstring)."""
    return files_under(folder / FOLDER, suffixes=(".xml", ".xsig"))


def facturae_warnings(folder: Path) -> list[Problem]:
    """One warning per Facturae file: without the official XSD offline it cannot be validated, so it is not read."""
    message = (
        "Factura electrónica Facturae no leída: el portal no dispone del esquema oficial (XSD) para validarla; "
        "la factura se publica desde facturas.csv, lineas.csv y su PDF"
    )
    return [
        Problem("invoice_facturae_skipped", message, file=display_name(p), severity="warning")
        for p in facturae_files(folder)
    ]


def read(con: duckdb.DuckDBPyConnection, folder: Path, info: CompanyInfo) -> ModuleOutput:
    """Read and validate the firm's invoices to the company; errors name file and line, a missing PDF warns."""
    base = folder / FOLDER
    if not inputs(folder):
        return ModuleOutput()
    problems: list[Problem] = []
    tables = {}
    for name, columns in ((INVOICES, INVOICE_COLUMNS), (LINES, LINE_COLUMNS)):
        path = base / name
        if not path.is_file():
            problems.append(Problem("invoice_missing_file", f"Falta el archivo {name}", file=f"{FOLDER}/{name}"))
            tables[name] = Table(f"{FOLDER}/{name}", [])
        else:
            tables[name] = read_table(path, columns, "invoice", problems) or Table(display_name(path), [])
    invoices = parse_rows(tables[INVOICES], parse_invoice, "invoice_row", problems)
    lines = parse_rows(tables[LINES], parse_line, "invoice_line", problems)
    files = (tables[INVOICES].name, tables[LINES].name)
    problems += duplicates(invoices, lambda r: (r["number"],), files[0], "numero", "invoice_duplicate")
    problems += duplicates(lines, lambda r: (r["number"], r["line"]), files[1], "numero y linea", "invoice_duplicate")
    # An invoice row that did not parse is reported once; its lines are then not judged against it.
    parsed_numbers = {i["number"] for i in invoices}
    bad_numbers = {v["numero"] for _, v in tables[INVOICES].rows} - parsed_numbers
    problems += line_rules(invoices, [r for r in lines if r["number"] not in bad_numbers], files)
    if any(p.severity == "error" for p in problems):
        return ModuleOutput(problems=problems[:MAX_PROBLEMS])
    pdfs, warnings = read_pdfs(base, invoices, files[0])
    problems += warnings + facturae_warnings(folder)
    store_rows(con, "invoices", INVOICE_TABLE, invoices)
    store_rows(con, "invoice_lines", LINE_TABLE, lines)
    con.execute("DROP TABLE IF EXISTS invoice_pdfs")
    con.execute(PDF_TABLE)
    if pdfs:
        rows = [(p["number"], p["file_name"], p["content"], p["sha256"]) for p in pdfs]
        con.executemany("INSERT INTO invoice_pdfs VALUES (?, ?, ?, ?)", rows)
    return ModuleOutput(
        problems=problems[:MAX_PROBLEMS],
        tables={f"{name}.parquet": f"SELECT * FROM {name} ORDER BY {order}" for name, order in ORDERS.items()},
        manifest={"invoices": len(invoices), "invoice_lines": len(lines), "invoice_pdfs": len(pdfs)},
    )


READER = ModuleReader(FOLDER, inputs, read)
