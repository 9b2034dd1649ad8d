"""Reader of the impuestos module: returns filed, their key boxes, receipts and AEAT files (docs/sources.md §4)."""

from __future__ import annotations

import calendar
import hashlib
import re
from collections import defaultdict
from datetime import date
from decimal import Decimal
from pathlib import Path

import duckdb
import pandas as pd

from etl.modules import ModuleOutput, ModuleReader, _csv, aeat
from etl.modules._csv import RowError, Table, day, money, parse_rows, spanish, store_rows
from etl.problems import Problem
from etl.sources import CompanyInfo, display_name, source_file, source_files

FOLDER = "impuestos"
FILINGS, BOXES, RECEIPTS = "presentaciones.csv", "casillas.csv", "justificantes"
COLUMNS = {
    FILINGS: (
        "modelo",
        "ejercicio",
        "periodo",
        "fecha_presentacion",
        "tipo_resultado",
        "importe",
        "justificante",
        "csv",
    ),
    BOXES: ("modelo", "ejercicio", "periodo", "casilla", "descripcion", "importe"),
}
QUARTERS = ("1T", "2T", "3T", "4T")
MONTHS = tuple(f"{m:02d}" for m in range(1, 13))
INSTALMENTS = ("1P", "2P", "3P")
ANNUAL = ("0A",)
# The periods each model may have (docs/sources.md §4; domain.md §3.1: 303/111/115 monthly for large companies).
MODEL_PERIODS: dict[str, tuple[str, ...]] = {
    "303": QUARTERS + MONTHS,
    "111": QUARTERS + MONTHS,
    "115": QUARTERS + MONTHS,
    "130": QUARTERS,
    "202": INSTALMENTS,
    "390": ANNUAL,
    "190": ANNUAL,
    "180": ANNUAL,
    "200": ANNUAL,
}
SUMMARIES = ("390", "190", "180")  # annual summaries without a result: always «informativa»
# Result type -> the sign its importe must have (1 to pay, -1 to offset or refund, 0 nothing).
RESULT_SIGNS = {
    "ingreso": 1,
    "domiciliacion": 1,
    "compensar": -1,
    "devolucion": -1,
    "sin_actividad": 0,
    "informativa": 0,
}
SIGN_WORDS = {1: "mayor que cero", -1: "menor que cero", 0: "cero"}
# Boxes that hold a number of recipients (plain integers); every other box is money (docs/sources.md §4).
COUNT_BOXES = {
    ("111", "01"),
    ("111", "04"),
    ("111", "07"),
    ("111", "10"),
    ("111", "13"),
    ("111", "16"),
    ("111", "19"),
    ("111", "22"),
    ("111", "25"),
    ("115", "01"),
    ("190", "01"),
    ("180", "01"),
}
# Annual summary box -> (quarterly model, the boxes whose year total it must equal). The 390/190/180 numbering is
# the demo's (illustrative, docs/sources.md §4); the 303/111/115 boxes are the forms' (domain.md §3.2–3.3).
ANNUAL_SUMS: dict[str, tuple[str, dict[str, tuple[str, ...]]]] = {
    "390": (
        "303",
        {
            "01": ("01",),
            "02": ("03",),
            "03": ("04",),
            "04": ("06",),
            "05": ("07",),
            "06": ("09",),
            "47": ("27",),
            "48": ("28",),
            "49": ("29",),
            "56": ("30",),
            "57": ("31",),
            "64": ("45",),
            "65": ("46",),
        },
    ),
    "190": ("111", {"02": ("02", "05", "08", "11", "14", "17", "20", "23", "26"), "03": ("28",)}),
    "180": ("115", {"02": ("02",), "03": ("03",)}),
}
COUNT = re.compile(r"\d+")
RECEIPT = re.compile(r"\d{13}")
SECURE_CODE = re.compile(r"[A-Z0-9]{16}")
BOX = re.compile(r"\d{2,5}")
MAX_PROBLEMS = 200


# --- periods ------------------------------------------------------------------------------------------------------


def period_dates(year: int, period: str) -> tuple[date, date]:
    """First and last day of a return's period: quarter, month, or the calendar year (annual and 202 instalments)."""
    if period in QUARTERS:
        first_month = 3 * QUARTERS.index(period) + 1
        last_month = first_month + 2
        return date(year, first_month, 1), date(year, last_month, calendar.monthrange(year, last_month)[1])
    if period in MONTHS:
        month = int(period)
        return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])
    return date(year, 1, 1), date(year, 12, 31)


