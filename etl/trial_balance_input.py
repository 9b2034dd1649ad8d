"""Sumas y saldos as the accounting input: cumulative trial balances read, validated and turned into journal lines.

A firm that cannot export a journal gives one «Balance de sumas y saldos» per period end (``sumas_y_saldos*.xlsx``
or ``.csv``), each cumulative from the start of the fiscal year and taken *before* the year-end regularización.
The reader fills the same ``journal`` table as :mod:`etl.journal` with one synthetic entry per period: per account,
the difference between its balance in this file and its balance after the previous one, dated the period end. Each
closed fiscal year followed by another gets a synthetic regularización (groups 6/7 into 129, type
'regularizacion') so that the next year's P&L accounts start at zero. Every statement, ratio and period function
then reads these lines unchanged; the Mayor and Diario say there are no entries (manifest ``accounting_source``).
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path

import duckdb
import openpyxl
import pyarrow as pa

from etl.journal import JOURNAL_COLUMNS, JournalResult, normalize_header
from etl.problems import Problem
from etl.sources import CompanyInfo, display_name, source_files
from etl.yearend import RESULT_PREFIX, EntryClass, is_pl_account
from portal.fmt import date_es, integer, number

ACCOUNTING_SOURCE = "sumas_y_saldos"  # manifest value: the company's accounting comes without entries
FILE_PREFIX = "sumas_y_saldos"
SUFFIXES = (".xlsx", ".csv")
HEADER_SCAN_ROWS = 30  # the header row is looked for among the first rows (title and period above it)
MAX_PER_RULE = 20  # problems kept per rule and file (plus one "y N más" summary)
SEPARATORS = (";", "\t", ",")
ZERO = Decimal("0.00")
CENT = Decimal("0.01")
METHOD = "sumas y saldos"  # how the synthetic regularización was «classified» (shown to staff)

# Header aliases per field (normalised as etl.journal.normalize_header: lower case, no accents, '_' between words).
TRIAL_BALANCE_ALIASES: dict[str, tuple[str, ...]] = {
    "account": ("cuenta", "subcuenta", "codigo", "codigo_cuenta", "cod_cuenta", "cta", "n_cuenta", "account"),
    "name": ("descripcion", "titulo", "nombre", "denominacion", "titulo_cuenta", "nombre_cuenta", "description"),
    "debit_sum": (
        "sumas_debe",
        "suma_debe",
        "sumas_deudoras",
        "total_debe",
        "acumulado_debe",
        "importe_debe",
        "debe",
        "debit",
        "debits",
    ),
    "credit_sum": (
        "sumas_haber",
        "suma_haber",
        "sumas_acreedoras",
        "total_haber",
        "acumulado_haber",
        "importe_haber",
        "haber",
        "credit",
        "credits",
    ),
    "debit_balance": ("saldo_deudor", "saldos_deudores", "saldo_debe", "deudor", "debit_balance"),
    "credit_balance": ("saldo_acreedor", "saldos_acreedores", "saldo_haber", "acreedor", "credit_balance"),
    "balance": ("saldo", "saldo_final", "saldo_actual", "saldo_acumulado", "balance"),
}
FIELD_LABELS = {
    "debit_sum": "Sumas debe",
    "credit_sum": "Sumas haber",
    "debit_balance": "Saldo deudor",
    "credit_balance": "Saldo acreedor",
    "balance": "Saldo",
}
NAME_DATE = re.compile(r"(\d{4})(?:[-_.](\d{1,2})(?:[-_.](\d{1,2}))?)?$")
TEXT_DATE = re.compile(r"\b(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})\b|\b(\d{4})-(\d{2})-(\d{2})\b")
PRINT_WORDS = ("emision", "impres", "impreso", "listado_a")  # «Fecha de emisión», «Impreso el»: not the period
TOTAL_WORDS = ("total", "suma", "saldo")  # a row labelled this way (no account) is a totals row: skipped


@dataclass(frozen=True)
class TrialBalanceFormat:
    """What was detected for one trial balance file (manifest ``formats``, shown to staff)."""

    file: str
    encoding: str  # 'xlsx', 'utf-8', 'utf-8-sig' or 'windows-1252'
    separator: str | None
    header_row: int
    columns: dict[str, str]  # field -> header text as written
    period_end: str  # ISO date
    period_from: str  # 'nombre del archivo' or 'título'
    levels: str  # 'solo subcuentas' or 'con cuentas de grupo'
    rows: int
    kind: str = ACCOUNTING_SOURCE


@dataclass
class _Row:
    line: int
    account: str
    name: str
    debit_sum: Decimal | None
    credit_sum: Decimal | None
    balance: Decimal  # debit − credit


@dataclass
class _File:
    path: Path
    name: str
    end: date
    fiscal_year: int
    header_line: int
    rows: dict[str, _Row]  # leaf accounts only
    has_sums: bool
    fmt: TrialBalanceFormat
    problems: list[Problem] = field(default_factory=list)


def trial_balance_files(folder: Path) -> list[Path]:
    """The trial balance exports of a company: ``sumas_y_saldos*.xlsx`` and ``.csv``, sorted by name."""
    files = source_files(folder, suffixes=SUFFIXES, recursive=False)
    return [p for p in files if p.name.lower().startswith(FILE_PREFIX)]


def both_inputs_problem(journal: Sequence[Path], balances: Sequence[Path]) -> Problem:
    """A company folder with a journal and trial balances: which one is the accounting is not guessed."""
    return Problem(
        "tb_with_journal",
        f"la carpeta tiene diario ({', '.join(p.name for p in journal)}) y balances de sumas y saldos"
        f" ({', '.join(p.name for p in balances)}): deje solo el diario o solo los balances",
        file=display_name(journal[0]),
    )


def read_trial_balances(
    con: duckdb.DuckDBPyConnection, files: Sequence[Path], company: CompanyInfo, *, chart_accounts: bool = False
) -> JournalResult:
    """Read, validate and turn the trial balances into table ``journal`` (and their names into ``accounts``)."""
    con.execute(f"CREATE OR REPLACE TABLE journal ({JOURNAL_COLUMNS})")
    problems: list[Problem] = []
    read: list[_File] = []
    rows_read = 0
    for path in files:
        item, found, count = _read_file(path, company)
        problems += found
        rows_read += count
        if item is not None:
            read.append(item)
    read.sort(key=lambda f: f.end)
    problems += _check_periods(read, company)
    problems += _check_sequence(read)
    if chart_accounts:
        problems += _check_chart(con, read)
    formats = [f.fmt for f in read]
    if any(p.severity == "error" for p in problems):
        return JournalResult(rows_read, problems, formats, [])  # formats: TrialBalanceFormat, read by name
    lines, classes = _journal_lines(read)
    table = pa.table(
        {
            "fiscal_year": pa.array([r[0] for r in lines], pa.int32()),
            "date": pa.array([r[1] for r in lines], pa.date32()),
            "entry": pa.array([r[2] for r in lines], pa.int64()),
            "account": pa.array([r[3] for r in lines], pa.string()),
            "description": pa.array([r[4] for r in lines], pa.string()),
            "debit": pa.array([r[5] for r in lines], pa.decimal128(18, 2)),
            "credit": pa.array([r[6] for r in lines], pa.decimal128(18, 2)),
            "entry_type": pa.array([r[7] for r in lines], pa.string()),
            "source_file": pa.array([r[8] for r in lines], pa.string()),
            "source_line": pa.array([r[9] for r in lines], pa.int32()),
        }
    )
    con.register("_tb_lines", table)
    con.execute("INSERT INTO journal SELECT * FROM _tb_lines")
    con.unregister("_tb_lines")
    _name_accounts(con, read)
    return JournalResult(rows_read, problems, formats, classes)


# --- one file -------------------------------------------------------------------------------------------------------


def _read_file(path: Path, company: CompanyInfo) -> tuple[_File | None, list[Problem], int]:
    """One file: its cells, header, period end and rows, with the per-file rules."""
    name = display_name(path)
    try:
        cells, encoding, separator = _cells(path)
    except Exception as exc:  # a damaged workbook: openpyxl raises many kinds, also while reading a sheet's rows
        return None, [Problem("unreadable_file", f"no se puede leer el archivo: {exc}", file=name)], 0
    found = _find_header(cells)
    if found is None:
        wanted = "Cuenta y Saldo deudor/Saldo acreedor (o Saldo, o Sumas debe/Sumas haber)"
        message = f"no se encuentra la fila de cabecera en las {HEADER_SCAN_ROWS} primeras filas: hacen falta {wanted}"
        return None, [Problem("missing_column", message, file=name)], 0
    header_index, columns = found
    end, period_from, problems = _period_end(path, name, cells[:header_index], company)
    if end is None:
        return None, problems, 0
    parsed, count, row_problems = _rows(cells, header_index, columns, name)
    problems += row_problems
    leaves, group_problems, has_groups = _leaves(parsed, name, columns)
    problems += group_problems
    has_sums = "debit_sum" in columns and "credit_sum" in columns
    problems += _check_totals(leaves, name, has_sums, end)
    header = cells[header_index]
    fmt = TrialBalanceFormat(
        file=name,
        encoding=encoding,
        separator=separator,
        header_row=header_index + 1,
        columns={f: str(header[i]).strip() for f, i in columns.items()},
        period_end=end.isoformat(),
        period_from=period_from,
        levels="con cuentas de grupo" if has_groups else "solo subcuentas",
        rows=count,
    )
    item = _File(path, name, end, company.fiscal_year_of(end), header_index + 1, leaves, has_sums, fmt)
    return item, problems, count


def _cells(path: Path) -> tuple[list[list[object]], str, str | None]:
    """Every row of the first sheet (xlsx) or of the delimited file, as cell values, and how it was read."""
    if path.suffix.lower() == ".xlsx":
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
        try:
            sheet = book.worksheets[0]
            return [list(row) for row in sheet.iter_rows(values_only=True)], "xlsx", None
        finally:
            book.close()
    raw = path.read_bytes()
    if raw.startswith(codecs.BOM_UTF8):
        text, encoding = raw[len(codecs.BOM_UTF8) :].decode("utf-8", errors="replace"), "utf-8-sig"
    else:
        try:
            text, encoding = raw.decode("utf-8"), "utf-8"
        except UnicodeDecodeError:
            text, encoding = raw.decode("cp1252", errors="replace"), "windows-1252"
    best: tuple[list[list[object]], str] | None = None
    for separator in SEPARATORS:
        rows: list[list[object]] = [list(r) for r in csv.reader(io.StringIO(text), delimiter=separator)]
        if _find_header(rows) is not None:
            return rows, encoding, separator
        best = best or (rows, separator)
    assert best is not None
    return best[0], encoding, best[1]


def _find_header(cells: list[list[object]]) -> tuple[int, dict[str, int]] | None:
    """The first row naming an account column and some amount column (a title and the period may sit above)."""
    lookup = {alias: name for name, options in TRIAL_BALANCE_ALIASES.items() for alias in options}
    for index, row in enumerate(cells[:HEADER_SCAN_ROWS]):
        columns: dict[str, int] = {}
        for position, cell in enumerate(row):
            found = lookup.get(normalize_header(str(cell))) if isinstance(cell, str) else None
            if found and found not in columns:
                columns[found] = position
        balances = ("debit_balance" in columns and "credit_balance" in columns) or "balance" in columns
        sums = "debit_sum" in columns and "credit_sum" in columns
        if "account" in columns and (balances or sums):
            return index, columns
    return None


def _period_end(
    path: Path, name: str, title: list[list[object]], company: CompanyInfo
) -> tuple[date | None, str, list[Problem]]:
    """The period end: from the file name when it carries a date, else the last date of the title rows."""
    from_name: date | None = None
    rest = path.stem[len(FILE_PREFIX) :]
    match = NAME_DATE.search(rest)
    if match:
        year, month, day = (int(g) if g else None for g in match.groups())
        try:
            if month is None:
                from_name = company.fiscal_year_bounds(year or 0)[1]
            elif day is None:
                from_name = _month_end(year or 0, month)
            else:
                from_name = date(year or 0, month, day)
        except ValueError:
            message = f"la fecha del nombre del archivo («{match.group(0)}») no es una fecha válida"
            return None, "", [Problem("tb_no_period", message, file=name)]
    from_title, dates = _title_date(title)
    problems: list[Problem] = []
    if from_name and from_title and from_name != from_title:
        message = (
            f"el nombre del archivo indica el {date_es(from_name)} y el título del balance el {date_es(from_title)}:"
            " corrija el nombre o exporte el balance de nuevo"
        )
        return None, "", [Problem("tb_no_period", message, file=name)]
    end = from_name or from_title
    if end is None:
        message = (
            "no se sabe a qué fecha es el balance: póngala en el nombre (sumas_y_saldos_2025-06.xlsx, "
            "sumas_y_saldos_2025.xlsx para el cierre) o en el título («Hasta: 30/06/2025»)"
        )
        return None, "", [Problem("tb_no_period", message, file=name)]
    year = company.fiscal_year_of(end)
    if len(dates) >= 2 and min(dates) != company.fiscal_year_bounds(year)[0] and min(dates) < end:
        message = (
            f"el balance va del {date_es(min(dates))} al {date_es(end)}: debe ser acumulado desde el inicio del"
            f" ejercicio ({date_es(company.fiscal_year_bounds(year)[0])})"
        )
        problems.append(Problem("tb_not_cumulative", message, file=name))
    if company.fiscal_years and year not in company.fiscal_years:
        declared = ", ".join(str(y) for y in company.fiscal_years)
        message = (
            f"balance a {date_es(end)}, del ejercicio {year}, que no está entre los ejercicios declarados en"
            f" empresa.json ({declared})"
        )
        problems.append(Problem("date_outside_fiscal_years", message, file=name))
    return end, "nombre del archivo" if from_name else "título", problems


def _month_end(year: int, month: int) -> date:
    following = date(year + month // 12, month % 12 + 1, 1)
    return date.fromordinal(following.toordinal() - 1)


def _title_date(title: list[list[object]]) -> tuple[date | None, list[date]]:
    """The period end the title rows give, and every period date in them.

    A date after «hasta» (in the same cell or the next cells of its row) wins; otherwise the last date of the title
    rows. Dates labelled as the listing's emission or printing date are not period dates.
    """
    dates: list[date] = []
    until: date | None = None
    for row in title:
        skip_next = False
        for position, cell in enumerate(row):
            label = normalize_header(cell) if isinstance(cell, str) else ""
            if any(word in label for word in PRINT_WORDS):
                skip_next = not _dates_in(cell)
                continue
            found = [] if skip_next else _dates_in(cell)
            skip_next = False
            dates += found
            if until is None and "hasta" in label:
                after = _dates_in(cell.split("asta", 1)[1]) if isinstance(cell, str) else []
                later = [d for c in row[position + 1 :] for d in _dates_in(c)]
                until = (after or later or [None])[0]
    return until or (dates[-1] if dates else None), dates


def _dates_in(cell: object) -> list[date]:
    """Dates in a title cell: an Excel date, or dd/mm/aaaa (or aaaa-mm-dd) written in the text."""
    if isinstance(cell, datetime):
        return [cell.date()]
    if isinstance(cell, date):
        return [cell]
    if not isinstance(cell, str):
        return []
    found = []
    for m in TEXT_DATE.finditer(cell):
        day, month, year = (m.group(1), m.group(2), m.group(3)) if m.group(1) else (m.group(6), m.group(5), m.group(4))
        try:
            found.append(date(int(year), int(month), int(day)))
        except ValueError:
            continue
    return found


def _rows(
    cells: list[list[object]], header_index: int, columns: dict[str, int], name: str
) -> tuple[list[_Row], int, list[Problem]]:
    """The account rows below the header (empty and totals rows skipped), with the per-row rules."""
    rows: list[_Row] = []
    problems: dict[str, list[Problem]] = defaultdict(list)
    count = 0
    amounts = [f for f in FIELD_LABELS if f in columns]
    for index in range(header_index + 1, len(cells)):
        line = index + 1
        row = cells[index]

        def cell(f: str, row: list[object] = row) -> object:
            position = columns.get(f)
            return row[position] if position is not None and position < len(row) else None

        account = _account_text(cell("account"))
        values = {f: cell(f) for f in amounts}
        if not account:
            continue  # an empty row, or a totals row with the amounts and no account
        if not account.isdigit():
            if normalize_header(account).startswith(TOTAL_WORDS):
                continue
            problems["bad_account"].append(
                Problem("bad_account", f"cuenta «{account}» no válida: solo puede tener dígitos", name, line)
            )
            continue
        count += 1
        parsed: dict[str, Decimal] = {}
        bad = []
        for f, raw in values.items():
            value = _amount(raw)
            if value is None:
                bad.append(f"{FIELD_LABELS[f]} «{str(raw).strip()}»")
            else:
                parsed[f] = value
        if bad:
            message = f"importe no válido en la cuenta {account}: {', '.join(bad)} (se admite 1.234,56 o 1234.56)"
            problems["bad_amount"].append(Problem("bad_amount", message, name, line))
            continue
        debit_sum, credit_sum = parsed.get("debit_sum"), parsed.get("credit_sum")
        if "debit_balance" in parsed and "credit_balance" in parsed:
            if parsed["debit_balance"] and parsed["credit_balance"]:
                message = (
                    f"la cuenta {account} tiene saldo deudor ({number(parsed['debit_balance'])}) y acreedor"
                    f" ({number(parsed['credit_balance'])}) a la vez"
                )
                problems["tb_both_balances"].append(Problem("tb_both_balances", message, name, line))
                continue
            balance = parsed["debit_balance"] - parsed["credit_balance"]
        elif "balance" in parsed:
            balance = parsed["balance"]
        else:
            balance = (debit_sum or ZERO) - (credit_sum or ZERO)
        if debit_sum is not None and credit_sum is not None and balance != debit_sum - credit_sum:
            message = (
                f"cuenta {account}: el saldo ({number(balance)}) no es sumas debe − sumas haber"
                f" ({number(debit_sum)} − {number(credit_sum)} = {number(debit_sum - credit_sum)})"
            )
            problems["tb_row_balance"].append(Problem("tb_row_balance", message, name, line))
        name_text = str(cell("name") or "").strip()
        rows.append(_Row(line, account, name_text, debit_sum, credit_sum, balance))
    return rows, count, [p for found in problems.values() for p in _capped(found, name)]


def _account_text(value: object) -> str:
    """An account cell as text: Excel numbers without decimals, text trimmed."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else str(value)
    return str(value).strip()


