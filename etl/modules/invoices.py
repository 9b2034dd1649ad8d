"""Reader of the facturas module: the firm's invoices to the client, their lines, PDFs and Facturae XML (§7).

Facturae 3.2.1 / 3.2.2 files in facturas/facturae/ (.xml, or .xsig signed XML) are parsed without network, DTDs or
entities, validated against the official XSD vendored in etl/schemas/facturae/ (the XAdES signature of a .xsig is
not verified), must be addressed to the company's NIF, must add up to the cent and must agree with facturas.csv
on every invoice both carry; an invoice only in the XML is added with its lines (unpaid: the XML has no payment
date). Column ``source`` of the invoices says where each invoice came from: csv, facturae or both.
"""

from __future__ import annotations

import functools
import hashlib
import io
import re
import threading
from collections import defaultdict
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import duckdb
from lxml import etree
from stdnum.es import nif as es_nif

from etl.modules import ModuleOutput, ModuleReader
from etl.modules._csv import (
    RowError,
    Table,
    day,
    duplicates,
    money,
    parse_rows,
    read_table,
    spanish,
    store_rows,
    text,
)
from etl.problems import Problem
from etl.sources import CompanyInfo, display_name, source_file, source_files

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
QUANTITY = re.compile(r"-?\d+(,\d{1,4})?")
CENT = Decimal("0.01")
PDF_MAGIC = b"%PDF-"
MAX_PROBLEMS = 200


# --- field parsers (each raises RowError with the Spanish reason; cases.py uses them too) -------------------------


def quantity(column: str, value: str) -> Decimal:
    """'2' or '1,5' -> Decimal (at most four decimals)."""
    if not QUANTITY.fullmatch(value):
        raise RowError(f"{column} «{value}» no es una cantidad (formato 2 o 1,5)")
    return Decimal(value.replace(",", "."))


def half_up(value: Decimal) -> Decimal:
    """Rounded to cents, half up (as the firm's invoicing software rounds)."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


# --- reading files ------------------------------------------------------------------------------------------------


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
    """The PDF of each invoice (facturas/pdf/); a missing, unlisted or non-PDF file is a warning (the invoice stays)."""
    found, problems = {}, []
    for path in source_files(folder, FOLDER, PDF_FOLDER, suffixes=(".pdf",)):
        content = path.read_bytes()
        name = f"{PDF_FOLDER}/{path.name}"
        if path.parent != folder / FOLDER / PDF_FOLDER or path.stem not in {i["number"] for i in invoices}:
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
            where = invoice.get("source_file", invoice_file)
            problems.append(
                Problem("invoice_pdf_missing", message, file=where, line=invoice["source_line"], severity="warning")
            )
    return list(found.values()), problems


# --- Facturae XML invoices (facturas/facturae/*.xml or *.xsig) -----------------------------------------------------

FACTURAE_FOLDER = "facturae"
FACTURAE_SUFFIXES = (".xml", ".xsig")
SCHEMAS = Path(__file__).resolve().parents[1] / "schemas" / "facturae"
VERSIONS = {  # root namespace -> (version, vendored XSD)
    "http://www.facturae.gob.es/formato/Versiones/Facturaev3_2_2.xml": ("3.2.2", "Facturaev3_2_2.xsd"),
    "http://www.facturae.es/Facturae/2014/v3.2.1/Facturae": ("3.2.1", "Facturaev3_2_1.xsd"),
}
VAT_CODE, IRPF_CODE = "01", "04"  # TaxTypeCode: 01 IVA, 04 IRPF
PAYMENT_MEANS = {"01": "contado", "02": "domiciliacion", "04": "transferencia", "19": "tarjeta"}
MAX_XML_BYTES = 10 * 1024 * 1024
MAX_AMOUNT = Decimal(10) ** 15  # the tables keep DECIMAL(18,2) and DECIMAL(18,4)
COMPARED = (  # the fields an invoice in both facturas.csv and a Facturae file must agree on
    ("issue_date", "fecha"),
    ("base", "base"),
    ("vat", "cuota_iva"),
    ("withholding", "retencion_irpf"),
    ("total", "total"),
    ("due_date", "vencimiento"),
)
_VALIDATE = threading.Lock()  # one XMLSchema object is shared by the loads; its error log is not thread-safe


class FacturaeError(ValueError):
    """A rejected Facturae file or invoice: the Spanish reason (and the line, when the XML has one)."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.line = line