def period_label(year: int, period: str) -> str:
    """'3T 2024', '05/2024', '1P 2024' or '2024' (annual)."""
    if period in ANNUAL:
        return str(year)
    if period in MONTHS:
        return f"{period}/{year}"
    return f"{period} {year}"


# --- field parsers (each raises RowError with the Spanish reason) -------------------------------------------------


def year_of(text: str) -> int:
    """A fiscal year between 1990 and 2100."""
    if not (len(text) == 4 and text.isdigit() and 1990 <= int(text) <= 2100):
        raise RowError(f"ejercicio «{text}» no es un año (1990–2100)")
    return int(text)


def model_and_period(values: dict[str, str]) -> tuple[str, str]:
    """The model code and a period that model has."""
    model, period = values["modelo"], values["periodo"]
    if model not in MODEL_PERIODS:
        raise RowError(f"modelo «{model}» no es uno de: {', '.join(MODEL_PERIODS)}")
    if period not in MODEL_PERIODS[model]:
        allowed = "1T–4T o 01–12" if model in ("303", "111", "115") else ", ".join(MODEL_PERIODS[model])
        raise RowError(f"periodo «{period}» no es válido para el modelo {model} (admite {allowed})")
    return model, period


def parse_filing(values: dict[str, str]) -> dict:
    """One presentaciones.csv row: codes, dates, money, the result's sign, receipt number and secure code."""
    model, period = model_and_period(values)
    kind = values["tipo_resultado"]
    if kind not in RESULT_SIGNS:
        raise RowError(f"tipo_resultado «{kind}» no es uno de: {', '.join(RESULT_SIGNS)}")
    if (kind == "informativa") != (model in SUMMARIES):
        expected = "informativa" if model in SUMMARIES else "un resultado (ingreso, compensar…)"
        raise RowError(f"tipo_resultado «{kind}» no corresponde al modelo {model} (debe ser {expected})")
    amount = money("importe", values["importe"])
    sign = (amount > 0) - (amount < 0)
    if sign != RESULT_SIGNS[kind]:
        raise RowError(f"importe «{values['importe']}» debe ser {SIGN_WORDS[RESULT_SIGNS[kind]]} para «{kind}»")
    receipt = values["justificante"]
    if not RECEIPT.fullmatch(receipt) or not receipt.startswith(model):
        raise RowError(f"justificante «{receipt}» debe tener 13 cifras y empezar por el modelo {model}")
    code = values["csv"]
    if not SECURE_CODE.fullmatch(code):
        raise RowError(f"csv «{code}» debe tener 16 caracteres (letras mayúsculas y cifras)")
    return {
        "model": model,
        "year": year_of(values["ejercicio"]),
        "period": period,
        "filed": day("fecha_presentacion", values["fecha_presentacion"]),
        "result_type": kind,
        "amount": amount,
        "receipt": receipt,
        "csv": code,
    }


def parse_box(values: dict[str, str]) -> dict:
    """One casillas.csv row: a box number as on the form, its description and its amount (or count)."""
    model, period = model_and_period(values)
    box = values["casilla"]
    if not BOX.fullmatch(box):
        raise RowError(f"casilla «{box}» no es un número de casilla (2 a 5 cifras, como en el modelo: 07, 110)")
    if not values["descripcion"]:
        raise RowError("descripcion está vacía")
    is_count = (model, box) in COUNT_BOXES
    text = values["importe"]
    if is_count:
        if not COUNT.fullmatch(text):
            raise RowError(f"importe «{text}» de la casilla {box} debe ser un número entero de perceptores")
        amount = Decimal(text)
    else:
        amount = money("importe", text)
    return {
        "model": model,
        "year": year_of(values["ejercicio"]),
        "period": period,
        "box": box,
        "description": values["descripcion"],
        "amount": amount,
        "is_count": is_count,
    }


# --- AEAT files (impuestos/aeat/*.txt, etl/modules/aeat.py) --------------------------------------------------------


def aeat_files(folder: Path) -> list[Path]:
    """The AEAT return files of the company (``impuestos/aeat/*.txt``)."""
    return source_files(folder, FOLDER, aeat.FOLDER, suffixes=(aeat.SUFFIX,), recursive=False)