def _amount(value: object) -> Decimal | None:
    """An amount cell: an Excel number (at most two decimals) or Spanish / plain text; empty is 0; None if invalid."""
    if value is None or isinstance(value, bool):
        return ZERO if value is None else None
    if isinstance(value, int | float | Decimal):
        exact = Decimal(str(value))
        rounded = exact.quantize(CENT)
        return rounded if abs(exact - rounded) < Decimal("0.000001") else None
    text = str(value).strip().replace("€", "").replace("\u00a0", "").replace(" ", "")
    if text in ("", "-"):
        return ZERO
    negative = text.startswith("(") and text.endswith(")")
    text = text.strip("()")
    if "," in text:
        text = text.replace(".", "").replace(",", ".")
    elif text.count(".") > 1 or (text.count(".") == 1 and len(text.rsplit(".", 1)[1]) == 3):
        text = text.replace(".", "")  # 1.234 or 1.234.567: thousands points of an amount without decimals
    try:
        exact = Decimal(text)
    except InvalidOperation:
        return None
    if not exact.is_finite() or exact != exact.quantize(CENT):
        return None
    return -exact.quantize(CENT) if negative else exact.quantize(CENT)


def _leaves(rows: list[_Row], name: str, columns: dict[str, int]) -> tuple[dict[str, _Row], list[Problem], bool]:
    """The most detailed accounts; a group row (a prefix of another row's account) must add up its sub-accounts."""
    problems: dict[str, list[Problem]] = defaultdict(list)
    seen: dict[str, _Row] = {}
    for row in rows:
        if row.account in seen:
            message = f"la cuenta {row.account} ya estaba en la fila {seen[row.account].line}"
            problems["tb_duplicate_account"].append(Problem("tb_duplicate_account", message, name, row.line))
        else:
            seen[row.account] = row
    codes = sorted(seen)
    groups = {a for a in codes if any(b != a and b.startswith(a) for b in codes)}
    leaves = {a: seen[a] for a in codes if a not in groups}
    has_sums = "debit_sum" in columns and "credit_sum" in columns
    for group in sorted(groups):
        parts = [r for a, r in leaves.items() if a.startswith(group)]
        row = seen[group]
        balance = sum((r.balance for r in parts), ZERO)
        debit = sum((r.debit_sum or ZERO for r in parts), ZERO)
        credit = sum((r.credit_sum or ZERO for r in parts), ZERO)
        wrong = balance != row.balance or (has_sums and (debit != row.debit_sum or credit != row.credit_sum))
        if wrong:
            message = (
                f"la fila de la cuenta de grupo {group} (saldo {number(row.balance)}"
                + (f", sumas {number(row.debit_sum)} / {number(row.credit_sum)}" if has_sums else "")
                + f") no es la suma de sus {integer(len(parts))} subcuentas del archivo (saldo {number(balance)}"
                + (f", sumas {number(debit)} / {number(credit)}" if has_sums else "")
                + "): exporte el balance solo a nivel de subcuenta o revise el archivo"
            )
            problems["tb_group_total"].append(Problem("tb_group_total", message, name, row.line))
    for account, row in leaves.items():
        if len(account) < 3 or account.startswith("0"):
            message = f"cuenta «{account}» no válida: una subcuenta necesita al menos 3 dígitos y no empieza por 0"
            problems["bad_account"].append(Problem("bad_account", message, name, row.line))
    found = [p for items in problems.values() for p in _capped(items, name)]
    return leaves, found, bool(groups)


