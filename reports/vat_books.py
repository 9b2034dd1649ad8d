"""VAT record books of one company's snapshot: issued and received lines, totals, and per period the books against the
303 boxes and the journal's 477/472, each difference named (box, amount, and the invoices that explain it), pure.

Money is Decimal throughout. Box numbers follow domain.md §3.2; the journal side is the same as the 303 check's
(etl.modules.taxes.BOOKED_VAT_SQL: credits of 477 and debits of 472 in normal entries, settlements left out).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import duckdb
import pandas as pd

from etl.modules import taxes as tax_source
from etl.modules.vat_books import ISSUED, RECEIVED
from etl.store import Snapshot
from portal.fmt import date_es, money
from reports import journal
from reports import taxes as tax_reports

LINES = "vat_book_lines.parquet"
ZERO = Decimal("0.00")
# Output VAT rate -> (base box, cuota box) of the 303 (domain.md §3.2; 5 % and 7,5 % share 153/155).
RATE_BOXES: dict[Decimal, tuple[str, str]] = {
    Decimal("2.00"): ("165", "167"),
    Decimal("4.00"): ("01", "03"),
    Decimal("5.00"): ("153", "155"),
    Decimal("7.50"): ("153", "155"),
    Decimal("10.00"): ("04", "06"),
    Decimal("21.00"): ("07", "09"),
}
LINE_COLUMNS = [
    "period",
    "issue_date",
    "invoice",
    "nif",
    "name",
    "base",
    "rate",
    "vat",
    "surcharge",
    "deductible",
    "withholding",
    "total",
    "invoice_type",
    "capital",
    "later",
    "source_file",
    "source_line",
]
RECONCILIATION_COLUMNS = [
    "year",
    "period",
    "check",
    "box",
    "book",
    "declared",
    "booked",
    "difference_303",
    "difference_journal",
    "matches",
    "explanation",
]


@dataclass(frozen=True)
class BookTotals:
    """Sums of a list of book lines."""

    invoices: int
    base: Decimal
    vat: Decimal
    surcharge: Decimal
    deductible: Decimal
    total: Decimal


@dataclass(frozen=True)
class Check:
    """One comparison of a period: what it adds up in the book and which 303 box (and journal side) it is held to."""

    label: str
    box: str
    book: str
    metric: str  # 'base', 'vat', 'output' (vat + surcharge) or 'deductible'
    rate: Decimal | None = None  # only the lines at this rate (and the rate sharing its boxes)
    capital: bool | None = None  # received lines: only capital goods (True) or only current purchases (False)
    journal: str = ""  # 'output' (477 credits) or 'input' (472 debits) when the journal is compared


def has_books(snapshot: Snapshot) -> bool:
    """True when the snapshot carries VAT record books."""
    return snapshot.has(LINES)


def _rows(snapshot: Snapshot, sql: str, params: list) -> list[tuple]:
    with duckdb.connect() as con:
        return con.execute(sql.replace("{t}", "read_parquet(?)"), [str(snapshot.file(LINES)), *params]).fetchall()


def years(snapshot: Snapshot) -> list[int]:
    """Years with book lines, newest first."""
    return [r[0] for r in _rows(snapshot, "SELECT DISTINCT year FROM {t} ORDER BY year DESC", [])]


def periods(snapshot: Snapshot, year: int) -> list[str]:
    """The year's periods with book lines, in calendar order."""
    found = {r[0] for r in _rows(snapshot, "SELECT DISTINCT period FROM {t} WHERE year = ?", [year])}
    return sorted(found, key=lambda p: tax_source.period_dates(year, p))


def counterparties(snapshot: Snapshot, book: str, year: int) -> list[str]:
    """Names of the year's customers (issued) or suppliers (received), alphabetical."""
    sql = "SELECT DISTINCT name FROM {t} WHERE book = ? AND year = ? AND name <> '' ORDER BY name"
    return [r[0] for r in _rows(snapshot, sql, [book, year])]