def check_return(found: aeat.AeatReturn, nif: str) -> None:
    """The rules a return read from a file must meet: its model's periods, declaration type, result sign, NIF."""
    model_and_period({"modelo": found.model, "periodo": found.period})
    if found.result_type is None:
        codes = ", ".join(aeat.RESULT_CODES[found.model])
        raise RowError(f"página 01, posición 13: tipo de declaración «{found.type_code}» no es uno de: {codes}")
    sign = (found.amount > 0) - (found.amount < 0)
    if sign != RESULT_SIGNS[found.result_type]:
        expected = SIGN_WORDS[RESULT_SIGNS[found.result_type]]
        raise RowError(
            f"casilla {found.result_box} = {spanish(found.amount)} debe ser {expected}"
            f" para el tipo de declaración «{found.type_code}» ({found.result_type})"
        )
    if nif and found.nif != nif:
        raise RowError(f"página 01, posición 14: NIF «{found.nif}» no es el de la empresa ({nif})")


def read_aeat(folder: Path, nif: str, problems: list[Problem]) -> list[tuple[str, aeat.AeatReturn]]:
    """Each AEAT file read and checked as (display name, return); a bad or repeated file is an error."""
    found: list[tuple[str, aeat.AeatReturn]] = []
    seen: dict[tuple[str, int, str], str] = {}
    for path in aeat_files(folder):
        name = f"{FOLDER}/{aeat.FOLDER}/{path.name}"
        try:
            parsed = aeat.parse(path.read_bytes())
            check_return(parsed, nif)
        except (aeat.AeatError, RowError) as exc:
            problems.append(Problem("tax_aeat_file", f"Archivo de la AEAT no válido: {exc}", file=name))
            continue
        key = (parsed.model, parsed.year, parsed.period)
        if key in seen:
            label = period_label(parsed.year, parsed.period)
            message = f"Modelo {parsed.model} de {label} repetido (ya en {seen[key]})"
            problems.append(Problem("tax_aeat_duplicate", message, file=name))
            continue
        seen[key] = name
        found.append((name, parsed))
    return found


def _shown(value: Decimal, is_count: bool) -> str:
    """A box value as the files write it: a count as an integer, money as 1234,56."""
    return str(int(value)) if is_count else spanish(value)


def aeat_agreement(name: str, found: aeat.AeatReturn, filing: dict | None, boxes: list[dict]) -> list[Problem]:
    """Errors where a file and the CSV rows of the same return differ: result type, result, or a box both carry
    (casillas.csv lists key boxes only, so a box only in the file is not compared)."""
    what = f"Modelo {found.model} de {period_label(found.year, found.period)}"
    problems = []

    def differs(message: str) -> None:
        problems.append(Problem("tax_aeat_mismatch", f"{what}: {message}", file=name))

    if filing is not None:
        line = filing["source_line"]
        if filing["result_type"] != found.result_type:
            differs(
                f"tipo de resultado «{found.result_type}» en el archivo (tipo de declaración {found.type_code}) y "
                f"«{filing['result_type']}» en {FILINGS} (línea {line})"
            )
        if filing["amount"] != found.amount:
            differs(
                f"resultado (casilla {found.result_box}) = {spanish(found.amount)} en el archivo y "
                f"{spanish(filing['amount'])} en {FILINGS} (línea {line})"
            )
    listed = {b["box"]: b for b in boxes}
    for box in found.boxes:
        row = listed.get(box.box)
        if row is not None and row["amount"] != box.amount:
            differs(
                f"casilla {box.box} = {_shown(box.amount, box.is_count)} en el archivo y "
                f"{_shown(row['amount'], box.is_count)} en {BOXES} (línea {row['source_line']})"
            )
    return problems


def aeat_rows(name: str, found: aeat.AeatReturn) -> tuple[dict, list[dict]]:
    """The filing and box rows of a return known only from its file: no filing date, receipt or secure code;
    the boxes that are not zero, and always the result box."""
    key = {"model": found.model, "year": found.year, "period": found.period}
    filing = {
        **key,
        "filed": None,
        "result_type": found.result_type,
        "amount": found.amount,
        "receipt": None,
        "csv": None,
        "source_line": None,
        "source_file": name,
    }
    boxes = [
        {
            **key,
            "box": b.box,
            "description": b.description,
            "amount": b.amount,
            "is_count": b.is_count,
            "source_line": b.order,
            "source_file": name,
        }
        for b in found.boxes
        if b.amount != 0 or b.box == found.result_box
    ]
    return filing, boxes