def _check_totals(leaves: dict[str, _Row], name: str, has_sums: bool, end: date) -> list[Problem]:
    """Σ sumas debe = Σ sumas haber and Σ saldos deudores = Σ saldos acreedores; not a post-closing balance."""
    problems = []
    if has_sums:
        debit = sum((r.debit_sum or ZERO for r in leaves.values()), ZERO)
        credit = sum((r.credit_sum or ZERO for r in leaves.values()), ZERO)
        if debit != credit:
            message = f"las sumas no cuadran: sumas debe {number(debit)} ≠ sumas haber {number(credit)}"
            problems.append(Problem("tb_unbalanced_sums", message, file=name))
    debtor = sum((r.balance for r in leaves.values() if r.balance > 0), ZERO)
    creditor = -sum((r.balance for r in leaves.values() if r.balance < 0), ZERO)
    if debtor != creditor:
        message = f"los saldos no cuadran: saldos deudores {number(debtor)} ≠ saldos acreedores {number(creditor)}"
        problems.append(Problem("tb_unbalanced_balances", message, file=name))
    results = [r for a, r in leaves.items() if is_pl_account(a)]
    moved = [r for r in results if (r.debit_sum or ZERO) != 0 or (r.credit_sum or ZERO) != 0]
    if has_sums and moved and all(r.balance == 0 for r in results):
        message = (
            f"el balance a {date_es(end)} tiene las cuentas de los grupos 6 y 7 con sumas pero sin saldo: está hecho"
            " después de la regularización. Expórtelo sin los asientos de regularización y cierre"
        )
        problems.append(Problem("tb_after_closing", message, file=name, line=moved[0].line))
    return problems