def safe_parser() -> etree.XMLParser:
    """No network, no DTD loading, no entity expansion (XXE-safe); a document with a DTD is refused after parsing."""
    return etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False, huge_tree=False
    )


@functools.cache
def schema(file_name: str) -> etree.XMLSchema:
    """The vendored official XSD (its xmldsig import is the local file next to it: nothing is fetched)."""
    parser = etree.XMLParser(no_network=True, resolve_entities=True, load_dtd=False)  # our own vendored files
    return etree.XMLSchema(etree.parse(str(SCHEMAS / file_name), parser))


def parse_facturae(content: bytes, name: str) -> tuple[str, etree._Element]:
    """(version, root) of a well-formed, DTD-free Facturae 3.2.1 or 3.2.2 file valid against its official XSD."""
    if len(content) > MAX_XML_BYTES:
        raise FacturaeError(f"El archivo {name} ocupa más de {MAX_XML_BYTES // (1024 * 1024)} MB")
    try:
        tree = etree.parse(io.BytesIO(content), safe_parser())
    except etree.XMLSyntaxError as exc:
        raise FacturaeError(f"El archivo {name} no es un XML bien formado: {exc.msg}", exc.lineno) from None
    if tree.docinfo.doctype or tree.docinfo.internalDTD is not None:
        raise FacturaeError(f"El archivo {name} contiene una declaración DTD o entidades: no se admite")
    root = tree.getroot()
    qname = etree.QName(root)
    if qname.localname != "Facturae" or qname.namespace not in VERSIONS:
        version = (root.findtext("FileHeader/SchemaVersion") or "").strip() or qname.namespace or "sin versión"
        raise FacturaeError(
            f"El archivo {name} no es una factura Facturae de versión admitida (3.2.1 o 3.2.2): «{version}»"
        )
    version, xsd = VERSIONS[qname.namespace]
    validator = schema(xsd)
    with _VALIDATE:
        valid = validator.validate(tree)
        first = None if valid else validator.error_log[0]
    if first is not None:
        raise FacturaeError(
            f"El archivo {name} no cumple el esquema Facturae {version}: línea {first.line}: {first.message}",
            first.line,
        )
    return version, root


def xml_amount(element: etree._Element, path: str, where: str) -> Decimal:
    """A money element (the schema allows up to eight decimals; the portal keeps cents, so more is an error)."""
    value = Decimal(element.findtext(path).strip())
    if abs(value) >= MAX_AMOUNT:
        raise FacturaeError(f"{where}: {path} «{value}» es demasiado grande")
    if value != half_up(value):
        raise FacturaeError(f"{where}: {path} «{value}» tiene más de dos decimales")
    return value


def taxes(invoice: etree._Element, block: str, code: str, what: str, where: str) -> tuple[Decimal, Decimal, Decimal]:
    """(rate, base, amount) of the one tax of ``code`` in TaxesOutputs or TaxesWithheld; zeros when absent."""
    found = invoice.findall(f"{block}/Tax")
    others = sorted({(t.findtext("TaxTypeCode") or "").strip() for t in found} - {code})
    if others:
        raise FacturaeError(f"{where}: {block} tiene impuestos distintos de {what} (TaxTypeCode {', '.join(others)})")
    if len(found) > 1:
        raise FacturaeError(f"{where}: {block} tiene {len(found)} tipos de {what}; el portal admite uno")
    if not found:
        return Decimal("0.00"), Decimal("0.00"), Decimal("0.00")
    tax = found[0]
    rate = Decimal(tax.findtext("TaxRate").strip())
    if not Decimal(0) <= rate <= Decimal(100):
        raise FacturaeError(f"{where}: TaxRate «{rate}» de {what} debe estar entre 0 y 100")
    base = xml_amount(tax, "TaxableBase/TotalAmount", where)
    if tax.find("TaxAmount/TotalAmount") is None:
        raise FacturaeError(f"{where}: {block} de {what} no tiene TaxAmount")
    return rate, base, xml_amount(tax, "TaxAmount/TotalAmount", where)


