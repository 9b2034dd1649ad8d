"""Reader of the tesoreria module: the cartera de efectos and the bank statements, Norma 43 and camt.053 (§6)."""

from __future__ import annotations

import io
import itertools
import json
import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

import duckdb
from csb43.aeb43 import read_batch
from csb43.aeb43.record.context import Aeb43Context
from stdnum import iban as std_iban
from stdnum.es import ccc
from stdnum.es import nif as es_nif

from etl.modules import ModuleOutput, ModuleReader, _csv, camt053
from etl.modules._csv import RowError, day, money, one_of, spanish, store_rows
from etl.problems import Problem
from etl.sources import COMPANY_FILE, CompanyInfo, display_name, source_file, source_files

FOLDER = "tesoreria"
ITEMS = "efectos.csv"
COLUMNS = (
    "numero",
    "tipo",
    "tercero",
    "nif",
    "cuenta",
    "documento",
    "fecha_emision",
    "fecha_vencimiento",
    "importe",
    "forma_pago",
    "estado",
    "fecha_cobro_pago",
)
# Ledger sub-accounts allowed for each kind of item (fixed-asset suppliers, 523, are not in the cartera).
KIND_ACCOUNTS = {"cobro": ("430",), "pago": ("400", "410")}
PAYMENT_METHODS = ("transferencia", "domiciliacion", "pagare", "confirming")
OPEN_STATES = ("pendiente", "remesado", "impagado", "devuelto")
CLOSED_STATE = {"cobro": "cobrado", "pago": "pagado"}  # the one closed state of each kind
STATEMENT_NAME = re.compile(r"(?P<iban>[A-Z]{2}\d{2}[A-Z0-9]{1,30})_(?P<year>\d{4})\.n43", re.IGNORECASE)
STATEMENT_SUFFIXES = (".n43", ".xml")
CENT = Decimal("0.01")
ZERO = Decimal("0.00")
MAX_PROBLEMS = 200
MAX_DAY_WARNINGS = 5  # per account: the first days whose bank movements differ from the journal


class StatementError(ValueError):
    """A statement file that cannot be accepted: the Spanish reason and the line (1-based) when known."""

    def __init__(self, message: str, line: int | None = None):
        super().__init__(message)
        self.line = line


@dataclass(frozen=True)
class BankAccount:
    """One entry of empresa.json ``cuentas_bancarias``."""

    account: str  # 572 sub-account
    iban: str
    bank: str


def pretty_iban(code: str) -> str:
    """'ES9121000418450200051332' -> 'ES91 2100 0418 4502 0005 1332'."""
    return " ".join(code[i : i + 4] for i in range(0, len(code), 4))


# --- efectos.csv --------------------------------------------------------------------------------------------------


def parse_item(values: dict[str, str]) -> dict:
    """One efectos.csv row, validated (see docs/sources.md §6)."""
    number = values["numero"]
    if not number:
        raise RowError("numero está vacío")
    kind = one_of("tipo", values["tipo"], tuple(KIND_ACCOUNTS))
    if not values["tercero"]:
        raise RowError("tercero está vacío")
    account = values["cuenta"]
    if not (account.isdigit() and account.startswith(KIND_ACCOUNTS[kind])):
        prefixes = " o ".join(KIND_ACCOUNTS[kind])
        raise RowError(f"cuenta «{account}» no es una subcuenta {prefixes} (tipo {kind})")
    issued = day("fecha_emision", values["fecha_emision"])
    due = day("fecha_vencimiento", values["fecha_vencimiento"])
    if due < issued:
        raise RowError(
            f"fecha_vencimiento «{values['fecha_vencimiento']}» es anterior a fecha_emision «{values['fecha_emision']}»"
        )
    amount = money("importe", values["importe"])
    if amount <= 0:
        raise RowError(f"importe «{values['importe']}» debe ser mayor que cero")
    method = one_of("forma_pago", values["forma_pago"], PAYMENT_METHODS)
    state = one_of("estado", values["estado"], (*OPEN_STATES, CLOSED_STATE[kind]))
    settled = day("fecha_cobro_pago", values["fecha_cobro_pago"], required=False)
    closed = state == CLOSED_STATE[kind]
    if closed and settled is None:
        raise RowError(f"fecha_cobro_pago está vacía y el estado es «{state}» (debe indicar la fecha)")
    if not closed and settled is not None:
        raise RowError(
            f"fecha_cobro_pago «{values['fecha_cobro_pago']}» debe estar vacía mientras el estado es «{state}»"
        )
    if settled is not None and settled < issued:
        raise RowError(
            f"fecha_cobro_pago «{values['fecha_cobro_pago']}» es anterior a fecha_emision «{values['fecha_emision']}»"
        )
    return {
        "number": number,
        "kind": kind,
        "counterparty": values["tercero"],
        "nif": es_nif.compact(values["nif"]) if values["nif"] else "",
        "account": account,
        "document": values["documento"],
        "issue_date": issued,
        "due_date": due,
        "amount": amount,
        "payment_method": method,
        "state": state,
        "settled_date": settled,
        "is_open": not closed,
    }