def rates(snapshot: Snapshot, book: str, year: int) -> list[Decimal]:
    """The VAT rates of the year's lines of a book, ascending."""
    return [
        r[0]
        for r in _rows(
            snapshot, "SELECT DISTINCT rate FROM {t} WHERE book = ? AND year = ? ORDER BY rate", [book, year]
        )
    ]


def book_lines(
    snapshot: Snapshot,
    book: str,
    year: int,
    *,
    period: str | None = None,
    names: tuple[str, ...] = (),
    only_rates: tuple[Decimal, ...] = (),
) -> pd.DataFrame:
    """The lines of one book in a year (optionally one period, some counterparties, some rates), by date."""
    sql = (
        "SELECT period, issue_date, CASE WHEN series = '' OR starts_with(number, series) THEN number"
        " ELSE series || number END AS invoice, nif, name, base, rate, vat, surcharge, deductible, withholding,"
        " total, invoice_type, capital, later, source_file, source_line FROM {t}"
        " WHERE book = ? AND year = ? AND (? IS NULL OR period = ?)"
        " AND (len(?::VARCHAR[]) = 0 OR list_contains(?::VARCHAR[], name))"
        " AND (len(?::DECIMAL(6,2)[]) = 0 OR list_contains(?::DECIMAL(6,2)[], rate))"
        " ORDER BY issue_date, source_file, source_line"
    )
    params = [book, year, period, period, list(names), list(names), list(only_rates), list(only_rates)]
    return pd.DataFrame(_rows(snapshot, sql, params), columns=LINE_COLUMNS)


def totals(lines: pd.DataFrame) -> BookTotals:
    """Invoices (distinct numbers per counterparty), base, VAT, surcharge, deductible VAT and total of some lines."""

    def add(column: str) -> Decimal:
        return sum((v for v in lines[column] if v is not None and not pd.isna(v)), ZERO)

    invoices = len({(n, i) for n, i in zip(lines["nif"], lines["invoice"], strict=True)})
    return BookTotals(invoices, add("base"), add("vat"), add("surcharge"), add("deductible"), add("total"))


# --- reconciliation -----------------------------------------------------------------------------------------------


def checks_for(issued_rates: set[Decimal], boxes: dict[str, Decimal], capital: bool) -> list[Check]:
    """The comparisons of one period: bases and cuotas per rate, total output (27), current and capital-goods
    deductions (28/29, 30/31) and the total to deduct (45)."""
    found: list[Check] = []
    seen: set[tuple[str, str]] = set()
    for rate, (base_box, vat_box) in RATE_BOXES.items():
        in_use = rate in issued_rates or boxes.get(base_box, ZERO) != 0 or boxes.get(vat_box, ZERO) != 0
        if not in_use or (base_box, vat_box) in seen:
            continue
        seen.add((base_box, vat_box))
        shown = f"{rate.normalize():f}".replace(".", ",")
        found.append(Check(f"Base imponible al {shown} %", base_box, ISSUED, "base", rate=rate))
        found.append(Check(f"Cuota repercutida al {shown} %", vat_box, ISSUED, "vat", rate=rate))
    found.append(Check("IVA devengado", "27", ISSUED, "output", journal="output"))
    found.append(Check("Base deducible, operaciones corrientes", "28", RECEIVED, "base", capital=False))
    found.append(Check("Cuota deducible, operaciones corrientes", "29", RECEIVED, "deductible", capital=False))
    if capital or boxes.get("30", ZERO) != 0 or boxes.get("31", ZERO) != 0:
        found.append(Check("Base deducible, bienes de inversión", "30", RECEIVED, "base", capital=True))
        found.append(Check("Cuota deducible, bienes de inversión", "31", RECEIVED, "deductible", capital=True))
    found.append(Check("IVA deducible", "45", RECEIVED, "deductible", journal="input"))
    return found