def facturae_invoice(invoice: etree._Element, name: str) -> tuple[dict, list[dict]]:
    """One Invoice element as an invoices row and its lines, with its amounts checked to the cent."""
    header = invoice.find("InvoiceHeader")
    series = (header.findtext("InvoiceSeriesCode") or "").strip()
    number = header.findtext("InvoiceNumber").strip()
    number = f"{series}-{number}" if series else number
    where = f"{name}, factura {number}"
    match = NUMBER.fullmatch(number)
    if not match:
        raise FacturaeError(
            f"{where}: InvoiceSeriesCode-InvoiceNumber «{number}» no tiene el formato FD-<año>-<nnnn> "
            "(p. ej. serie FD-2025 y número 0007)"
        )
    issue = invoice.find("InvoiceIssueData")
    issued = date.fromisoformat(issue.findtext("IssueDate").strip()[:10])
    if int(match.group(1)) != issued.year:
        raise FacturaeError(f"{where}: es de la serie de {match.group(1)} pero IssueDate es {issued:%d/%m/%Y}")
    currency = issue.findtext("InvoiceCurrencyCode").strip()
    if currency != "EUR":
        raise FacturaeError(f"{where}: InvoiceCurrencyCode «{currency}» no es EUR")
    totals = invoice.find("InvoiceTotals")
    base = xml_amount(totals, "TotalGrossAmountBeforeTaxes", where)
    total = xml_amount(totals, "InvoiceTotal", where)
    vat_rate, vat_base, vat = taxes(invoice, "TaxesOutputs", VAT_CODE, "IVA", where)
    irpf_rate, irpf_base, irpf = taxes(invoice, "TaxesWithheld", IRPF_CODE, "IRPF", where)
    lines = []
    for position, item in enumerate(invoice.findall("Items/InvoiceLine"), start=1):
        count = Decimal(item.findtext("Quantity").strip())  # xs:double: 1E2, INF and NaN are schema-valid
        if not count.is_finite() or abs(count) >= MAX_AMOUNT or count != count.quantize(Decimal("0.0001")):
            raise FacturaeError(
                f"{where}: Quantity «{count}» de la línea {position} no es una cantidad con hasta cuatro decimales"
            )
        lines.append(
            {
                "number": number,
                "line": position,
                "description": item.findtext("ItemDescription").strip(),
                "quantity": count,
                "price": xml_amount(item, "UnitPriceWithoutTax", f"{where}, línea {position}"),
                "amount": xml_amount(item, "GrossAmount", f"{where}, línea {position}"),
                "source_line": None,
            }
        )
    line_sum = sum((li["amount"] for li in lines), Decimal("0.00"))
    checks = [
        (line_sum == base, f"la suma de las {len(lines)} líneas (GrossAmount) = {spanish(line_sum)} no es "
         f"TotalGrossAmountBeforeTaxes = {spanish(base)}"),
        (vat_base == base or vat == 0, f"la base del IVA {spanish(vat_base)} no es la base {spanish(base)}"),
        (vat == half_up(base * vat_rate / 100), f"IVA {spanish(vat)} no es base × {vat_rate} % = "
         f"{spanish(half_up(base * vat_rate / 100))} (redondeo al céntimo)"),
        (irpf == half_up(base * irpf_rate / 100), f"IRPF {spanish(irpf)} no es base × {irpf_rate} % = "
         f"{spanish(half_up(base * irpf_rate / 100))} (redondeo al céntimo)"),
        (irpf_base == base or irpf == 0, f"la base del IRPF {spanish(irpf_base)} no es la base {spanish(base)}"),
        (base + vat - irpf == total, f"base {spanish(base)} + IVA {spanish(vat)} − IRPF {spanish(irpf)} = "
         f"{spanish(base + vat - irpf)} no es InvoiceTotal = {spanish(total)}"),
    ]  # fmt: skip
    for ok, message in checks:
        if not ok:
            raise FacturaeError(f"{where}: los importes no cuadran: {message}")
    installments = invoice.findall("PaymentDetails/Installment")
    if not installments:
        raise FacturaeError(f"{where}: no tiene vencimiento (PaymentDetails/Installment/InstallmentDueDate)")
    due = date.fromisoformat(installments[0].findtext("InstallmentDueDate").strip()[:10])
    if due < issued:
        raise FacturaeError(f"{where}: InstallmentDueDate {due:%d/%m/%Y} es anterior a IssueDate {issued:%d/%m/%Y}")
    means = installments[0].findtext("PaymentMeans").strip()
    description = (issue.findtext("InvoiceDescription") or "").strip() or (lines[0]["description"] if lines else "")
    row = {
        "number": number,
        "issue_date": issued,
        "concept": description[:200],
        "base": base,
        "vat_rate": half_up(vat_rate),
        "vat": vat,
        "withholding_rate": half_up(irpf_rate),
        "withholding": irpf,
        "total": total,
        "due_date": due,
        "payment_method": PAYMENT_MEANS.get(means, f"código Facturae {means}"),
        "paid_date": None,
        "source_line": None,
        "source": "facturae",
        "source_file": name,
    }
    return row, lines