def read_items(path: Path, problems: list[Problem]) -> list[dict]:
    """The validated rows of efectos.csv (header = line 1; order of columns free)."""
    table = _csv.read_table(path, COLUMNS, "treasury", problems, missing_note=" (cabecera)", warn_extra=False)
    rows: list[dict] = []
    seen: dict[str, int] = {}
    for line, fields in table.rows if table is not None else []:
        try:
            row = parse_item(fields)
        except RowError as exc:
            problems.append(Problem("treasury_item", str(exc), file=table.name, line=line))
            continue
        if row["number"] in seen:
            message = f"numero «{row['number']}» repetido (ya en la línea {seen[row['number']]})"
            problems.append(Problem("treasury_duplicate", message, file=table.name, line=line))
            continue
        seen[row["number"]] = line
        if row["nif"] and not es_nif.is_valid(row["nif"]):
            message = f"nif «{fields['nif']}» no es un NIF válido"
            problems.append(Problem("treasury_nif", message, file=table.name, line=line, severity="warning"))
        rows.append({**row, "source_line": line})
    return rows


# --- empresa.json cuentas_bancarias -------------------------------------------------------------------------------


def bank_accounts(folder: Path, problems: list[Problem]) -> dict[str, BankAccount]:
    """IBAN -> bank account of empresa.json ``cuentas_bancarias`` (bad entries are errors naming the entry)."""
    path = source_file(folder, COMPANY_FILE)
    name = display_name(folder / COMPANY_FILE)
    try:
        raw = json.loads(path.read_text(encoding="utf-8-sig")) if path else {}
    except (UnicodeDecodeError, json.JSONDecodeError):
        return {}  # reported by etl.sources.read_company_info
    entries = raw.get("cuentas_bancarias", []) if isinstance(raw, dict) else []
    if not isinstance(entries, list):
        problems.append(Problem("treasury_banks", "cuentas_bancarias debe ser una lista", file=name))
        return {}
    found: dict[str, BankAccount] = {}
    for position, entry in enumerate(entries, start=1):
        if not isinstance(entry, dict):
            problems.append(Problem("treasury_banks", f"cuentas_bancarias[{position}] no es un objeto", file=name))
            continue
        code = std_iban.compact(str(entry.get("iban", "")))
        account = str(entry.get("cuenta", "")).strip()
        if not std_iban.is_valid(code):
            problems.append(
                Problem(
                    "treasury_banks", f"cuentas_bancarias[{position}]: iban «{entry.get('iban')}» no válido", file=name
                )
            )
            continue
        if not (account.isdigit() and account.startswith("572")):
            problems.append(
                Problem(
                    "treasury_banks", f"cuentas_bancarias[{position}]: cuenta «{account}» no es una 572…", file=name
                )
            )
            continue
        found[code] = BankAccount(account, code, str(entry.get("banco", "")).strip())
    return found


# --- Norma 43 -----------------------------------------------------------------------------------------------------