# --- across files ---------------------------------------------------------------------------------------------------


def _check_periods(files: list[_File], company: CompanyInfo) -> list[Problem]:
    """One file per period end; every fiscal year before the last one ends with its year-end balance."""
    problems = []
    seen: dict[date, _File] = {}
    for item in files:
        if item.end in seen:
            message = f"el balance a {date_es(item.end)} ya está en {seen[item.end].name}"
            problems.append(Problem("tb_duplicate_period", message, file=item.name))
        seen[item.end] = item
    years = sorted({f.fiscal_year for f in files})
    for year in range(years[0], years[-1]) if years else ():
        in_year = [f for f in files if f.fiscal_year == year]
        year_end = company.fiscal_year_bounds(year)[1]
        if in_year and in_year[-1].end == year_end:
            continue
        later = next(f for f in files if f.fiscal_year > year)
        last = f" (el último es a {date_es(in_year[-1].end)})" if in_year else ""
        message = (
            f"falta el balance de sumas y saldos al cierre del ejercicio {year} ({date_es(year_end)}){last},"
            f" y hay balances posteriores: sin él no se conoce el resultado de {year}"
        )
        problems.append(Problem("tb_missing_year_end", message, file=later.name))
    return problems


def _check_sequence(files: list[_File]) -> list[Problem]:
    """Within a fiscal year a later balance never has smaller cumulative sums than an earlier one."""
    problems = []
    for before, after in itertools.pairwise(files):
        if before.fiscal_year != after.fiscal_year or not (before.has_sums and after.has_sums):
            continue
        found = []
        for account, old in before.rows.items():
            new = after.rows.get(account)
            new_debit = new.debit_sum if new else ZERO
            new_credit = new.credit_sum if new else ZERO
            if (new_debit or ZERO) < (old.debit_sum or ZERO) or (new_credit or ZERO) < (old.credit_sum or ZERO):
                message = (
                    f"cuenta {account}: las sumas acumuladas bajan respecto al balance a {date_es(before.end)}"
                    f" ({before.name}): debe {number(old.debit_sum)} → {number(new_debit)},"
                    f" haber {number(old.credit_sum)} → {number(new_credit)}"
                )
                found.append(Problem("tb_decreasing_sums", message, after.name, new.line if new else after.header_line))
        problems += _capped(found, after.name)
    return problems