def same_nif(a: str, b: str) -> bool:
    """NIFs compared without spaces, hyphens, case or an 'ES' prefix."""
    return bool(a) and es_nif.compact(a) == es_nif.compact(b)


def read_facturae_file(path: Path, info: CompanyInfo) -> tuple[list[dict], list[dict]]:
    """The invoices and lines of one Facturae file (one or a batch), checked; FacturaeError on the first problem."""
    name = display_name(path)
    content = path.read_bytes()
    _version, root = parse_facturae(content, name)
    buyer = root.findtext("Parties/BuyerParty/TaxIdentification/TaxIdentificationNumber").strip()
    if not info.nif:
        raise FacturaeError(
            f"El archivo {name} no se puede leer: la empresa no tiene NIF en empresa.json y no se puede "
            "comprobar que la factura va dirigida a ella"
        )
    if not same_nif(buyer, info.nif):
        raise FacturaeError(
            f"El archivo {name} va dirigido al NIF {buyer} (BuyerParty) y la empresa es {info.nif}: "
            "no se carga en esta empresa"
        )
    invoices, lines = [], []
    for invoice in root.findall("Invoices/Invoice"):
        row, its_lines = facturae_invoice(invoice, name)
        row["xml"] = {"number": row["number"], "file_name": path.name, "content": content}
        invoices.append(row)
        lines += its_lines
    return invoices, lines


def merge_facturae(
    csv_invoices: list[dict], csv_lines: list[dict], files: list[Path], info: CompanyInfo, invoice_file: str
) -> tuple[list[dict], list[dict], list[dict], list[Problem]]:
    """facturas.csv and lineas.csv with the Facturae invoices added (only-XML) or checked against (both), and the
    Facturae file of each accepted invoice (number, file name, bytes)."""
    problems: list[Problem] = []
    xmls: list[dict] = []
    by_number = {i["number"]: i for i in csv_invoices}
    for i in csv_invoices:
        i["source"] = "csv"
    seen: dict[str, str] = {}
    added, added_lines = [], []
    for path in files:
        try:
            invoices, lines = read_facturae_file(path, info)
        except FacturaeError as exc:
            problems.append(Problem("invoice_facturae", str(exc), file=display_name(path), line=exc.line))
            continue
        for row in invoices:
            number, name = row["number"], row["source_file"]
            if number in seen:
                message = f"{name}: la factura {number} ya está en {seen[number]}"
                problems.append(Problem("invoice_facturae_duplicate", message, file=name))
                continue
            seen[number] = name
            csv_row = by_number.get(number)
            if csv_row is None:
                added.append(row)
                added_lines += [li for li in lines if li["number"] == number]
                xmls.append(row["xml"])
                continue
            differences = [
                f"{column} {shown(csv_row[key])} en {INVOICES} y {shown(row[key])} en {name}"
                for key, column in COMPARED
                if csv_row[key] != row[key]
            ]
            if differences:
                message = (
                    f"La factura {number} de {invoice_file} (línea {csv_row['source_line']}) y de {name} "
                    f"no coinciden: {'; '.join(differences)}"
                )
                problems.append(Problem("invoice_facturae_mismatch", message, file=name))
            else:
                csv_row["source"] = "both"
                xmls.append(row["xml"])
    return csv_invoices + added, csv_lines + added_lines, xmls, problems


def shown(value: object) -> str:
    """A compared value as the CSV writes it (1234,56 or dd/mm/aaaa)."""
    if isinstance(value, Decimal):
        return spanish(value)
    if isinstance(value, date):
        return f"{value:%d/%m/%Y}"
    return str(value)


# --- the reader ---------------------------------------------------------------------------------------------------

INVOICE_TABLE = """CREATE TABLE invoices (number VARCHAR, issue_date DATE, concept VARCHAR, base DECIMAL(18,2),
    vat_rate DECIMAL(5,2), vat DECIMAL(18,2), withholding_rate DECIMAL(5,2), withholding DECIMAL(18,2),
    total DECIMAL(18,2), due_date DATE, payment_method VARCHAR, paid_date DATE, has_pdf BOOLEAN, source_line INTEGER,
    source VARCHAR)"""
LINE_TABLE = """CREATE TABLE invoice_lines (number VARCHAR, line INTEGER, description VARCHAR,
    quantity DECIMAL(18,4), price DECIMAL(18,2), amount DECIMAL(18,2), source_line INTEGER)"""