def iban_of(bank: str, branch: str, number: str, control: str | None = None) -> str:
    """The Spanish IBAN of an account given by record 11 (entity, branch, account; the control digits computed)."""
    digits = f"{bank}{branch}{control or '00'}{number}"
    if control is None:
        digits = f"{bank}{branch}{ccc.calc_check_digits(digits)}{number}"
    return ccc.to_iban(digits)


def account_at(raw: bytes, line: int | None) -> str:
    """The account of the record 11 in force at ``line`` (1-based) of a Norma 43 file, for messages ('' if none)."""
    records = raw.replace(b"\r", b"").split(b"\n")
    last = len(records) if line is None else min(line, len(records))
    for record in reversed(records[:last]):
        text = record.decode("latin-1")
        if text.startswith("11") and len(text) >= 20 and text[2:20].isdigit():
            try:
                return pretty_iban(iban_of(text[2:6], text[6:10], text[10:20]))
            except ValueError:
                return f"{text[2:6]} {text[6:10]} {text[10:20]}"
    return ""


def csb43_line(message: str) -> int | None:
    """The 1-based line of a csb43 message '[0005] …' (csb43 counts records from 0)."""
    match = re.match(r"\[(\d+)\]", message)
    return int(match.group(1)) + 1 if match else None


def csb43_reason(detail: str) -> str:
    """The Spanish reason of a csb43 validation message."""
    if "final balance" in detail:
        return "el extracto no cuadra: el saldo inicial más los movimientos no da el saldo final"
    if "mismatch in summary" in detail:
        return "el extracto no cuadra: los movimientos no suman los totales del registro 33"
    return "el archivo no es un Norma 43 válido"


def parse_statement(path: Path) -> list[dict]:
    """Every account of one Norma 43 file, parsed by csb43 in strict mode; a failure raises StatementError.

    Each account: iban, dates, balances, income/expense counts and sums and its movements (signed amounts, money in
    positive), the shape camt053.parse_file gives too; read_statements checks the roll-forward of both again.
    """
    raw = path.read_bytes()
    try:
        batch = read_batch(io.BytesIO(raw), context=Aeb43Context(strict=True, silent=True))
    except Exception as exc:  # csb43 raises ValidationException (ValueError) and others on malformed records
        detail = str(exc)
        line = csb43_line(detail)
        account = account_at(raw, line)
        where = f"Norma 43, cuenta {account}" if account else "Norma 43"
        raise StatementError(f"{where}: {csb43_reason(detail)} (csb43: {detail})", line) from None
    if not batch.accounts:
        raise StatementError("Norma 43: el archivo no contiene ninguna cuenta (registro 11)")
    if batch.summary is None:
        raise StatementError("Norma 43: falta el registro 88 de fin de fichero")
    return [account_fields(account) for account in batch.accounts]


def concept_text(transaction) -> str:
    """The free text of the 23 records of a movement, joined."""
    parts = []
    for item in transaction.optional_items:
        parts.append(f"{item.item1 or ''}{item.item2 or ''}".strip())
    return " ".join(p for p in parts if p)


def account_fields(account) -> dict:
    """The plain fields of one csb43 Account (record 11 + its movements + record 33)."""
    code = iban_of(account.bank_code, account.branch_code, account.account_number, account.account_control_key)
    summary = account.summary
    if summary is None:
        raise StatementError(f"Norma 43: al extracto de la cuenta {pretty_iban(code)} le falta el registro 33")
    movements = [
        {
            "sequence": sequence,
            "operation_date": t.transaction_date,
            "value_date": t.value_date,
            "common_concept": int(t.shared_item),
            "own_concept": int(t.own_item),
            "amount": Decimal(t.amount).quantize(CENT),
            "document_number": str(t.document_number or "").strip(),
            "reference1": str(t.reference1 or "").strip(),
            "reference2": str(t.reference2 or "").strip(),
            "concept": concept_text(t),
        }
        for sequence, t in enumerate(account.transactions, start=1)
    ]
    currency = getattr(account.currency, "alpha_3", str(account.currency))
    return {
        "iban": code,
        "start_date": account.initial_date,
        "end_date": account.final_date,
        "opening_balance": Decimal(account.initial_balance).quantize(CENT),
        "closing_balance": Decimal(summary.final_balance).quantize(CENT),
        "currency": currency,
        "income_count": int(summary.income_entries),
        "income": Decimal(summary.income).quantize(CENT),
        "expense_count": int(summary.expense_entries),
        "expense": Decimal(summary.expense).quantize(CENT),
        "holder": str(account.short_name or "").strip(),
        "movements": movements,
        "where": f"Norma 43, cuenta {pretty_iban(code)}",
        "line": None,
    }