def _check_chart(con: duckdb.DuckDBPyConnection, files: list[_File]) -> list[Problem]:
    """With plan_cuentas.csv, every account of every balance is in it."""
    known = {row[0] for row in con.execute("SELECT account FROM accounts").fetchall()}
    problems = []
    for item in files:
        found = [
            Problem(
                "account_not_in_chart",
                f"la cuenta {account} no está en el plan de cuentas (plan_cuentas.csv)",
                item.name,
                row.line,
            )
            for account, row in item.rows.items()
            if account not in known
        ]
        problems += _capped(found, item.name)
    return problems


def _capped(problems: list[Problem], name: str) -> list[Problem]:
    if len(problems) <= MAX_PER_RULE:
        return problems
    rule = problems[0].rule
    more = Problem(rule, f"… y {integer(len(problems) - MAX_PER_RULE)} casos más de este tipo", file=name)
    return [*problems[:MAX_PER_RULE], more]


# --- synthetic journal ----------------------------------------------------------------------------------------------

Line = tuple[int, date, int, str, str, Decimal, Decimal, str, str, int]


def _journal_lines(files: list[_File]) -> tuple[list[Line], list[EntryClass]]:
    """One entry per file (the balances' differences) and a regularización closing each year another one follows."""
    result_account = _result_account(files)
    state: dict[str, Decimal] = defaultdict(lambda: ZERO)  # the journal's balance per account so far
    numbers: dict[int, int] = defaultdict(int)
    lines: list[Line] = []
    classes: list[EntryClass] = []
    for index, item in enumerate(files):
        numbers[item.fiscal_year] += 1
        entry = numbers[item.fiscal_year]
        text = f"Saldo según sumas y saldos hasta {date_es(item.end)}"
        for account in sorted(set(state) | set(item.rows)):
            row = item.rows.get(account)
            difference = (row.balance if row else ZERO) - state[account]
            if difference:
                line = row.line if row else item.header_line
                lines.append(_line(item, entry, account, text, difference, "normal", line))
                state[account] += difference
        following = files[index + 1] if index + 1 < len(files) else None
        if following is not None and following.fiscal_year > item.fiscal_year:
            numbers[item.fiscal_year] += 1
            entry = numbers[item.fiscal_year]
            text = f"Regularización según sumas y saldos a {date_es(item.end)}"
            closed = [(a, b) for a, b in sorted(state.items()) if is_pl_account(a) and b]
            for account, balance in closed:
                row = item.rows.get(account)
                lines.append(_line(item, entry, account, text, -balance, "regularizacion", row.line if row else 0))
                state[account] = ZERO
            result = sum((b for _, b in closed), ZERO)
            if closed:
                row = item.rows.get(result_account)
                line = row.line if row else item.header_line
                lines.append(_line(item, entry, result_account, text, result, "regularizacion", line))
                state[result_account] += result
                count = len(closed) + 1
                classes.append(EntryClass(item.fiscal_year, entry, item.end, "regularizacion", METHOD, count))
    return lines, classes