PDF_TABLE = "CREATE TABLE invoice_pdfs (number VARCHAR, file_name VARCHAR, content BLOB, sha256 VARCHAR)"
XML_TABLE = "CREATE TABLE invoice_facturae (number VARCHAR, file_name VARCHAR, content BLOB, sha256 VARCHAR)"
ORDERS = {"invoices": "issue_date, number", "invoice_lines": "number, line", "invoice_pdfs": "number"}


def inputs(folder: Path) -> list[Path]:
    """facturas.csv, lineas.csv, every PDF under facturas/pdf/ and every XML / XSIG under facturas/."""
    csvs = [p for p in source_files(folder, FOLDER, recursive=False) if p.name in (INVOICES, LINES)]
    return sorted(csvs + source_files(folder, FOLDER, PDF_FOLDER, suffixes=(".pdf",)) + xml_files(folder))


def xml_files(folder: Path) -> list[Path]:
    """Every .xml / .xsig under facturas/ (read when in facturas/facturae/, else only warned about)."""
    return source_files(folder, FOLDER, suffixes=FACTURAE_SUFFIXES)


def facturae_files(folder: Path) -> list[Path]:
    """The Facturae files the reader reads: facturas/facturae/**/*.xml and *.xsig."""
    return source_files(folder, FOLDER, FACTURAE_FOLDER, suffixes=FACTURAE_SUFFIXES)


def facturae_warnings(folder: Path) -> list[Problem]:
    """One warning per XML outside facturas/facturae/: it is not read."""
    message = (
        f"Factura electrónica Facturae no leída: solo se leen las de {FOLDER}/{FACTURAE_FOLDER}/, validadas contra "
        "el esquema oficial (XSD); la factura se publica desde facturas.csv, lineas.csv y su PDF"
    )
    read = set(facturae_files(folder))
    return [
        Problem("invoice_facturae_skipped", message, file=display_name(p), severity="warning")
        for p in xml_files(folder)
        if p not in read
    ]


def read(con: duckdb.DuckDBPyConnection, folder: Path, info: CompanyInfo) -> ModuleOutput:
    """Read and validate the firm's invoices to the company; errors name file and line, a missing PDF warns."""
    if not inputs(folder):
        return ModuleOutput()
    problems: list[Problem] = []
    tables = {}
    for name, columns in ((INVOICES, INVOICE_COLUMNS), (LINES, LINE_COLUMNS)):
        path = source_file(folder, FOLDER, name)
        if path is None:
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
    invoices, lines, xmls, found = merge_facturae(invoices, lines, facturae_files(folder), info, files[0])
    problems += found
    if any(p.severity == "error" for p in problems):
        return ModuleOutput(problems=problems[:MAX_PROBLEMS])
    pdfs, warnings = read_pdfs(folder, invoices, files[0])
    problems += warnings + facturae_warnings(folder)
    store_rows(con, "invoices", INVOICE_TABLE, invoices)
    store_rows(con, "invoice_lines", LINE_TABLE, lines)
    con.execute("DROP TABLE IF EXISTS invoice_pdfs")
    con.execute(PDF_TABLE)
    if pdfs:
        rows = [(p["number"], p["file_name"], p["content"], p["sha256"]) for p in pdfs]
        con.executemany("INSERT INTO invoice_pdfs VALUES (?, ?, ?, ?)", rows)
    orders = dict(ORDERS)
    if xmls:  # the Facturae file of each invoice read from one (a batch file is stored once per invoice)
        con.execute("DROP TABLE IF EXISTS invoice_facturae")
        con.execute(XML_TABLE)
        rows = [(x["number"], x["file_name"], x["content"], hashlib.sha256(x["content"]).hexdigest()) for x in xmls]
        con.executemany("INSERT INTO invoice_facturae VALUES (?, ?, ?, ?)", rows)
        orders["invoice_facturae"] = "number"
    return ModuleOutput(
        problems=problems[:MAX_PROBLEMS],
        tables={f"{name}.parquet": f"SELECT * FROM {name} ORDER BY {order}" for name, order in orders.items()},
        manifest={
            "invoices": len(invoices),
            "invoice_lines": len(lines),
            "invoice_pdfs": len(pdfs),
            **({"invoices_facturae": sum(i["source"] != "csv" for i in invoices)} if facturae_files(folder) else {}),
        },
    )


READER = ModuleReader(FOLDER, inputs, read)