def roll_forward(found: dict) -> None:
    """Each movement's running balance; opening + Σ movements must be the closing balance (StatementError if not)."""
    opening, closing = found["opening_balance"], found["closing_balance"]
    balance = opening
    for movement in found["movements"]:
        balance += movement["amount"]
        movement["balance"] = balance
    if balance != closing:
        raise StatementError(
            f"{found['where']}: el extracto no cuadra: saldo inicial {spanish(opening)} + movimientos "
            f"{spanish(balance - opening)} = {spanish(balance)} pero el saldo final es {spanish(closing)}",
            found["line"],
        )


def n43_accounts(path: Path, name: str, problems: list[Problem]) -> list[dict] | None:
    """The accounts of one .n43 file, checked against its name <IBAN>_<año>.n43 (None, with the error, if rejected)."""
    match = STATEMENT_NAME.fullmatch(path.name)
    if not match:
        message = "El nombre debe ser <IBAN>_<año>.n43 (p. ej. ES91…1332_2025.n43)"
        problems.append(Problem("treasury_n43_name", message, file=name))
        return None
    try:
        accounts = parse_statement(path)
    except StatementError as exc:
        problems.append(Problem("treasury_n43", str(exc), file=name, line=exc.line))
        return None
    in_name = std_iban.compact(match.group("iban"))
    if in_name not in {a["iban"] for a in accounts}:
        found = ", ".join(pretty_iban(a["iban"]) for a in accounts)
        problems.append(
            Problem(
                "treasury_n43_iban",
                f"El IBAN del nombre del archivo ({pretty_iban(in_name)}) no es el de ninguna cuenta del archivo "
                f"(registro 11: {found})",
                file=name,
            )
        )
        return None
    return [{**a, "rule": "treasury_n43", "format": "norma43", "year": int(match.group("year"))} for a in accounts]


def camt_statements(path: Path, name: str, problems: list[Problem]) -> list[dict] | None:
    """The statements of one .xml file that is a camt.053 document (None, with the error or a warning, if not)."""
    try:
        found = camt053.parse_file(path)
    except camt053.CamtError as exc:
        problems.append(Problem("treasury_camt", str(exc), file=name, line=exc.line))
        return None
    if found is None:
        message = "El XML no es un extracto camt.053 (Document/BkToCstmrStmt de ISO 20022): no se ha leído"
        problems.append(Problem("treasury_camt", message, file=name, severity="warning"))
        return None
    return [{**s, "rule": "treasury_camt", "format": "camt.053", "year": None} for s in found]