def _line(item: _File, entry: int, account: str, text: str, amount: Decimal, kind: str, line: int) -> Line:
    debit, credit = (amount, ZERO) if amount > 0 else (ZERO, -amount)
    return (item.fiscal_year, item.end, entry, account, text, debit, credit, kind, item.name, line or item.header_line)


def _result_account(files: list[_File]) -> str:
    """The 129 sub-account the balances use, else 129 padded to their usual sub-account length."""
    accounts = sorted({a for f in files for a in f.rows})
    for account in accounts:
        if account.startswith(RESULT_PREFIX):
            return account
    lengths = sorted(len(a) for a in accounts)
    usual = lengths[len(lengths) // 2] if lengths else 3
    return RESULT_PREFIX.ljust(max(3, usual), "0")


def _name_accounts(con: duckdb.DuckDBPyConnection, files: list[_File]) -> None:
    """The balances' descriptions name the accounts the chart does not (the latest file's name wins)."""
    names: dict[str, str] = {}
    for item in files:
        names.update({a: r.name for a, r in item.rows.items() if r.name})
    known = {row[0] for row in con.execute("SELECT account FROM accounts").fetchall()}
    rows = [(a, n, ACCOUNTING_SOURCE) for a, n in sorted(names.items()) if a not in known]
    if rows:
        con.executemany("INSERT INTO accounts VALUES (?, ?, ?)", rows)