def _period_lines(snapshot: Snapshot, year: int) -> dict[str, list[dict]]:
    """period -> the year's lines that count in its return (received lines deducted later left out)."""
    sql = (
        "SELECT period, book, series, number, nif, name, issue_date, base, rate, vat, surcharge,"
        " coalesce(deductible, 0), capital FROM {t} WHERE year = ? AND NOT (book = ? AND later)"
    )
    keys = ["period", "book", "series", "number", "nif", "name", "issue_date"]
    keys += ["base", "rate", "vat", "surcharge", "deductible", "capital"]
    found: dict[str, list[dict]] = defaultdict(list)
    for row in _rows(snapshot, sql, [year, RECEIVED]):
        line = dict(zip(keys, row, strict=True))
        found[line["period"]].append(line)
    return found


def _applies(check: Check, line: dict) -> bool:
    if line["book"] != check.book:
        return False
    if check.rate is not None and RATE_BOXES.get(line["rate"]) != RATE_BOXES[check.rate]:
        return False
    if check.book == RECEIVED and (line["deductible"] == 0 and line["vat"] == 0):
        return False  # a purchase without VAT is in no deduction box
    return check.capital is None or line["capital"] == check.capital


def _value(check: Check, line: dict) -> Decimal:
    if check.metric == "output":
        return line["vat"] + line["surcharge"]
    return line[check.metric]


def _invoices(check: Check, lines: list[dict]) -> dict[tuple[str, str, str], tuple[Decimal, date, str]]:
    """(series, number, nif) -> (the check's amount in that invoice, its date, its label)."""
    found: dict[tuple[str, str, str], list] = {}
    for line in lines:
        if not _applies(check, line):
            continue
        key = (line["series"], line["number"], line["nif"])
        label = (
            line["number"]
            if not line["series"] or line["number"].startswith(line["series"])
            else line["series"] + line["number"]
        )
        entry = found.setdefault(key, [ZERO, line["issue_date"], label])
        entry[0] += _value(check, line)
    return {k: (v[0], v[1], v[2]) for k, v in found.items()}


def _suspects(check: Check, lines: list[dict], difference: Decimal) -> list[str]:
    """The invoices whose amount alone is the difference: «A-2024/0079 del 30/09/2024» (at most three)."""
    found = [
        f"{label} del {date_es(day)}"
        for amount, day, label in _invoices(check, lines).values()
        if amount == abs(difference) and amount != 0
    ]
    return found if len(found) <= 3 else []


def _explain(
    check: Check, lines: list[dict], diff_303: Decimal | None, diff_journal: Decimal | None, filed: bool
) -> str:
    """The Spanish sentence of one comparison: «Cuadra», or which box or account differs, by how much, and why."""
    what = "IVA" if check.metric in ("vat", "output", "deductible") else "base"
    parts = []
    if not filed:
        parts.append("No hay modelo 303 de este periodo.")
    elif diff_303:
        side = "más" if diff_303 > 0 else "menos"
        text = f"El libro suma {money(abs(diff_303))} {side} que la casilla {check.box} del 303."
        suspects = _suspects(check, lines, diff_303)
        if suspects and diff_303 > 0:
            named = " o ".join(suspects)
            text += (
                f" Lo explica la factura {named} ({what} {money(abs(diff_303))}): está en el libro pero no en el 303."
            )
        elif diff_303 < 0:
            text += " El 303 declara operaciones que no están en el libro."
        parts.append(text)
    if diff_journal:
        account = "477 (haber)" if check.journal == "output" else "472 (debe)"
        side = "más" if diff_journal > 0 else "menos"
        text = f"El libro suma {money(abs(diff_journal))} {side} que la cuenta {account} del diario."
        suspects = _suspects(check, lines, diff_journal)
        if suspects and diff_journal > 0:
            text += f" Lo explica la factura {' o '.join(suspects)}: está en el libro pero no contabilizada."
        parts.append(text)
    return " ".join(parts) if parts else "Cuadra"


def filed_303(snapshot: Snapshot, year: int) -> dict[tuple[int, str], dict[str, Decimal]]:
    """(year, period) -> {box: amount} of the year's 303s."""
    if not tax_reports.has_taxes(snapshot):
        return {}
    found = {}
    for period in tax_reports.filings(snapshot, model="303", year=year)["period"]:
        boxes = tax_reports.boxes(snapshot, "303", year, period)
        found[(year, period)] = dict(zip(boxes["box"], boxes["amount"], strict=True))
    return found