def read_statements(
    paths: list[Path], banks: dict[str, BankAccount], problems: list[Problem]
) -> tuple[list[dict], list[dict]]:
    """The statements (one per account and file, or per camt.053 Stmt) and their movements, whatever the format.

    Both formats go through the same checks: roll-forward, account in empresa.json, euros, and the chain across
    files (:func:`chain_problems`); every rule broken is an error.
    """
    statements: list[dict] = []
    movements: list[dict] = []
    for path in paths:
        name = display_name(path)
        reader = n43_accounts if path.suffix.lower() == ".n43" else camt_statements
        for found in reader(path, name, problems) or []:
            label = pretty_iban(found["iban"])
            try:
                roll_forward(found)
            except StatementError as exc:
                problems.append(Problem(found["rule"], str(exc), file=name, line=exc.line))
                continue
            bank = banks.get(found["iban"])
            if bank is None:
                problems.append(
                    Problem(
                        "treasury_n43_account",
                        f"La cuenta {label} del extracto no está en cuentas_bancarias de {COMPANY_FILE}",
                        file=name,
                        line=found["line"],
                    )
                )
                continue
            if found["currency"] != "EUR":
                message = f"La cuenta {label} está en {found['currency']}, no en euros"
                problems.append(Problem(found["rule"], message, file=name, line=found["line"]))
                continue
            year = found["year"]
            if year is not None and (found["start_date"].year != year or found["end_date"].year != year):
                problems.append(
                    Problem(
                        "treasury_n43_year",
                        f"El extracto de la cuenta {label} va del {found['start_date']:%d/%m/%Y} al "
                        f"{found['end_date']:%d/%m/%Y}, fuera del año {year} del nombre del archivo",
                        file=name,
                        severity="warning",
                    )
                )
            statement = {k: v for k, v in found.items() if k != "movements"}
            statement |= {"account": bank.account, "bank": bank.bank, "file": name}
            statement["movements"] = len(found["movements"])
            statements.append(statement)
            movements += [
                {"iban": found["iban"], "account": bank.account, "file": name, "start_date": found["start_date"], **m}
                for m in found["movements"]
            ]
    problems += chain_problems(statements)
    return statements, movements


def origin(statement: dict) -> str:
    """Where a statement comes from, for messages: its file, and its Id for a camt.053 statement."""
    if statement["format"] == "camt.053":
        return f"{statement['file']} (extracto «{statement['statement_id']}»)"
    return statement["file"]


def named(statement: dict) -> str:
    """' «Id»' naming a camt.053 statement in a message about its file ('' for Norma 43)."""
    return f" «{statement['statement_id']}»" if statement["format"] == "camt.053" else ""


def of_statement(statement: dict) -> str:
    """' del extracto «Id»' for a camt.053 statement ('' for Norma 43, whose file holds one per account)."""
    return f" del extracto{named(statement)}" if statement["format"] == "camt.053" else ""


def chain_problems(statements: list[dict]) -> list[Problem]:
    """Per account, statements may not overlap (error: movements twice); a gap in the balance is a warning.

    Norma 43 and camt.053 statements of one account are one chain, whatever file or format each comes from.
    """
    found = []
    by_iban: dict[str, list[dict]] = defaultdict(list)
    for s in statements:
        by_iban[s["iban"]].append(s)
    for code, items in by_iban.items():
        items.sort(key=lambda s: (s["start_date"], s["end_date"]))
        for before, after in itertools.pairwise(items):
            label = pretty_iban(code)
            if after["start_date"] <= before["end_date"]:
                found.append(
                    Problem(
                        "treasury_n43_overlap",
                        f"El extracto{named(after)} de la cuenta {label} se solapa con el de {origin(before)} "
                        f"(hasta el {before['end_date']:%d/%m/%Y})",
                        file=after["file"],
                        line=after["line"],
                    )
                )
            elif after["opening_balance"] != before["closing_balance"]:
                found.append(
                    Problem(
                        "treasury_n43_chain",
                        f"El saldo inicial{of_statement(after)} de la cuenta {label} "
                        f"({spanish(after['opening_balance'])}) no es el saldo final de {origin(before)} "
                        f"({spanish(before['closing_balance'])})",
                        file=after["file"],
                        line=after["line"],
                        severity="warning",
                    )
                )
    return found


# --- cross-checks with the journal (warnings) ---------------------------------------------------------------------


def ledger_balance(con: duckdb.DuckDBPyConnection, prefixes: tuple[str, ...], day: date, *, start: bool) -> Decimal:
    """Σ debit − credit of the accounts starting with ``prefixes`` at the start (``start``) or the end of ``day``.

    Start of a day: every line before it plus the apertura dated that day (after a closed year the cierre and the
    apertura cancel out; for the first year the apertura carries the balance). End of a day: every line up to it
    except the cierre dated that day (the pre-closing balance).
    """
    where = (
        "(date < $day OR (date = $day AND entry_type = 'apertura'))"
        if start
        else "date <= $day AND NOT (entry_type = 'cierre' AND date = $day)"
    )
    value = con.execute(
        f"SELECT coalesce(sum(debit - credit), 0) FROM journal WHERE {where}"  # where: one of two fixed texts
        " AND len(list_filter($prefixes, lambda p: starts_with(account, p))) > 0",
        {"day": day, "prefixes": list(prefixes)},
    ).fetchone()[0]
    return Decimal(value).quantize(CENT)