def merge_aeat(
    returns: list[tuple[str, aeat.AeatReturn]], filings: list[dict], boxes: list[dict]
) -> tuple[list[dict], list[dict], list[Problem], list[dict]]:
    """Filings and boxes with the AEAT files added: a return in both must agree (errors otherwise) and keeps its CSV
    rows; a return only in a file adds its rows. Also the manifest facts: which returns came from which file."""
    by_filing = {(f["model"], f["year"], f["period"]): f for f in filings}
    by_return: dict[tuple[str, int, str], list[dict]] = defaultdict(list)
    for b in boxes:
        by_return[(b["model"], b["year"], b["period"])].append(b)
    problems: list[Problem] = []
    facts = []
    filings, boxes = list(filings), list(boxes)
    for name, found in returns:
        key = (found.model, found.year, found.period)
        filing, listed = by_filing.get(key), by_return.get(key, [])
        problems += aeat_agreement(name, found, filing, listed)
        extra_filing, extra_boxes = aeat_rows(name, found)
        if filing is None:
            filings.append(extra_filing)
        if not listed:
            boxes += extra_boxes
        facts.append(
            {
                "file": name,
                "model": found.model,
                "year": found.year,
                "period": found.period,
                "layout": found.layout,
                "in_csv": filing is not None,
            }
        )
    return filings, boxes, problems, facts


# --- cross-file rules ---------------------------------------------------------------------------------------------


def orphan_boxes(boxes: list[dict], filings: set[tuple[str, int, str]], table: str) -> list[Problem]:
    """An error for every box of a return that is not in presentaciones.csv."""
    return [
        Problem(
            "tax_orphan_box",
            f"La casilla {b['box']} es del modelo {b['model']} de {period_label(b['year'], b['period'])}, "
            f"que no está en {FILINGS} (modelo;ejercicio;periodo)",
            file=table,
            line=b["source_line"],
        )
        for b in boxes
        if (b["model"], b["year"], b["period"]) not in filings
    ]


def receipt_files(folder: Path, filings: list[dict], table: str) -> tuple[list[dict], list[Problem]]:
    """The receipt PDF of each return: a missing one is a warning, a file that is not a PDF an error."""
    found, problems = [], []
    for filing in filings:
        path = source_file(folder, FOLDER, RECEIPTS, f"{filing['receipt']}.pdf")
        if path is None:
            problems.append(
                Problem(
                    "tax_missing_receipt",
                    f"Falta el justificante {RECEIPTS}/{filing['receipt']}.pdf del modelo {filing['model']} de "
                    f"{period_label(filing['year'], filing['period'])}",
                    file=table,
                    line=filing["source_line"],
                    severity="warning",
                )
            )
            continue
        content = path.read_bytes()
        if not content.startswith(b"%PDF"):
            problems.append(
                Problem("tax_receipt_not_pdf", "El justificante no es un PDF", file=display_name(path), line=None)
            )
            continue
        found.append(
            {
                "receipt": filing["receipt"],
                "file_name": path.name,
                "content": content,
                "sha256": hashlib.sha256(content).hexdigest(),
            }
        )
    return found, problems


# --- cross-checks against the journal and between returns (warnings) ----------------------------------------------

# Output VAT booked = credits of 477, deductible VAT = debits of 472, in the period's normal entries (apertura,
# regularización and cierre left out). The settlement entry (etl/demo/journal.py `vat_return`: 477 debit, 472
# credit, 4750/4700 for the difference) is left out as well: an entry that debits 477 and credits 472 is a
# settlement. A reverse-charge purchase (472 debit and 477 credit in one entry) is not, so it still counts.
BOOKED_VAT_SQL = """
WITH settlements AS (
    SELECT fiscal_year, entry FROM journal WHERE entry_type = 'normal' GROUP BY fiscal_year, entry
    HAVING bool_or(starts_with(account, '477') AND debit <> 0) AND bool_or(starts_with(account, '472') AND credit <> 0)
), lines AS (
    SELECT j.date, j.account, j.debit, j.credit FROM journal j
    ANTI JOIN settlements s ON j.fiscal_year = s.fiscal_year AND j.entry = s.entry
    WHERE j.entry_type = 'normal' AND (starts_with(j.account, '477') OR starts_with(j.account, '472'))
)
SELECT p.year, p.period,
       coalesce(sum(l.credit) FILTER (WHERE starts_with(l.account, '477')), 0)::DECIMAL(18,2) AS output_booked,
       coalesce(sum(l.debit) FILTER (WHERE starts_with(l.account, '472')), 0)::DECIMAL(18,2) AS input_booked
FROM periods p LEFT JOIN lines l ON l.date BETWEEN p.first_day AND p.last_day
GROUP BY p.year, p.period
"""