def reconciliation(snapshot: Snapshot, year: int) -> pd.DataFrame:
    """Per period of the year (book or 303), each check: the book's amount, the 303 box, the journal (27 and 45
    only), both differences (book − 303, book − journal), whether it squares and the explanation in Spanish."""
    by_period = _period_lines(snapshot, year)
    returns = filed_303(snapshot, year)
    keys = sorted({(year, p) for p in by_period} | set(returns), key=lambda k: tax_source.period_dates(*k))
    booked: dict[tuple[int, str], tuple] = {}
    if keys and journal.has_entries(snapshot) and snapshot.has("journal.parquet"):
        with duckdb.connect() as con:
            con.read_parquet(str(snapshot.file("journal.parquet"))).create_view("journal")
            booked = tax_source.booked_vat(con, keys)
    rows = []
    for key in keys:
        lines, boxes = by_period.get(key[1], []), returns.get(key)
        issued_rates = {line["rate"] for line in lines if line["book"] == ISSUED and line["rate"] != 0}
        capital = any(line["capital"] for line in lines if line["book"] == RECEIVED)
        for check in checks_for(issued_rates, boxes or {}, capital):
            amount = sum((_value(check, line) for line in lines if _applies(check, line)), ZERO)
            declared = None if boxes is None else boxes.get(check.box, ZERO)
            journal_side = booked.get(key) if check.journal else None
            in_journal = None if journal_side is None else journal_side[0 if check.journal == "output" else 1]
            diff_303 = None if declared is None else amount - declared
            diff_journal = None if in_journal is None else amount - in_journal
            rows.append(
                {
                    "year": key[0],
                    "period": key[1],
                    "check": check.label,
                    "box": check.box,
                    "book": amount,
                    "declared": declared,
                    "booked": in_journal,
                    "difference_303": diff_303,
                    "difference_journal": diff_journal,
                    "matches": declared is not None and not diff_303 and not diff_journal,
                    "explanation": _explain(check, lines, diff_303, diff_journal, boxes is not None),
                }
            )
    return pd.DataFrame(rows, columns=RECONCILIATION_COLUMNS)


def export_lines(lines: pd.DataFrame, book: str) -> pd.DataFrame:
    """Book lines for a download: Spanish headers, amounts as Decimal and dates as dates (real cells in Excel)."""
    party = "Cliente" if book == ISSUED else "Proveedor"
    columns = {
        "issue_date": "Fecha",
        "invoice": "Factura",
        "period": "Periodo",
        "nif": "NIF",
        "name": party,
        "base": "Base imponible",
        "rate": "Tipo de IVA (%)",
        "vat": "IVA repercutido" if book == ISSUED else "IVA soportado",
        "surcharge": "Recargo de equivalencia",
        "deductible": "IVA deducible",
        "total": "Total factura",
    }
    if book == ISSUED:
        del columns["deductible"]
    return lines[list(columns)].rename(columns=columns)


def for_period(frame: pd.DataFrame, period: str | None) -> pd.DataFrame:
    """The reconciliation rows of one period (all when None)."""
    return frame if period is None else frame[frame["period"] == period].reset_index(drop=True)


def differing_periods(frame: pd.DataFrame) -> list[str]:
    """The periods with some check that does not square, in order."""
    return list(dict.fromkeys(p for p, ok in zip(frame["period"], frame["matches"], strict=True) if not ok))


def export_reconciliation(frame: pd.DataFrame) -> pd.DataFrame:
    """The reconciliation for a download, Spanish headers, amounts as Decimal."""
    columns = {
        "year": "Ejercicio",
        "period": "Periodo",
        "check": "Comprobación",
        "box": "Casilla",
        "book": "Libro",
        "declared": "Modelo 303",
        "booked": "Diario",
        "difference_303": "Diferencia libro − 303",
        "difference_journal": "Diferencia libro − diario",
        "explanation": "Resultado",
    }
    return frame[list(columns)].rename(columns=columns)