def open_at(items: list[dict], kind: str, as_of: date) -> Decimal:
    """Σ importe of the items of ``kind`` open at the end of ``as_of`` (issued by then, not settled by then)."""
    return sum(
        (
            i["amount"]
            for i in items
            if i["kind"] == kind
            and i["issue_date"] <= as_of
            and (i["settled_date"] is None or i["settled_date"] > as_of)
        ),
        ZERO,
    )


def cartera_problems(con: duckdb.DuckDBPyConnection, items: list[dict], file: str) -> list[Problem]:
    """Warnings where the open items differ from the 430 balance or the 400 + 410 balance at the export date."""
    last = con.execute("SELECT max(date) FROM journal").fetchone()[0]
    if last is None or not items:
        return []
    checks = (
        ("cobro", "cobros", ("430",), Decimal(1), "430"),
        ("pago", "pagos", ("400", "410"), Decimal(-1), "400 + 410"),
    )
    found = []
    for kind, label, prefixes, sign, accounts in checks:
        cartera = open_at(items, kind, last)
        ledger = sign * ledger_balance(con, prefixes, last, start=False)
        if cartera != ledger:
            found.append(
                Problem(
                    "treasury_cartera_ledger",
                    f"A {last:%d/%m/%Y}: los {label} pendientes suman {spanish(cartera)} pero el saldo de "
                    f"{accounts} del diario es {spanish(ledger)} (diferencia {spanish(cartera - ledger)})",
                    file=file,
                    severity="warning",
                )
            )
    return found