def booked_vat(con: duckdb.DuckDBPyConnection, returns: list[tuple[int, str]]) -> dict[tuple[int, str], tuple]:
    """(year, period) -> (output VAT booked, deductible VAT booked) from the connection's ``journal`` table.

    Only periods that overlap the journal's dates are answered (a return of a year the journal does not hold is
    not checked).
    """
    bounds = con.execute("SELECT min(date), max(date) FROM journal").fetchone()
    if not returns or bounds is None or bounds[0] is None:
        return {}
    first, last = bounds
    rows = [(y, p, *period_dates(y, p)) for y, p in returns]
    periods = pd.DataFrame(
        [r for r in rows if r[3] >= first and r[2] <= last], columns=["year", "period", "first_day", "last_day"]
    )
    if periods.empty:
        return {}
    return {(y, p): (out, inp) for y, p, out, inp in con.execute(BOOKED_VAT_SQL).fetchall()}


def box_lines(boxes: list[dict], table: str) -> dict[tuple[str, int, str, str], tuple[str, int | None]]:
    """(model, year, period, box) -> (file, line): its line in casillas.csv, or the AEAT file it was read from."""
    return {
        (b["model"], b["year"], b["period"], b["box"]): (b["source_file"], None)
        if "source_file" in b
        else (table, b["source_line"])
        for b in boxes
    }


def box_values(boxes: list[dict]) -> dict[tuple[str, int, str], dict[str, Decimal]]:
    """(model, year, period) -> {box: amount}."""
    values: dict[tuple[str, int, str], dict[str, Decimal]] = defaultdict(dict)
    for b in boxes:
        values[(b["model"], b["year"], b["period"])][b["box"]] = b["amount"]
    return values


def vat_journal_check(con: duckdb.DuckDBPyConnection, boxes: list[dict], table: str) -> list[Problem]:
    """Warnings where a 303's box 27 differs from the 477 credits or box 45 from the 472 debits of its period."""
    values, lines = box_values(boxes), box_lines(boxes, table)
    returns = sorted({(y, p) for m, y, p in values if m == "303"})
    found = []
    for (year, period), (output, deductible) in sorted(booked_vat(con, returns).items()):
        box = values[("303", year, period)]
        for number, booked, account in (("27", output, "477 (haber)"), ("45", deductible, "472 (debe)")):
            declared = box.get(number, Decimal(0))
            if declared != booked:
                file, line = lines.get(("303", year, period, number), (table, None))
                found.append(
                    Problem(
                        "tax_vat_journal",
                        f"Modelo 303 de {period_label(year, period)}: casilla {number} = {spanish(declared)} pero la "
                        f"cuenta {account} del diario suma {spanish(booked)} (diferencia {spanish(booked - declared)})",
                        file=file,
                        line=line,
                        severity="warning",
                    )
                )
    return found


def annual_check(boxes: list[dict], table: str) -> list[Problem]:
    """Warnings where a 390 / 190 / 180 box differs from the sum of the year's 303 / 111 / 115."""
    values, lines = box_values(boxes), box_lines(boxes, table)
    found = []
    for (model, year, period), annual in sorted(values.items()):
        if model not in ANNUAL_SUMS:
            continue
        quarterly, pairs = ANNUAL_SUMS[model]
        returns = [v for (m, y, _), v in values.items() if m == quarterly and y == year]
        for number, parts in pairs.items():
            if number not in annual:
                continue
            total = sum((r.get(p, Decimal(0)) for r in returns for p in parts), Decimal(0))
            if annual[number] != total:
                file, line = lines[(model, year, period, number)]
                found.append(
                    Problem(
                        "tax_annual_sum",
                        f"Modelo {model} de {year}: casilla {number} = {spanish(annual[number])} pero la suma de los "
                        f"modelos {quarterly} del año ({', '.join(parts)}) es {spanish(total)}",
                        file=file,
                        line=line,
                        severity="warning",
                    )
                )
    return found


# --- the reader ---------------------------------------------------------------------------------------------------


def inputs(folder: Path) -> list[Path]:
    """The two tax files, every receipt PDF and every AEAT file under the company folder."""
    tables = [p for p in source_files(folder, FOLDER, recursive=False) if p.name in COLUMNS]
    receipts = source_files(folder, FOLDER, RECEIPTS, suffixes=(".pdf",), recursive=False)
    return tables + receipts + aeat_files(folder)