def bank_problems(con: duckdb.DuckDBPyConnection, statements: list[dict], movements: list[dict]) -> list[Problem]:
    """Warnings where a statement's opening balance or a day's movements differ from the 572 sub-account's journal."""
    found = []
    by_statement: dict[tuple[str, date], dict[date, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for m in movements:
        by_statement[(m["iban"], m["start_date"])][m["operation_date"]] += m["amount"]
    for s in statements:
        label = f"{pretty_iban(s['iban'])} ({s['account']})"
        opening = ledger_balance(con, (s["account"],), s["start_date"], start=True)
        if opening != s["opening_balance"]:
            found.append(
                Problem(
                    "treasury_bank_ledger",
                    f"Cuenta {label}: saldo inicial del extracto {spanish(s['opening_balance'])} a "
                    f"{s['start_date']:%d/%m/%Y}, saldo de la {s['account']} en el diario {spanish(opening)}",
                    file=s["file"],
                    severity="warning",
                )
            )
        booked = {
            d: Decimal(v).quantize(CENT)
            for d, v in con.execute(
                "SELECT date, sum(debit - credit) FROM journal WHERE account = $a AND date BETWEEN $s AND $e"
                " AND entry_type NOT IN ('apertura', 'cierre') GROUP BY date",
                {"a": s["account"], "s": s["start_date"], "e": s["end_date"]},
            ).fetchall()
        }
        bank = by_statement[(s["iban"], s["start_date"])]
        days = sorted(d for d in set(bank) | set(booked) if bank.get(d, ZERO) != booked.get(d, ZERO))
        for d in days[:MAX_DAY_WARNINGS]:
            found.append(
                Problem(
                    "treasury_bank_ledger",
                    f"Cuenta {label}, {d:%d/%m/%Y}: movimientos del banco {spanish(bank.get(d, ZERO))}, "
                    f"apuntes de la {s['account']} en el diario {spanish(booked.get(d, ZERO))}",
                    file=s["file"],
                    severity="warning",
                )
            )
        if len(days) > MAX_DAY_WARNINGS:
            found.append(
                Problem(
                    "treasury_bank_ledger",
                    f"Cuenta {label}: {len(days)} días en total con diferencias entre el banco y el diario",
                    file=s["file"],
                    severity="warning",
                )
            )
    return found


# --- the reader ---------------------------------------------------------------------------------------------------

ITEMS_TABLE = """CREATE TABLE treasury_items (number VARCHAR, kind VARCHAR, counterparty VARCHAR, nif VARCHAR,
    account VARCHAR, document VARCHAR, issue_date DATE, due_date DATE, amount DECIMAL(18,2), payment_method VARCHAR,
    state VARCHAR, settled_date DATE, is_open BOOLEAN, source_line INTEGER)"""
STATEMENTS_TABLE = """CREATE TABLE bank_statements (iban VARCHAR, account VARCHAR, bank VARCHAR, file VARCHAR,
    start_date DATE, end_date DATE, opening_balance DECIMAL(18,2), closing_balance DECIMAL(18,2), currency VARCHAR,
    income_count INTEGER, income DECIMAL(18,2), expense_count INTEGER, expense DECIMAL(18,2), movements INTEGER,
    holder VARCHAR)"""
MOVEMENTS_TABLE = """CREATE TABLE bank_movements (iban VARCHAR, account VARCHAR, file VARCHAR, start_date DATE,
    sequence INTEGER, operation_date DATE, value_date DATE, common_concept INTEGER, own_concept INTEGER,
    amount DECIMAL(18,2), document_number VARCHAR, reference1 VARCHAR, reference2 VARCHAR, concept VARCHAR,
    balance DECIMAL(18,2))"""
TABLES = {
    "treasury_items": (ITEMS_TABLE, "kind, due_date, number"),
    "bank_statements": (STATEMENTS_TABLE, "iban, start_date"),
    "bank_movements": (MOVEMENTS_TABLE, "iban, start_date, sequence"),
}


def statement_files(folder: Path) -> list[Path]:
    """The .n43 and .xml files directly under tesoreria/ (an .xml is read when its content is a camt.053)."""
    return source_files(folder, FOLDER, suffixes=STATEMENT_SUFFIXES, recursive=False)


def inputs(folder: Path) -> list[Path]:
    """efectos.csv and the bank statement files present under the company folder."""
    files = source_files(folder, FOLDER, recursive=False)
    return [p for p in files if p.name == ITEMS or p.suffix.lower() in STATEMENT_SUFFIXES]


def read(con: duckdb.DuckDBPyConnection, folder: Path, info: CompanyInfo) -> ModuleOutput:
    """Read and validate the company's treasury files; errors reject the load, journal differences warn."""
    if not inputs(folder):
        return ModuleOutput()
    problems: list[Problem] = []
    items_path = source_file(folder, FOLDER, ITEMS)
    items = read_items(items_path, problems) if items_path else []
    paths = statement_files(folder)
    banks = bank_accounts(folder, problems) if paths else {}
    statements, movements = read_statements(paths, banks, problems)
    if any(p.severity == "error" for p in problems):
        return ModuleOutput(problems=problems[:MAX_PROBLEMS])
    problems += cartera_problems(con, items, display_name(folder / FOLDER / ITEMS))
    problems += bank_problems(con, statements, movements)
    store_rows(con, "treasury_items", TABLES["treasury_items"][0], items)
    store_rows(con, "bank_statements", TABLES["bank_statements"][0], statements)
    store_rows(con, "bank_movements", TABLES["bank_movements"][0], movements)
    manifest = {"items": len(items), "statements": len(statements), "bank_movements": len(movements)}
    if camt := [s for s in statements if s["format"] == "camt.053"]:
        manifest["camt053"] = [
            {k: s[k] for k in ("file", "statement_id", "iban", "account", "start_date", "end_date")} for s in camt
        ]
    return ModuleOutput(
        problems=problems[:MAX_PROBLEMS],
        tables={f"{name}.parquet": f"SELECT * FROM {name} ORDER BY {order}" for name, (_, order) in TABLES.items()},
        manifest=manifest,
    )


READER = ModuleReader(FOLDER, inputs, read)