TABLES = {
    "tax_filings": (
        """CREATE TABLE tax_filings (model VARCHAR, year INTEGER, period VARCHAR, filed DATE, result_type VARCHAR,
        amount DECIMAL(18,2), receipt VARCHAR, csv VARCHAR, has_receipt BOOLEAN, source_line INTEGER)""",
        "year, model, period",
    ),
    "tax_boxes": (
        """CREATE TABLE tax_boxes (model VARCHAR, year INTEGER, period VARCHAR, box VARCHAR, description VARCHAR,
        amount DECIMAL(18,2), is_count BOOLEAN, source_line INTEGER)""",
        "year, model, period, source_line",
    ),
    "tax_receipts": (
        "CREATE TABLE tax_receipts (receipt VARCHAR, file_name VARCHAR, content BLOB, sha256 VARCHAR)",
        "receipt",
    ),
}


def read(con: duckdb.DuckDBPyConnection, folder: Path, info: CompanyInfo) -> ModuleOutput:
    """Read and validate the company's tax files; errors name file and line, cross-check differences warn."""
    if not inputs(folder):
        return ModuleOutput()
    problems: list[Problem] = []
    returns = read_aeat(folder, info.nif, problems)
    tables = {}
    for name in COLUMNS:
        path = source_file(folder, FOLDER, name)
        if path is None:
            if not aeat_files(folder):  # with AEAT files the two CSV files are optional
                problems.append(Problem("tax_missing_file", f"Falta el archivo {name}", file=f"{FOLDER}/{name}"))
            tables[name] = Table(f"{FOLDER}/{name}", [])
            continue
        table = _csv.read_table(path, COLUMNS[name], "tax", problems, missing_note=" (cabecera)", warn_extra=False)
        tables[name] = table or Table(display_name(path), [])
    filings = parse_rows(tables[FILINGS], parse_filing, "tax_filing", problems)
    boxes = parse_rows(tables[BOXES], parse_box, "tax_box", problems)
    problems += _csv.duplicates(
        filings, lambda r: (r["receipt"],), tables[FILINGS].name, "justificante", "tax_duplicate", show_key=False
    )
    problems += _csv.duplicates(
        filings,
        lambda r: (r["model"], r["year"], r["period"]),
        tables[FILINGS].name,
        "Declaración (modelo, ejercicio, periodo)",
        "tax_duplicate",
        show_key=False,
    )
    problems += _csv.duplicates(
        boxes,
        lambda r: (r["model"], r["year"], r["period"], r["box"]),
        tables[BOXES].name,
        "Casilla",
        "tax_duplicate",
        show_key=False,
    )
    # Keys of every filing row that reads, parsed or not: a bad filing row is reported once, not again per box.
    presented = {
        (v["modelo"], int(v["ejercicio"]) if v["ejercicio"].isdigit() else -1, v["periodo"])
        for _, v in tables[FILINGS].rows
    } | {(r.model, r.year, r.period) for _, r in returns}
    problems += orphan_boxes(boxes, presented, tables[BOXES].name)
    receipts, receipt_problems = receipt_files(folder, filings, tables[FILINGS].name)
    problems += receipt_problems
    filings, boxes, mismatches, from_files = merge_aeat(returns, filings, boxes)
    problems += mismatches
    if any(p.severity == "error" for p in problems):
        return ModuleOutput(problems=problems[:MAX_PROBLEMS])
    problems += vat_journal_check(con, boxes, tables[BOXES].name)
    problems += annual_check(boxes, tables[BOXES].name)
    with_receipt = {r["receipt"] for r in receipts}
    store_rows(
        con,
        "tax_filings",
        TABLES["tax_filings"][0],
        [{**f, "has_receipt": f["receipt"] in with_receipt} for f in filings],
    )
    store_rows(con, "tax_boxes", TABLES["tax_boxes"][0], boxes)
    store_rows(con, "tax_receipts", TABLES["tax_receipts"][0], receipts)
    warnings = [p for p in problems if p.severity == "warning"]
    return ModuleOutput(
        problems=problems,
        tables={f"{name}.parquet": f"SELECT * FROM {name} ORDER BY {order}" for name, (_, order) in TABLES.items()},
        manifest={
            "filings": len(filings),
            "boxes": len(boxes),
            "receipts": len(receipts),
            "warnings": len(warnings),
            "aeat_files": from_files,  # returns read from AEAT files (file, model, year, period, layout, in_csv)
        },
    )


READER = ModuleReader(FOLDER, inputs, read)
